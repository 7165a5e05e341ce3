"""Every policy document the tool writes, built in one place, plus the trust-policy check.

`trust_policy_findings` is what `check-deny` uses to tell a real MFA denial
from a denial for some other reason: it reads the role's trust policy and
reports every Allow for sts:AssumeRole that does not require MFA.
"""

from __future__ import annotations

import fnmatch
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


# ------------------------------------------------------------ trust analysis


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _action_covers_assume_role(statement: dict[str, Any]) -> bool:
    if "NotAction" in statement:
        return not any(
            fnmatch.fnmatchcase("sts:assumerole", str(a).lower()) for a in _as_list(statement["NotAction"])
        )
    return any(
        fnmatch.fnmatchcase("sts:assumerole", str(a).lower()) for a in _as_list(statement.get("Action"))
    )


def _truthy(values: Any, want: str) -> bool:
    vals = [str(v).lower() for v in _as_list(values)]
    return bool(vals) and all(v == want for v in vals)


def _requires_mfa(condition: Any) -> bool:
    """True when a condition block can only be satisfied by a request made with MFA."""
    if not isinstance(condition, dict):
        return False
    for operator, keys in condition.items():
        if not isinstance(keys, dict):
            continue
        op = str(operator)
        for key, values in keys.items():
            k = str(key).lower()
            if k == "aws:multifactorauthpresent" and op == "Bool" and _truthy(values, "true"):
                return True
            if k == "aws:multifactorauthage" and op in (
                "NumericLessThan",
                "NumericLessThanEquals",
            ):
                return True  # the key exists only when MFA was used
            if k == "aws:multifactorauthage" and op == "Null" and _truthy(values, "false"):
                return True
    return False


def _denies_without_mfa(statement: dict[str, Any]) -> bool:
    """A Deny that catches every request without MFA (BoolIfExists ... false, or Null age true)."""
    if statement.get("Effect") != "Deny" or not _action_covers_assume_role(statement):
        return False
    # Only a Deny for everyone counts: a NotPrincipal exempts someone, maybe the very user.
    if statement.get("Principal") not in ("*", {"AWS": "*"}) or "NotPrincipal" in statement:
        return False
    condition = statement.get("Condition")
    if not isinstance(condition, dict) or len(condition) != 1:
        return False
    ((operator, keys),) = condition.items()
    if not isinstance(keys, dict) or len(keys) != 1:
        return False
    ((key, values),) = keys.items()
    k = str(key).lower()
    if operator == "BoolIfExists" and k == "aws:multifactorauthpresent":
        return _truthy(values, "false")
    if operator == "Null" and k == "aws:multifactorauthage":
        return _truthy(values, "true")
    return False


def describe_principal(statement: dict[str, Any]) -> str:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        return ", ".join(str(v) for vals in principal.values() for v in _as_list(vals))
    return str(principal)


def trust_policy_findings(document: dict[str, Any] | str) -> list[str]:
    """Every way this trust policy lets someone assume the role without MFA.

    An empty list means each Allow for sts:AssumeRole requires MFA (by its own
    condition, or by a Deny that catches every request made without MFA).
    """
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return ["the trust policy is not valid JSON"]
    if not isinstance(document, dict):
        return ["the trust policy is not a JSON object"]
    statements = [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]
    if any(_denies_without_mfa(s) for s in statements):
        return []
    findings: list[str] = []
    for i, s in enumerate(statements, 1):
        if s.get("Effect") != "Allow" or not _action_covers_assume_role(s):
            continue
        who = describe_principal(s)
        condition = s.get("Condition")
        if _requires_mfa(condition):
            continue
        if isinstance(condition, dict) and any(
            str(op).startswith("Bool")
            and str(op).endswith("IfExists")
            and any(str(k).lower() == "aws:multifactorauthpresent" for k in (keys or {}))
            for op, keys in condition.items()
        ):
            findings.append(
                f"statement {i} allows {who} with BoolIfExists on aws:MultiFactorAuthPresent, "
                "which long-term access keys satisfy without MFA"
            )
        elif not condition:
            findings.append(f"statement {i} allows {who} with no condition: MFA is not required")
        else:
            findings.append(f"statement {i} allows {who} with conditions that do not require MFA")
    return findings
