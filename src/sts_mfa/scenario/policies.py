"""Every policy document the tool writes, built in one place.

Reading a trust policy (does every way in require MFA?) is `sts_mfa.trust.analysis`'s job.
"""

from __future__ import annotations

import json
from typing import Any

MFA_CONDITION: dict[str, dict[str, str]] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def trust_policy(user_arn: str) -> dict[str, Any]:
    """Only `user_arn` may assume the role, and only with MFA."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": user_arn},
                "Action": "sts:AssumeRole",
                "Condition": MFA_CONDITION,
            }
        ],
    }


def list_buckets_policy() -> dict[str, Any]:
    """What the role may do once assumed: list the account's buckets, nothing more."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "arn:aws:s3:::*"}],
    }


def assume_role_policy(role_arn: str) -> dict[str, Any]:
    """The user's only permission: sts:AssumeRole on that one role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))
