"""The policy evaluator on its own: no HTTP, no moto, just AWS's evaluation rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sts_mfa.sandbox.rules.policy import (
    Decision,
    Principal,
    Request,
    TrustDecision,
    evaluate,
    evaluate_trust,
    wildcard_match,
)

pytestmark = pytest.mark.sandbox

USER = "arn:aws:iam::111111111111:user/sts-mfa/alice"
ROLE = "arn:aws:iam::111111111111:role/mfa-only"
ALICE = Principal(arn=USER, account="111111111111")


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any = "s3:ListAllMyBuckets", resource: Any = "*", **extra: Any) -> str:
    return policy({"Effect": "Allow", "Action": action, "Resource": resource, **extra})


def decide(document: str, action: str = "s3:ListAllMyBuckets", resource: str = "*", **ctx: str) -> Decision:
    return evaluate([document], Request(action, resource, ctx))


# --- effect, action, resource ------------------------------------------------------------


def test_nothing_allows_by_default() -> None:
    assert evaluate([], Request("s3:ListAllMyBuckets", "*")) is Decision.IMPLICIT_DENY


def test_explicit_deny_beats_allow_in_any_policy() -> None:
    deny = policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    assert evaluate([allow(), deny], Request("s3:ListAllMyBuckets", "*")) is Decision.DENY


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [("s3:*", True), ("S3:LISTALL*", True), ("s3:List?llMyBuckets", True), ("iam:*", False)],
)
def test_action_wildcards_ignore_case(pattern: str, allowed: bool) -> None:
    assert (decide(allow(pattern)) is Decision.ALLOW) is allowed


def test_not_action_and_not_resource() -> None:
    document = policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret*"})
    assert decide(document, "s3:GetObject", "arn:aws:s3:::public/x") is Decision.ALLOW
    assert decide(document, "s3:GetObject", "arn:aws:s3:::secret/x") is Decision.IMPLICIT_DENY
    assert decide(document, "iam:ListUsers", "arn:aws:s3:::public/x") is Decision.IMPLICIT_DENY


def test_resources_match_case_sensitively() -> None:
    document = allow("s3:GetObject", "arn:aws:s3:::reports/*")
    assert decide(document, "s3:GetObject", "arn:aws:s3:::reports/a") is Decision.ALLOW
    assert decide(document, "s3:GetObject", "arn:aws:s3:::Reports/a") is Decision.IMPLICIT_DENY


def test_policy_variables_substitute_and_are_literal() -> None:
    document = allow("iam:GetUser", "arn:aws:iam::*:user/*/${aws:username}")
    assert decide(document, "iam:GetUser", USER, **{"aws:username": "alice"}) is Decision.ALLOW
    assert decide(document, "iam:GetUser", USER, **{"aws:username": "bob"}) is Decision.IMPLICIT_DENY
    assert decide(document, "iam:GetUser", USER) is Decision.IMPLICIT_DENY  # no such key
    starry = allow("iam:GetUser", "arn:aws:iam::*:user/${aws:username}")
    user_star = "arn:aws:iam::1:user/al*"
    assert decide(starry, "iam:GetUser", user_star, **{"aws:username": "al*"}) is Decision.ALLOW
    assert decide(starry, "iam:GetUser", "arn:aws:iam::1:user/alice", **{"aws:username": "al*"}) is (
        Decision.IMPLICIT_DENY
    )


def test_variables_are_text_in_old_policies() -> None:
    old = json.dumps(
        {
            "Version": "2008-10-17",
            "Statement": [json.loads(allow("iam:GetUser", "*${aws:username}"))["Statement"][0]],
        }
    )
    assert decide(old, "iam:GetUser", "x${aws:username}", **{"aws:username": "a"}) is Decision.ALLOW


def test_malformed_documents_grant_nothing() -> None:
    for document in ("not json", "[]", json.dumps({"Statement": "nope"}), policy({"Effect": "Allow"})):
        assert decide(document) is Decision.IMPLICIT_DENY


# --- conditions --------------------------------------------------------------------------


def with_condition(condition: dict[str, Any], effect: str = "Allow") -> str:
    return policy({"Effect": effect, "Action": "*", "Resource": "*", "Condition": condition})


@pytest.mark.parametrize(
    ("condition", "context", "holds"),
    [
        ({"StringEquals": {"k": "a"}}, {"k": "a"}, True),
        ({"StringEquals": {"k": "a"}}, {"k": "A"}, False),
        ({"StringEquals": {"k": ["x", "a"]}}, {"k": "a"}, True),  # values OR
        ({"StringEquals": {"K": "a"}}, {"k": "a"}, True),  # keys ignore case
        ({"StringNotEquals": {"k": "a"}}, {"k": "b"}, True),
        ({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "b"}, False),
        ({"StringLike": {"k": "ab*"}}, {"k": "abc"}, True),
        ({"StringLike": {"k": "a?c"}}, {"k": "abbc"}, False),
        ({"StringEqualsIgnoreCase": {"k": "ABC"}}, {"k": "abc"}, True),
        ({"Bool": {"k": "true"}}, {"k": "true"}, True),
        ({"Bool": {"k": True}}, {"k": "true"}, True),
        ({"Bool": {"k": "true"}}, {"k": "false"}, False),
        ({"NumericLessThan": {"k": "300"}}, {"k": "299"}, True),
        ({"NumericLessThan": {"k": "300"}}, {"k": "300"}, False),
        ({"NumericLessThanEquals": {"k": 300}}, {"k": "300"}, True),
        ({"NumericGreaterThan": {"k": "1"}}, {"k": "2"}, True),
        ({"NumericGreaterThanEquals": {"k": "2"}}, {"k": "1"}, False),
        ({"NumericEquals": {"k": "2"}}, {"k": "2.0"}, True),
        ({"NumericEquals": {"k": "2"}}, {"k": "two"}, False),
        ({"ArnLike": {"k": "arn:aws:iam::*:user/*"}}, {"k": USER}, True),
        ({"Null": {"k": "true"}}, {}, True),
        ({"Null": {"k": "false"}}, {}, False),
        # keys AND, operators AND
        ({"StringEquals": {"k": "a", "j": "b"}}, {"k": "a", "j": "c"}, False),
        ({"StringEquals": {"k": "a"}, "Bool": {"j": "true"}}, {"k": "a", "j": "true"}, True),
    ],
)
def test_condition_operators(condition: dict[str, Any], context: dict[str, str], holds: bool) -> None:
    assert (decide(with_condition(condition), **context) is Decision.ALLOW) is holds


@pytest.mark.parametrize(
    ("operator", "holds_when_missing"),
    [
        ("StringEquals", False),
        ("Bool", False),
        ("NumericLessThan", False),
        ("StringLike", False),
        ("StringEqualsIfExists", True),
        ("BoolIfExists", True),
        ("NumericLessThanIfExists", True),
        ("StringNotEquals", True),  # negated operators hold when the key is missing (AWS)
    ],
)
def test_a_missing_key_fails_unless_if_exists(operator: str, holds_when_missing: bool) -> None:
    document = with_condition({operator: {"aws:MultiFactorAuthPresent": "true"}})
    assert (decide(document) is Decision.ALLOW) is holds_when_missing


def test_if_exists_still_checks_a_present_key() -> None:
    document = with_condition({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})
    assert decide(document, **{"aws:MultiFactorAuthPresent": "false"}) is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    "operator", ["DateGreaterThan", "ForAnyValue:Null", "NullIfExists", "IpAddress", "stringequals"]
)
def test_unknown_operators_fail_closed(operator: str) -> None:
    condition = {operator: {"k": "v"}, "StringEquals": {"k": "v"}}
    assert decide(with_condition(condition), k="v") is Decision.IMPLICIT_DENY
    deny = with_condition({operator: {"k": "no-match"}}, effect="Deny")
    assert evaluate([allow("*"), deny], Request("s3:ListAllMyBuckets", "*")) is Decision.DENY


def test_a_plain_operator_on_a_multivalued_key_fails_closed() -> None:
    keys = ("a", "b")
    question = Request("s3:ListAllMyBuckets", "*", {"aws:TagKeys": keys})
    assert evaluate([with_condition({"StringEquals": {"aws:TagKeys": "a"}})], question) is (
        Decision.IMPLICIT_DENY
    )
    deny = with_condition({"StringEquals": {"aws:TagKeys": "zzz"}}, effect="Deny")
    assert evaluate([allow("*"), deny], question) is Decision.DENY


# IAM User Guide, "Single-valued vs. multivalued context keys": the set operator decides first,
# whatever the IfExists suffix: ForAllValues holds when every request value matches (so with
# none at all), ForAnyValue when at least one does (so never with none). A request value
# matches a negated operator when it equals none of the policy's values.
SET_CASES = [
    # (request values: None = key missing, () = empty set), holds for ForAnyValue, ForAllValues
    (None, False, True),
    ((), False, True),
    (("a",), True, True),
    (("z",), False, False),
    (("a", "b"), True, True),
    (("a", "z"), True, False),
    (("y", "z"), False, False),
]


@pytest.mark.parametrize("suffix", ["", "IfExists"])
@pytest.mark.parametrize(("values", "any_holds", "all_holds"), SET_CASES)
def test_set_operators(values: tuple[str, ...] | None, any_holds: bool, all_holds: bool, suffix: str) -> None:
    context = {} if values is None else {"aws:TagKeys": values}
    question = Request("s3:ListAllMyBuckets", "*", context)
    policy_values = ["a", "b"]
    for qualifier, holds in (("ForAnyValue:", any_holds), ("ForAllValues:", all_holds)):
        condition = {f"{qualifier}StringEquals{suffix}": {"aws:TagKeys": policy_values}}
        assert (evaluate([with_condition(condition)], question) is Decision.ALLOW) is holds, qualifier
        deny = with_condition(condition, effect="Deny")
        assert (evaluate([allow("*"), deny], question) is Decision.DENY) is holds, qualifier


@pytest.mark.parametrize(
    ("values", "any_holds", "all_holds"),
    [
        (None, False, True),
        ((), False, True),
        (("a",), False, False),
        (("z",), True, True),
        (("a", "z"), True, False),
        (("y", "z"), True, True),
    ],
)
def test_negated_set_operators(values: tuple[str, ...] | None, any_holds: bool, all_holds: bool) -> None:
    context = {} if values is None else {"aws:TagKeys": values}
    question = Request("s3:ListAllMyBuckets", "*", context)
    for qualifier, holds in (("ForAnyValue:", any_holds), ("ForAllValues:", all_holds)):
        condition = {f"{qualifier}StringNotEquals": {"aws:TagKeys": ["a", "b"]}}
        assert (evaluate([with_condition(condition)], question) is Decision.ALLOW) is holds, qualifier


def test_a_set_operator_on_a_single_valued_key_compares_its_one_value() -> None:
    condition = {"ForAnyValue:BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    assert decide(with_condition(condition)) is Decision.IMPLICIT_DENY  # missing: false
    assert decide(with_condition(condition), **{"aws:MultiFactorAuthPresent": "false"}) is Decision.ALLOW
    assert decide(with_condition(condition), **{"aws:MultiFactorAuthPresent": "true"}) is (
        Decision.IMPLICIT_DENY
    )


# --- trust policies ------------------------------------------------------------------------


def trust(principal: Any, effect: str = "Allow", element: str = "Principal", **extra: Any) -> str:
    return policy({"Effect": effect, element: principal, "Action": "sts:AssumeRole", **extra})


def trusted(document: str, principal: Principal = ALICE, **ctx: str) -> TrustDecision:
    return evaluate_trust(document, Request("sts:AssumeRole", ROLE, ctx, principal))


@pytest.mark.parametrize(
    ("principal", "decision"),
    [
        ({"AWS": USER}, TrustDecision.ALLOW_PRINCIPAL),
        ({"AWS": [ROLE, USER]}, TrustDecision.ALLOW_PRINCIPAL),
        ({"AWS": "arn:aws:iam::111111111111:user/alice"}, TrustDecision.NO_MATCH),  # no path
        ({"AWS": "arn:aws:iam::111111111111:root"}, TrustDecision.ALLOW_ACCOUNT),
        ({"AWS": "111111111111"}, TrustDecision.ALLOW_ACCOUNT),
        ({"AWS": "*"}, TrustDecision.ALLOW_ACCOUNT),
        ("*", TrustDecision.ALLOW_ACCOUNT),
        ({"AWS": "arn:aws:iam::222222222222:root"}, TrustDecision.NO_MATCH),
        ({"Service": "ec2.amazonaws.com"}, TrustDecision.NO_MATCH),
    ],
)
def test_principal_forms(principal: Any, decision: TrustDecision) -> None:
    assert trusted(trust(principal)) is decision


def test_naming_beats_the_account_when_both_allow() -> None:
    document = policy(
        {"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "sts:AssumeRole"},
    )
    assert trusted(document) is TrustDecision.ALLOW_PRINCIPAL


def test_a_session_is_named_by_its_role_arn() -> None:
    session = Principal(
        arn="arn:aws:sts::111111111111:assumed-role/first/s",
        account="111111111111",
        aliases=("arn:aws:iam::111111111111:role/first",),
    )
    assert trusted(trust({"AWS": "arn:aws:iam::111111111111:role/first"}), session) is (
        TrustDecision.ALLOW_PRINCIPAL
    )


def test_not_principal_covers_everyone_else() -> None:
    document = trust({"AWS": "arn:aws:iam::111111111111:user/bob"}, element="NotPrincipal")
    assert trusted(document) is TrustDecision.ALLOW_ACCOUNT
    assert trusted(trust({"AWS": USER}, element="NotPrincipal")) is TrustDecision.NO_MATCH


def test_deny_in_a_trust_policy_wins() -> None:
    document = policy(
        json.loads(trust({"AWS": USER}))["Statement"][0],
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:*"},
    )
    assert trusted(document) is TrustDecision.DENY


def test_mfa_condition_in_a_trust_policy() -> None:
    document = trust({"AWS": USER}, Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    assert trusted(document) is TrustDecision.NO_MATCH
    assert trusted(document, **{"aws:MultiFactorAuthPresent": "true"}) is TrustDecision.ALLOW_PRINCIPAL


def test_trust_needs_a_principal() -> None:
    with pytest.raises(ValueError):
        evaluate_trust(trust({"AWS": USER}), Request("sts:AssumeRole", ROLE))


# --- wildcard matching, by property ---------------------------------------------------------

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(text)
def test_a_pattern_without_wildcards_is_plain_equality(value: str) -> None:
    literal = value.replace("*", "").replace("?", "")
    assert wildcard_match(literal, literal)
    assert not wildcard_match(literal, literal + "x")


@given(text)
def test_star_matches_anything(value: str) -> None:
    assert wildcard_match("*", value)


@given(text, text)
def test_prefix_star_matches_every_extension(prefix: str, rest: str) -> None:
    literal = prefix.replace("*", "").replace("?", "")
    assert wildcard_match(literal + "*", literal + rest)
