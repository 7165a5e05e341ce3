"""An independent IAM evaluator for one concrete request: the oracle the solver is checked against.

It shares no code with `sts_mfa.trust` (nor with the sandbox's evaluator, which models only
what the sandbox's own calls carry): every rule is written again, directly, for concrete
values, from the IAM User Guide ("Policy evaluation logic", "Condition operators",
"Single-valued vs. multivalued context keys", "Principal", "NotPrincipal"). A request is
a caller (how it signed, who it is), an action and a context of condition keys. What it
does not model raises `Unsupported`, so a test can count what it skipped.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

KINDS = ("long-term", "temporary", "web-identity", "saml", "service", "mfa")
AWS_KINDS = ("long-term", "temporary", "mfa")
ACTION = {
    "long-term": "sts:AssumeRole",
    "temporary": "sts:AssumeRole",
    "mfa": "sts:AssumeRole",
    "service": "sts:AssumeRole",
    "web-identity": "sts:AssumeRoleWithWebIdentity",
    "saml": "sts:AssumeRoleWithSAML",
}
OPERATORS = {
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan",
    "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals",
    "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals",
    "ArnNotLike", "Null",
}  # fmt: skip
NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
           "DateNotEquals", "NotIpAddress", "ArnNotEquals", "ArnNotLike"}  # fmt: skip


class Unsupported(Exception):
    """A construct this oracle does not evaluate (the test counts it and moves on)."""


@dataclass(frozen=True)
class Caller:
    """Who signs the request, and how (`kind`, one of KINDS)."""

    kind: str
    arn: str  # user, root, session or federated-user ARN; a provider; a service
    principal_type: str | None = None  # User, Account, AssumedRole, FederatedUser
    role_arn: str | None = None  # for a role session: the role's ARN (with its path)
    userid: str | None = None

    @property
    def account(self) -> str | None:
        return self.arn.split(":")[4] if self.kind in AWS_KINDS else None

    @property
    def partition(self) -> str | None:
        return self.arn.split(":")[1] if self.kind in AWS_KINDS else None

    @property
    def principal_arn(self) -> str | None:
        return (
            self.role_arn
            if self.principal_type == "AssumedRole"
            else (self.arn if self.kind in AWS_KINDS else None)
        )

    @property
    def username(self) -> str | None:
        return self.arn.rsplit("/", 1)[-1] if self.principal_type == "User" else None


@dataclass(frozen=True)
class Request:
    caller: Caller
    context: Mapping[str, Any] = field(default_factory=dict)  # free keys (lower case): str, or list of str

    @property
    def action(self) -> str:
        return ACTION[self.caller.kind]

    def keys(self) -> dict[str, Any]:
        """Every condition key the request carries: the free ones, and those its caller and kind fix."""
        c = self.caller
        found = {k.lower(): v for k, v in self.context.items()}
        if c.kind == "temporary":
            found["aws:multifactorauthpresent"] = "false"
        if c.kind == "mfa":
            found["aws:multifactorauthpresent"] = "true"
            found.setdefault("aws:multifactorauthage", "0")
        if c.kind in AWS_KINDS:
            found["aws:principalarn"] = c.principal_arn
            found["aws:principalaccount"] = c.account
            found["aws:principaltype"] = c.principal_type
            if c.userid is not None:
                found["aws:userid"] = c.userid
            if c.username is not None:
                found["aws:username"] = c.username
        if c.kind == "service":
            found["aws:principalservicename"] = c.arn
        return found


# --- the policy ----------------------------------------------------------------------------------


def allowed(document: Mapping[str, Any], request: Request) -> bool:
    """Explicit Deny > Allow > implicit deny, for a trust policy (the resource-based policy alone)."""
    statements = document["Statement"]
    statements = [statements] if isinstance(statements, Mapping) else statements
    granted = False
    for statement in statements:
        if not _applies(statement, request):
            continue
        if statement["Effect"] == "Deny":
            return False
        granted = True
    return granted


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    if not _action(statement, request.action):
        return False
    if "Principal" in statement:
        if not any(_names(e, request.caller) for e in _entries(statement["Principal"])):
            return False
    elif _exempt(_entries(statement["NotPrincipal"]), request.caller):
        return False
    return _condition(statement.get("Condition", {}), request.keys())


def _action(statement: Mapping[str, Any], action: str) -> bool:
    patterns = statement.get("Action", statement.get("NotAction"))
    patterns = [patterns] if isinstance(patterns, str) else patterns
    if any(not p.isascii() for p in patterns):
        raise Unsupported("a non-ASCII action")
    hit = any(_glob(p, action, ignore_case=True) for p in patterns)
    return hit if "Action" in statement else not hit


def _entries(element: Any) -> list[tuple[str, str]]:
    if element == "*":
        return [("*", "*")]
    found = []
    for kind, values in element.items():
        for value in [values] if isinstance(values, str) else values:
            found.append((kind, value))
    return found


def _names(entry: tuple[str, str], caller: Caller) -> bool:
    """Does one Principal entry name the caller (any of its identities)?"""
    kind, value = entry
    if kind == "*":
        return True
    if kind == "Service":
        return caller.kind == "service" and caller.arn == value.lower()
    if kind == "Federated":
        if caller.kind not in ("web-identity", "saml") or caller.arn != value:
            return False
        if ":saml-provider/" in value:
            return caller.kind == "saml"
        if ":oidc-provider/" in value or value in {
            "accounts.google.com",
            "graph.facebook.com",
            "www.amazon.com",
            "cognito-identity.amazonaws.com",
        }:
            return caller.kind == "web-identity"
        return True
    if caller.kind not in AWS_KINDS:
        return False
    return value == "*" or _identity(value, caller) is not None


def _identity(value: str, caller: Caller) -> str | None:
    """Which of the caller's identities an AWS entry names: account, caller, role (None: none)."""
    account = caller.account
    if value in (account, f"arn:{caller.partition}:iam::{account}:root"):
        return "account"
    if value == caller.arn:
        return "caller"
    if caller.principal_type == "AssumedRole" and value == caller.role_arn:
        return "role"
    if caller.userid and caller.principal_type == "User" and value == caller.userid:
        return "caller"
    if caller.userid and caller.principal_type == "AssumedRole" and caller.userid.startswith(value + ":"):
        return "role"
    return None


def _exempt(entries: list[tuple[str, str]], caller: Caller) -> bool:
    """NotPrincipal: the caller is exempt only when every one of its identities is listed."""
    if any(kind == "*" or (kind == "AWS" and value == "*") for kind, value in entries):
        return True
    if caller.kind not in AWS_KINDS:
        return any(_names(e, caller) for e in entries)
    listed = {_identity(value, caller) for kind, value in entries if kind == "AWS"}
    needed = {"Account": {"account"}, "AssumedRole": {"caller", "role", "account"}}.get(
        caller.principal_type or "", {"caller", "account"}
    )
    return needed <= listed


# --- conditions ----------------------------------------------------------------------------------


def _condition(block: Mapping[str, Any], keys: Mapping[str, Any]) -> bool:
    for operator, pairs in block.items():
        qualifier = next((q for q in ("ForAnyValue:", "ForAllValues:") if operator.startswith(q)), None)
        rest = operator[len(qualifier) :] if qualifier else operator
        if_exists = rest.endswith("IfExists")
        base = rest[: -len("IfExists")] if if_exists else rest
        if base not in OPERATORS or (base == "Null" and (qualifier or if_exists)):
            raise Unsupported(f"operator {operator}")
        for key, raw in pairs.items():
            if not key.isascii():
                raise Unsupported("a non-ASCII key")
            expected = [_text(v) for v in (raw if isinstance(raw, list) else [raw])]
            if not _clause(base, qualifier, if_exists, key.lower(), expected, keys):
                return False
    return True


def _clause(
    base: str, qualifier: str | None, if_exists: bool, key: str, expected: list[str], keys: Mapping[str, Any]
) -> bool:
    actual = keys.get(key)
    if base == "Null":
        return any((actual is None) == (e.lower() == "true") for e in expected)
    values = [] if actual is None else [actual] if isinstance(actual, str) else list(actual)
    negated = base in NEGATED

    def one(value: str) -> bool:
        hit = any(_compare(base, value, e) for e in expected)
        return not hit if negated else hit

    if qualifier == "ForAnyValue:":
        return any(one(v) for v in values)
    if qualifier == "ForAllValues:":
        return all(one(v) for v in values)
    if actual is None:
        return negated or if_exists
    if not isinstance(actual, str):
        raise Unsupported("a plain operator on a multivalued key")
    return one(actual)


def _compare(base: str, actual: str, expected: str) -> bool:
    family = re.sub(
        r"(Not)?(Equals|EqualsIgnoreCase|Like|LessThanEquals|LessThan|GreaterThanEquals|GreaterThan)$",
        "",
        base.replace("NotIpAddress", "IpAddress"),
    )
    positive = base.replace("Not", "") if base != "NotIpAddress" else "IpAddress"
    if "${" in expected:
        raise Unsupported("a policy variable")
    if family == "String":
        if positive == "StringEquals":
            return actual == expected
        if positive == "StringEqualsIgnoreCase":
            return actual.lower() == expected.lower()
        return _glob(expected, actual, ignore_case=False)
    if family == "Bool":
        if expected.lower() not in ("true", "false"):
            raise Unsupported("Bool with a value other than true/false")
        return actual.lower() == expected.lower()
    if family in ("Numeric", "Date"):
        read = _number if family == "Numeric" else _epoch
        return _order(positive, read(actual), read(expected))
    if family == "Binary":
        return actual == expected
    if family == "Arn":
        if expected.count(":") < 5:
            raise Unsupported("an ARN pattern without six parts")
        return _arn_like(expected, actual)
    if positive == "IpAddress":
        return _in_network(actual, expected)
    raise Unsupported(base)


def _in_network(actual: str, expected: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        raise Unsupported("an IP address or CIDR block that does not parse") from None


def _order(operator: str, a: Any, b: Any) -> bool:
    suffix = re.sub(r"^(Numeric|Date)", "", operator)
    return {
        "Equals": a == b,
        "LessThan": a < b,
        "LessThanEquals": a <= b,
        "GreaterThan": a > b,
        "GreaterThanEquals": a >= b,
    }[suffix]


def _number(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise Unsupported(f"not a number: {text!r}") from None


def _epoch(text: str) -> int:
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Unsupported(f"not a date: {text!r}") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp())


def _glob(pattern: str, value: str, *, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return (
        re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE | re.ASCII if ignore_case else 0)) is not None
    )


def _arn_like(pattern: str, value: str) -> bool:
    want, have = pattern.split(":", 5), value.split(":", 5)
    if len(have) < 6 or len(want) < 6:
        return False
    return all(
        re.fullmatch(
            "".join(
                ("[^:]*" if i < 5 else ".*")
                if c == "*"
                else ("[^:]" if i < 5 else ".")
                if c == "?"
                else re.escape(c)
                for c in w
            ),
            h,
            re.DOTALL,
        )
        is not None
        for i, (w, h) in enumerate(zip(want, have, strict=True))
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
