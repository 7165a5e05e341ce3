"""`audit --policy-file`: the roles a file describes, judged before they are deployed.

Each `PolicySource` (a bare trust policy, each role of a CloudFormation template, each
`aws_iam_role` of a Terraform plan or state) becomes a role of the report, named as the
source names it (`PATH`, `PATH#LogicalId`, `PATH#address`), with no ARN: it has none yet.
A source with no document (the file does not say what the trust policy is) is undecided,
with the reader's note. No AWS call, no credentials.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from sts_mfa.audit.classify import RoleResult, checked
from sts_mfa.audit.policy_files import PolicySource
from sts_mfa.audit.reading import NO_DOCUMENT
from sts_mfa.audit.report import Report
from sts_mfa.trust.analysis import Finding, analyse


def audit_files(sources: Sequence[PolicySource]) -> Report:
    results: list[RoleResult] = []
    documents: dict[str, str] = {}
    for source in sources:
        if source.document is None:
            why = source.note or "the file does not say what the trust policy is"
            finding = Finding("undecided", None, None, None, None, why)
            results.append(_role(source, "undecided", (finding,), NO_DOCUMENT))
            continue
        text = source.document if isinstance(source.document, str) else _json(source.document)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        documents[digest] = text
        analysis = analyse(source.document)
        results.append(_role(source, analysis.verdict, analysis.findings, digest))
    return Report(results, requests=0, readings=0, documents=documents)


def _role(source: PolicySource, verdict: str, findings: tuple[Finding, ...], digest: str) -> RoleResult:
    return RoleResult(
        arn="",
        name=source.name,
        path="",
        verdict=checked(verdict),
        analysed=verdict,
        findings=findings,
        digest=digest,
        file=source.file,
    )


def _json(document: object) -> str:
    try:
        return json.dumps(document, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(document)
