"""`status`: which of the state's resources exist in AWS (None where it cannot tell)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from sts_mfa.aws.errors import translate_errors
from sts_mfa.scenario.context import Context, check_account, gone
from sts_mfa.state.model import State


def which_exist(ctx: Context, state: State) -> dict[str, bool | None]:
    """Which of the state's resources exist in AWS (None: could not tell).

    Raises StateError first if the credentials are for another account than the
    state's: every resource would look deleted, which would be a lie.
    """
    with translate_errors("status"):
        check_account(ctx.aws, state.account, "the user")
        if ctx.role_aws is not None:
            check_account(ctx.role_side, state.role_account, "the role")
    iam = ctx.aws.iam()
    found: dict[str, bool | None] = {}

    def exists(name: str, call: Callable[[], Any]) -> Any:
        try:
            value = call()
        except ClientError as e:
            found[name] = False if gone(e) else None
            return None
        found[name] = True
        return value

    with translate_errors("status"):
        user, role, policy = state.user, state.role, state.policy
        if user:
            exists("user", lambda: iam.get_user(UserName=user.name))
            if found["user"]:
                keys = iam.list_access_keys(UserName=user.name)["AccessKeyMetadata"]
                if state.access_key:
                    key_id = state.access_key.access_key_id
                    found["access_key"] = any(k["AccessKeyId"] == key_id for k in keys)
                if state.mfa_device and state.mfa_device.serial:
                    devices = iam.list_mfa_devices(UserName=user.name)["MFADevices"]
                    found["mfa_device"] = any(d["SerialNumber"] == state.mfa_device.serial for d in devices)
                if state.user_policy:
                    names = iam.list_user_policies(UserName=user.name)["PolicyNames"]
                    found["user_policy"] = state.user_policy.name in names
            else:
                for name in ("access_key", "mfa_device", "user_policy"):
                    found[name] = False if found["user"] is False else None
        role_iam = ctx.role_side.iam()
        if role:
            exists("role", lambda: role_iam.get_role(RoleName=role.name))
        if policy and policy.arn:
            arn = policy.arn
            exists("policy", lambda: role_iam.get_policy(PolicyArn=arn))
    return found
