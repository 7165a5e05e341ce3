"""The solver against an independent evaluator, over generated trust policies.

For every generated policy (principals, actions, conditions drawn from a grammar close to
IAM's, Allow and Deny, NotPrincipal, set operators, IfExists, Null):

* "requires-mfa": no request of the bounded space (`tests/support/oracle_space.py`), made
  without MFA, is allowed by the oracle (`tests/support/iam_eval.py`);
* every open finding's witness, read back as a request, is allowed by the oracle, and is
  coherent (the keys that follow from the caller say what the caller says);
* a request the space finds allowed without MFA never meets "requires-mfa".

What the oracle does not evaluate is skipped and counted (`test_the_oracle_decides_most`).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sts_mfa.trust.analysis import analyse
from tests.support import oracle_space as space
from tests.support.iam_eval import Unsupported, allowed

PRINCIPALS = st.sampled_from(
    [
        "*",
        {"AWS": "*"},
        {"AWS": space.ALICE},
        {"AWS": space.BOB},
        {"AWS": space.A1},
        {"AWS": f"arn:aws:iam::{space.A2}:root"},
        {"AWS": space.DEPLOY},
        {"AWS": space.RUNNER},
        {"AWS": [space.ALICE, space.RUNNER]},
        {"AWS": "AIDAALICEALICEALICE1"},
        {"Federated": space.GITHUB},
        {"Federated": space.GOOGLE},
        {"Federated": space.SAML},
        {"Service": "ec2.amazonaws.com"},
        {"Service": "rolesanywhere.amazonaws.com"},
    ]
)
ACTIONS = st.sampled_from(
    [
        {"Action": "sts:AssumeRole"},
        {"Action": "sts:AssumeRoleWithWebIdentity"},
        {"Action": "sts:AssumeRoleWithSAML"},
        {"Action": "sts:*"},
        {"Action": "*"},
        {"Action": ["sts:AssumeRole", "sts:TagSession"]},
        {"NotAction": "sts:AssumeRoleWithSAML"},
        {"NotAction": "s3:*"},
    ]
)
PRESENT, AGE = "aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge"
# (key, operator families that fit it, values)
KEYS = [
    (PRESENT, ["Bool", "StringEquals", "StringNotEquals", "StringLike", "Null"], ["true", "false"]),
    (
        AGE,
        ["NumericLessThan", "NumericGreaterThan", "NumericEquals", "NumericNotEquals", "Null"],
        ["0", "3600"],
    ),
    ("sts:ExternalId", ["StringEquals", "StringNotEquals", "StringLike", "Null"], ["ext-1", "ext-*"]),
    (
        "aws:PrincipalArn",
        ["StringEquals", "StringLike", "ArnLike", "ArnNotLike", "StringNotEquals"],
        [space.ALICE, f"arn:aws:iam::{space.A1}:role/*", "arn:aws:iam::*:user/team/*"],
    ),
    ("aws:PrincipalAccount", ["StringEquals", "StringNotEquals"], [space.A1, space.A2]),
    ("aws:PrincipalType", ["StringEquals", "StringNotEquals"], ["User", "AssumedRole"]),
    ("aws:SourceIp", ["IpAddress", "NotIpAddress"], ["10.0.0.0/8", "2001:db8::/32"]),
    ("aws:CurrentTime", ["DateLessThan", "DateGreaterThan"], ["2030-01-01T00:00:00Z"]),
    (
        "token.actions.githubusercontent.com:sub",
        ["StringLike", "StringEquals"],
        ["repo:o/r:*", "repo:o/r:ref:refs/heads/main"],
    ),
    (
        "aws:TagKeys",
        ["ForAnyValue:StringEquals", "ForAllValues:StringEquals", "ForAnyValue:StringLike"],
        ["team", "env*"],
    ),
    ("saml:aud", ["StringEquals"], ["https://signin.aws.amazon.com/saml"]),
]


@st.composite
def clauses(draw: Any) -> dict[str, dict[str, Any]]:
    key, families, values = draw(st.sampled_from(KEYS))
    family = draw(st.sampled_from(families))
    if family == "Null":
        return {"Null": {key: draw(st.sampled_from(["true", "false"]))}}
    qualifier = (
        "" if family.startswith("For") else draw(st.sampled_from(["", "", "ForAnyValue:", "ForAllValues:"]))
    )
    suffix = draw(st.sampled_from(["", "", "IfExists"]))
    chosen = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
    return {f"{qualifier}{family}{suffix}": {key: chosen if len(chosen) > 1 else chosen[0]}}


@st.composite
def statements(draw: Any, effect: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    principal = draw(PRINCIPALS)
    if draw(st.integers(0, 9)) == 0 and principal != "*":
        statement["NotPrincipal"] = principal
    else:
        statement["Principal"] = principal
    statement.update(draw(ACTIONS))
    condition: dict[str, dict[str, Any]] = {}
    for clause in draw(st.lists(clauses(), max_size=2)):
        for operator, pairs in clause.items():
            condition.setdefault(operator, {}).update(pairs)
    if condition:
        statement["Condition"] = condition
    return statement


POLICIES = st.builds(
    lambda first, rest: {"Version": "2012-10-17", "Statement": [first, *rest]},
    statements("Allow"),
    st.lists(statements(), max_size=2),
)
SETTINGS = settings(
    max_examples=int(os.environ.get("SMT_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
SEEN: Counter[str] = Counter()


def _check(document: dict[str, Any]) -> None:
    analysis = analyse(document)
    SEEN[analysis.verdict] += 1
    try:
        admitted = [r for r in space.requests(document) if allowed(document, r)]
    except Unsupported:
        SEEN["skipped: the oracle does not evaluate it"] += 1
        return
    if analysis.verdict == "requires-mfa":
        assert not admitted, (admitted[0], analysis)
    for finding in analysis.findings:
        if finding.kind in ("open", "service") and finding.witness is not None:
            request = space.from_witness(finding.witness.to_json())
            assert allowed(document, request), (finding.witness, document)
    if analysis.verdict == "open":
        assert any(f.witness is not None for f in analysis.findings if f.kind == "open")


@SETTINGS
@given(POLICIES)
def test_the_solver_agrees_with_the_oracle(document: dict[str, Any]) -> None:
    _check(document)


def test_the_oracle_decides_most() -> None:
    """The comparison above compares something: most policies get a verdict the oracle checks."""
    if not SEEN:
        pytest.skip("run together with test_the_solver_agrees_with_the_oracle")
    total = sum(v for k, v in SEEN.items() if not k.startswith("skipped"))
    assert SEEN["skipped: the oracle does not evaluate it"] < total / 3, SEEN
    assert SEEN["open"] > 0 and SEEN["requires-mfa"] > 0, SEEN


def test_print_seen() -> None:
    print(dict(SEEN))
