"""Every lookup in moto's in-process models, in one place.

The enforcement layer decides from moto's state (who owns an access key, which MFA
devices a user has, what a role's trust policy says) but never changes it: all
writes go through moto's own request handling, so moto stays the single source of
truth. Every lookup is a function here; the rule modules read the objects these
return only through the attributes listed in `RELIED_ON`. That makes the
dependency on moto's internals explicit and checkable: `sts_mfa.sandbox.seam.structure`
verifies each one on real objects, and `Sandbox.start()` refuses to run if one has
moved. What is read from moto 5.2.5 (pinned):

* `moto.iam.models.iam_backends[account]["aws"]` (an `IAMBackend`, one per account
  moto knows): `.users` (name -> User), `.roles` (id -> Role), `.groups` (name ->
  Group), `.access_keys` (key id -> AccessKey, long-term and temporary alike; its
  account is the key's account), `.virtual_mfa_devices` (serial ->
  VirtualMfaDevice), `.managed_policies` (ARN -> ManagedPolicy),
  `.instance_profiles` (name -> InstanceProfile).
* `User`: `.name .arn .id .access_keys .mfa_devices .policies .managed_policies
  .password` (the login profile) `.signing_certificates .ssh_public_keys`.
  `AccessKey`: `.access_key_id .secret_access_key .status .user_name .role_arn`.
  `Role`: `.name .arn .account_id .id .assume_role_policy_document .policies
  .managed_policies .max_session_duration`, and for GetAccountAuthorizationDetails
  (`authorization_details`) `.path .create_date .tags .permissions_boundary_arn
  .last_used .last_used_region`. `Group`: `.arn .users .policies
  .managed_policies`. `ManagedPolicy`: `.arn .name .versions`; `PolicyVersion`:
  `.document .is_default`. `VirtualMfaDevice`: `.serial_number
  .base32_string_seed .user .enable_date`. `InstanceProfile`: `.roles .name .id
  .path .arn .create_date`.
* `moto.sts.models.sts_backends[account]["aws"].assumed_roles` (list of
  `AssumedRole`: `.access_key_id .secret_access_key .session_token .role_arn`);
  `moto.s3.models.s3_backends.bucket_accounts` (bucket -> (partition, account)).
* GetSessionToken: `STSBackend.get_session_token(duration)` returns a `Token` (only
  an expiry) and moto's response carries fixed example credentials
  (`AKIAIOSFODNN7EXAMPLE`, the same for every call) that it keeps nowhere: not in
  `access_keys`, not in `assumed_roles`. So the sandbox issues the credentials of
  those sessions itself (`callers.UserSession`) and writes them into moto's answer;
  moto, which knows a request's account only from its access key, is told the
  account of such a session with its own `X-Moto-Account-Id` header
  (`BaseResponse.get_current_account`). The self-test checks both.

The only writes are the bootstrap (admin identities and sample buckets, created
with `IAMBackend.create_user/put_user_policy/create_access_key` and
`S3Backend.create_bucket` before any request is served; roles in bulk with
`IAMBackend.create_role`, `create_roles`, their inline policies, `put_role_policy`, and
trust policies, `set_trust_policy`,
for benchmarks, tests and organizations that need thousands), the global reset that
isolates one sandbox from the next (`BackendDict.reset()`,
`moto.core.model_instances.reset_model_data()`), and
`moto.settings.INITIAL_NO_AUTH_ACTION_COUNT`, forced to infinity while a sandbox
runs so that moto's own IAM checks stay off.

This module imports moto at import time; it is itself imported lazily.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from moto import settings as moto_settings
from moto.core.base_backend import BackendDict
from moto.core.model_instances import reset_model_data
from moto.iam.models import (
    AccessKey,
    Group,
    IAMBackend,
    InstanceProfile,
    ManagedPolicy,
    Role,
    User,
    VirtualMfaDevice,
    iam_backends,
)
from moto.s3.models import s3_backends
from moto.sts.models import AssumedRole, sts_backends

PARTITION = "aws"

# Attribute names, per moto class, that the enforcement layer (or selftest's check of
# what they mean) reads.
RELIED_ON: dict[str, tuple[str, ...]] = {
    "IAMBackend": (
        "users",  # dict[name, User]
        "roles",  # dict[role id, Role]
        "groups",  # dict[name, Group]
        "access_keys",  # dict[access key id, AccessKey]: long-term AND temporary keys
        "virtual_mfa_devices",  # dict[serial, VirtualMfaDevice]
        "managed_policies",  # dict[arn, ManagedPolicy]
        "instance_profiles",  # dict[name, InstanceProfile]
        "create_role",  # create_roles: the bulk bootstrap
        "put_role_policy",  # put_role_policy: the organization's bulk roles
        "attach_role_policy",  # orgview: AdministratorAccess on OrganizationAccountAccessRole
        "update_assume_role_policy",  # set_trust_policy: OrganizationAccountAccessRole with MFA
    ),
    "User": (
        "name",
        "arn",  # includes the path
        "id",
        "access_keys",  # list[AccessKey]
        "mfa_devices",  # dict[serial, MFADevice]: the devices enabled for the user
        "policies",  # dict[name, json]: inline policies
        "managed_policies",  # dict[arn, ManagedPolicy]: attached policies
        "password",  # the login profile (None when there is none)
        "signing_certificates",
        "ssh_public_keys",
    ),
    "AccessKey": ("access_key_id", "secret_access_key", "status", "user_name", "role_arn"),
    "Role": (
        "name",
        "arn",
        "account_id",
        "id",
        "assume_role_policy_document",
        "policies",
        "managed_policies",
        "max_session_duration",
        # GetAccountAuthorizationDetails' RoleDetail
        "path",
        "create_date",  # a naive UTC datetime
        "tags",  # list[{"Key", "Value"}]
        "permissions_boundary_arn",
        "last_used",
        "last_used_region",
    ),
    "Group": ("arn", "users", "policies", "managed_policies"),
    "ManagedPolicy": ("arn", "name", "versions"),  # arn: the key of User.managed_policies
    "PolicyVersion": ("document", "is_default"),
    "VirtualMfaDevice": ("serial_number", "base32_string_seed", "user", "enable_date"),
    "InstanceProfile": ("roles", "name", "id", "path", "arn", "create_date"),
    # get_session_token: what moto's GetSessionToken calls; it must register nothing
    "STSBackend": ("assumed_roles", "get_session_token"),
    # role_arn: selftest checks the session is the role's
    "AssumedRole": ("access_key_id", "secret_access_key", "session_token", "role_arn"),
    "S3BackendDict": ("bucket_accounts",),  # dict[bucket name, (partition, account id)]
}

_ARN = re.compile(r"^arn:aws:(iam|sts)::(\d{12}):(.+)$")


# --- process-wide state -------------------------------------------------------------------


def reset_everything() -> None:
    """Wipe all moto state in this process (what `POST /moto-api/reset` does)."""
    BackendDict.reset()
    reset_model_data()


def forget_account(account: str) -> None:
    """Drop an account's IAM backend (the self-test's throwaway objects made one)."""
    iam_backends.pop(account, None)


def moto_auth_count() -> float:
    return float(moto_settings.INITIAL_NO_AUTH_ACTION_COUNT)


def set_moto_auth_count(value: float) -> None:
    """moto's own IAM checks must stay OFF (infinite no-auth count): they would add
    moto's looser, path-less principal matching on top of the sandbox's."""
    moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = value


# --- lookups ------------------------------------------------------------------------------


def iam(account: str) -> IAMBackend:
    return iam_backends[account][PARTITION]


def known_accounts() -> list[str]:
    return list(iam_backends.keys())


def account_of_arn(arn: str) -> str | None:
    match = _ARN.match(arn)
    return match.group(2) if match else None


def find_access_key(access_key_id: str) -> tuple[str, AccessKey] | None:
    """The account whose IAM backend holds the key, and the key (user or session)."""
    for account in known_accounts():
        key = iam(account).access_keys.get(access_key_id)
        if key is not None:
            return account, key
    return None


def key_owner(account: str, key: AccessKey) -> User | None:
    """The user a long-term key belongs to, if both still exist and still go together."""
    if key.user_name is None:
        return None
    user = iam(account).users.get(key.user_name)
    if user is None or not any(k is key for k in user.access_keys):
        return None
    return user


def assumed_role(account: str, access_key_id: str) -> AssumedRole | None:
    for session in sts_backends[account][PARTITION].assumed_roles:
        if session.access_key_id == access_key_id:
            return session
    return None


def user_by_name(account: str, name: str) -> User | None:
    return iam(account).users.get(name)


def user_by_arn(arn: str) -> User | None:
    account = account_of_arn(arn)
    if account is None or account not in known_accounts():
        return None
    return next((u for u in iam(account).users.values() if u.arn == arn), None)


def role_by_name(account: str, name: str) -> Role | None:
    return next((r for r in iam(account).roles.values() if r.name == name), None)


def role_by_arn(arn: str) -> Role | None:
    account = account_of_arn(arn)
    if account is None or account not in known_accounts():
        return None
    return next((r for r in iam(account).roles.values() if r.arn == arn), None)


def group_by_name(account: str, name: str) -> Group | None:
    return iam(account).groups.get(name)


def groups_of(account: str, user: User) -> list[Group]:
    return [g for g in iam(account).groups.values() if any(m is user for m in g.users)]


def default_document(policy: ManagedPolicy) -> str:
    return next((v.document for v in policy.versions if v.is_default), "")


def user_policy_documents(account: str, user: User) -> list[str]:
    """Inline + attached (default version), then the same for each of the user's groups."""
    documents = list(user.policies.values())
    documents += [default_document(p) for p in user.managed_policies.values()]
    for group in groups_of(account, user):
        documents += list(group.policies.values())
        documents += [default_document(p) for p in group.managed_policies.values()]
    return documents


def role_policy_documents(role: Role) -> list[str]:
    return list(role.policies.values()) + [default_document(p) for p in role.managed_policies.values()]


def role_trust_policy(role: Role) -> str:
    document = role.assume_role_policy_document
    return document if isinstance(document, str) else json.dumps(document)


def role_max_session(role: Role) -> int:
    return int(role.max_session_duration or 3600)


def roles_by_name(account: str) -> list[Role]:
    """The account's roles, in the order of their names (IAM names are unique ignoring case)."""
    return sorted(iam(account).roles.values(), key=lambda role: str(role.name).lower())


def instance_profiles_by_role(account: str) -> dict[str, list[InstanceProfile]]:
    """Role id -> the instance profiles that hold it."""
    found: dict[str, list[InstanceProfile]] = {}
    for profile in iam(account).instance_profiles.values():
        for role in profile.roles:
            found.setdefault(role.id, []).append(profile)
    return found


def role_in_instance_profiles(account: str, role: Role) -> bool:
    return any(any(r is role for r in profile.roles) for profile in iam(account).instance_profiles.values())


def instance_profile_has_roles(account: str, name: str) -> bool:
    profile = iam(account).instance_profiles.get(name)
    return bool(profile is not None and profile.roles)


def managed_policy(account: str, arn: str) -> ManagedPolicy | None:
    return iam(account).managed_policies.get(arn)


def policy_is_attached(account: str, arn: str) -> bool:
    backend = iam(account)
    return (
        any(arn in user.managed_policies for user in backend.users.values())
        or any(arn in role.managed_policies for role in backend.roles.values())
        or any(arn in group.managed_policies for group in backend.groups.values())
    )


def mfa_device(account: str, serial: str) -> VirtualMfaDevice | None:
    return iam(account).virtual_mfa_devices.get(serial)


def find_mfa_device(serial: str) -> VirtualMfaDevice | None:
    for account in known_accounts():
        device = iam(account).virtual_mfa_devices.get(serial)
        if device is not None:
            return device
    return None


def device_in_use(device: VirtualMfaDevice) -> bool:
    return device.user is not None or device.enable_date is not None


def device_enabled_for(device: VirtualMfaDevice, user: User) -> bool:
    return device.user is user and device.serial_number in user.mfa_devices


def user_has_login_profile(user: User) -> bool:
    return user.password is not None


def bucket_owner(bucket: str) -> str | None:
    entry = s3_backends.bucket_accounts.get(bucket)
    return entry[1] if entry else None


def principal_id_exists(unique_id: str) -> bool:
    """A principal given by unique ID (AIDA.../AROA...) names an existing user or role."""
    for account in known_accounts():
        backend = iam(account)
        if any(u.id == unique_id for u in backend.users.values()):
            return True
        if any(r.id == unique_id for r in backend.roles.values()):
            return True
    return False


# --- bootstrap (before serving) -------------------------------------------------------------


def create_admin(account: str, region: str, name: str, path: str) -> tuple[str, str, str]:
    """An IAM user allowed everything, with an access key: (key id, secret, user ARN)."""
    backend = iam(account)
    user = backend.create_user(region, name, path=path)
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    )
    backend.put_user_policy(name, "sandbox-admin-everything", document)
    key = backend.create_access_key(name)
    return key.access_key_id, key.secret_access_key, user.arn


def create_bucket(account: str, name: str, region: str) -> None:
    s3_backends[account][PARTITION].create_bucket(name, region)


def put_role_policy(account: str, role: str, name: str, document: str) -> None:
    """An inline policy on a role, straight into moto's model (the organization's bulk roles)."""
    iam(account).put_role_policy(role, name, document)


def set_trust_policy(account: str, role: str, document: str) -> None:
    """A role's trust policy replaced, straight into moto's model (a well-protected organization)."""
    iam(account).update_assume_role_policy(role, document)


def create_roles(account: str, roles: Iterable[tuple[str, str, str]]) -> int:
    """Roles (name, path, trust policy text) put straight into moto's model; how many.

    For benchmarks and tests that need thousands of roles: CreateRole over HTTP costs
    a signed request each. This bypasses the front door, so nothing AWS checks at
    CreateRole is checked (the principals named, the document's syntax) and no
    creation time is recorded for `Faults.role_delay`. Call it while no client is
    talking to the sandbox (moto's models are not thread-safe).
    """
    backend = iam(account)
    count = 0
    for name, path, document in roles:
        backend.create_role(
            role_name=name,
            assume_role_policy_document=document,
            path=path,
            permissions_boundary=None,
            description="",
            tags=[],
            max_session_duration=None,
        )
        count += 1
    return count
