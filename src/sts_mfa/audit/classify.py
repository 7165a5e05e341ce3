"""Each role's verdict: the trust-policy analysis (`sts_mfa.trust.analysis`), plus what the audit knows.

The analysis decides `requires-mfa`, `open`, `undecided` or `service` from the
document alone. The audit adds:

* `ignored`: the role's ARN was given with `--ignore` (an accepted exception); the
  analysis' own verdict and findings are still reported;
* `service` for a service-linked role (path `/aws-service-role/`: AWS writes and
  locks its trust policy) whose analysis finds no way in for anyone but a service;
* `undecided` for a role that changed while the account was read, or whose trust
  policy was missing from IAM's answer: never `requires-mfa` for a policy not read
  whole and stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sts_mfa.audit.reading import NO_DOCUMENT, Account, RoleSeen
from sts_mfa.trust.analysis import Analysis, Finding, analyse

Verdict = Literal["requires-mfa", "open", "undecided", "service", "ignored"]
VERDICTS: tuple[Verdict, ...] = ("open", "undecided", "requires-mfa", "service", "ignored")
SERVICE_LINKED_PATH = "/aws-service-role/"

CHANGED = (
    "the role was created, deleted or changed while the account was read (two readings in a "
    "row did not agree): its trust policy was not read whole; run the audit again"
)
NO_POLICY = "IAM's answer carried no trust policy for this role"


@dataclass(frozen=True)
class RoleResult:
    arn: str
    name: str
    path: str
    verdict: Verdict
    analysed: str  # the analysis' verdict (for an ignored role: what it would be)
    findings: tuple[Finding, ...]
    note: str | None = None  # why the audit changed or qualified the analysis' verdict
    digest: str = NO_DOCUMENT
    file: str | None = None  # `--policy-file`: the file the role was read from (it has no ARN yet)

    def to_json(self) -> dict[str, object]:
        return {
            "arn": self.arn or None,
            **({"file": self.file} if self.file is not None else {}),
            "name": self.name,
            "path": self.path,
            "verdict": self.verdict,
            "analysis_verdict": self.analysed,
            "note": self.note,
            "findings": [f.to_json() for f in self.findings],
        }


def classify(account: Account, ignore: frozenset[str]) -> list[RoleResult]:
    """Every role of `account` with its verdict, in name order."""
    from sts_mfa.audit.parallel import analyse_all

    homes = {r.arn.split(":")[4] for r in account.roles.values() if r.arn.count(":") >= 5}
    home = next(iter(homes)) if len(homes) == 1 else None  # a witness from the account
    wanted = {
        r.digest: account.documents[r.digest] for r in account.roles.values() if r.digest != NO_DOCUMENT
    }
    analyses = analyse_all(wanted, home, analyse)
    results = [_one(role, analyses, ignore) for role in account.roles.values()]
    results += [_changed(role, ignore) for role in account.unstable.values()]
    return sorted(results, key=lambda r: (r.name.lower(), r.arn))


def _one(role: RoleSeen, analyses: dict[str, Analysis], ignore: frozenset[str]) -> RoleResult:
    if role.digest == NO_DOCUMENT:
        finding = Finding("undecided", None, None, None, None, NO_POLICY)
        return _verdict(role, "undecided", (finding,), None, ignore)
    analysis = analyses[role.digest]
    verdict: str = analysis.verdict
    note = None
    if role.path.startswith(SERVICE_LINKED_PATH) and verdict in ("service", "requires-mfa"):
        verdict, note = (
            "service",
            "a service-linked role: AWS writes its trust policy and only the service uses it",
        )
    return _verdict(role, verdict, analysis.findings, note, ignore)


def _changed(role: RoleSeen, ignore: frozenset[str]) -> RoleResult:
    finding = Finding("undecided", None, None, None, None, CHANGED)
    return _verdict(role, "undecided", (finding,), None, ignore)


def _verdict(
    role: RoleSeen, verdict: str, findings: tuple[Finding, ...], note: str | None, ignore: frozenset[str]
) -> RoleResult:
    shown: Verdict = "ignored" if role.arn in ignore else checked(verdict)
    if shown == "ignored":
        note = "ignored (--ignore): an accepted exception" + (f"; {note}" if note else "")
    return RoleResult(role.arn, role.name, role.path, shown, verdict, findings, note, role.digest)


def checked(verdict: str) -> Verdict:
    for known in VERDICTS:
        if verdict == known:
            return known
    return "undecided"
