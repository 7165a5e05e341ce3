"""The audit as SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format), for CI systems.

One run, tool `sts-mfa`, three rules: `open-without-mfa` (level error), `undecided`
(warning) and `service-role` (note). Each finding of each role is one result whose
logical location is the role (kind `resource`, fully qualified name its ARN); a
role has no file, so there is no physical location. Ignored roles' findings are
results with an external suppression (justification: `--ignore`), so a CI system
shows them as accepted, not as new. Roles that require MFA produce no result.
"""

from __future__ import annotations

import hashlib

from sts_mfa.audit.classify import RoleResult
from sts_mfa.audit.report import Report
from sts_mfa.trust import Finding

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

RULES = [
    {
        "id": "open-without-mfa",
        "name": "RoleOpenWithoutMfa",
        "shortDescription": {"text": "A way into the role does not require MFA"},
        "fullDescription": {
            "text": "The trust policy lets a principal assume the role without MFA (long-term keys, "
            "temporary credentials obtained without MFA, web identity or SAML)."
        },
        "defaultConfiguration": {"level": "error"},
    },
    {
        "id": "undecided",
        "name": "MfaRequirementUndecided",
        "shortDescription": {"text": "Cannot tell whether MFA is required"},
        "fullDescription": {
            "text": "The analysis does not understand part of the trust policy, or the role changed "
            "while it was read: it is never counted as requiring MFA."
        },
        "defaultConfiguration": {"level": "warning"},
    },
    {
        "id": "service-role",
        "name": "ServiceRole",
        "shortDescription": {"text": "A service assumes the role"},
        "fullDescription": {"text": "Only an AWS service (or a service-linked role's service) gets in."},
        "defaultConfiguration": {"level": "note"},
    },
]
_RULE = {
    "open": ("open-without-mfa", "error"),
    "undecided": ("undecided", "warning"),
    "service": ("service-role", "note"),
}


def to_sarif(report: Report, version: str) -> dict[str, object]:
    results = [_result(role, finding) for role in report.results for finding in role.findings]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "sts-mfa",
                        "version": version,
                        "rules": RULES,
                    }
                },
                "results": results,
                "properties": {"summary": report.summary()},
            }
        ],
    }


def _result(role: RoleResult, finding: Finding) -> dict[str, object]:
    rule, level = _RULE[finding.kind]
    fingerprint = hashlib.sha256(
        f"{role.arn}\n{rule}\n{finding.statement}\n{finding.principal}".encode()
    ).hexdigest()
    result: dict[str, object] = {
        "ruleId": rule,
        "ruleIndex": [r["id"] for r in RULES].index(rule),
        "level": level,
        "message": {"text": f"{role.name}: {finding}"},
        "locations": [
            {"logicalLocations": [{"name": role.name, "fullyQualifiedName": role.arn, "kind": "resource"}]}
        ],
        "partialFingerprints": {"roleFinding/v1": fingerprint},
        "properties": {"verdict": role.verdict, "statement": finding.statement, "sid": finding.sid},
    }
    if role.verdict == "ignored":
        result["suppressions"] = [{"kind": "external", "justification": "accepted with --ignore"}]
    return result
