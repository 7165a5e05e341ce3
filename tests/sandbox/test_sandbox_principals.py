"""Trust policies may only name principals that exist.

AWS validates the `Principal` of a trust policy when the role is created or its
trust policy updated: a user or role that does not exist (a typo, a missing path, a
user not yet propagated) is `MalformedPolicyDocument` 'Invalid principal in policy'.
"""

from __future__ import annotations

import pytest

from tests.support.aws import ACCOUNT_1, ACCOUNT_2, Aws, create_mfa_user, refused, trust_policy

pytestmark = pytest.mark.sandbox


def _invalid(principal: str) -> tuple[str, str, str]:
    return ("MalformedPolicyDocument", f'Invalid principal in policy: "AWS":"{principal}"', "400")


def _error(error: dict[str, str]) -> tuple[str, str, str]:
    return error["Code"], error["Message"], error["HTTPStatusCode"]


def test_a_user_that_does_not_exist_is_an_invalid_principal(aws: Aws) -> None:
    ghost = f"arn:aws:iam::{ACCOUNT_1}:user/ghost"

    error = refused(aws.iam().create_role, RoleName="r", AssumeRolePolicyDocument=trust_policy(ghost))

    assert _error(error) == _invalid(ghost)


def test_the_path_is_part_of_the_principal(aws: Aws) -> None:
    """`user/alice` is not `user/sts-mfa/alice`: the path-less ARN names nobody."""
    user = create_mfa_user(aws, path="/sts-mfa/")
    pathless = f"arn:aws:iam::{ACCOUNT_1}:user/{user.name}"

    error = refused(aws.iam().create_role, RoleName="r", AssumeRolePolicyDocument=trust_policy(pathless))
    assert _error(error) == _invalid(pathless)
    aws.iam().create_role(RoleName="r", AssumeRolePolicyDocument=trust_policy(user.arn))


def test_update_assume_role_policy_is_checked_too(aws: Aws) -> None:
    user = create_mfa_user(aws)
    iam = aws.iam()
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust_policy(user.arn))
    ghost_role = f"arn:aws:iam::{ACCOUNT_1}:role/ghost"

    error = refused(iam.update_assume_role_policy, RoleName="r", PolicyDocument=trust_policy(ghost_role))

    assert _error(error) == _invalid(ghost_role)


@pytest.mark.parametrize(
    "principal",
    [
        f"arn:aws:iam::{ACCOUNT_2}:root",
        ACCOUNT_2,
        "*",
        f"arn:aws:iam::{ACCOUNT_1}:user/sandbox/sandbox-admin",
        f"arn:aws:sts::{ACCOUNT_1}:assumed-role/existing/some-session",
    ],
)
def test_existing_principals_are_accepted(aws: Aws, principal: str) -> None:
    iam = aws.iam()
    iam.create_role(RoleName="existing", AssumeRolePolicyDocument=trust_policy(ACCOUNT_1))

    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust_policy(principal))


def test_an_unknown_account_is_an_invalid_principal(aws: Aws) -> None:
    stranger = "arn:aws:iam::999999999999:root"

    error = refused(aws.iam().create_role, RoleName="r", AssumeRolePolicyDocument=trust_policy(stranger))
    assert _error(error) == _invalid(stranger)


def test_one_bad_principal_in_a_list_spoils_the_policy(aws: Aws) -> None:
    user = create_mfa_user(aws)
    ghost = f"arn:aws:iam::{ACCOUNT_1}:user/ghost"

    error = refused(
        aws.iam().create_role, RoleName="r", AssumeRolePolicyDocument=trust_policy(user.arn, ghost)
    )
    assert _error(error) == _invalid(ghost)
