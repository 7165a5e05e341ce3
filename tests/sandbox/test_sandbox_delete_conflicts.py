"""Deletion order: AWS refuses (409 DeleteConflict) to delete what still has parts.

A teardown that deletes in the wrong order works on moto and fails on AWS; these
tests pin down each refusal, and that the documented order then succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.aws import Aws, create_mfa_user, identity_policy, refused

pytestmark = pytest.mark.sandbox


def _conflict(call: Callable[..., Any], **kwargs: Any) -> str:
    error = refused(call, **kwargs)
    assert (error["Code"], error["HTTPStatusCode"]) == ("DeleteConflict", "409")
    return error["Message"]


def _user(aws: Aws, *parts: str) -> Any:
    """User `u` with the given parts attached; returns the admin IAM client."""
    iam = aws.iam()
    iam.create_user(UserName="u")
    if "access key" in parts:
        iam.create_access_key(UserName="u")
    if "login profile" in parts:
        iam.create_login_profile(UserName="u", Password="Correct-horse-1!")
    if "inline policy" in parts:
        iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=identity_policy("s3:*", "*"))
    if "attached policy" in parts:
        arn = iam.create_policy(PolicyName="p", PolicyDocument=identity_policy("s3:*", "*"))
        iam.attach_user_policy(UserName="u", PolicyArn=arn["Policy"]["Arn"])
    if "group" in parts:
        iam.create_group(GroupName="g")
        iam.add_user_to_group(GroupName="g", UserName="u")
    return iam


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ("access key", "Cannot delete entity, must delete access keys first."),
        ("login profile", "Cannot delete entity, must delete login profile first."),
        ("inline policy", "Cannot delete entity, must delete policies first."),
        ("attached policy", "Cannot delete entity, must detach all policies first."),
        ("group", "Cannot delete entity, must remove users from group first."),
    ],
)
def test_delete_user_with_parts_is_refused(aws: Aws, part: str, message: str) -> None:
    iam = _user(aws, part)

    assert _conflict(iam.delete_user, UserName="u") == message
    assert iam.get_user(UserName="u")["User"]["UserName"] == "u"


def test_delete_user_with_an_mfa_device_is_refused(aws: Aws) -> None:
    user = create_mfa_user(aws)
    iam = aws.iam()
    iam.delete_access_key(UserName=user.name, AccessKeyId=user.creds.access_key_id)

    assert _conflict(iam.delete_user, UserName=user.name) == (
        "Cannot delete entity, must delete MFA device first."
    )


def test_a_virtual_mfa_device_in_use_cannot_be_deleted(aws: Aws) -> None:
    user = create_mfa_user(aws)
    iam = aws.iam()

    assert _conflict(iam.delete_virtual_mfa_device, SerialNumber=user.serial) == (
        "MFA Device is still in use"
    )

    iam.deactivate_mfa_device(UserName=user.name, SerialNumber=user.serial)
    iam.delete_virtual_mfa_device(SerialNumber=user.serial)


def test_the_documented_order_deletes_a_user(aws: Aws) -> None:
    user = create_mfa_user(aws)
    iam = _user(aws, "login profile", "inline policy", "group")
    iam.delete_login_profile(UserName="u")
    iam.delete_user_policy(UserName="u", PolicyName="p")
    iam.remove_user_from_group(GroupName="g", UserName="u")
    iam.delete_user(UserName="u")

    iam.delete_access_key(UserName=user.name, AccessKeyId=user.creds.access_key_id)
    iam.deactivate_mfa_device(UserName=user.name, SerialNumber=user.serial)
    iam.delete_virtual_mfa_device(SerialNumber=user.serial)
    iam.delete_user(UserName=user.name)

    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["sandbox-admin"]


def _role(aws: Aws) -> Any:
    iam = aws.iam()
    trust = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}'
    )
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust)
    return iam


def test_delete_role_with_policies_or_instance_profile_is_refused(aws: Aws) -> None:
    iam = _role(aws)
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=identity_policy("s3:*", "*"))
    assert _conflict(iam.delete_role, RoleName="r") == ("Cannot delete entity, must delete policies first.")
    iam.delete_role_policy(RoleName="r", PolicyName="p")

    arn = iam.create_policy(PolicyName="p", PolicyDocument=identity_policy("s3:*", "*"))
    iam.attach_role_policy(RoleName="r", PolicyArn=arn["Policy"]["Arn"])
    assert _conflict(iam.delete_role, RoleName="r") == (
        "Cannot delete entity, must detach all policies first."
    )
    iam.detach_role_policy(RoleName="r", PolicyArn=arn["Policy"]["Arn"])

    iam.create_instance_profile(InstanceProfileName="ip")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r")
    assert _conflict(iam.delete_role, RoleName="r") == (
        "Cannot delete entity, must remove roles from instance profile first."
    )
    iam.remove_role_from_instance_profile(InstanceProfileName="ip", RoleName="r")

    iam.delete_role(RoleName="r")


def test_delete_policy_while_attached_or_with_old_versions_is_refused(aws: Aws) -> None:
    iam = _role(aws)
    arn = iam.create_policy(PolicyName="p", PolicyDocument=identity_policy("s3:*", "*"))
    arn = arn["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    assert _conflict(iam.delete_policy, PolicyArn=arn) == ("Cannot delete a policy attached to entities.")
    iam.detach_role_policy(RoleName="r", PolicyArn=arn)

    iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=identity_policy("s3:Get*", "*"), SetAsDefault=True
    )
    assert _conflict(iam.delete_policy, PolicyArn=arn).startswith("This policy has more than one version.")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")

    iam.delete_policy(PolicyArn=arn)


def test_delete_group_with_members_is_refused(aws: Aws) -> None:
    iam = _user(aws, "group")

    assert _conflict(iam.delete_group, GroupName="g") == (
        "Cannot delete entity, must remove users from group first."
    )
