"""Who a Principal element names, as a formula over the request's caller.

IAM User Guide, "AWS JSON policy elements: Principal":

* `"*"`: everyone; `{"AWS": "*"}`: every AWS principal (users, roles, root users, in any
  account), and not a service or an identity provider's sign-in;
* an account ID or `arn:PARTITION:iam::ACCOUNT:root`: every principal of that account;
* a user ARN: that user (its long-term keys, or a session token it got);
* a role ARN: every session of that role; an assumed-role session ARN: that session;
* a federated-user ARN: that federated user;
* a unique ID (`AIDA...` a user, `AROA...` a role): that principal;
* `{"Federated": ...}`: sign-ins through that provider: an `oidc-provider/` ARN or an OIDC
  provider's name for web identity, a `saml-provider/` ARN for SAML;
* `{"Service": ...}`: that service (IAM Roles Anywhere: whoever holds a trusted
  certificate).

An AWS value of none of these shapes, or with a wildcard inside (IAM matches none: a
principal ARN is never a pattern), names nobody the analysis can model: in an Allow it is
undecided (`shape_problem`), in a Deny it covers nobody (the reading that reports more).
"""

from __future__ import annotations

import re
from typing import Any

from sts_mfa.trust.document import Principal
from sts_mfa.trust.request import (
    FEDERATED_USER,
    LONG_TERM,
    NO_MFA_KINDS,
    ROLE_SESSION,
    ROOT,
    SAML,
    SERVICE,
    TEMPORARY,
    USER,
    WEB_IDENTITY,
    Request,
)
from sts_mfa.trust.solver import smt

ROLES_ANYWHERE = "rolesanywhere.amazonaws.com"
OIDC_NAMES = frozenset(
    {"accounts.google.com", "graph.facebook.com", "www.amazon.com", "cognito-identity.amazonaws.com"}
)
_ACCOUNT = re.compile(r"\d{12}", re.ASCII)
_ROOT = re.compile(r"arn:([a-z-]+):iam::(\d{12}):root", re.ASCII)
_IAM = re.compile(r"arn:([a-z-]+):iam::(\d{12}):(user|role)/([\w+=,.@/-]+)", re.ASCII)
_STS = re.compile(r"arn:([a-z-]+):sts::(\d{12}):(assumed-role|federated-user)/([\w+=,.@/-]+)", re.ASCII)
_USER_ID = re.compile(r"AIDA[A-Z0-9]{12,}", re.ASCII)
_ROLE_ID = re.compile(r"AROA[A-Z0-9]{12,}", re.ASCII)


def matches(entry: Principal, request: Request) -> smt.BoolRef:
    """Does `entry` name the caller of `request`? (Also fixes the kinds of request it can make.)"""
    if entry.kind == "everyone":
        return smt.BoolVal(True)
    if entry.kind == "aws":
        return smt.And(request.is_aws(), _aws(entry.value, request))
    if entry.kind == "service":
        return smt.And(request.kind == SERVICE, request.caller == smt.StringVal(entry.value.lower()))
    return smt.And(request.is_kind(*feasible_kinds(entry)), request.caller == smt.StringVal(entry.value))


def feasible_kinds(entry: Principal) -> tuple[int, ...]:
    """The kinds of request without MFA this entry can make (for the ways in it opens)."""
    if entry.kind == "everyone":
        return NO_MFA_KINDS
    if entry.kind == "aws":
        return (LONG_TERM, TEMPORARY)
    if entry.kind == "service":
        return (SERVICE,)
    value = entry.value
    if ":saml-provider/" in value:
        return (SAML,)
    if ":oidc-provider/" in value or value in OIDC_NAMES:
        return (WEB_IDENTITY,)
    return (WEB_IDENTITY, SAML)


def all_identities_listed(entries: tuple[Principal, ...], request: Request) -> smt.BoolRef:
    """Does a NotPrincipal list exempt the caller *for certain*? (IAM User Guide, NotPrincipal.)

    A request carries several identities, and AWS exempts a caller only when every one is
    listed: a user needs its ARN and its account; a role session its session ARN, its role's
    ARN and its account; the root user its account. (So an Allow with NotPrincipal grants,
    and a Deny with NotPrincipal refuses, whoever is not listed in every identity.)
    """
    if any(e.kind == "everyone" or (e.kind == "aws" and e.value == "*") for e in entries):
        return smt.BoolVal(True)
    aws = [e for e in entries if e.kind == "aws"]
    listed = {
        role: smt.Or(*(matches(e, request) for e in aws if _names(e.value) == role), smt.BoolVal(False))
        for role in ("account", "caller", "role")
    }
    account, caller, role = listed["account"], listed["caller"], listed["role"]
    aws_exempt = smt.If(
        request.is_type(ROOT),
        account,
        smt.If(request.is_type(ROLE_SESSION), smt.And(caller, role, account), smt.And(caller, account)),
    )
    others = smt.Or(
        *(matches(e, request) for e in entries if e.kind in ("federated", "service")), smt.BoolVal(False)
    )
    return smt.If(request.is_aws(), aws_exempt, others)


def some_identity_listed(entries: tuple[Principal, ...], request: Request) -> smt.BoolRef:
    """Does a NotPrincipal list name *any* of the caller's identities?

    Listed in some identities but not in all, a caller may or may not be exempt: the IAM User
    Guide says that without the account's ARN the policy "might" still cover the principal,
    as AWS "might verify the account first". So between `some_identity_listed` and
    `all_identities_listed` lies what the analysis cannot know.
    """
    if any(e.kind == "everyone" or (e.kind == "aws" and e.value == "*") for e in entries):
        return smt.BoolVal(True)
    return smt.Or(*(matches(e, request) for e in entries if e.kind != "everyone"), smt.BoolVal(False))


def _names(value: str) -> str:
    """Which of a caller's identities an AWS entry names: its account, the caller itself, or a role."""
    if _ACCOUNT.fullmatch(value) or _ROOT.fullmatch(value):
        return "account"
    match = _IAM.fullmatch(value)
    if (match and match[3] == "role") or _ROLE_ID.fullmatch(value):
        return "role"
    return "caller"


def caller_is(arn: str, request: Request) -> smt.BoolRef:
    """The caller is this user (its ARN), or a session of this role (its ARN); False for other ARNs."""
    parts = _arn_parts(arn)
    if parts is None or "principal_type" not in parts:
        return smt.BoolVal(False)
    return smt.And(request.is_aws(), *(getattr(request, name) == part for name, part in parts.items()))


def names_unique_id(entry: Principal) -> bool:
    return entry.kind == "aws" and bool(_USER_ID.fullmatch(entry.value) or _ROLE_ID.fullmatch(entry.value))


def is_roles_anywhere(entry: Principal) -> bool:
    return entry.kind == "service" and entry.value.lower() == ROLES_ANYWHERE


def _aws(value: str, request: Request) -> smt.BoolRef:
    """The entry's parts, fixed on the caller's parts (never an ARN for the solver to take apart)."""
    if value == "*":
        return smt.BoolVal(True)
    if _ACCOUNT.fullmatch(value):
        return request.account == smt.StringVal(value)
    parts = _arn_parts(value)
    if parts is not None:
        return smt.And(*(getattr(request, name) == part for name, part in parts.items()))
    if _USER_ID.fullmatch(value):
        return smt.And(request.is_type(USER), request.unique == smt.StringVal(value[4:]))
    if _ROLE_ID.fullmatch(value):
        return smt.And(request.is_type(ROLE_SESSION), request.unique == smt.StringVal(value[4:]))
    return smt.BoolVal(False)


def _arn_parts(value: str) -> dict[str, Any] | None:
    """An ARN principal as the parts of a caller it fixes (None: not such an ARN)."""
    match = _ROOT.fullmatch(value)
    if match:
        return {"partition": smt.StringVal(match[1]), "account": smt.StringVal(match[2])}
    match = _IAM.fullmatch(value)
    if match:
        partition, account, kind, rest = match.groups()
        path, _, name = ("/" + rest).rpartition("/")
        return {
            "partition": smt.StringVal(partition),
            "account": smt.StringVal(account),
            "principal_type": smt.IntVal(USER if kind == "user" else ROLE_SESSION),
            "path": smt.StringVal(path + "/"),
            "name": smt.StringVal(name),
        }
    match = _STS.fullmatch(value)
    if match:
        partition, account, kind, rest = match.groups()
        fixed: dict[str, Any] = {"partition": smt.StringVal(partition), "account": smt.StringVal(account)}
        if kind == "federated-user":
            return {**fixed, "principal_type": smt.IntVal(FEDERATED_USER), "name": smt.StringVal(rest)}
        role, _, session = rest.partition("/")
        if not session or "/" in session:
            return None
        return {
            **fixed,
            "principal_type": smt.IntVal(ROLE_SESSION),
            "name": smt.StringVal(role),
            "session": smt.StringVal(session),
        }
    return None


def shape_problem(entry: Principal) -> str | None:
    """Why an Allow's principal entry names nobody the analysis can model (None: it does)."""
    if entry.kind != "aws" or entry.value == "*":
        return None
    value = entry.value
    if "*" in value or "?" in value:
        return f"a wildcard inside a principal ARN ({value}): IAM refuses such a policy, or matches no one"
    if not (
        _ACCOUNT.fullmatch(value)
        or _arn_parts(value)
        or _USER_ID.fullmatch(value)
        or _ROLE_ID.fullmatch(value)
    ):
        return f"{value} is not an account, an ARN of a user, role or session, or a unique ID"
    return None
