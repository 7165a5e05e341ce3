"""A request that gets in: what a person reads and a program replays.

A witness is data: the principal (a concrete caller: an IAM user's ARN, the root user's,
a role's ARN for a session of that role, a federated user's, an identity provider, a
service), the assume action, and the condition keys the request carries among those the
policy names, plus `aws:MultiFactorAuthPresent` for temporary credentials (a key that is
absent is absent). It is read from a solver model, and rendered here as one sentence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

PrincipalType = Literal["AWS", "Federated", "Service"]
MFA_PRESENT = "aws:multifactorauthpresent"

HOW = {
    "long-term": "with long-term access keys, no MFA key",
    "temporary": "with temporary credentials obtained without MFA",
    "session": "in a session of that role, obtained without MFA",
    "web-identity": "signing in with a web identity token, no MFA key",
    "saml": "signing in with a SAML assertion, no MFA key",
    "service": "as the service, no MFA key",
}


@dataclass(frozen=True)
class Witness:
    principal_type: PrincipalType
    principal: str
    action: str
    kind: str  # how the request is signed: long-term, temporary, web-identity, saml, service
    context: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "principal": {"type": self.principal_type, "value": self.principal},
            "action": self.action,
            "context": dict(self.context),
        }

    def __str__(self) -> str:
        keys = "; ".join(f"{k} = {_shown(v)}" for k, v in self.context.items() if k.lower() != MFA_PRESENT)
        how = HOW["session" if ":role/" in self.principal else self.kind]
        return f"{self.principal} calling {self.action} {how}" + (f"; {keys}" if keys else "")


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return json.dumps(value)
