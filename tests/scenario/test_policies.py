"""The policy documents the tool writes, seen through the trust analysis behind check-deny.

The analysis itself is tested in depth by `test_trust_analysis.py` and its corpus.
"""

from __future__ import annotations

from typing import Any

import pytest

from sts_mfa.scenario import policies
from sts_mfa.trust import analysis as trust

USER = "arn:aws:iam::123456789012:user/sts-mfa/u"


def test_trust_policy_names_only_the_user_and_requires_mfa() -> None:
    doc = policies.trust_policy(USER)
    (statement,) = doc["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"AWS": USER},
        "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    }
    assert trust.analyse(doc).verdict == "requires-mfa"


def test_user_policy_allows_assume_role_on_that_role_only() -> None:
    role = "arn:aws:iam::123456789012:role/sts-mfa/r"
    assert policies.assume_role_policy(role)["Statement"] == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role}
    ]


def allow(condition: Any = None, action: Any = "sts:AssumeRole", principal: Any = None) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": "Allow", "Principal": principal or {"AWS": USER}, "Action": action}
    if condition is not None:
        s["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [s]}


@pytest.mark.parametrize(
    ("doc", "finding"),
    [
        (allow(), "no condition"),
        (allow({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}), "BoolIfExists"),
        (allow({"StringEquals": {"sts:ExternalId": "abc"}}), "ExternalId"),
        (allow({"Bool": {"aws:MultiFactorAuthPresent": "false"}}), "MultiFactorAuthPresent"),
        (allow(action="sts:*"), "no condition"),
        (allow(action="*"), "no condition"),
        (allow(principal="*"), "no condition"),
    ],
)
def test_allows_without_mfa_are_findings(doc: dict[str, Any], finding: str) -> None:
    analysis = trust.analyse(doc)
    assert analysis.verdict == "open"
    opened = [f for f in analysis.findings if f.kind == "open"]
    assert opened and all(f.statement == 1 for f in opened)
    assert any(finding.lower() in str(f).lower() for f in opened), [str(f) for f in opened]


@pytest.mark.parametrize(
    "condition",
    [
        {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        {"Bool": {"aws:MultiFactorAuthPresent": ["true"]}},
        {"Bool": {"AWS:MultiFactorAuthPresent": "TRUE"}},  # keys and values are case-insensitive
        {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
        {"Null": {"aws:MultiFactorAuthAge": "false"}},
    ],
)
def test_conditions_that_require_mfa(condition: dict[str, Any]) -> None:
    assert trust.analyse(allow(condition)).verdict == "requires-mfa"


def test_a_deny_catching_every_request_without_mfa_covers_the_allows() -> None:
    doc = allow()
    doc["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    )
    assert trust.analyse(doc).verdict == "requires-mfa"


def test_a_deny_with_plain_bool_false_misses_long_term_keys() -> None:
    """Bool ... false does not match when the key is absent, as it is for long-term keys."""
    doc = allow()
    doc["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        }
    )
    assert trust.analyse(doc).verdict != "requires-mfa"


def test_statements_for_other_actions_are_ignored() -> None:
    doc = allow(action="sts:TagSession")
    assert trust.analyse(doc).verdict == "requires-mfa"


def test_unreadable_documents_are_undecided() -> None:
    analysis = trust.analyse("{not json")
    assert analysis.verdict == "undecided" and analysis.findings


def test_a_deny_with_not_principal_does_not_cover_the_allows() -> None:
    """A Deny that exempts someone (NotPrincipal) may exempt the very user: not proof of MFA.

    (Listed without its account, the user may be exempt or not: AWS says it "might" be denied.)"""
    doc = allow()
    doc["Statement"].append(
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": USER},
            "Action": "sts:AssumeRole",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    )
    assert trust.analyse(doc).verdict != "requires-mfa"
