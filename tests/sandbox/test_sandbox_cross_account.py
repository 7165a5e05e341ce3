"""Cross-account AssumeRole: the user in 111111111111, the role in 222222222222.

Across accounts AWS needs BOTH halves: the role's trust policy (in the resource
account) must allow the caller, AND the caller's identity policy (in its own
account) must allow sts:AssumeRole on the role. Either alone is refused; an explicit
Deny in either wins. The session lives in the role's account and sees its buckets.
"""

from __future__ import annotations

import pytest

from tests.support.aws import (
    ACCOUNT_1,
    ACCOUNT_2,
    Aws,
    Creds,
    MfaUser,
    allow_assume,
    assume,
    create_mfa_user,
    create_role,
    identity_policy,
    refused,
    trust_policy,
)

pytestmark = pytest.mark.sandbox


def _message(user: MfaUser, role: str) -> str:
    return f"User: {user.arn} is not authorized to perform: sts:AssumeRole on resource: {role}"


@pytest.fixture
def alice(aws: Aws) -> MfaUser:
    user = create_mfa_user(aws)  # in account 1
    assert user.account_id == ACCOUNT_1
    return user


def test_trust_and_identity_policy_together_with_mfa_are_allowed(aws: Aws, alice: MfaUser) -> None:
    role = create_role(aws, "cross", trust_policy(alice.arn), account=1)
    allow_assume(aws, alice, role)
    aws.advance(30)

    session = Creds.of_session(assume(aws, alice, role, mfa=True)["Credentials"])

    who = aws.client("sts", session).get_caller_identity()
    assert who["Account"] == ACCOUNT_2
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT_2}:assumed-role/cross/demo"
    names = sorted(b["Name"] for b in aws.client("s3", session).list_buckets()["Buckets"])
    assert names == [f"logs-{ACCOUNT_2}", f"reports-{ACCOUNT_2}"]


def test_trust_alone_is_not_enough_across_accounts(aws: Aws, alice: MfaUser) -> None:
    role = create_role(aws, "cross", trust_policy(alice.arn), account=1)
    aws.advance(30)

    error = refused(assume, aws=aws, user=alice, role_arn=role, mfa=True)
    assert (error["Code"], error["Message"]) == ("AccessDenied", _message(alice, role))


def test_identity_policy_alone_is_not_enough(aws: Aws, alice: MfaUser) -> None:
    bob = create_mfa_user(aws, "bob")
    role = create_role(aws, "cross", trust_policy(bob.arn), account=1)  # trusts bob only
    allow_assume(aws, alice, role)
    aws.advance(30)

    error = refused(assume, aws=aws, user=alice, role_arn=role, mfa=True)
    assert error["Message"] == _message(alice, role)


def test_without_mfa_it_is_refused(aws: Aws, alice: MfaUser) -> None:
    role = create_role(aws, "cross", trust_policy(alice.arn), account=1)
    allow_assume(aws, alice, role)

    assert refused(assume, aws=aws, user=alice, role_arn=role)["Message"] == _message(alice, role)


def test_trusting_the_identity_account_root_works_with_the_identity_policy(aws: Aws, alice: MfaUser) -> None:
    role = create_role(aws, "cross", trust_policy(f"arn:aws:iam::{ACCOUNT_1}:root"), account=1)
    aws.advance(30)
    assert refused(assume, aws=aws, user=alice, role_arn=role, mfa=True)["Code"] == "AccessDenied"

    allow_assume(aws, alice, role)
    aws.advance(30)
    assert assume(aws, alice, role, mfa=True)["AssumedRoleUser"]["Arn"].startswith(
        f"arn:aws:sts::{ACCOUNT_2}:assumed-role/cross/"
    )


def test_trusting_the_resource_account_root_does_not_let_outsiders_in(aws: Aws, alice: MfaUser) -> None:
    role = create_role(aws, "internal", trust_policy(f"arn:aws:iam::{ACCOUNT_2}:root"), account=1)
    allow_assume(aws, alice, role)
    aws.advance(30)

    assert refused(assume, aws=aws, user=alice, role_arn=role, mfa=True)["Code"] == "AccessDenied"


def test_an_explicit_deny_in_the_identity_account_wins(aws: Aws, alice: MfaUser) -> None:
    role = create_role(aws, "cross", trust_policy(alice.arn), account=1)
    allow_assume(aws, alice, role)
    aws.iam().put_user_policy(
        UserName="alice",
        PolicyName="no-cross-account",
        PolicyDocument=identity_policy("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT_2}:role/*", "Deny"),
    )
    aws.advance(30)

    assert refused(assume, aws=aws, user=alice, role_arn=role, mfa=True)["Code"] == "AccessDenied"
