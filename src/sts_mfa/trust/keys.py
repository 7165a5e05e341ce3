"""Condition keys: which follow from the caller, which are typed, which carry several values.

The request a trust policy is asked about is made of a principal, an action and
condition keys. Most keys are free: the caller (an attacker, in the worst case) chooses
whether the request carries them and with which value. Some are not:

* the MFA keys, fixed by how the request was signed (see `sts_mfa.trust.request.Kind`);
* keys that follow from the caller (`aws:PrincipalArn`, `aws:PrincipalAccount`,
  `aws:PrincipalType`, `aws:userid`, `aws:username`, `aws:PrincipalServiceName`), tied
  to the principal by the request model, absent where AWS does not set them;
* an identity provider's own keys (`token.actions.githubusercontent.com:sub`,
  `saml:aud`): present only in a sign-in through that provider;
* keys that exist only for one action (`sts:ExternalId` for AssumeRole).

Types come from AWS's documentation for the keys it names, else from the operators the
policy uses on the key. A key compared as two incompatible types is not understood.
"""

from __future__ import annotations

import re

MFA_PRESENT = "aws:multifactorauthpresent"
MFA_AGE = "aws:multifactorauthage"
PRINCIPAL_ARN = "aws:principalarn"
PRINCIPAL_ACCOUNT = "aws:principalaccount"
PRINCIPAL_TYPE = "aws:principaltype"
USERID = "aws:userid"
USERNAME = "aws:username"
SERVICE_NAME = "aws:principalservicename"
EXTERNAL_ID = "sts:externalid"

# Keys whose type AWS documents (lower case). "number" keys are whole numbers, which
# lets a string comparison of the same key see their decimal text.
TYPED: dict[str, str] = {
    MFA_PRESENT: "bool",
    MFA_AGE: "number",
    "aws:securetransport": "bool",
    "aws:viaawsservice": "bool",
    "aws:principalisawsservice": "bool",
    "aws:currenttime": "date",
    "aws:tokenissuetime": "date",
    "aws:epochtime": "number",
    "aws:sourceip": "ip",
    "aws:vpcsourceip": "ip",
}
# Keys a request may carry several values of (IAM User Guide, "Single-valued vs.
# multivalued context keys"); every other aws: and sts: key carries at most one.
MULTIVALUED = frozenset(
    {
        "aws:tagkeys",
        "aws:principalservicenameslist",
        "aws:principalorgpaths",
        "aws:calledvia",
        "sts:transitivetagkeys",
        "cognito-identity.amazonaws.com:amr",
    }
)
# Keys of the caller, tied to the principal by the request model.
PRINCIPAL_KEYS = frozenset({PRINCIPAL_ARN, PRINCIPAL_ACCOUNT, PRINCIPAL_TYPE, USERID, USERNAME, SERVICE_NAME})
# Keys only AssumeRole (called by an AWS principal or a service) can carry.
ASSUME_ROLE_ONLY = frozenset({EXTERNAL_ID})
# Keys whose values are request parameters AWS validates (botocore's STS model): a value
# outside the pattern is refused before any policy is read. (pattern characters, min, max)
PARAMETERS = {
    EXTERNAL_ID: ("\\w+=,.@:/-", 2, 1224),
    "sts:rolesessionname": ("\\w+=,.@-", 2, 64),
    "sts:sourceidentity": ("\\w+=,.@-", 2, 64),
}


def _parameter_text(chars: str, low: int, high: int) -> re.Pattern[str]:
    others = re.escape(chars.replace("\\w", ""))
    return re.compile(f"[A-Za-z0-9_{others}]{{{low},{high}}}", re.ASCII)


# `\w` above is ASCII's word characters (as `sts_mfa.trust.request` says it to the solver).
_PARAMETER_TEXTS = {key: _parameter_text(*rule) for key, rule in PARAMETERS.items()}


def parameter_accepts(key: str, value: str) -> bool:
    """Would AWS accept `value` for this key's request parameter? (True for other keys.)"""
    text = _PARAMETER_TEXTS.get(key)
    return text is None or text.fullmatch(value) is not None


FAMILY_TYPES = {
    "string": "string",
    "arn": "string",
    "binary": "string",
    "bool": "string",
    "numeric": "number",
    "date": "date",
    "ip": "ip",
}


def single_valued(key: str) -> bool:
    """Does a request carry at most one value of this key? (Unknown keys: maybe not.)"""
    if key in MULTIVALUED:
        return False
    prefix = key.split(":", 1)[0]
    if prefix in ("aws", "sts"):
        return True
    return provider_key(key) is not None and key.rsplit(":", 1)[-1] in ("aud", "sub", "oaud", "azp", "email")


def provider_key(key: str) -> str | None:
    """The identity provider whose sign-ins carry this key (`saml`, or an OIDC host), else None."""
    prefix, sep, _ = key.partition(":")
    if not sep:
        return None
    if prefix == "saml":
        return "saml"
    if (
        "." in prefix and not prefix.endswith(".amazonaws.com")
    ) or prefix == "cognito-identity.amazonaws.com":
        return prefix
    return None


def key_type(key: str, families: set[str]) -> str | None:
    """The type a key is compared as: string, number, date or ip; None when the policy mixes them.

    BinaryEquals and the Arn operators on a key AWS documents as a boolean, a number, a date,
    an address or the caller's identity: how AWS would compare them is not documented (the
    base-64 text decoded, or not), so the key is not modelled and the clause is unknown.
    """
    if families & {"binary"} and (key in TYPED or key in PRINCIPAL_KEYS):
        return None
    if key in TYPED and families & {"arn"}:
        return None
    if key in TYPED:
        typed = TYPED[key]
        wanted = {FAMILY_TYPES[f] for f in families if f != "null"}
        if typed == "bool":
            return "string" if wanted <= {"string"} else None
        if typed == "number":
            return "number" if wanted <= {"number", "string", "date"} else None
        return typed if wanted <= {typed} else None
    types = {FAMILY_TYPES[f] for f in families if f != "null"}
    if key in PRINCIPAL_KEYS and types - {"string"}:
        return None  # the caller's ARN, account, type or ID is text: compared as anything else, not modelled
    if len(types) > 1:
        return None
    return next(iter(types), "string")
