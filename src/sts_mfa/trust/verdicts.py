"""What the analysis answers: ways in, findings, the verdict, as data (no solver, no printing)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from sts_mfa.trust.witness import Witness

Verdict = Literal["requires-mfa", "open", "undecided", "service"]
# "certificate": IAM Roles Anywhere, which hands the role to holders of a trusted X.509
# certificate. Written as a Service principal, but a way in for people, never with MFA.
Kind = Literal["aws", "federated", "service", "certificate", "everyone"]
Status = Literal["requires-mfa", "open", "undecided", "closed"]


@dataclass(frozen=True)
class WayIn:
    """One (statement, principal, assume action) that can let someone in."""

    statement: int  # 1-based index in the document's Statement list
    sid: str | None
    action: str
    principal: str  # e.g. "AWS arn:aws:iam::111111111111:user/x", "everyone (*)"
    principal_kind: Kind
    status: Status  # closed: shut by a Deny, or its conditions can never be met
    reason: str
    witness: Witness | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["witness"] = None if self.witness is None else self.witness.to_json()
        return data


@dataclass(frozen=True)
class Finding:
    """A way in that does not require MFA, or a problem with the document itself."""

    kind: Literal["open", "undecided", "service"]
    statement: int | None  # None for problems with the whole document
    sid: str | None
    action: str | None
    principal: str | None
    reason: str
    witness: Witness | None = None

    def __str__(self) -> str:
        where = "the trust policy" if self.statement is None else f"statement {self.statement}"
        if self.statement is not None and self.sid:
            where += f" (Sid {self.sid})"
        if self.principal is None or self.action is None:
            who = f" whether {self.principal} needs MFA" if self.principal else " whether MFA is required"
            return f"{where}: cannot tell{who}: {self.reason}"
        if self.kind == "open":
            return f"{where} lets {self.principal} in through {self.action} without MFA: {self.reason}"
        if self.kind == "service":
            return f"{where} lets {self.principal} in through {self.action} (a service role): {self.reason}"
        return f"{where}: cannot tell whether {self.principal} needs MFA for {self.action}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["witness"] = None if self.witness is None else self.witness.to_json()
        if self.witness is None:
            del data["witness"]
        return {**data, "message": str(self)}


@dataclass(frozen=True)
class Analysis:
    verdict: Verdict
    findings: tuple[Finding, ...]
    ways_in: tuple[WayIn, ...]

    @property
    def requires_mfa(self) -> bool:
        return self.verdict == "requires-mfa"

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "requires_mfa": self.requires_mfa,
            "findings": [f.to_json() for f in self.findings],
            "ways_in": [w.to_json() for w in self.ways_in],
        }


def conclude(ways: tuple[WayIn, ...], problems: list[Finding]) -> Analysis:
    """The document's verdict over its ways and problems (see docs/trust-analysis.md)."""
    service_open = [w for w in ways if w.principal_kind == "service" and w.status == "open"]
    others_in = [w for w in ways if w.principal_kind != "service" and w.status != "closed"]
    mixed = bool(service_open and others_in)
    findings: list[Finding] = []
    for w in ways:
        if w.status == "open" and w.principal_kind == "service":
            kind: Literal["open", "service"] = "open" if mixed else "service"
            reason = f"through the service: {w.reason}" if mixed else w.reason
            findings.append(Finding(kind, w.statement, w.sid, w.action, w.principal, reason, w.witness))
        elif w.status in ("open", "undecided"):
            status: Literal["open", "undecided"] = "open" if w.status == "open" else "undecided"
            findings.append(Finding(status, w.statement, w.sid, w.action, w.principal, w.reason, w.witness))
    findings.extend(problems)
    statuses = {w.status for w in ways if w.principal_kind != "service"}
    verdict: Verdict
    if "open" in statuses or mixed:
        verdict = "open"
    elif problems or any(w.status == "undecided" for w in ways):
        verdict = "undecided"
    elif service_open:
        verdict = "service"
    else:
        verdict = "requires-mfa"
    return Analysis(verdict, tuple(sorted(findings, key=_order)), ways)


def _order(finding: Finding) -> tuple[int, int]:
    rank = {"open": 0, "undecided": 1, "service": 2}[finding.kind]
    return (finding.statement or 0, rank)
