"""Documents that differ only in whom or which values they name get the analysis each would get alone.

A hypothesis property generates trust policies over a pool of principals and conditions,
some of which let a document tell names apart (conditions on the caller's identity, a
Deny naming a user, `NotPrincipal`) or read a value as more than text to compare (a
wildcard, a case-folding operator, a value AWS would refuse as a parameter): for every
document the shape is taken for, its analysis through the shape equals its analysis asked
directly (verdict, every way's status, principal and action, and the witness's caller
for a way that names one), and every witness told back in the document's own values is a
request the independent evaluator (`tests/support/iam_eval.py`) lets in.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sts_mfa.trust import analysis
from sts_mfa.trust.document import parse
from sts_mfa.trust.shapes import STAND_IN, shape_of
from tests.support import oracle_space as space
from tests.support.iam_eval import Unsupported, allowed

A1, A2 = "111111111111", "222222222222"
NAMED = [
    f"arn:aws:iam::{A1}:user/alice",
    f"arn:aws:iam::{A1}:user/team/bob",
    f"arn:aws:iam::{A1}:role/deploy",
    f"arn:aws:iam::{A2}:user/alice",
    f"arn:aws:iam::{A2}:role/ci/runner",
]
OTHERS = [f"arn:aws:iam::{A1}:root", A2, "*", "AIDAEXAMPLEUNIQUEID1"]
CONDITIONS: list[dict[str, Any] | None] = [
    None,
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
    {"StringEquals": {"sts:ExternalId": "ext-123"}},
    {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    # these read the caller's identity: no shape
    {"StringLike": {"aws:PrincipalArn": f"arn:aws:iam::{A1}:user/*"}},
    {"StringEquals": {"aws:PrincipalArn": NAMED[0]}},
    {"StringEquals": {"aws:username": "alice"}},
    {"StringEquals": {"aws:PrincipalAccount": A1}},
    # values compared only for equality: stood in for
    {"StringEquals": {"sts:ExternalId": "ext-456"}},
    {"StringEquals": {"sts:ExternalId": ["ext-123", "ext-789"]}},
    {"StringNotEquals": {"sts:ExternalId": "ext-123"}},
    {"StringEqualsIfExists": {"sts:externalid": "ext-456"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "ext-123"]}},
    {"ForAllValues:StringNotEquals": {"aws:TagKeys": "team"}},
    {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}, "Null": {"sts:ExternalId": "false"}},
    # values read as more than text to compare, or that AWS would refuse: not stood in for
    {"StringLike": {"sts:ExternalId": "ext-*"}},
    {"StringEqualsIgnoreCase": {"aws:RequestedRegion": "EU-WEST-1"}},
    {"StringEquals": {"sts:ExternalId": "x"}},
    {"StringEquals": {"sts:ExternalId": "ext 123"}},
    {"StringNotEquals": {"sts:RoleSessionName": "a/b"}},
]


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    statements = []
    for _ in range(draw(st.integers(1, 3))):
        effect = draw(st.sampled_from(["Allow", "Allow", "Deny"]))
        if effect == "Allow":
            names = draw(st.lists(st.sampled_from(NAMED + OTHERS), min_size=1, max_size=3, unique=True))
            principal: Any = {"AWS": names if len(names) > 1 else names[0]}
        else:
            principal = draw(st.sampled_from(["*", {"AWS": "*"}, {"AWS": NAMED[0]}, {"AWS": NAMED[2]}]))
        statement: dict[str, Any] = {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}
        if draw(st.booleans()) and effect == "Deny":
            statement = {**statement, "NotPrincipal": statement.pop("Principal")}
        condition = draw(st.sampled_from(CONDITIONS))
        if condition is not None:
            statement["Condition"] = condition
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


SEEN = {"shaped": 0, "refused": 0, "values stood in for": 0}


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_a_shape_answers_as_the_document_would(document: dict[str, Any]) -> None:
    shape = shape_of(document)
    if shape is None:
        SEEN["refused"] += 1
        return
    SEEN["shaped"] += 1
    SEEN["values stood in for"] += bool(shape.swaps)
    direct = analysis._analyse(parse(document), A1, ())
    shaped = analysis.analyse(document, home_account=A1)
    assert STAND_IN not in repr(shaped)
    assert shaped.verdict == direct.verdict, json.dumps(document)
    assert [(w.statement, w.principal, w.action, w.status) for w in shaped.ways_in] == [
        (w.statement, w.principal, w.action, w.status) for w in direct.ways_in
    ], json.dumps(document)
    for mine, theirs in zip(shaped.ways_in, direct.ways_in, strict=True):
        if mine.witness is not None and any(name in mine.principal for name in NAMED):
            assert theirs.witness is not None
            assert mine.witness.principal == theirs.witness.principal
    for finding in shaped.findings:
        if finding.kind == "open" and finding.witness is not None:
            try:
                request = space.from_witness(finding.witness.to_json())
                admitted = allowed(document, request)
            except Unsupported:
                continue
            assert admitted, (finding.witness, json.dumps(document))


def test_the_property_compared_something() -> None:
    """Run after the property (same module, in order): both kinds of document were drawn."""
    if SEEN["shaped"] + SEEN["refused"] == 0:  # run alone
        return
    assert SEEN["shaped"] >= 30 and SEEN["refused"] >= 10 and SEEN["values stood in for"] >= 20, SEEN


def test_names_that_a_condition_reads_are_never_replaced() -> None:
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": NAMED[0]},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalArn": NAMED[1]}},
            }
        ]
    }
    assert shape_of(document) is None
    assert analysis.analyse(document).ways_in[0].status == "closed"  # alice is never bob


def test_one_shape_serves_every_role_that_trusts_one_user() -> None:
    analysis._cached.cache_clear()
    for name in ("alice", "bob", "carol"):
        document = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{A1}:user/{name}"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}},
                }
            ]
        }
        found = analysis.analyse(document)
        (finding,) = found.findings
        assert finding.principal == f"AWS arn:aws:iam::{A1}:user/{name}"
        assert finding.witness is not None and finding.witness.principal == f"arn:aws:iam::{A1}:user/{name}"
        assert f"user/{name} calling sts:AssumeRole" in finding.reason
    assert analysis._cached.cache_info().misses == 1


def external_id_role(value: str, *, mfa: bool = True) -> dict[str, Any]:
    condition: dict[str, Any] = {"StringEquals": {"sts:ExternalId": value}}
    if mfa:
        condition["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A1}:root"},
        "Action": "sts:AssumeRole",
    }
    return {"Version": "2012-10-17", "Statement": [{**statement, "Condition": condition}]}


def test_one_shape_serves_every_role_with_an_external_id_of_its_own() -> None:
    analysis._cached.cache_clear()
    for n in range(5):
        assert analysis.analyse(external_id_role(f"partner-{n}"), home_account=A1).requires_mfa
    for n in range(5):
        found = analysis.analyse(external_id_role(f"partner-{n}", mfa=False), home_account=A1)
        (finding,) = found.findings
        assert finding.witness is not None and finding.witness.context == {"sts:ExternalId": f"partner-{n}"}
        assert f"sts:ExternalId = 'partner-{n}'" in finding.reason and STAND_IN not in finding.reason
    assert analysis._cached.cache_info().misses == 2


def test_a_value_aws_would_refuse_as_a_parameter_is_never_stood_in_for() -> None:
    # One character: AWS refuses such an ExternalId, so nobody can meet the condition.
    assert shape_of(external_id_role("x", mfa=False)) is None
    assert shape_of(external_id_role("has space", mfa=False)) is None
    assert analysis.analyse(external_id_role("x", mfa=False)).verdict == "requires-mfa"  # closed


def test_a_witness_that_uses_a_value_of_the_document_is_asked_afresh() -> None:
    """The swap back turns the document's own value into a stand-in: the sign to ask afresh."""
    from sts_mfa.trust.shapes import told_in_own_names
    from sts_mfa.trust.verdicts import Finding
    from sts_mfa.trust.witness import Witness

    document = external_id_role("partner-1", mfa=False)
    shape = shape_of(document)
    assert shape is not None
    picked = Witness(
        "AWS",
        f"arn:aws:iam::{A1}:user/someone",
        "sts:AssumeRole",
        "long-term",
        {"sts:ExternalId": "partner-1"},
    )
    told = told_in_own_names(
        analysis.Analysis("open", (Finding("open", 1, None, "sts:AssumeRole", "x", "r", picked),), ()), shape
    )
    assert (
        told.findings[0].witness is not None
        and STAND_IN in told.findings[0].witness.context["sts:ExternalId"]
    )
