"""A bounded space of requests for a small trust policy, and a witness read back as a request.

The callers are a fixed cast (users with and without a path, root users, role sessions,
a federated user, identity providers, services), which the generated policies draw their
principals from; the condition keys each take the values a policy names (wildcards filled
in), one value it does not, and absence.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from tests.support.iam_eval import Caller, Request

A1, A2, A3 = "111111111111", "222222222222", "333333333333"
ALICE = f"arn:aws:iam::{A1}:user/alice"
BOB = f"arn:aws:iam::{A1}:user/team/bob"
STRANGER = f"arn:aws:iam::{A3}:user/mallory"
DEPLOY = f"arn:aws:iam::{A1}:role/deploy"
RUNNER = f"arn:aws:iam::{A2}:role/ci/runner"
OUTSIDER_ROLE = f"arn:aws:iam::{A3}:role/outsider"
GITHUB = f"arn:aws:iam::{A1}:oidc-provider/token.actions.githubusercontent.com"
GOOGLE = "accounts.google.com"
SAML = f"arn:aws:iam::{A1}:saml-provider/corp"
OTHER_OIDC = f"arn:aws:iam::{A1}:oidc-provider/other.example.com"
SERVICES = ("ec2.amazonaws.com", "rolesanywhere.amazonaws.com", "lambda.amazonaws.com")


def callers() -> list[Caller]:
    found = []
    for arn, userid in (
        (ALICE, "AIDAALICEALICEALICE1"),
        (BOB, "AIDABOBBOBBOBBOBBOB1"),
        (STRANGER, "AIDAMALLORYMALLORY11"),
    ):
        for kind in ("long-term", "temporary"):
            found.append(Caller(kind, arn, "User", userid=userid))
    for account in (A1, A2, A3):
        for kind in ("long-term", "temporary"):
            found.append(Caller(kind, f"arn:aws:iam::{account}:root", "Account", userid=account))
    for role, unique in (
        (DEPLOY, "AROADEPLOYDEPLOYDEP1"),
        (RUNNER, "AROARUNNERRUNNERRUN1"),
        (OUTSIDER_ROLE, "AROAOUTSIDEROUTSIDE1"),
    ):
        account, name = role.split(":")[4], role.rsplit("/", 1)[-1]
        session = f"arn:aws:sts::{account}:assumed-role/{name}/s1"
        found.append(Caller("temporary", session, "AssumedRole", role_arn=role, userid=f"{unique}:s1"))
    found.append(
        Caller("temporary", f"arn:aws:sts::{A1}:federated-user/fed", "FederatedUser", userid=f"{A1}:fed")
    )
    found += [Caller("web-identity", p) for p in (GITHUB, GOOGLE, OTHER_OIDC)]
    found += [Caller("saml", SAML)]
    found += [Caller("service", s) for s in SERVICES]
    return found


TIED = {
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
    "aws:principalservicename",
}


def free_keys(document: Mapping[str, Any]) -> dict[str, set[str]]:
    """Each free key the policy names (lower case), with the values it compares it to."""
    keys: dict[str, set[str]] = {}
    for statement in _statements(document):
        for pairs in statement.get("Condition", {}).values():
            for key, raw in pairs.items():
                if key.lower() in TIED:
                    continue
                values = raw if isinstance(raw, list) else [raw]
                keys.setdefault(key.lower(), set()).update(str(v) for v in values)
    return keys


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document["Statement"]
    return [statements] if isinstance(statements, Mapping) else list(statements)


MULTIVALUED = {"aws:tagkeys"}


def candidates(key: str, policy_values: set[str]) -> list[Any]:
    """Values to try for a free key: absent (None), the policy's, one it does not name."""
    if key in MULTIVALUED:
        plain = sorted(v.replace("*", "x").replace("?", "y") for v in policy_values)
        return [None, [], *([p] for p in plain), plain, [*plain[:1], "zz-other"], ["zz-other"]]
    if key == "aws:sourceip":
        return [None, "10.0.0.1", "192.168.1.1", "2001:db8::1", "8.8.8.8"]
    found: list[Any] = [None, "zz-other"]
    for value in sorted(policy_values):
        found.append(value.replace("*", "").replace("?", "x"))
        found.append(value.replace("*", "abc").replace("?", "y"))
        if value.lstrip("-").isdigit():
            found += [str(int(value) - 1), str(int(value) + 1)]
    if key == "aws:currenttime":
        found += ["2020-01-01T00:00:00Z", "2035-01-01T00:00:00Z"]
    return list(dict.fromkeys(found))


def requests(document: Mapping[str, Any]) -> Iterator[Request]:
    """Every request of the bounded space: callers without MFA, with each combination of free keys."""
    keys = free_keys(document)
    names = sorted(keys)
    choices = [candidates(k, keys[k]) for k in names]
    for caller in callers():
        for values in itertools.product(*choices):
            context = {k: v for k, v in zip(names, values, strict=True) if v is not None}
            if all(_carried(k, caller) for k in context):
                yield Request(caller, context)


def _carried(key: str, caller: Caller) -> bool:
    """Can this caller's request carry this key at all? (A provider's keys come with its sign-ins.)"""
    prefix = key.split(":", 1)[0]
    if key == "sts:externalid":
        return caller.kind in ("long-term", "temporary", "service")  # a parameter of AssumeRole only
    if prefix == "saml":
        return caller.kind == "saml"
    if "." in prefix and (
        not prefix.endswith(".amazonaws.com") or prefix == "cognito-identity.amazonaws.com"
    ):
        return caller.kind == "web-identity" and (caller.arn == prefix or caller.arn.endswith("/" + prefix))
    return True


def from_witness(witness: Mapping[str, Any]) -> Request:
    """A witness (the JSON the analysis gives) as a request the oracle can evaluate."""
    principal, context = witness["principal"], dict(witness["context"])
    lowered = {k.lower(): v for k, v in context.items()}
    kind_of_action = {"sts:AssumeRoleWithWebIdentity": "web-identity", "sts:AssumeRoleWithSAML": "saml"}
    value = principal["value"]
    if principal["type"] == "Federated":
        return Request(Caller(kind_of_action[witness["action"]], value), _free(lowered))
    if principal["type"] == "Service":
        return Request(Caller("service", value), _free(lowered))
    temporary = lowered.get("aws:multifactorauthpresent") == "false"
    userid = lowered.get("aws:userid")
    if ":role/" in value:
        account, name = value.split(":")[4], value.rsplit("/", 1)[-1]
        session = userid.split(":", 1)[1] if userid else "witness"
        caller = Caller(
            "temporary",
            f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
            "AssumedRole",
            role_arn=value,
            userid=userid,
        )
    elif value.endswith(":root"):
        caller = Caller("temporary" if temporary else "long-term", value, "Account", userid=userid)
    elif ":federated-user/" in value:
        caller = Caller("temporary", value, "FederatedUser", userid=userid)
    else:
        caller = Caller("temporary" if temporary else "long-term", value, "User", userid=userid)
    request = Request(caller, _free(lowered))
    tied = request.keys()
    for key in TIED & set(lowered):
        assert tied.get(key) == lowered[key], (key, lowered[key], tied.get(key))  # the witness is coherent
    return request


def _free(context: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in context.items() if k not in TIED}


def no_mfa(request: Request) -> bool:
    return request.caller.kind != "mfa"
