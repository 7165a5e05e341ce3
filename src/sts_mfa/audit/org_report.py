"""An organization audit's tally: accounts, verdicts, the exit decision, the summary.

It is handed each account's result as the run goes (`add`) and keeps counts, one small
entry per account (for `--json`'s `accounts`) and the first failing role and account (for
the exit message), never the roles themselves: those go to the output as they come.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sts_mfa.audit.classify import VERDICTS, RoleResult
from sts_mfa.audit.organization import AccountResult
from sts_mfa.errors import RoleExposed


@dataclass
class OrgReport:
    inactive: Counter[str] = field(default_factory=Counter)  # accounts not ACTIVE, by state: not read
    accounts: list[dict[str, object]] = field(default_factory=list)  # AccountResult.to_json()s
    statuses: Counter[str] = field(default_factory=Counter)  # read / unreadable / excluded
    verdicts: Counter[str] = field(default_factory=lambda: Counter({v: 0 for v in VERDICTS}))
    first_open: RoleResult | None = None
    first_undecided: RoleResult | None = None
    first_unreadable: AccountResult | None = None
    requests: int = 0  # every request the run made (set when it ends)
    throttles: int = 0

    def add(self, result: AccountResult) -> None:
        self.accounts.append(result.to_json())
        self.statuses[result.status] += 1
        self.verdicts.update(role.verdict for role in result.roles)
        if result.status == "unreadable" and self.first_unreadable is None:
            self.first_unreadable = result
        for role in result.roles:
            if role.verdict == "open" and self.first_open is None:
                self.first_open = role
            elif role.verdict == "undecided" and self.first_undecided is None:
                self.first_undecided = role

    @property
    def roles(self) -> int:
        return sum(self.verdicts.values())

    def summary(self) -> dict[str, object]:
        return {
            "accounts": len(self.accounts),
            "read": self.statuses["read"],
            "unreadable": self.statuses["unreadable"],
            "excluded": self.statuses["excluded"],
            "not_active": dict(sorted(self.inactive.items())),
            "roles": self.roles,
            **dict(self.verdicts),
            "requests": self.requests,
            "throttles": self.throttles,
        }

    def raise_if_failing(self, *, allow_undecided: bool, allow_unreadable: bool) -> None:
        """Exit 3 (RoleExposed) if a role is open, or undecided, or an account unreadable (unless allowed)."""
        opened = self.verdicts["open"]
        undecided = 0 if allow_undecided else self.verdicts["undecided"]
        unreadable = 0 if allow_unreadable else self.statuses["unreadable"]
        if not (opened or undecided or unreadable):
            return
        first = self.first_open or (self.first_undecided if undecided else None)
        if first is not None:
            reason = str(first.findings[0]) if first.findings else first.verdict
            example = f"first: {first.arn} ({first.verdict}: {reason})"
        else:
            assert self.first_unreadable is not None
            failed = self.first_unreadable
            example = f"first unreadable: {failed.account.id} ({failed.note})"
        raise RoleExposed(
            f"{opened} role(s) open without MFA, {undecided} undecided, {unreadable} account(s) unreadable; "
            f"{example}"
        )
