"""The trust-policy analysis (sts_mfa.trust.analysis): the corpus, the rules one by one, and properties.

The corpus in tests/trust/corpus/ holds one adversarial trust policy per file with the
verdict it must get; the tables below pin each rule of docs/trust-analysis.md; the
hypothesis tests check that no input makes the analysis raise, that adding an
unconditional Allow never produces "requires-mfa", and that whatever it proves the
sandbox's own IAM evaluator refuses too.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sts_mfa.sandbox.rules.policy import KNOWN_OPERATORS, Principal, Request, TrustDecision, evaluate_trust
from sts_mfa.trust.analysis import ASSUME_ACTIONS, Analysis, Finding, WayIn, analyse
from tests.support.corpus import ACCOUNT, CORPUS, OTHER_ACCOUNT, USER, documents, substitute

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
PRESENT = "aws:MultiFactorAuthPresent"
AGE = "aws:MultiFactorAuthAge"
MFA = {"Bool": {PRESENT: "true"}}
VERDICTS = ("requires-mfa", "open", "undecided", "service")
WAY_ROLE, WAY_WEB, WAY_SAML = ASSUME_ACTIONS


def corpus() -> list[Any]:
    return [pytest.param(entry, id=name) for name, entry in documents()]


def allow(
    principal: Any = None, action: Any = WAY_ROLE, condition: Any = None, **extra: Any
) -> dict[str, Any]:
    who = {"AWS": USER} if principal is None else principal
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": who, "Action": action}
    if condition is not None:
        statement["Condition"] = condition
    return {**statement, **extra}


def deny(principal: Any = "*", action: Any = WAY_ROLE, condition: Any = None, **extra: Any) -> dict[str, Any]:
    return {**allow(principal, action, condition, **extra), "Effect": "Deny"}


def doc(*statements: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def status_of(document: Any, statement: int = 1, action: str = WAY_ROLE) -> str:
    found = [w for w in analyse(document).ways_in if w.statement == statement and w.action == action]
    assert len(found) == 1, found
    return found[0].status


# --- the corpus ------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", corpus())
def test_corpus_document(entry: dict[str, Any]) -> None:
    analysis = analyse(substitute(entry["policy"]))

    assert analysis.verdict == entry["expected"], [str(f) for f in analysis.findings]
    named = {f.statement for f in analysis.findings if f.kind == "open"}
    assert set(entry.get("open_statements", [])) <= named
    for finding in analysis.findings:
        text = str(finding)
        assert "\n" not in text
        if finding.statement is not None:
            assert text.startswith(f"statement {finding.statement}")
    if analysis.verdict == "requires-mfa":
        assert analysis.findings == ()
        assert analysis.requires_mfa


def test_the_corpus_is_complete_and_well_formed() -> None:
    entries = {path.stem: json.loads(path.read_text()) for path in CORPUS.glob("*.json")}
    assert len(entries) >= 34
    assert {e["expected"] for e in entries.values()} == set(VERDICTS)
    allowed = {"description", "expected", "policy", "sandbox", "why", "open_statements"}
    for name, entry in entries.items():
        assert set(entry) <= allowed, name
        assert entry["expected"] in VERDICTS and isinstance(entry["sandbox"], bool), name
        assert entry["why"].count(". ") == 0 and entry["why"].endswith("."), name
        assert ("open_statements" in entry) == (entry["expected"] == "open"), name


@pytest.mark.parametrize("entry", [p for p in corpus() if p.values[0]["sandbox"]])
def test_sandbox_documents_only_let_iam_callers_assume_the_role(entry: dict[str, Any]) -> None:
    """What the sandbox test can check: ways in for AWS principals through sts:AssumeRole."""
    for way in analyse(substitute(entry["policy"])).ways_in:
        if way.status != "closed":
            assert (way.action, way.principal_kind in ("aws", "everyone")) == (WAY_ROLE, True), way


# --- rule 1: which actions are ways in --------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "verdict"),
    [
        ("sts:AssumeRole", "open"),
        ("STS:ASSUMEROLE", "open"),
        ("sts:*", "open"),
        ("*", "open"),
        ("sts:Assume*", "open"),
        ("sts:AssumeRol?", "open"),
        (["s3:GetObject", "sts:AssumeRole"], "open"),
        ("sts:AssumeRoleWithWebIdentity", "requires-mfa"),  # not feasible for an AWS principal
        ("sts:TagSession", "requires-mfa"),
        (["sts:SetSourceIdentity", "sts:SetContext", "sts:TagSession"], "requires-mfa"),
        ("s3:*", "requires-mfa"),
        ("sts:AssumeRole ", "undecided"),  # outside IAM's grammar: trimmed by AWS, or another action?
        ("\u017fts:AssumeRole", "undecided"),  # a long s: case folding may take it for "s"
        ("sts:Assume\u0130Role", "undecided"),  # a dotted capital I
        ([], "undecided"),
        ("", "undecided"),
        (["sts:AssumeRole", 1], "undecided"),
        ({"sts": "AssumeRole"}, "undecided"),
        (None, "undecided"),
    ],
)
def test_actions(action: Any, verdict: str) -> None:
    assert analyse(doc(allow(action=action))).verdict == verdict


@pytest.mark.parametrize(
    ("not_action", "verdict"),
    [
        ("s3:*", "open"),
        ("sts:TagSession", "open"),
        ("sts:AssumeRole", "open"),  # everyone may still use the web-identity and SAML actions
        ("sts:*", "requires-mfa"),
        (["sts:AssumeRole", "sts:AssumeRoleWith*"], "requires-mfa"),
    ],
)
def test_not_action(not_action: Any, verdict: str) -> None:
    statement = {"Effect": "Allow", "Principal": "*", "NotAction": not_action}
    assert analyse(doc(statement)).verdict == verdict


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Principal": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "NotAction": "s3:*"},
    ],
)
def test_a_statement_needs_exactly_one_of_action_and_not_action(statement: dict[str, Any]) -> None:
    analysis = analyse(doc(statement))
    assert analysis.verdict == "undecided"
    assert analysis.findings[0].statement == 1


# --- rule 2: principals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "ways"),
    [
        ("*", {("everyone", WAY_ROLE), ("everyone", WAY_WEB), ("everyone", WAY_SAML)}),
        ({"AWS": "*"}, {("aws", WAY_ROLE)}),
        ({"AWS": USER}, {("aws", WAY_ROLE)}),
        ({"AWS": [ROOT, ACCOUNT, "AIDAEXAMPLEUNIQUEID1"]}, {("aws", WAY_ROLE)}),
        # an OIDC provider (or a web-identity provider's name) signs in only through
        # AssumeRoleWithWebIdentity; AssumeRoleWithSAML takes a saml-provider ARN
        ({"Federated": GITHUB}, {("federated", WAY_WEB)}),
        ({"Federated": "accounts.google.com"}, {("federated", WAY_WEB)}),
        ({"Federated": "www.amazon.com"}, {("federated", WAY_WEB)}),
        ({"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta"}, {("federated", WAY_SAML)}),
        (
            {"Service": ["ec2.amazonaws.com", "rolesanywhere.amazonaws.com"]},
            {("service", WAY_ROLE), ("certificate", WAY_ROLE)},
        ),
        ({"AWS": USER, "Service": "ec2.amazonaws.com"}, {("aws", WAY_ROLE), ("service", WAY_ROLE)}),
    ],
)
def test_principal_forms_and_the_actions_they_can_use(principal: Any, ways: set[tuple[str, str]]) -> None:
    found = analyse(doc(allow(principal, "sts:*"))).ways_in
    assert {(w.principal_kind, w.action) for w in found} == ways


def test_one_way_per_principal_value() -> None:
    found = analyse(doc(allow({"AWS": [USER, ROOT]}))).ways_in
    assert [w.principal for w in found] == [f"AWS {USER}", f"AWS {ROOT}"]


@pytest.mark.parametrize(
    "principal",
    [
        {"CanonicalUser": "abc"},
        {"aws": USER},
        {"AWS": ""},
        {"AWS": []},
        {"AWS": 111111111111},
        {"AWS": {"arn": USER}},
        {},
        "arn:aws:iam::111111111111:root",
        ["*"],
    ],
)
def test_principals_not_understood_are_undecided(principal: Any) -> None:
    analysis = analyse(doc(allow(principal, condition=None)))
    assert analysis.verdict == "undecided"
    assert any(f.kind == "undecided" and f.statement == 1 for f in analysis.findings)


def test_an_understood_principal_next_to_an_unknown_one_is_still_reported() -> None:
    analysis = analyse(doc(allow({"AWS": USER, "CanonicalUser": "abc"})))
    assert analysis.verdict == "open"
    assert {f.kind for f in analysis.findings} == {"open", "undecided"}


def test_not_principal_allow_is_everyone_else() -> None:
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": ROOT}, "Action": "sts:*"}
    analysis = analyse(doc(statement))
    assert analysis.verdict == "open"
    assert {w.principal_kind for w in analysis.ways_in} == {"everyone"}
    assert all("everyone except" in w.principal for w in analysis.ways_in)
    assert status_of(doc({**statement, "Condition": MFA})) == "requires-mfa"


# --- rule 3: conditions, for an IAM caller -----------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "status"),
    [
        ({"Bool": {PRESENT: "true"}}, "requires-mfa"),
        ({"Bool": {PRESENT: True}}, "requires-mfa"),
        ({"Bool": {PRESENT: "True"}}, "requires-mfa"),
        ({"Bool": {"AWS:MULTIFACTORAUTHPRESENT": "true"}}, "requires-mfa"),
        ({"Bool": {PRESENT: ["true", "false"]}}, "open"),
        ({"Bool": {PRESENT: "false"}}, "open"),
        ({"BoolIfExists": {PRESENT: "true"}}, "open"),
        ({"Null": {AGE: "false"}}, "requires-mfa"),
        ({"Null": {AGE: False}}, "requires-mfa"),
        ({"Null": {PRESENT: "false"}}, "open"),
        ({"Null": {PRESENT: "true"}}, "open"),
        ({"NumericLessThan": {AGE: "3600"}}, "requires-mfa"),
        ({"NumericLessThan": {AGE: 3600}}, "requires-mfa"),
        ({"NumericLessThanEquals": {AGE: "3600.5"}}, "requires-mfa"),
        ({"NumericLessThanIfExists": {AGE: "3600"}}, "open"),
        ({"NumericGreaterThan": {AGE: "0"}}, "requires-mfa"),
        ({"NumericGreaterThanEquals": {AGE: "0"}}, "requires-mfa"),
        ({"NumericEquals": {AGE: "0"}}, "requires-mfa"),
        ({"NumericNotEquals": {AGE: "5"}}, "open"),
        ({"StringEquals": {PRESENT: "true"}}, "requires-mfa"),
        ({"StringEqualsIgnoreCase": {PRESENT: "TRUE"}}, "requires-mfa"),
        ({"StringLike": {PRESENT: "t*"}}, "requires-mfa"),
        ({"StringLike": {PRESENT: "*"}}, "open"),
        ({"StringEquals": {PRESENT: "false"}}, "open"),
        ({"StringNotEquals": {PRESENT: "false"}}, "open"),
        ({"StringNotEquals": {PRESENT: "true"}}, "open"),
        ({"StringNotLike": {PRESENT: "f*"}}, "open"),
        ({"StringEqualsIfExists": {PRESENT: "true"}}, "open"),
        ({"ForAllValues:StringEquals": {PRESENT: "true"}}, "open"),
        ({"ForAnyValue:StringEquals": {PRESENT: "true"}}, "requires-mfa"),
        ({"ForAnyValue:StringNotEquals": {PRESENT: "false"}}, "requires-mfa"),
        ({"ForAnyValue:StringNotEquals": {PRESENT: "true"}}, "open"),
        # set operators decide before IfExists: ForAnyValue over a missing key is false
        ({"ForAnyValue:StringEqualsIfExists": {PRESENT: "true"}}, "requires-mfa"),
        ({"ForAnyValue:BoolIfExists": {PRESENT: "true"}}, "requires-mfa"),
        ({"ForAllValues:BoolIfExists": {PRESENT: "true"}}, "open"),
        ({"ForAllValues:StringEqualsIfExists": {PRESENT: "true"}}, "open"),
        ({"ForAnyValue:StringNotEqualsIfExists": {PRESENT: "false"}}, "requires-mfa"),
        # look-alike letters: a key or operator that case folding may take for an MFA one
        ({"Bool": {"aws:Mult\u0131FactorAuthPresent": "true"}}, "undecided"),
        ({"Bo\u043el": {PRESENT: "true"}}, "undecided"),
        # AND of clauses: one MFA clause decides
        ({"Bool": {PRESENT: "true"}, "StringEquals": {"sts:ExternalId": "abc"}}, "requires-mfa"),
        ({"Bool": {PRESENT: "true", "aws:PrincipalTag/team": "ops"}}, "requires-mfa"),
        ({"BoolIfExists": {PRESENT: "true"}, "Null": {PRESENT: "false"}}, "requires-mfa"),
        ({"Null": {PRESENT: "false"}, "StringNotEquals": {PRESENT: "false"}}, "requires-mfa"),
        ({"Bool": {PRESENT: "true"}, "bool": {PRESENT: "true"}}, "undecided"),  # one operator twice?
        ({"NumericLessThan": {AGE: "3600"}, "Bool": {PRESENT: "yes"}}, "requires-mfa"),
        # conditions on other keys narrow who, never MFA
        ({"StringEquals": {"sts:ExternalId": "abc"}}, "open"),
        # AWS's ExternalId is 2 to 1,224 characters: "x" is no request's, so nobody gets in
        ({"StringEquals": {"sts:ExternalId": "x"}}, "closed"),
        ({"ArnLike": {"aws:PrincipalArn": USER}}, "open"),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, "open"),
        ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, "open"),
        # a policy variable: its value is known only when the request arrives
        ({"StringEquals": {"aws:PrincipalTag/${aws:username}": "${aws:username}"}}, "undecided"),
        # not understood
        ({"bool": {PRESENT: "true"}}, "undecided"),
        ({"BOOL": {PRESENT: "true"}}, "undecided"),
        ({"StringEqualsAnyCase": {PRESENT: "true"}}, "undecided"),
        ({"BinaryNotEquals": {PRESENT: "dHJ1ZQ=="}}, "undecided"),
        ({"NullIfExists": {AGE: "false"}}, "undecided"),
        ({"ForAnyValue:Null": {AGE: "false"}}, "undecided"),
        ({"Bool": {PRESENT: "yes"}}, "undecided"),
        ({"Bool": {PRESENT: 1}}, "undecided"),
        ({"Null": {AGE: "no"}}, "undecided"),
        ({"NumericLessThan": {AGE: "abc"}}, "undecided"),
        ({"NumericLessThan": {AGE: True}}, "undecided"),
        ({"NumericLessThan": {PRESENT: "1"}}, "undecided"),
        ({"Bool": {AGE: "true"}}, "undecided"),
        # whatever a date means for the age, a positive operator on a missing key is false
        ({"DateGreaterThan": {AGE: "2020-01-01T00:00:00Z"}}, "requires-mfa"),
        ({"IpAddress": {PRESENT: "10.0.0.0/8"}}, "undecided"),
        ({"ArnEquals": {PRESENT: "true"}}, "undecided"),
        ({"StringEquals": {PRESENT: "${aws:MultiFactorAuthPresent}"}}, "undecided"),
        ({"Bool": {PRESENT: None}}, "undecided"),
        ({"Bool": {PRESENT: []}}, "undecided"),
        ({"Bool": {PRESENT: [["true"]]}}, "undecided"),
        ({"Bool": {PRESENT: {"v": "true"}}}, "undecided"),
        ({"Bool": {PRESENT: "true", "aws:multifactorauthpresent": "true"}}, "undecided"),
        ({"Bool": {PRESENT: "true", "AWS:MultiFactorAuthPresent": ["true", "false"]}}, "undecided"),
        ({"Bool": {}}, "undecided"),
        ({"Bool": "aws:MultiFactorAuthPresent"}, "undecided"),
        ({}, "undecided"),
        (None, "undecided"),
        ("Bool", "undecided"),
        ([MFA], "undecided"),
        ({"StringMatches": {"sts:ExternalId": "x"}}, "undecided"),
        ({"StringEquals": {"sts:ExternalId": {"nested": 1}}}, "undecided"),
    ],
)
def test_conditions_for_an_iam_caller(condition: Any, status: str) -> None:
    assert status_of(doc({**allow(), "Condition": condition})) == status


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({"StringEquals": {"sts:ExternalId": "abc"}}, "sts:ExternalId = 'abc'"),
        (
            {"StringLike": {"aws:PrincipalArn": "arn:*"}, "NumericLessThan": {"aws:EpochTime": 1}},
            "aws:EpochTime = 0",
        ),
        ({"BoolIfExists": {PRESENT: "true"}}, "with long-term access keys, no MFA key"),
        ({"Null": {PRESENT: "false"}}, "with temporary credentials obtained without MFA"),
        (
            {"Bool": {PRESENT: "true"}},
            'requires MFA: no request without MFA meets Bool aws:MultiFactorAuthPresent "true"',
        ),
        (
            {"bool": {PRESENT: "true"}},
            "'bool' is not an IAM condition operator (operator names are case-sensitive)",
        ),
        ({"Bool": {PRESENT: "yes"}}, "Bool takes only true or false"),
        ({"StringEquals": {PRESENT: "${x}"}}, "policy variable"),
    ],
)
def test_reasons_say_which_condition(condition: Any, words: str) -> None:
    (way,) = analyse(doc(allow(condition=condition))).ways_in
    assert words in way.reason


# --- rule 4: federated callers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "status"),
    [
        (None, "open"),
        ({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:o/r:*"}}, "open"),
        ({"Bool": {PRESENT: "true"}}, "requires-mfa"),
        ({"NumericLessThan": {AGE: "3600"}}, "requires-mfa"),
        ({"BoolIfExists": {PRESENT: "true"}}, "open"),
        # a web-identity sign-in never carries the MFA key, so "present" can never hold
        ({"Null": {PRESENT: "false"}}, "requires-mfa"),
        ({"bool": {PRESENT: "true"}}, "undecided"),
    ],
)
def test_conditions_for_a_web_identity_caller(condition: Any, status: str) -> None:
    document = doc(allow({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity", condition))
    assert status_of(document, action=WAY_WEB) == status


def test_a_federated_way_that_requires_mfa_says_it_can_never_match() -> None:
    document = doc(allow({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity", MFA))
    (way,) = analyse(document).ways_in
    assert "a web-identity or SAML sign-in never carries an IAM user's MFA" in way.reason


def test_the_github_finding_reads_as_one_line() -> None:
    document = doc(
        allow(condition=MFA),
        allow({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity", Sid="GitHub"),
    )
    (finding,) = analyse(document).findings
    assert str(finding) == (
        f"statement 2 (Sid GitHub) lets Federated {GITHUB} in through sts:AssumeRoleWithWebIdentity "
        "without MFA: a web-identity or SAML sign-in never carries an IAM user's MFA; gets in without "
        f"MFA: {GITHUB} calling sts:AssumeRoleWithWebIdentity signing in with a web identity token, "
        "no MFA key"
    )


# --- rule 5: Deny statements -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("denial", "status"),
    [
        (deny(), "closed"),
        (deny(action="*"), "closed"),
        (deny(action="sts:Assume*"), "closed"),
        ({"Effect": "Deny", "Principal": "*", "NotAction": "s3:*"}, "closed"),
        (deny({"AWS": "*"}), "closed"),
        (deny({"AWS": USER}), "closed"),
        (deny({"AWS": ACCOUNT}), "closed"),
        (deny({"AWS": ROOT}), "closed"),
        (deny(condition={"BoolIfExists": {PRESENT: "false"}}), "requires-mfa"),
        (deny(condition={"BoolIfExists": {PRESENT: False}}), "requires-mfa"),
        (deny(condition={"Null": {AGE: "true"}}), "requires-mfa"),
        (deny(condition={"StringNotEquals": {PRESENT: "true"}}), "requires-mfa"),
        (deny(condition={"StringNotEqualsIfExists": {PRESENT: "true"}}), "requires-mfa"),
        (deny(condition={"ForAllValues:StringEquals": {PRESENT: "false"}}), "requires-mfa"),
        (deny(condition={"ForAllValues:BoolIfExists": {PRESENT: "false"}}), "requires-mfa"),
        # set operators decide before IfExists: ForAnyValue over a missing key is false,
        # so these miss requests signed with long-term keys (no MFA key at all)
        (deny(condition={"ForAnyValue:BoolIfExists": {PRESENT: "false"}}), "open"),
        (deny(condition={"ForAnyValue:StringEqualsIfExists": {PRESENT: "false"}}), "open"),
        (deny(condition={"ForAnyValue:StringNotEqualsIfExists": {PRESENT: "true"}}), "open"),
        (deny(condition={"ForAnyValue:NumericLessThanIfExists": {AGE: "0"}}), "open"),
        # look-alike letters: the Deny may or may not apply, so the way is undecided
        (deny(condition={"BoolIfEx\u0131sts": {PRESENT: "false"}}), "undecided"),
        (deny(condition={"BoolIfExists": {"aws:Mult\u0131FactorAuthPresent": "false"}}), "undecided"),
        (deny(condition={"BoolIfExists": {PRESENT: ["true", "false"]}}), "closed"),
        # does not catch every request without MFA
        (deny(condition={"Bool": {PRESENT: "false"}}), "open"),
        (deny(condition={"Null": {PRESENT: "true"}}), "open"),
        (deny(condition={"StringEquals": {PRESENT: "false"}}), "open"),
        (
            deny(condition={"BoolIfExists": {PRESENT: "false"}, "IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            "open",
        ),
        (
            deny(condition={"BoolIfExists": {PRESENT: "false"}, "StringEquals": {"sts:ExternalId": "abc"}}),
            "open",
        ),
        # not understood: it may shut the way or not, so neither "open" nor "requires MFA"
        (deny(condition={"boolifexists": {PRESENT: "false"}}), "undecided"),
        (deny(condition={"BoolIfExists": {PRESENT: "no"}}), "undecided"),
        (deny(condition={}), "undecided"),
        (deny(condition="BoolIfExists"), "undecided"),
        ({**deny(), "Condition": None}, "undecided"),
        # does not cover this way
        (deny(action="sts:AssumeRoleWithWebIdentity"), "open"),
        (deny(action="sts:TagSession"), "open"),
        (deny({"AWS": "arn:aws:iam::111111111111:user/sts-mfa/bob"}), "open"),
        (deny({"AWS": OTHER_ACCOUNT}), "open"),
        (deny({"AWS": f"arn:aws:iam::{ACCOUNT}:user/*"}), "open"),
        (deny({"Service": "ec2.amazonaws.com"}), "open"),
        # a Deny with NotPrincipal applies to everyone it does not list: alice is not x
        ({"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::1:user/x"}, "Action": "*"}, "closed"),
        # a Deny that cannot be read at all (no principal; a look-alike letter) may refuse anyone
        ({"Effect": "Deny", "Action": "*"}, "undecided"),
        ({"Effect": "Deny", "Principal": "*", "NotAction": "\u017fts:AssumeRole"}, "undecided"),
        ({"Effect": "Deny", "Principal": "*", "NotPrincipal": "*", "Action": "*"}, "undecided"),
        ({"Effect": "deny", "Principal": "*", "Action": "*"}, "undecided"),
        # an Allow that cannot be read lets nobody in: the readable ways keep their verdicts
        ({"Effect": "Allow", "Action": "*"}, "open"),
    ],
)
def test_deny_statements(denial: dict[str, Any], status: str) -> None:
    assert status_of(doc(allow(), denial)) == status


@pytest.mark.parametrize(
    ("allowed", "denied_by", "status"),
    [
        # {"AWS": "*"} in a Deny is not counted for callers other than IAM principals
        (allow({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity"), {"AWS": "*"}, "open"),
        (allow({"Service": "ec2.amazonaws.com"}), {"AWS": "*"}, "open"),
        (allow("*"), {"AWS": "*"}, "open"),
        (allow({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity"), "*", "closed"),
        (allow({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity"), {"Federated": GITHUB}, "closed"),
        (allow({"Service": "ec2.amazonaws.com"}), {"Service": "ec2.amazonaws.com"}, "closed"),
        (allow("*"), "*", "closed"),
        (allow({"AWS": "*"}), {"AWS": ACCOUNT}, "open"),
        (allow({"AWS": "AIDAEXAMPLEUNIQUEID1"}), {"AWS": ACCOUNT}, "open"),
        (allow({"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"}), {"AWS": ROOT}, "closed"),
    ],
)
def test_which_principals_a_deny_covers(allowed: dict[str, Any], denied_by: Any, status: str) -> None:
    analysis = analyse(doc({**allowed, "Action": "sts:*"}, deny(denied_by, "sts:*")))
    assert {w.status for w in analysis.ways_in} == {status}


def test_a_deny_and_an_allow_can_shut_the_two_contexts_between_them() -> None:
    document = doc(
        allow(condition={"Null": {PRESENT: "false"}}), deny(condition={"Bool": {PRESENT: "false"}})
    )
    (way,) = analyse(document).ways_in
    assert way.status == "requires-mfa"
    assert "Deny statement 2" in way.reason


def test_the_classic_mistake_is_explained() -> None:
    (way,) = analyse(doc(allow(), deny(condition={"Bool": {PRESENT: "false"}}))).ways_in
    assert way.status == "open"
    assert "Deny statement 2 does not stop it" in way.reason
    assert "long-term access keys" in way.reason


# --- rule 6: documents ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "statement"),
    [
        ("not json", None),
        ("[1, 2]", None),
        ('"text"', None),
        (b'{"Statement": []}', None),
        (None, None),
        (42, None),
        ([doc(allow(condition=MFA))], None),
        ({"Version": "2012-10-17"}, None),
        ({"Statement": "Allow"}, None),
        ({"Statement": None}, None),
        ({"Version": "2013-01-01", "Statement": [allow(condition=MFA)]}, None),
        ({"Statement": [allow(condition=MFA)], "Extra": 1}, None),
        ('{"Statement": [], "Statement": []}', None),
        (doc(allow(condition=MFA), "Allow"), 2),
        (doc(allow(condition=MFA), None), 2),
        (doc({**allow(condition=MFA), "Effect": "allow"}), 1),
        (doc({**allow(condition=MFA), "Effect": ["Allow"]}), 1),
        (doc({**allow(condition=MFA), "Resource": "*"}), 1),
        (doc({**allow(condition=MFA), "NotResource": "*"}), 1),
        (doc({**allow(condition=MFA), "Sid": 3}), 1),
        (doc({**allow(condition=MFA), "Principal": {"AWS": USER}, "NotPrincipal": "*"}), 1),
        (doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Condition": MFA}), 1),
        (doc({"Effect": "Deny", "Action": "sts:AssumeRole"}), 1),
    ],
)
def test_document_problems_are_undecided(document: Any, statement: int | None) -> None:
    analysis = analyse(document)
    assert analysis.verdict == "undecided"
    assert any(f.kind == "undecided" and f.statement == statement for f in analysis.findings)


@pytest.mark.parametrize(
    "document",
    [
        doc(allow(condition=MFA)),
        json.dumps(doc(allow(condition=MFA))),
        quote(json.dumps(doc(allow(condition=MFA)))),
        quote(json.dumps(doc(allow(condition=MFA))), safe=""),
        {"Statement": allow(condition=MFA)},
        {"Version": "2008-10-17", "Id": "x", "Statement": [allow(condition=MFA)]},
    ],
)
def test_accepted_forms_of_a_good_document(document: Any) -> None:
    assert analyse(document).requires_mfa


def test_a_plus_in_an_arn_survives_when_the_text_is_not_url_encoded() -> None:
    user = "arn:aws:iam::111111111111:user/a+b"
    analysis = analyse(json.dumps(doc(allow({"AWS": user}))))
    assert analysis.ways_in[0].principal == f"AWS {user}"


def test_no_way_in_at_all_requires_mfa_without_findings() -> None:
    for document in (doc(), doc(deny()), doc(allow(action="sts:TagSession"))):
        analysis = analyse(document)
        assert (analysis.verdict, analysis.findings) == ("requires-mfa", ())


def test_open_wins_over_a_document_problem() -> None:
    analysis = analyse(doc(allow(), "junk"))
    assert analysis.verdict == "open"
    assert {f.kind for f in analysis.findings} == {"open", "undecided"}


# --- verdicts over several ways ------------------------------------------------------------

EC2 = {"Service": "ec2.amazonaws.com"}


@pytest.mark.parametrize(
    ("statements", "verdict", "kinds"),
    [
        ([allow(EC2)], "service", {"service"}),
        # IAM Roles Anywhere: certificate holders are people, and never carry MFA
        ([allow({"Service": "rolesanywhere.amazonaws.com"})], "open", {"open"}),
        ([allow({"Service": "ROLESANYWHERE.amazonaws.com"})], "open", {"open"}),
        ([allow({"Service": "rolesanywhere.amazonaws.com"}, condition=MFA)], "requires-mfa", set()),
        ([allow(EC2), allow({"Service": "lambda.amazonaws.com"})], "service", {"service"}),
        ([allow(EC2), allow(condition=MFA)], "open", {"open"}),
        ([allow(EC2), allow(condition={"bool": {}})], "open", {"open", "undecided"}),
        ([allow(EC2), allow(), deny({"AWS": USER})], "service", {"service"}),
        ([allow(EC2, condition=MFA)], "requires-mfa", set()),
        ([allow({**EC2, "AWS": USER}, condition=MFA)], "requires-mfa", set()),
        ([allow(EC2, condition={"bool": {}})], "undecided", {"undecided"}),
        ([allow(condition=MFA), allow(condition={"bool": {}})], "undecided", {"undecided"}),
        ([allow(), allow(condition={"bool": {}})], "open", {"open", "undecided"}),
    ],
)
def test_the_verdict_over_all_ways(statements: list[Any], verdict: str, kinds: set[str]) -> None:
    analysis = analyse(doc(*statements))
    assert analysis.verdict == verdict
    assert {f.kind for f in analysis.findings} == kinds


def test_a_mixed_role_names_the_service_path() -> None:
    analysis = analyse(doc(allow(condition=MFA), allow(EC2, Sid="Ec2")))
    (finding,) = analysis.findings
    assert (finding.kind, finding.statement, finding.sid) == ("open", 2, "Ec2")
    assert "through the service" in finding.reason and "iam:PassRole" in finding.reason


def test_roles_anywhere_names_certificate_holders() -> None:
    (finding,) = analyse(doc(allow({"Service": "rolesanywhere.amazonaws.com"}))).findings
    assert "certificate" in finding.reason


# --- the API's shapes --------------------------------------------------------------------------


def test_findings_and_analysis_serialise_to_json() -> None:
    analysis = analyse(doc(allow(condition=MFA), allow({"Federated": GITHUB}, "sts:*", Sid="GitHub")))
    data = json.loads(json.dumps(analysis.to_json()))
    assert data["verdict"] == "open" and data["requires_mfa"] is False
    assert [f["statement"] for f in data["findings"]] == [2]  # an OIDC provider: web identity only
    assert data["findings"][0]["witness"]["principal"] == {"type": "Federated", "value": GITHUB}
    assert data["findings"][0]["message"] == str(analysis.findings[0])
    assert {w["status"] for w in data["ways_in"]} == {"requires-mfa", "open"}


@pytest.mark.parametrize(
    ("finding", "text"),
    [
        (
            Finding("open", 3, "X", WAY_ROLE, "everyone (*)", "why"),
            "statement 3 (Sid X) lets everyone (*) in through sts:AssumeRole without MFA: why",
        ),
        (
            Finding("service", 1, None, WAY_ROLE, "Service ec2.amazonaws.com", "why"),
            "statement 1 lets Service ec2.amazonaws.com in through sts:AssumeRole (a service role): why",
        ),
        (
            Finding("undecided", 2, "", WAY_ROLE, "AWS x", "why"),
            "statement 2: cannot tell whether AWS x needs MFA for sts:AssumeRole: why",
        ),
        (
            Finding("undecided", None, None, None, None, "why"),
            "the trust policy: cannot tell whether MFA is required: why",
        ),
        (
            Finding("undecided", 4, "S", None, "CanonicalUser x", "why"),
            "statement 4 (Sid S): cannot tell whether CanonicalUser x needs MFA: why",
        ),
    ],
)
def test_a_finding_is_one_line_naming_where_and_who(finding: Finding, text: str) -> None:
    assert str(finding) == text


def test_ways_are_frozen_values() -> None:
    way = analyse(doc(allow())).ways_in[0]
    assert isinstance(way, WayIn)
    with pytest.raises(AttributeError):
        way.status = "closed"  # type: ignore[misc]


# --- properties ------------------------------------------------------------------------------

ACTIONS = st.sampled_from(
    [
        *ASSUME_ACTIONS,
        "sts:*",
        "*",
        "sts:Assume*",
        "STS:ASSUMEROLE",
        "sts:AssumeRole?",
        "sts:TagSession",
        "s3:*",
    ]
) | st.text(max_size=10)
JUNK = st.one_of(
    st.none(), st.integers(), st.floats(), st.text(max_size=6), st.lists(st.integers(), max_size=2)
)
PRINCIPALS = st.one_of(
    st.sampled_from(
        ["*", {"AWS": "*"}, {"AWS": USER}, {"AWS": ACCOUNT}, {"AWS": ROOT}, {"Federated": GITHUB}, EC2]
    ),
    st.dictionaries(
        st.sampled_from(["AWS", "Federated", "Service", "CanonicalUser", "aws"]),
        st.sampled_from([USER, ROOT, "*", ""]) | st.lists(st.sampled_from([USER, ROOT, "*"]), max_size=3),
        max_size=3,
    ),
    JUNK,
)
OPERATORS = st.sampled_from(
    [
        "Bool",
        "BoolIfExists",
        "Null",
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringNotLikeIfExists",
        "StringEqualsIgnoreCase",
        "NumericLessThan",
        "NumericGreaterThanIfExists",
        "NumericNotEquals",
        "ForAnyValue:StringEquals",
        "ForAllValues:StringLike",
        "ForAnyValue:StringNotEquals",
        "DateLessThan",
        "IpAddress",
        "ArnLike",
        "BinaryEquals",
        "bool",
        "Nonsense",
    ]
) | st.text(max_size=8)
KEYS = st.sampled_from(
    [PRESENT, AGE, "aws:multifactorauthpresent", "sts:ExternalId", "aws:SourceIp", "aws:PrincipalArn"]
) | st.text(max_size=8)
SCALARS = st.one_of(
    st.sampled_from(["true", "false", "True", "0", "3600", "-1", "x", "*", "${aws:username}", "arn:*"]),
    st.booleans(),
    st.integers(-5, 5000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.none(),
)
CONDITIONS = st.dictionaries(
    OPERATORS,
    st.dictionaries(KEYS, SCALARS | st.lists(SCALARS, max_size=3), max_size=3) | JUNK,
    max_size=3,
)
_OPTIONAL = {
    "Sid": st.text(max_size=4) | JUNK,
    "Principal": PRINCIPALS,
    "NotPrincipal": PRINCIPALS,
    "Action": ACTIONS | st.lists(ACTIONS, max_size=3) | JUNK,
    "NotAction": ACTIONS | st.lists(ACTIONS, max_size=3),
    "Condition": CONDITIONS | JUNK,
    "Resource": st.just("*"),
}
STATEMENTS = st.fixed_dictionaries(
    {"Effect": st.sampled_from(["Allow", "Deny", "Allow", "Deny", "allow"])}, optional=_OPTIONAL
)
DOCUMENTS = st.fixed_dictionaries(
    {"Statement": st.lists(STATEMENTS | JUNK, max_size=4) | STATEMENTS},
    optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17", "x"]), "Id": st.text(max_size=3)},
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(analysis: Analysis, statements: int) -> None:
    assert analysis.verdict in VERDICTS
    for finding in analysis.findings:
        str(finding)
        assert finding.statement is None or 1 <= finding.statement <= statements
    for way in analysis.ways_in:
        assert way.action in ASSUME_ACTIONS and 1 <= way.statement <= statements
    json.dumps(analysis.to_json())


def _statements(document: dict[str, Any]) -> list[Any]:
    raw = document["Statement"]
    return list(raw) if isinstance(raw, list) else [raw]


@SETTINGS
@given(st.one_of(DOCUMENTS, JUNK, st.text(max_size=30), DOCUMENTS.map(json.dumps)))
def test_the_analysis_never_raises(document: Any) -> None:
    analysis = analyse(document)
    count = len(_statements(document)) if isinstance(document, dict) else 10**6
    _check(analysis, count)


HUGE = 10**5000  # str() refuses integers this long


@pytest.mark.parametrize(
    "document",
    [
        "[" * 100_000,
        "%7B" * 1000,
        {HUGE: 1},
        {"Version": HUGE, "Statement": []},
        doc({"Effect": "Allow", "Principal": {HUGE: "x"}, "Action": "sts:AssumeRole"}),
        doc(allow(condition={HUGE: {HUGE: HUGE}})),
        doc(allow(condition={"Bool": {PRESENT: HUGE}})),
        doc(allow(condition={"Bool": {PRESENT: float("nan")}})),
        doc(allow({"AWS": [USER] * 3}, condition={"NumericLessThan": {AGE: 1e300}})),
    ],
)
def test_odd_values_do_not_raise(document: Any) -> None:
    analysis = analyse(document)
    assert analysis.verdict in ("open", "undecided")
    _check(analysis, 10)


# Principals for which sts:AssumeRole is a possible call. A Federated-only principal is
# not one: identity providers sign in through the other two assume actions, never this one.
ASSUMING_PRINCIPALS = st.one_of(
    st.sampled_from(["*", {"AWS": "*"}, {"AWS": USER}, {"AWS": ROOT}, {"AWS": ACCOUNT}, EC2]),
    st.fixed_dictionaries(
        {
            "AWS": st.sampled_from([USER, ROOT, "*"])
            | st.lists(st.sampled_from([USER, "AROAEXAMPLE1"]), min_size=1)
        },
        optional={"Federated": st.just(GITHUB), "Service": st.just("ec2.amazonaws.com")},
    ),
    PRINCIPALS.filter(lambda p: not (isinstance(p, dict) and set(p) == {"Federated"})),
)


@SETTINGS
@given(DOCUMENTS, ASSUMING_PRINCIPALS)
def test_adding_an_unconditional_allow_never_yields_requires_mfa(document: dict[str, Any], who: Any) -> None:
    """Monotonicity, for documents without Deny statements: a Deny that catches every
    request without MFA rightly shuts the new statement too (see the next test)."""
    kept = [s for s in _statements(document) if not (isinstance(s, dict) and s.get("Effect") == "Deny")]
    grown = {
        **document,
        "Statement": [*kept, {"Effect": "Allow", "Principal": who, "Action": "sts:AssumeRole"}],
    }
    assert analyse(grown).verdict != "requires-mfa"


@SETTINGS
@given(DOCUMENTS, ASSUMING_PRINCIPALS)
def test_with_denies_only_a_deny_can_shut_an_unconditional_allow(document: dict[str, Any], who: Any) -> None:
    statements = [*_statements(document), {"Effect": "Allow", "Principal": who, "Action": "sts:AssumeRole"}]
    analysis = analyse({**document, "Statement": statements})
    if analysis.verdict == "requires-mfa":
        added = [w for w in analysis.ways_in if w.statement == len(statements)]
        assert added
        for way in added:
            assert way.status in ("closed", "requires-mfa") and "Deny statement" in way.reason, way


# Documents the sandbox's evaluator understands, to compare proofs against it.
MFA_CLAUSES: st.SearchStrategy[dict[str, dict[str, Any]]] = st.sampled_from(
    [
        {"Bool": {PRESENT: "true"}},
        {"Bool": {PRESENT: "false"}},
        {"Bool": {PRESENT: ["true", "false"]}},
        {"BoolIfExists": {PRESENT: "true"}},
        {"BoolIfExists": {PRESENT: "false"}},
        {"Null": {AGE: "false"}},
        {"Null": {AGE: "true"}},
        {"Null": {PRESENT: "false"}},
        {"Null": {PRESENT: "true"}},
        {"NumericLessThan": {AGE: "3600"}},
        {"NumericLessThanIfExists": {AGE: "3600"}},
        {"NumericGreaterThan": {AGE: "0"}},
        {"NumericNotEquals": {AGE: "5"}},
        {"StringEquals": {PRESENT: "true"}},
        {"StringEquals": {PRESENT: "false"}},
        {"StringNotEquals": {PRESENT: "false"}},
        {"StringNotEquals": {PRESENT: "true"}},
        {"StringLike": {PRESENT: "*"}},
        {"StringEquals": {"sts:ExternalId": "ext"}},
        {"StringNotEquals": {"sts:ExternalId": "ext"}},
    ]
)
SIMPLE_CONDITIONS = st.lists(MFA_CLAUSES, max_size=3).map(
    lambda clauses: {op: keys for clause in clauses for op, keys in clause.items()}
)
SIMPLE_STATEMENTS = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Principal": st.sampled_from(["*", {"AWS": "*"}, {"AWS": USER}, {"AWS": ACCOUNT}, {"AWS": ROOT}]),
        "Action": st.sampled_from(["sts:AssumeRole", "sts:*", "*", "sts:TagSession"]),
    },
    optional={"Condition": SIMPLE_CONDITIONS},
)
ALICE = Principal(arn=USER, account=ACCOUNT)


@SETTINGS
@given(st.lists(SIMPLE_STATEMENTS, min_size=1, max_size=4))
def test_what_the_analysis_proves_the_sandbox_evaluator_refuses(statements: list[dict[str, Any]]) -> None:
    document = doc(*statements)
    if not analyse(document).requires_mfa:
        return
    for external_id in ("ext", "other", None):
        base = {"aws:PrincipalArn": USER} | ({"sts:ExternalId": external_id} if external_id else {})
        for keys in (base, {**base, PRESENT: "false"}):
            decision = evaluate_trust(
                document, Request("sts:AssumeRole", "arn:aws:iam::1:role/r", keys, ALICE)
            )
            assert decision in (TrustDecision.DENY, TrustDecision.NO_MATCH), (keys, decision)


# --- every operator family, prefix and suffix, against the sandbox's evaluator -------------------

FAMILIES = {
    PRESENT: [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "Bool",
        "Null",
        "NumericLessThan",
        "DateEquals",
        "ArnEquals",
        "IpAddress",
        "BinaryEquals",
    ],
    AGE: [
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "StringEquals",
        "StringNotEquals",
        "Null",
        "Bool",
        "DateLessThan",
    ],
}
SWEEP_VALUES = {PRESENT: ["true", "false", ["true", "false"], "t*"], AGE: ["0", "3600", ["0", "5"]]}
NO_MFA_CONTEXTS = ({}, {PRESENT: "false"})  # A: long-term keys; B: temporary, no MFA


def _sweep() -> list[Any]:
    cases = []
    for key, operators in FAMILIES.items():
        for base in operators:
            for prefix in ("", "ForAnyValue:", "ForAllValues:"):
                for suffix in ("", "IfExists"):
                    for value in SWEEP_VALUES[key]:
                        condition = {f"{prefix}{base}{suffix}": {key: value}}
                        cases.append(pytest.param(condition, id=json.dumps(condition)))
    return cases


def _the_evaluator_understands(operator: str) -> bool:
    base = operator.split(":", 1)[-1].removesuffix("IfExists")
    if base == "Null":
        return operator == "Null"
    return base in KNOWN_OPERATORS


def _admitted(document: dict[str, Any], context: dict[str, str]) -> bool:
    decision = evaluate_trust(document, Request(WAY_ROLE, "arn:aws:iam::1:role/r", context, ALICE))
    return decision in (TrustDecision.ALLOW_PRINCIPAL, TrustDecision.ALLOW_ACCOUNT)


@pytest.mark.parametrize("placement", ["allow", "deny"])
@pytest.mark.parametrize("condition", _sweep())
def test_every_operator_form_agrees_with_the_sandbox_evaluator(condition: Any, placement: str) -> None:
    """requires-mfa: the evaluator refuses both request kinds without MFA; open: it admits one.

    The condition sits on the Allow itself, or on a Deny next to an unconditional Allow. Only
    MFA keys are named, so "open" has no other key the caller must meet. Forms the analysis
    calls undecided (an operator that cannot compare the key) are left to the evaluator's own
    fail-closed rule and not compared.
    """
    if placement == "allow":
        document = doc(allow(condition=condition))
    else:
        document = doc(allow(), deny(condition=condition))
    verdict = analyse(document).verdict
    understood = analyse(doc(allow(condition=condition))).verdict != "undecided"
    if not understood:
        # Not understood by the analysis (an operator that cannot compare the key): undecided,
        # on an Allow and on a Deny alike (a Deny it cannot read may shut the way, so "open"
        # would be a guess).
        assert verdict == "undecided"
        return
    if not _the_evaluator_understands(next(iter(condition))):
        # The evaluator fails closed on it (an Allow never applies, a Deny always does), while
        # the analysis decided it from the key's presence alone (a Date operator on the MFA
        # age, say: false without the key, true with IfExists): nothing to compare.
        return
    admitted = [_admitted(document, context) for context in NO_MFA_CONTEXTS]
    if verdict == "requires-mfa":
        assert admitted == [False, False]
    elif verdict == "open":
        assert any(admitted), admitted
    else:
        assert verdict == "undecided"


def test_the_sweep_decides_most_forms() -> None:
    """The sweep above compares something: most forms get a verdict, not "undecided"."""
    decided = 0
    total = 0
    for param in _sweep():
        (condition,) = param.values
        total += 1
        decided += analyse(doc(allow(condition=condition))).verdict != "undecided"
    assert total == 13 * 6 * 4 + 11 * 6 * 3
    assert decided >= total // 2, (decided, total)


@pytest.mark.parametrize(
    "operator",
    ["StringEquals", "StringNotEquals", "StringLike", "StringEqualsIgnoreCase", "ArnLike", "ArnEquals",
     "ForAnyValue:StringLike", "ForAllValues:StringEquals", "BinaryEquals", "StringNotLikeIfExists"],
)  # fmt: skip
@pytest.mark.parametrize("effect", ["Allow", "Deny"])
def test_a_character_the_solver_cannot_hold_is_undecided_never_a_crash(operator: str, effect: str) -> None:
    # cvc5's strings end at U+2FFFF; U+E0041 is a tag character (a look-alike of "A")
    condition = {operator: {"aws:SourceArn": "arn:aws:s3:::b\U000e0041"}}
    statement = {"Effect": effect, "Principal": "*", "Action": "sts:AssumeRole", "Condition": condition}
    document = doc(allow(), statement) if effect == "Deny" else doc(statement)
    analysis = analyse(document)
    assert analysis.verdict == "undecided", analysis
    assert any("beyond U+2FFFF" in f.reason for f in analysis.findings), analysis


def _reversed_keys(value: Any) -> Any:
    """The same document with every object's keys in the opposite order (lists kept)."""
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


def _statuses(analysis: Analysis) -> tuple[str, list[tuple[int, str, str, str]]]:
    return analysis.verdict, [(w.statement, w.principal, w.action, w.status) for w in analysis.ways_in]


def test_the_order_of_keys_never_changes_an_answer() -> None:
    """JSON objects have no order: a verdict or a way's status must not hang on one (a core
    the solver finds first used to decide between closed and requires-mfa for a sign-in)."""
    from sts_mfa.trust.analysis import _analyse
    from sts_mfa.trust.document import parse

    two_reasons = doc(
        allow({"Service": "ec2.amazonaws.com"}),
        allow(
            {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
            action="sts:AssumeRoleWithWebIdentity",
            condition={"Null": {"sts:ExternalId": "false"}, "Bool": {PRESENT: "true"}},
        ),
    )
    corpus = [substitute(entry["policy"]) for _, entry in documents()]
    corpus = [d for d in corpus if isinstance(d, dict)]  # (some are JSON text, as IAM sends it)
    for document in [two_reasons, *corpus]:
        as_written = _statuses(_analyse(parse(document), ACCOUNT, ()))
        assert _statuses(_analyse(parse(_reversed_keys(document)), ACCOUNT, ())) == as_written, document
    assert _statuses(analyse(two_reasons, home_account=ACCOUNT))[0] == "service"
