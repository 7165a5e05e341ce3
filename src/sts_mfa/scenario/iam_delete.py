"""Deleting IAM resources in the order AWS requires, tolerating what is already gone.

One routine does what every kind needs: try the delete, and on `DeleteConflict`
clear what blocks it (what the tool never creates but someone may have added)
and try once more. The callers decide only what "clear" means for their kind.
These helpers delete what they are given: deciding that it is the tool's to
delete (its marks) is `teardown`'s and `sweep`'s job, before they call here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from sts_mfa.aws.errors import error_code, error_message
from sts_mfa.errors import AwsError
from sts_mfa.progress import Reporter
from sts_mfa.scenario.context import gone
from sts_mfa.state.marks import is_ours, split_arn


def tolerate_gone(call: Callable[..., Any], **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as e:
        if not gone(e):
            raise


def delete_clearing_conflicts(what: str, delete: Callable[[], Any], clear: Callable[[], list[str]]) -> bool:
    """Delete; on DeleteConflict, `clear()` (which lists what it could not clear) and delete again.

    Returns False if the resource was already gone.
    """
    try:
        delete()
    except ClientError as e:
        if gone(e):
            return False
        if error_code(e) != "DeleteConflict":
            raise
        problems = clear()
        try:
            delete()
        except ClientError as again:
            if problems and error_code(again) == "DeleteConflict":
                raise AwsError(
                    f"cannot delete {what}: {error_message(again)} (could not clear: {'; '.join(problems)})"
                ) from again
            raise
    return True


def delete_virtual_device(iam: Any, serial: str, report: Reporter, deleted: list[str]) -> None:
    try:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    except ClientError as e:
        if not gone(e):
            raise
        return
    deleted.append(serial)
    report.step(f"Deleted virtual MFA device {serial}")


def delete_user_tree(
    iam: Any, user: str, report: Reporter, deleted: list[str], *, extra_serial: str | None = None
) -> None:
    """Remove what AWS requires before DeleteUser, then the user (tolerating what is gone)."""
    try:
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    except ClientError as e:
        if not gone(e):
            raise
        if extra_serial:  # a device whose user never existed or is gone
            delete_virtual_device(iam, extra_serial, report, deleted)
        return
    for key in keys:
        tolerate_gone(iam.delete_access_key, UserName=user, AccessKeyId=key["AccessKeyId"])
        deleted.append(key["AccessKeyId"])
        report.step(f"Deleted access key {key['AccessKeyId']}")
    serials = [d["SerialNumber"] for d in iam.list_mfa_devices(UserName=user)["MFADevices"]]
    for serial in serials:
        tolerate_gone(iam.deactivate_mfa_device, UserName=user, SerialNumber=serial)
        report.step(f"Deactivated MFA device {serial}")
        parts = split_arn(serial)
        # A virtual device is deleted only if it is the tool's too (path and prefix; a
        # hardware or someone else's device is deactivated from this user, nothing more).
        if parts is not None and is_ours("mfa_device", parts[3], parts[2], None, tags_known=False):
            delete_virtual_device(iam, serial, report, deleted)
    if extra_serial and extra_serial not in serials:
        delete_virtual_device(iam, extra_serial, report, deleted)
    for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
        tolerate_gone(iam.delete_user_policy, UserName=user, PolicyName=name)
        deleted.append(f"{user}/{name}")  # as setup names what it created
        report.step(f"Deleted inline policy {name} of {user}")
    if delete_clearing_conflicts(
        f"user {user}", lambda: iam.delete_user(UserName=user), lambda: _clear_user_extras(iam, user, report)
    ):
        deleted.append(user)
        report.step(f"Deleted IAM user {user}")


def _clear_user_extras(iam: Any, user: str, report: Reporter) -> list[str]:
    """What the tool never creates but someone may have added: cleared on DeleteConflict.

    Each kind is cleared on its own, and a kind that cannot be listed or
    removed is noted rather than fatal: DeleteUser, tried again afterwards,
    is the judge of whether anything that matters is left.
    """
    # Long but flat: one `each` line per kind of thing a user can carry, in the order the
    # IAM guide lists them ("Deleting an IAM user"); splitting it would hide the list.
    problems: list[str] = []

    def each(kind: str, listing: Callable[[], list[Any]], remove: Callable[[Any], None]) -> None:
        try:
            for item in listing():
                remove(item)
        except ClientError as e:
            problems.append(f"{kind}: {error_code(e)}")

    def detach(p: Any) -> None:
        tolerate_gone(iam.detach_user_policy, UserName=user, PolicyArn=p["PolicyArn"])
        report.step(f"Detached {p['PolicyArn']} from {user}")

    def leave(g: Any) -> None:
        tolerate_gone(iam.remove_user_from_group, UserName=user, GroupName=g["GroupName"])
        report.step(f"Removed {user} from group {g['GroupName']}")

    each(
        "attached policies",
        lambda: iam.list_attached_user_policies(UserName=user)["AttachedPolicies"],
        detach,
    )
    each("groups", lambda: iam.list_groups_for_user(UserName=user)["Groups"], leave)
    each("login profile", lambda: [None], lambda _: tolerate_gone(iam.delete_login_profile, UserName=user))
    each(
        "signing certificates",
        lambda: iam.list_signing_certificates(UserName=user)["Certificates"],
        lambda c: tolerate_gone(
            iam.delete_signing_certificate, UserName=user, CertificateId=c["CertificateId"]
        ),
    )
    each(
        "SSH keys",
        lambda: iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"],
        lambda k: tolerate_gone(iam.delete_ssh_public_key, UserName=user, SSHPublicKeyId=k["SSHPublicKeyId"]),
    )
    each(
        "service-specific credentials",
        lambda: iam.list_service_specific_credentials(UserName=user).get("ServiceSpecificCredentials", []),
        lambda c: tolerate_gone(
            iam.delete_service_specific_credential,
            UserName=user,
            ServiceSpecificCredentialId=c["ServiceSpecificCredentialId"],
        ),
    )
    each(
        "access keys",
        lambda: iam.list_access_keys(UserName=user)["AccessKeyMetadata"],
        lambda k: tolerate_gone(iam.delete_access_key, UserName=user, AccessKeyId=k["AccessKeyId"]),
    )
    each(
        "inline policies",
        lambda: iam.list_user_policies(UserName=user)["PolicyNames"],
        lambda n: tolerate_gone(iam.delete_user_policy, UserName=user, PolicyName=n),
    )
    return problems


def delete_role(iam: Any, role: str, report: Reporter, deleted: list[str]) -> None:
    try:
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    except ClientError as e:
        if gone(e):
            return
        raise
    for p in attached:
        tolerate_gone(iam.detach_role_policy, RoleName=role, PolicyArn=p["PolicyArn"])
        report.step(f"Detached {p['PolicyName']} from {role}")
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        tolerate_gone(iam.delete_role_policy, RoleName=role, PolicyName=name)
        deleted.append(f"{role}/{name}")
        report.step(f"Deleted inline policy {name} of {role}")

    def leave_instance_profiles() -> list[str]:
        for profile in iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]:
            name = profile["InstanceProfileName"]
            tolerate_gone(iam.remove_role_from_instance_profile, RoleName=role, InstanceProfileName=name)
            report.step(f"Removed {role} from instance profile {name}")
        return []

    if delete_clearing_conflicts(
        f"role {role}", lambda: iam.delete_role(RoleName=role), leave_instance_profiles
    ):
        deleted.append(role)
        report.step(f"Deleted role {role}")


def delete_policy(iam: Any, arn: str, report: Reporter, deleted: list[str]) -> None:
    def detach_and_prune() -> list[str]:
        entities = iam.list_entities_for_policy(PolicyArn=arn)
        for r in entities.get("PolicyRoles", []):
            tolerate_gone(iam.detach_role_policy, RoleName=r["RoleName"], PolicyArn=arn)
        for u in entities.get("PolicyUsers", []):
            tolerate_gone(iam.detach_user_policy, UserName=u["UserName"], PolicyArn=arn)
        for g in entities.get("PolicyGroups", []):
            tolerate_gone(iam.detach_group_policy, GroupName=g["GroupName"], PolicyArn=arn)
        for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not v["IsDefaultVersion"]:
                tolerate_gone(iam.delete_policy_version, PolicyArn=arn, VersionId=v["VersionId"])
        return []

    if delete_clearing_conflicts(f"policy {arn}", lambda: iam.delete_policy(PolicyArn=arn), detach_and_prune):
        deleted.append(arn)
        report.step(f"Deleted policy {arn}")
