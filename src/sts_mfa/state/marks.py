"""The tool's marks on what it creates, and the one rule for "is this ours".

Everything `setup` creates lives under the IAM path `/sts-mfa/`, is named
`sts-mfa-<8 hex>-<what>` and (where AWS keeps tags) is tagged
`created-by=sts-mfa`. `teardown` deletes only what carries all three, whether
it found the resource by its state file or by sweeping the account, and the
state loader refuses names that do not follow from the state's own prefix, so
an edited state file cannot point `teardown` at someone else's user or role.

Light on purpose (no boto3): the state loader uses it on every path.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sts_mfa import TOOL_NAME

IAM_PATH = "/sts-mfa/"
NAME_PREFIX = "sts-mfa-"
TAG_KEY = "created-by"
TAG_VALUE = TOOL_NAME
PREFIX_TAG_KEY = "sts-mfa:prefix"
PREFIX_PATTERN = re.compile(r"sts-mfa-[0-9a-f]{8}")
# ARNs of the kinds the tool creates (any partition: aws, aws-cn, aws-us-gov).
ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):(user|role|policy|mfa)(/.*)")


def new_prefix() -> str:
    return NAME_PREFIX + secrets.token_hex(4)


@dataclass(frozen=True)
class Names:
    """The names of one setup's resources: all follow from its prefix."""

    user: str
    device: str
    role: str
    policy: str
    user_policy: str

    @classmethod
    def for_prefix(cls, prefix: str) -> Names:
        return cls(
            user=f"{prefix}-user",
            device=f"{prefix}-device",
            role=f"{prefix}-role",
            policy=f"{prefix}-list-buckets",
            user_policy=f"{prefix}-assume-role",
        )


def has_tag(tags: Iterable[Mapping[str, str]] | None) -> bool:
    return tags is not None and any(t.get("Key") == TAG_KEY and t.get("Value") == TAG_VALUE for t in tags)


# What each kind of resource is named after the prefix (`sts-mfa-<8 hex>-<suffix>`).
SUFFIXES: dict[str, str] = {
    "user": "user",
    "mfa_device": "device",
    "role": "role",
    "policy": "list-buckets",
    "user_policy": "assume-role",
}


def name_is_ours(kind: str, name: str, prefix: str | None = None) -> bool:
    """Is `name` exactly what setup names a `kind` (for this `prefix`, or for any)?"""
    match = re.fullmatch(r"(sts-mfa-[0-9a-f]{8})-(.+)", name)
    if match is None or match.group(2) != SUFFIXES[kind]:
        return False
    return prefix is None or match.group(1) == prefix


def missing_marks(
    kind: str,
    name: str,
    path: str,
    tags: Iterable[Mapping[str, str]] | None,
    *,
    prefix: str | None = None,
    tags_known: bool = True,
) -> list[str]:
    """Which of the tool's marks the resource lacks (empty: it is ours).

    The name must be exactly what setup gives a `kind` (`sts-mfa-<8 hex>-user`, ...;
    with `prefix`, that setup's own). `tags_known=False` is for MFA devices when their
    tags cannot be listed: path and name then decide alone.
    """
    missing = []
    if path != IAM_PATH:
        missing.append(f"its path is {path!r}, not {IAM_PATH!r}")
    if not name_is_ours(kind, name, prefix):
        wanted = f"{prefix}-{SUFFIXES[kind]}" if prefix else f"sts-mfa-<8 hex digits>-{SUFFIXES[kind]}"
        missing.append(f"its name is not {wanted!r}")
    if tags_known and not has_tag(tags):
        missing.append(f"it is not tagged {TAG_KEY}={TAG_VALUE}")
    return missing


def is_ours(
    kind: str, name: str, path: str, tags: Iterable[Mapping[str, str]] | None, *, tags_known: bool = True
) -> bool:
    return not missing_marks(kind, name, path, tags, tags_known=tags_known)


def split_arn(arn: str) -> tuple[str, str, str, str] | None:
    """(account, kind, path, name) of an IAM user/role/policy/mfa ARN, or None."""
    match = ARN_PATTERN.fullmatch(arn)
    if match is None:
        return None
    account, kind, rest = match.groups()
    path, _, name = rest.rpartition("/")
    return account, kind, path + "/", name
