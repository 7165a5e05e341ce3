"""The trust-policy analysis against the sandbox: what it proves, the stand-in for AWS confirms.

For every corpus document marked `"sandbox": true` the sandbox gets a user (alice)
with an enabled virtual MFA device, an access key and an identity policy allowing
sts:AssumeRole on `*`, and a role with that document as its trust policy. Then:

* context A: AssumeRole with alice's long-term access key and no MFA;
* context B: AssumeRole with temporary credentials obtained without MFA (alice first
  assumes a helper role that trusts her with no condition; that session, chained,
  asks for the corpus role);
* with MFA: AssumeRole with alice's key and a valid code.

"requires-mfa" must mean A and B are both refused (and MFA gets in, unless every way
is closed); "open" must mean A or B gets in. Every call passes the corpus ExternalId,
so a condition on sts:ExternalId is one the caller can meet, as an attacker who knows
it could.

`test_the_sandbox_evaluator_agrees` asks the same of the sandbox's policy evaluator
directly, with the request contexts AWS documents, including context B for alice
herself.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sts_mfa.sandbox.rules.policy import Principal, Request, TrustDecision, evaluate_trust
from sts_mfa.trust.analysis import Analysis, analyse
from tests.support.aws import (
    Aws,
    Creds,
    MfaUser,
    assume,
    create_mfa_user,
    create_role,
    identity_policy,
    trust_policy,
)
from tests.support.corpus import documents, substitute

pytestmark = pytest.mark.sandbox

EXTERNAL_ID = "sts-mfa-corpus"
ROLE_NAME = "corpus-role"
HELPER_NAME = "corpus-helper"

# Documents that require MFA but that a fresh MFA code cannot satisfy either.
MFA_CANNOT_ENTER = {
    "numeric-greater-than-age-zero": "AssumeRole with a code of its own has aws:MultiFactorAuthAge 0",
}


def _corpus() -> list[Any]:
    params = []
    for name, entry in documents():
        if not entry["sandbox"]:
            continue
        params.append(pytest.param(name, entry, id=name))
    return params


def _gets_in(sts: Any, role_arn: str, **kwargs: Any) -> bool:
    try:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="corpus", ExternalId=EXTERNAL_ID, **kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDenied", error.response["Error"]
        return False
    return True


def _every_way_closed(analysis: Analysis) -> bool:
    return all(way.status == "closed" for way in analysis.ways_in)


def _helper_session(aws: Aws, user: MfaUser) -> Creds:
    """Temporary credentials obtained without MFA: alice's session of a helper role."""
    create_role(aws, HELPER_NAME, trust_policy(user.arn, condition=None), list_buckets=False)
    aws.iam().put_role_policy(
        RoleName=HELPER_NAME, PolicyName="assume", PolicyDocument=identity_policy("sts:AssumeRole", "*")
    )
    return Creds.of_session(
        assume(aws, user, f"arn:aws:iam::{user.account_id}:role/{HELPER_NAME}")["Credentials"]
    )


@pytest.mark.parametrize(("name", "entry"), _corpus())
def test_the_sandbox_agrees(aws: Aws, name: str, entry: dict[str, Any]) -> None:
    user = create_mfa_user(aws)
    aws.iam().put_user_policy(
        UserName=user.name, PolicyName="assume", PolicyDocument=identity_policy("sts:AssumeRole", "*")
    )
    document = substitute(entry["policy"], user.arn, aws.account_ids[0], aws.account_ids[1])
    text = document if isinstance(document, str) else json.dumps(document)
    role = create_role(aws, ROLE_NAME, text, list_buckets=False)
    analysis = analyse(document)
    assert analysis.verdict == entry["expected"], [str(f) for f in analysis.findings]

    long_term = _gets_in(aws.client("sts", user.creds), role)
    session = _gets_in(aws.client("sts", _helper_session(aws, user)), role)
    aws.advance(30)  # the enabling codes used up the current window
    with_mfa = _gets_in(
        aws.client("sts", user.creds), role, SerialNumber=user.serial, TokenCode=aws.code(user.seed)
    )

    if analysis.verdict == "requires-mfa":
        assert (long_term, session) == (False, False)
        if not _every_way_closed(analysis) and name not in MFA_CANNOT_ENTER:
            assert with_mfa
    elif analysis.verdict == "open":
        assert long_term or session


ALICE = "arn:aws:iam::111111111111:user/sts-mfa/alice"
ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"


def _callers() -> dict[str, tuple[Principal, dict[str, str]]]:
    """Request contexts AWS documents, by who asks and how they signed in."""
    base = {"sts:ExternalId": EXTERNAL_ID, "aws:PrincipalAccount": ACCOUNT}
    alice = Principal(arn=ALICE, account=ACCOUNT)
    chained = Principal(
        arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/{HELPER_NAME}/corpus",
        account=ACCOUNT,
        aliases=(f"arn:aws:iam::{ACCOUNT}:role/{HELPER_NAME}",),
    )
    no_mfa = {"aws:MultiFactorAuthPresent": "false"}
    with_mfa = {"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "0"}
    return {
        "A": (alice, {**base, "aws:PrincipalArn": ALICE}),
        "B-alice": (alice, {**base, "aws:PrincipalArn": ALICE, **no_mfa}),
        "B-chained": (chained, {**base, "aws:PrincipalArn": chained.aliases[0], **no_mfa}),
        "MFA": (alice, {**base, "aws:PrincipalArn": ALICE, **with_mfa}),
    }


@pytest.mark.parametrize(("name", "entry"), [pytest.param(*p.values, id=p.id) for p in _corpus()])
def test_the_sandbox_evaluator_agrees(name: str, entry: dict[str, Any]) -> None:
    document = substitute(entry["policy"], ALICE, ACCOUNT, "222222222222")
    analysis = analyse(document)
    allowed = {
        context: evaluate_trust(document, Request("sts:AssumeRole", ROLE, keys, principal))
        in (TrustDecision.ALLOW_PRINCIPAL, TrustDecision.ALLOW_ACCOUNT)
        for context, (principal, keys) in _callers().items()
    }
    without_mfa = [allowed["A"], allowed["B-alice"], allowed["B-chained"]]
    if analysis.verdict == "requires-mfa":
        assert not any(without_mfa), allowed
        if not _every_way_closed(analysis) and name not in MFA_CANNOT_ENTER:
            assert allowed["MFA"]
    else:
        assert analysis.verdict == "open"
        assert any(without_mfa), allowed
