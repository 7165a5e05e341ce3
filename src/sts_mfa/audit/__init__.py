"""`sts-mfa audit`: every role's trust policy in the account, read in pages and analysed.

`reading` (GetAccountAuthorizationDetails pages, read until two readings agree),
`classify` (the trust analysis per role, plus ignored / service-linked / changed),
`prove` (AssumeRole without MFA, for `--prove-with`), `report` (summary, exit
decision, JSON) and `sarif` (SARIF 2.1.0). No click, no printing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sts_mfa.audit.classify import RoleResult
from sts_mfa.audit.classify import classify as classify_roles  # the module keeps its name
from sts_mfa.audit.reading import PAGE_SIZE, Progress, read_account
from sts_mfa.audit.report import Report


@dataclass(frozen=True)
class Filters:
    path_prefix: str = "/"
    roles: frozenset[str] = frozenset()  # names (compared ignoring case, as IAM does) or ARNs
    ignore: frozenset[str] = frozenset()  # ARNs

    def wants(self, arn: str, name: str, path: str) -> bool:
        if not path.startswith(self.path_prefix):
            return False
        return not self.roles or arn in self.roles or name.lower() in self.roles

    @classmethod
    def of(cls, path_prefix: str, roles: Iterable[str], ignore: Iterable[str]) -> Filters:
        wanted = frozenset(r if r.startswith("arn:") else r.lower() for r in roles)
        return cls(path_prefix, wanted, frozenset(ignore))

    def missing(self, results: list[RoleResult]) -> list[str]:
        """The roles asked for with --role that the account does not have."""
        found = {r.arn for r in results} | {r.name.lower() for r in results}
        return sorted(r for r in self.roles if r not in found)


def audit(
    iam: Any, filters: Filters, *, page_size: int = PAGE_SIZE, progress: Progress | None = None
) -> Report:
    account = read_account(iam, page_size=page_size, keep=filters.wants, progress=progress)
    results = classify_roles(account, filters.ignore)
    return Report(results, account.requests, account.readings, documents=account.documents)
