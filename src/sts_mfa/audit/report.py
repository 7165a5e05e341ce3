"""The audit's result: every role's verdict, a summary, the exit decision, the JSON document."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sts_mfa.audit.classify import VERDICTS, RoleResult
from sts_mfa.audit.prove import Proof


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
