"""IAM: the resource a call is authorized against, and AWS's entity-state checks.

moto carries out IAM calls without most of the checks AWS makes on the state of
the entities involved. AWS refuses, and so does the sandbox (`IAM_RULES`):

* deleting a user, role, group, managed policy or instance profile that still has
  something attached (`DeleteConflict`, with AWS's message for the first thing
  found), or a virtual MFA device that is still enabled for a user;
* EnableMFADevice unless its two codes are six digits each (`ValidationError`), the
  device exists and is free, and the codes are those of two consecutive, unspent
  TOTP steps (`InvalidAuthenticationCode`);
* a trust policy (CreateRole, UpdateAssumeRolePolicy) naming a principal that does
  not exist, or a user created less than `Faults.principal_delay` ago
  (`MalformedPolicyDocument` "Invalid principal in policy").

Where the entity a check looks at does not exist, the check lets the call through
and moto answers `NoSuchEntity`, as AWS does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from moto.iam.models import Group, ManagedPolicy, Role, User

from sts_mfa.sandbox.http import errors as awserrors
from sts_mfa.sandbox.iam import authorization_details
from sts_mfa.sandbox.rules.authorization import Call, require_identity
from sts_mfa.sandbox.rules.bookkeeping import NOTHING, AfterSuccess
from sts_mfa.sandbox.rules.constraints import validate_authentication_codes
from sts_mfa.sandbox.rules.policy import principal_values, statements
from sts_mfa.sandbox.seam import motoview
from sts_mfa.sandbox.sts.totp_window import accepted_step

# Actions that act on the calling user when UserName is omitted.
SELF_USER_ACTIONS = frozenset(
    {
        "GetUser",
        "CreateAccessKey",
        "ListAccessKeys",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "ListMFADevices",
        "ListSigningCertificates",
        "ListSSHPublicKeys",
        "ChangePassword",
    }
)
# List actions AWS authorizes against the path prefix of the entities they list.
_LISTED = {"ListUsers": "user", "ListRoles": "role", "ListGroups": "group"}

_MUST_REMOVE_ROLES = "Cannot delete entity, must remove roles from instance profile first."
_MUST_DELETE_POLICIES = "Cannot delete entity, must delete policies first."
_MUST_DETACH_POLICIES = "Cannot delete entity, must detach all policies first."
_MUST_REMOVE_USERS = "Cannot delete entity, must remove users from group first."

T = TypeVar("T")


def authorize(call: Call) -> AfterSuccess:
    """Identity policies on the call's resource, then the action's entity-state check."""
    require_identity(call, iam_resource(call))
    check = IAM_RULES.get(call.request.action)
    after = check(call) if check is not None else None
    return after if after is not None else NOTHING


def iam_resource(call: Call) -> str:
    """The ARN AWS authorizes an IAM call against (`*` where it is not easy to tell)."""
    params, account = call.request.params, call.account
    path = params.get("Path", "/") or "/"

    def arn(kind: str, name: str) -> str:
        return f"arn:aws:iam::{account}:{kind}{path}{name}"

    if "UserName" in params:
        user = motoview.user_by_name(account, params["UserName"])
        return user.arn if user else arn("user", params["UserName"])
    if call.request.action in SELF_USER_ACTIONS and call.caller.user_arn is not None:
        return call.caller.user_arn
    if "RoleName" in params:
        role = motoview.role_by_name(account, params["RoleName"])
        return role.arn if role else arn("role", params["RoleName"])
    if "GroupName" in params:
        group = motoview.group_by_name(account, params["GroupName"])
        return group.arn if group else arn("group", params["GroupName"])
    for name in ("PolicyArn", "SerialNumber"):
        if name in params:
            return params[name]
    if "VirtualMFADeviceName" in params:
        return arn("mfa", params["VirtualMFADeviceName"])
    if "InstanceProfileName" in params:
        return arn("instance-profile", params["InstanceProfileName"])
    listed = _LISTED.get(call.request.action)
    if listed is not None:  # AWS names the path prefix: "...:user/" for all users
        return f"arn:aws:iam::{account}:{listed}{params.get('PathPrefix', '/') or '/'}"
    return "*"


# --- DeleteConflict -----------------------------------------------------------------------------


Conflicts = list[tuple[bool, str]]  # (still attached?, AWS's message), in AWS's order


def _delete_check(
    param: str, lookup: Callable[[str, str], T | None], conflicts: Callable[[Call, T], Conflicts]
) -> Callable[[Call], None]:
    """A Delete* check: refuse with the first conflict of the entity `param` names."""

    def check(call: Call) -> None:
        entity = lookup(call.account, call.param(param))
        if entity is None:
            return
        for present, message in conflicts(call, entity):
            if present:
                raise awserrors.delete_conflict(message)

    return check


def _user_conflicts(call: Call, user: User) -> Conflicts:
    return [
        (motoview.user_has_login_profile(user), "Cannot delete entity, must delete login profile first."),
        (bool(user.access_keys), "Cannot delete entity, must delete access keys first."),
        (bool(user.signing_certificates), "Cannot delete entity, must delete signing certificates first."),
        (bool(user.ssh_public_keys), "Cannot delete entity, must delete SSH public keys first."),
        (bool(user.mfa_devices), "Cannot delete entity, must delete MFA device first."),
        (bool(user.policies), _MUST_DELETE_POLICIES),
        (bool(user.managed_policies), _MUST_DETACH_POLICIES),
        (bool(motoview.groups_of(call.account, user)), _MUST_REMOVE_USERS),
    ]


def _role_conflicts(call: Call, role: Role) -> Conflicts:
    return [
        (motoview.role_in_instance_profiles(call.account, role), _MUST_REMOVE_ROLES),
        (bool(role.policies), _MUST_DELETE_POLICIES),
        (bool(role.managed_policies), _MUST_DETACH_POLICIES),
    ]


def _group_conflicts(call: Call, group: Group) -> Conflicts:
    return [
        (bool(group.users), _MUST_REMOVE_USERS),
        (bool(group.policies), _MUST_DELETE_POLICIES),
        (bool(group.managed_policies), _MUST_DETACH_POLICIES),
    ]


def _policy_conflicts(call: Call, policy: ManagedPolicy) -> Conflicts:
    return [
        (
            motoview.policy_is_attached(call.account, call.param("PolicyArn")),
            "Cannot delete a policy attached to entities.",
        ),
        (
            len(policy.versions) > 1,
            "This policy has more than one version. Before you delete a policy, you must "
            "delete the policy's versions. The default version is deleted with the policy.",
        ),
    ]


def _delete_instance_profile(call: Call) -> None:
    if motoview.instance_profile_has_roles(call.account, call.param("InstanceProfileName")):
        raise awserrors.delete_conflict(_MUST_REMOVE_ROLES)


def _delete_virtual_mfa_device(call: Call) -> AfterSuccess:
    serial = call.param("SerialNumber")
    device = motoview.mfa_device(call.account, serial)
    if device is not None and motoview.device_in_use(device):
        raise awserrors.delete_conflict("MFA Device is still in use")
    return AfterSuccess(forget_device=serial)  # a new device may reuse the serial


# --- EnableMFADevice ----------------------------------------------------------------------------


def _enable_mfa_device(call: Call) -> AfterSuccess | None:
    serial = call.param("SerialNumber")
    codes = (call.param("AuthenticationCode1"), call.param("AuthenticationCode2"))
    validate_authentication_codes(codes)
    if motoview.user_by_name(call.account, call.param("UserName")) is None:
        return None  # moto answers NoSuchEntity for the user
    device = motoview.mfa_device(call.account, serial)
    if device is None:
        raise awserrors.no_such_entity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
    if motoview.device_in_use(device):
        raise awserrors.entity_already_exists("MFA Device is already in use.")
    step = accepted_step(device.base32_string_seed, codes, call.now, call.state.last_step.get(serial))
    if step is None:
        raise awserrors.invalid_authentication_code()
    return AfterSuccess(enable_step=(serial, step))


# --- principals in trust policies ---------------------------------------------------------------


def _trust_policy_principals(call: Call) -> None:
    """AWS refuses a trust policy naming a principal that does not exist (yet)."""
    document = call.param("AssumeRolePolicyDocument") or call.param("PolicyDocument")
    delay = call.faults.principal_delay
    for statement in statements(document):
        for element in ("Principal", "NotPrincipal"):
            for value in principal_values(statement.get(element)):
                if not _principal_exists(call, value):
                    raise awserrors.invalid_principal(value)
                created = call.state.user_created.get(value)
                if created is not None and 0 <= call.now - created < delay:
                    raise awserrors.invalid_principal(value)


def _principal_exists(call: Call, value: str) -> bool:
    known = set(call.accounts) | set(motoview.known_accounts())
    if value == "*":
        return True
    if re.fullmatch(r"\d{12}", value):
        return value in known
    match = re.fullmatch(r"arn:aws:(iam|sts)::(\d{12}):(.+)", value)
    if match is None:
        return motoview.principal_id_exists(value)
    service, account, rest = match.groups()
    if account not in known:
        return False
    if service == "iam" and rest == "root":
        return True
    if service == "iam" and rest.startswith("user/"):
        return motoview.user_by_arn(value) is not None
    if service == "iam" and rest.startswith("role/"):
        return motoview.role_by_arn(value) is not None
    if service == "sts" and rest.startswith("assumed-role/"):
        parts = rest.split("/")
        return len(parts) == 3 and motoview.role_by_name(account, parts[1]) is not None
    return False


# IAM action -> its entity-state check (run after the identity policies allowed it).
IAM_RULES: dict[str, Callable[[Call], AfterSuccess | None]] = {
    "DeleteUser": _delete_check("UserName", motoview.user_by_name, _user_conflicts),
    "DeleteRole": _delete_check("RoleName", motoview.role_by_name, _role_conflicts),
    "DeleteGroup": _delete_check("GroupName", motoview.group_by_name, _group_conflicts),
    "DeletePolicy": _delete_check("PolicyArn", motoview.managed_policy, _policy_conflicts),
    "DeleteInstanceProfile": _delete_instance_profile,
    "DeleteVirtualMFADevice": _delete_virtual_mfa_device,
    "EnableMFADevice": _enable_mfa_device,
    "CreateRole": _trust_policy_principals,
    "UpdateAssumeRolePolicy": _trust_policy_principals,
    # answered from moto's models, paginated and URL-encoded as AWS does (moto does neither)
    "GetAccountAuthorizationDetails": authorization_details.answer,
}
