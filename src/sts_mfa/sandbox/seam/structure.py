"""Is moto still what the sandbox reads? The pinned version, and every attribute it relies on.

The enforcement layer reads moto's models directly (`motoview.RELIED_ON`), so a moto
upgrade that renames an attribute would silently turn a refusal into a pass.
`structural_problems()` is cheap, and `Sandbox.start()` runs it and refuses to start on
any problem: moto is the pinned version, and every attribute the middleware reads
exists and means what it did, checked on real objects built in a throwaway backend
that is registered nowhere. (The scenario run end to end is `sts_mfa.sandbox.selftest`.)
"""

from __future__ import annotations

import json
from typing import Any

PINNED_MOTO = "5.2.5"
_ACCOUNT = "000000000000"


def structural_problems() -> list[str]:
    """Version pin and every moto attribute the middleware relies on."""
    try:
        import moto
    except ImportError:
        return ["moto is not installed (the 'sandbox' extra)"]
    problems: list[str] = []
    version = str(getattr(moto, "__version__", "unknown"))
    if version != PINNED_MOTO:
        problems.append(f"moto is {version}, the sandbox is pinned to {PINNED_MOTO}")
    try:
        problems += _module_problems()
        objects = _sample_objects()
    except Exception as exc:  # any failure here means moto moved
        return [*problems, f"building moto sample objects failed: {type(exc).__name__}: {exc}"]
    from sts_mfa.sandbox.seam.motoview import RELIED_ON

    for class_name, attributes in RELIED_ON.items():
        sample = objects.get(class_name)
        if sample is None:
            problems.append(f"no sample object for moto {class_name}")
            continue
        problems += [
            f"moto {class_name}.{attribute} is missing"
            for attribute in attributes
            if not hasattr(sample, attribute)
        ]
    if not problems:
        problems += _meaning_problems(objects)
    from sts_mfa.sandbox.seam import orgview  # Organizations: the models it reads, checked alike

    try:
        problems += orgview.structural_problems()
    except Exception as exc:  # any failure here means moto moved
        problems.append(f"building moto's sample organization failed: {type(exc).__name__}: {exc}")
    return problems


def _module_problems() -> list[str]:
    import moto.core.base_backend
    import moto.core.model_instances
    import moto.core.responses
    import moto.iam.models
    import moto.moto_server.werkzeug_app
    import moto.s3.models
    import moto.settings
    import moto.sts.models

    expected: list[tuple[object, str]] = [
        (moto.iam.models, "iam_backends"),
        (moto.sts.models, "sts_backends"),
        (moto.s3.models, "s3_backends"),
        (moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT"),
        (moto.core.base_backend.BackendDict, "reset"),
        (moto.core.model_instances, "reset_model_data"),
        (moto.moto_server.werkzeug_app, "DomainDispatcherApplication"),
        (moto.moto_server.werkzeug_app, "create_backend_app"),
        (moto.moto_server.werkzeug_app, "MotoRequestHandler"),
        (moto.iam.models.IAMBackend, "create_user"),
        (moto.iam.models.IAMBackend, "put_user_policy"),
        (moto.iam.models.IAMBackend, "create_access_key"),
        (moto.s3.models.S3Backend, "create_bucket"),
        # moto's own account header, with which the sandbox names a GetSessionToken
        # session's account (moto knows accounts only from the keys it issued)
        (moto.core.responses.BaseResponse, "get_current_account"),
    ]
    return [
        f"moto {getattr(owner, '__name__', owner)}.{name} is missing"
        for owner, name in expected
        if not hasattr(owner, name)
    ]


def _sample_objects() -> dict[str, Any]:
    """One real instance of every moto class the middleware reads, in a private backend."""
    # Long but straight-line: each object is made the way moto's own responses make it.
    from moto.iam.models import IAMBackend
    from moto.s3.models import s3_backends
    from moto.sts.models import AssumedRole, STSBackend

    backend = IAMBackend(region_name="aws", account_id=_ACCOUNT)
    user = backend.create_user("us-east-1", "selftest-user", path="/selftest/")
    key = backend.create_access_key("selftest-user")
    group = backend.create_group("selftest-group")
    backend.add_user_to_group("selftest-group", "selftest-user")
    document = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )
    policy = backend.create_policy(
        description="", path="/", policy_document=document, policy_name="selftest", tags=[]
    )
    backend.attach_user_policy(policy.arn, "selftest-user")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole"}],
        }
    )
    role = backend.create_role(
        role_name="selftest-role",
        assume_role_policy_document=trust,
        path="/selftest/",
        permissions_boundary=None,
        description="",
        tags=[],
        max_session_duration="7200",
    )
    profile = backend.create_instance_profile("selftest-profile", "/", ["selftest-role"])
    device = backend.create_virtual_mfa_device("selftest-device", "/")
    backend.enable_mfa_device("selftest-user", device.serial_number, "123456", "654321")
    sts = STSBackend("aws", _ACCOUNT)
    temp_key = backend.create_temp_access_key()
    session = AssumedRole(
        account_id=_ACCOUNT,
        region_name="us-east-1",
        access_key=temp_key,
        role_session_name="selftest-session",
        role_arn=role.arn,
        policy="",
        duration=900,
        external_id="",
    )
    return {
        "IAMBackend": backend,
        "User": user,
        "AccessKey": key,
        "Role": role,
        "Group": group,
        "ManagedPolicy": policy,
        "PolicyVersion": policy.versions[0],
        "VirtualMfaDevice": device,
        "InstanceProfile": profile,
        "STSBackend": sts,
        "AssumedRole": session,
        "S3BackendDict": s3_backends,
        "_document": document,
        "_trust": trust,
    }


def _meaning_problems(objects: dict[str, Any]) -> list[str]:
    """The attributes exist; do they still hold what the middleware assumes?"""
    # Long but flat: a table of (holds, what broke) rows, one per assumption about moto.
    import pyotp

    from sts_mfa.sandbox.seam.motoview import default_document

    backend, user, key = objects["IAMBackend"], objects["User"], objects["AccessKey"]
    role, group, device = objects["Role"], objects["Group"], objects["VirtualMfaDevice"]
    session = objects["AssumedRole"]
    checks: list[tuple[bool, str]] = [
        (
            user.arn == f"arn:aws:iam::{_ACCOUNT}:user/selftest/selftest-user",
            "User.arn no longer includes the path",
        ),
        (backend.users.get("selftest-user") is user, "IAMBackend.users is not keyed by name"),
        (
            backend.access_keys.get(key.access_key_id) is key,
            "IAMBackend.access_keys is not keyed by access key id",
        ),
        (any(k is key for k in user.access_keys), "User.access_keys does not hold the key"),
        (key.user_name == user.name and key.role_arn is None, "AccessKey owner fields changed"),
        (key.status == "Active", "AccessKey.status is not 'Active' for a new key"),
        (
            device.user is user and device.serial_number in user.mfa_devices,
            "EnableMFADevice no longer links VirtualMfaDevice.user and User.mfa_devices",
        ),
        (device.enable_date is not None, "VirtualMfaDevice.enable_date not set when enabled"),
        (any(m is user for m in group.users), "Group.users does not hold User objects"),
        (
            default_document(objects["ManagedPolicy"]) == objects["_document"],
            "ManagedPolicy versions no longer expose the default document",
        ),
        (
            objects["ManagedPolicy"].arn in user.managed_policies,
            "User.managed_policies is not keyed by policy ARN",
        ),
        (
            role.arn == f"arn:aws:iam::{_ACCOUNT}:role/selftest/selftest-role",
            "Role.arn no longer includes the path",
        ),
        (role.assume_role_policy_document == objects["_trust"], "Role trust document changed"),
        (str(role.max_session_duration) == "7200", "Role.max_session_duration changed"),
        (
            any(r is role for r in objects["InstanceProfile"].roles),
            "InstanceProfile.roles does not hold Role objects",
        ),
        (
            session.access_key_id == session.access_key.access_key_id
            and isinstance(session.session_token, str)
            and session.role_arn == role.arn,
            "AssumedRole no longer carries its key, token and role ARN",
        ),
        (isinstance(objects["STSBackend"].assumed_roles, list), "STSBackend.assumed_roles"),
        (
            _session_token_registers_nothing(objects["STSBackend"], backend),
            "moto's GetSessionToken now registers credentials; the sandbox issues its own",
        ),
        (
            isinstance(objects["S3BackendDict"].bucket_accounts, dict),
            "s3_backends.bucket_accounts is not a dict",
        ),
    ]
    problems = [message for ok, message in checks if not ok]
    try:
        pyotp.TOTP(device.base32_string_seed).at(0)
    except Exception as exc:
        problems.append(f"VirtualMfaDevice.base32_string_seed is not a usable seed: {exc}")
    return problems


def _session_token_registers_nothing(sts: Any, backend: Any) -> bool:
    """moto's GetSessionToken keeps no credentials: the sandbox's own cannot collide."""
    keys, roles = dict(backend.access_keys), list(sts.assumed_roles)
    token = sts.get_session_token(duration=900)
    return hasattr(token, "expiration") and backend.access_keys == keys and sts.assumed_roles == roles
