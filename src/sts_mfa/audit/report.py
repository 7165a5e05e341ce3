"""The audit's result: every role's verdict, a summary, the exit decision, the JSON document."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sts_mfa.audit.classify import VERDICTS, RoleResult
from sts_mfa.audit.prove import Proof
from sts_mfa.errors import RoleExposed, StsMfaError

if TYPE_CHECKING:
    from sts_mfa.audit import Filters


@dataclass
class Report:
    results: list[RoleResult]
    requests: int  # GetAccountAuthorizationDetails pages, all readings
    readings: int
    proofs: list[Proof] = field(default_factory=list)
    proved_with: str | None = None
    documents: dict[str, str] = field(default_factory=dict)  # digest -> trust policy text as sent

    def count(self) -> Counter[str]:
        counts: Counter[str] = Counter({verdict: 0 for verdict in VERDICTS})
        counts.update(r.verdict for r in self.results)
        return counts

    def failing(self, allow_undecided: bool) -> list[RoleResult]:
        """The roles that make the exit code 3: open, and undecided unless allowed."""
        bad = {"open"} if allow_undecided else {"open", "undecided"}
        return [r for r in self.results if r.verdict in bad]

    def raise_if_failing(self, allow_undecided: bool) -> None:
        """The exit decision: RoleExposed (exit 3) naming the first failing role, if any fails."""
        failing = self.failing(allow_undecided)
        if not failing:
            return
        opened = sum(1 for r in failing if r.verdict == "open")
        first = failing[0]
        reason = str(first.findings[0]) if first.findings else first.verdict
        raise RoleExposed(
            f"{opened} role(s) open without MFA, {len(failing) - opened} undecided; "
            f"first: {first.arn or first.name} ({first.verdict}: {reason})"
        )

    def refuse_missing(self, filters: Filters) -> None:
        """A --role the account lacks, or a --path-prefix nothing is under, is an error, not a pass."""
        missing = filters.missing(self.results)
        prefix = filters.path_prefix
        where = None if prefix == "/" else f"only roles under --path-prefix {prefix} were read"
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise StsMfaError(f"no such role in the account (--role): {shown}", hint=where)
        if not self.results and prefix != "/":  # a typo must not pass as "all is well"
            raise StsMfaError(
                f"no role in the account is under --path-prefix {prefix} (paths are case-sensitive)",
                hint="nothing was audited",
            )

    def summary(self) -> dict[str, object]:
        return {
            "roles": len(self.results),
            **dict(self.count()),
            "requests": self.requests,
            "readings": self.readings,
            "disagreements": sum(1 for p in self.proofs if p.outcome == "DISAGREES"),
        }

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {
            "roles": [r.to_json() for r in self.results],
            "summary": self.summary(),
        }
        if self.proved_with is not None:
            document["proof"] = {"profile": self.proved_with, "roles": [p.to_json() for p in self.proofs]}
        return document
