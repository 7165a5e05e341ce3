"""The audit as SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format), for CI systems.

One run, tool `sts-mfa`, three rules: `open-without-mfa` (level error), `undecided`
(warning) and `service-role` (note). Each finding of each role is one result whose
logical location is the role (kind `resource`, fully qualified name its ARN); an open
finding's `properties.witness` is the request that gets in. A role in the account has
no file, but code-scanning services (GitHub's among them) drop a result without a
physical location, so each also names a stand-in artifact, a relative URI built from
the ARN: `aws-iam/ACCOUNT/role/PATH/NAME` (percent-encoded); a role read with
`--policy-file` names its file. Ignored roles' findings are results with an external
suppression (justification: `--ignore`), so a CI system shows them as accepted, not as
new. Roles that require MFA produce no result.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from sts_mfa.audit.classify import RoleResult
from sts_mfa.audit.report import Report
from sts_mfa.trust.analysis import Finding

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

RULES: list[dict[str, object]] = [
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
    results = [result for role in report.results for result in role_results(role)]
    return envelope(results, report.summary(), version)


def envelope(
    results: object, summary: dict[str, object], version: str, rules: list[dict[str, object]] | None = None
) -> dict[str, object]:
    """The SARIF document around `results` (a list, or a stand-in an organization's run streams into)."""
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "sts-mfa",
                        "version": version,
                        "rules": RULES if rules is None else rules,
                    }
                },
                "results": results,
                "properties": {"summary": summary},
            }
        ],
    }


def role_results(role: RoleResult) -> list[dict[str, object]]:
    """One result per finding of the role (none for a role that requires MFA)."""
    return [_result(role, finding, n) for n, finding in _numbered(role)]


def _numbered(role: RoleResult) -> list[tuple[int, Finding]]:
    """Each finding with how many before it in the role share its key: one fingerprint each.

    Findings of one statement and principal differ by action (a `*` principal through each
    assume action) or are problems of the whole document: a CI system merges results with
    one fingerprint into one alert, so equal keys are told apart by their order.
    """
    seen: dict[tuple[object, ...], int] = {}
    numbered = []
    for finding in role.findings:
        key = (finding.kind, finding.statement, finding.principal, finding.action)
        seen[key] = seen.get(key, -1) + 1
        numbered.append((seen[key], finding))
    return numbered


def plain_text(text: str) -> str:
    """SARIF plain text (§3.11.6): `[text](target)` is an embedded link; literal brackets are escaped."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def artifact_uri(arn: str) -> str:
    """The stand-in artifact of a role: `aws-iam/ACCOUNT/role/PATH/NAME`, a relative URI."""
    parts = arn.split(":", 5)
    account, resource = (parts[4], parts[5]) if len(parts) == 6 else ("unknown", arn)
    return quote(f"aws-iam/{account}/{resource}", safe="/")


def _location(role: RoleResult) -> dict[str, object]:
    """A role in the account: its stand-in artifact and its ARN; a role in a file: that file."""
    if role.file is not None:
        return {
            "physicalLocation": {"artifactLocation": {"uri": quote(role.file, safe="/")}},
            "logicalLocations": [{"name": role.name, "kind": "resource"}],
        }
    return {
        "physicalLocation": {"artifactLocation": {"uri": artifact_uri(role.arn)}},
        "logicalLocations": [{"name": role.name, "fullyQualifiedName": role.arn, "kind": "resource"}],
    }


def _result(role: RoleResult, finding: Finding, number: int = 0) -> dict[str, object]:
    rule, level = _RULE[finding.kind]
    where = role.arn or role.name
    key = f"{where}\n{rule}\n{finding.statement}\n{finding.principal}\n{finding.action}\n{number}"
    fingerprint = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    properties: dict[str, object] = {
        "verdict": role.verdict,
        "statement": finding.statement,
        "sid": finding.sid,
    }
    if finding.witness is not None:  # the request that gets in, to read and to replay
        properties["witness"] = finding.witness.to_json()
    result: dict[str, object] = {
        "ruleId": rule,
        "ruleIndex": [r["id"] for r in RULES].index(rule),
        "level": level,
        "message": {"text": plain_text(f"{role.name}: {finding}")},
        "locations": [_location(role)],
        "partialFingerprints": {"roleFinding/v1": fingerprint},
        "properties": properties,
    }
    if role.verdict == "ignored":
        result["suppressions"] = [{"kind": "external", "justification": "accepted with --ignore"}]
    return result
