"""`teardown --sweep`: find the tool's leftovers in an account by their marks, no state file needed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from sts_mfa.aws.clients import Aws
from sts_mfa.aws.errors import translate_errors
from sts_mfa.scenario.context import Context, gone
from sts_mfa.scenario.iam_delete import delete_policy, delete_role, delete_user_tree, delete_virtual_device
from sts_mfa.state.marks import IAM_PATH, is_ours


@dataclass
class Leftover:
    kind: str  # "user" | "mfa_device" | "role" | "policy"
    name: str
    arn: str


@dataclass
class SweepResult:
    found: list[Leftover] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def _tags(call: Callable[..., Any], **kwargs: str) -> list[dict[str, str]]:
    try:
        return list(call(**kwargs).get("Tags", []))
    except ClientError as e:
        if gone(e):
            return []
        raise


def find_leftovers(aws: Aws) -> list[Leftover]:
    """Everything in the account that carries all of the tool's marks (path, prefix, tag)."""
    iam: Any = aws.iam()  # paginated pages are plain dicts here
    found: list[Leftover] = []

    def pages(operation: str, **kwargs: str) -> Iterator[dict[str, Any]]:
        yield from iam.get_paginator(operation).paginate(**kwargs)

    with translate_errors("sweep: listing the tool's resources"):
        for page in pages("list_users", PathPrefix=IAM_PATH):
            for user in page["Users"]:
                tag_list = _tags(iam.list_user_tags, UserName=user["UserName"])
                if is_ours("user", user["UserName"], user["Path"], tag_list):
                    found.append(Leftover("user", user["UserName"], user["Arn"]))
        our_users = {u.arn for u in found}
        for page in pages("list_virtual_mfa_devices", AssignmentStatus="Any"):
            for device in page["VirtualMFADevices"]:
                serial = device["SerialNumber"]
                path, _, name = serial.partition(":mfa")[2].rpartition("/")
                owner = device.get("User", {}).get("Arn")
                # A device enabled for someone else's user is never ours. Its tags are not
                # listed with it (and not kept by every emulator): path and exact name decide.
                ours = is_ours("mfa_device", name, path + "/", None, tags_known=False)
                if ours and (owner is None or owner in our_users):
                    found.append(Leftover("mfa_device", name, serial))
        for page in pages("list_roles", PathPrefix=IAM_PATH):
            for role in page["Roles"]:
                tag_list = _tags(iam.list_role_tags, RoleName=role["RoleName"])
                if is_ours("role", role["RoleName"], role["Path"], tag_list):
                    found.append(Leftover("role", role["RoleName"], role["Arn"]))
        for page in pages("list_policies", Scope="Local", PathPrefix=IAM_PATH):
            for policy in page["Policies"]:
                tag_list = _tags(iam.list_policy_tags, PolicyArn=policy["Arn"])
                if is_ours("policy", policy["PolicyName"], policy["Path"], tag_list):
                    found.append(Leftover("policy", policy["PolicyName"], policy["Arn"]))
    return found


def sweep(ctx: Context, aws: Aws | None = None, *, dry_run: bool = False) -> SweepResult:
    """Find the tool's leftovers in `aws`'s account (default: the identity side) and remove them.

    No state file is needed. Users go first (with their keys and devices), then
    unassigned devices, roles, and policies: the order AWS requires.
    """
    aws = aws or ctx.aws
    result = SweepResult(found=find_leftovers(aws))
    if dry_run:
        return result
    iam = aws.iam()
    with translate_errors("sweep"):
        for item in result.found:
            if item.kind == "user":
                delete_user_tree(iam, item.name, ctx.report, result.deleted)
        for item in result.found:
            if item.kind == "mfa_device" and item.arn not in result.deleted:
                delete_virtual_device(iam, item.arn, ctx.report, result.deleted)
        for item in result.found:
            if item.kind == "role":
                delete_role(iam, item.name, ctx.report, result.deleted)
        for item in result.found:
            if item.kind == "policy":
                delete_policy(iam, item.arn, ctx.report, result.deleted)
    return result
