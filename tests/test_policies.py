"""The policy documents, and the trust-policy check behind check-deny."""

from __future__ import annotations

from typing import Any

import pytest

from sts_mfa import policies

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
    assert policies.trust_policy_findings(doc) == []


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
        (allow({"StringEquals": {"sts:ExternalId": "x"}}), "do not require MFA"),
        (allow({"Bool": {"aws:MultiFactorAuthPresent": "false"}}), "do not require MFA"),
        (allow(action="sts:*"), "no condition"),
        (allow(action="*"), "no condition"),
        (allow(principal="*"), "allows * with no condition"),
    ],
)
def test_allows_without_mfa_are_findings(doc: dict[str, Any], finding: str) -> None:
    findings = policies.trust_policy_findings(doc)
    assert len(findings) == 1 and finding in findings[0]


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
    assert policies.trust_policy_findings(allow(condition)) == []


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
    assert policies.trust_policy_findings(doc) == []


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
    assert policies.trust_policy_findings(doc) != []


def test_statements_for_other_actions_are_ignored() -> None:
    doc = allow(action="sts:TagSession")
    assert policies.trust_policy_findings(doc) == []


def test_unreadable_documents_are_findings() -> None:
    assert policies.trust_policy_findings("{not json") == ["the trust policy is not valid JSON"]


def test_a_deny_with_not_principal_does_not_cover_the_allows() -> None:
    """A Deny that exempts someone (NotPrincipal) may exempt the very user: not proof of MFA."""
    doc = allow()
    doc["Statement"].append(
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": USER},
            "Action": "sts:AssumeRole",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    )
    assert policies.trust_policy_findings(doc) != []
