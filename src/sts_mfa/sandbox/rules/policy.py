"""A small IAM policy evaluator: the part of AWS's evaluation logic this scenario needs.

moto's own evaluator treats every condition operator but `StringEquals` as satisfied
(so `Bool aws:MultiFactorAuthPresent` never refuses anything), lets a missing key
pass, and matches principals against an ARN built without the user's path. That is
the exact opposite of what a tool proving "MFA is required" must be tested against,
so the sandbox evaluates policies itself, with these rules (from the IAM policy
reference):

* Statements: `Effect`, `Action`/`NotAction` (wildcards, case-insensitive),
  `Resource`/`NotResource` (wildcards, case-sensitive, `${aws:username}`-style policy
  variables in 2012-10-17 policies), `Principal`/`NotPrincipal` for trust policies,
  `Condition`.
* Explicit `Deny` wins over everything; nothing matching means deny (implicit).
* Conditions: all operators AND-ed, all keys within an operator AND-ed, the values
  of one key OR-ed. A key missing from the request fails a positive operator unless
  it is an `...IfExists` variant; negated operators (`StringNotEquals`, ...) are true
  when the key is missing, as AWS documents.
* Set operators (IAM User Guide, "Single-valued vs. multivalued context keys") decide
  first, whatever the `IfExists` suffix says: `ForAllValues:` is true when every value
  the request carries matches (so also when it carries none, or no key), and
  `ForAnyValue:` is true when at least one does (so false when it carries none). A
  request value matches a negated operator when it equals none of the policy's values.
  A context value may be one string or a tuple of strings (a multivalued key).
* Unknown operators fail closed: an Allow statement carrying one does not apply, a
  Deny statement carrying one does. So an operator this evaluator does not understand
  can never grant.
* Principals: `"*"`, `{"AWS": "*"}`, the account root `arn:aws:iam::ID:root`, a bare
  account ID, or an exact ARN (with the user's path). `Service`/`Federated`
  principals never match an IAM caller. `evaluate_trust` reports whether the caller
  was named exactly or only through its account, because AWS treats the two
  differently (see `TrustDecision`).

Pure Python, no moto: the enforcement layer feeds it documents read from moto.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any


class Decision(Enum):
    """The outcome of evaluating a set of identity policies."""

    ALLOW = "allow"
    DENY = "deny"  # an explicit Deny matched
    IMPLICIT_DENY = "implicit-deny"  # nothing allowed it


class TrustDecision(Enum):
    """The outcome of evaluating a resource-based (trust) policy for one principal.

    ALLOW_PRINCIPAL: an Allow named the caller's own ARN; within one account that is
        enough on its own.
    ALLOW_ACCOUNT: an Allow matched only through the account (`:root`, bare account
        ID, `*`, or `NotPrincipal`); the caller's identity policy must allow too.
    """

    DENY = "deny"
    ALLOW_PRINCIPAL = "allow-principal"
    ALLOW_ACCOUNT = "allow-account"
    NO_MATCH = "no-match"


@dataclass(frozen=True)
class Principal:
    """Who is asking. `arn` is the caller's ARN (a user's includes its path);
    `aliases` are other ARNs that name the same principal exactly (the role ARN for
    an assumed-role session)."""

    arn: str
    account: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Request:
    """One authorization question: may this action be done on this resource?

    `context` holds the request's condition keys; keys are matched
    case-insensitively (store them in any case). Values are strings, as AWS compares
    them (`"true"`, `"0"`), or tuples of strings for multivalued keys (`aws:TagKeys`).
    """

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    principal: Principal | None = None


KNOWN_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "Bool",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Null",
    }
)
_NEGATED = frozenset(
    {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals"}
    | {"ArnNotEquals", "ArnNotLike"}
)
_POSITIVE_OF = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
SET_QUALIFIERS = ("ForAnyValue:", "ForAllValues:")
ContextValue = str | tuple[str, ...]


# --- public entry points -----------------------------------------------------------------


def evaluate(policies: Iterable[str | Mapping[str, Any]], request: Request) -> Decision:
    """Evaluate identity policies: explicit Deny > Allow > implicit deny."""
    allowed = False
    for document in policies:
        for statement, version in _statements(document):
            effect = statement.get("Effect")
            if not _applies(statement, request, version, trust=False, effect=effect):
                continue
            if effect == "Deny":
                return Decision.DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def evaluate_trust(policy: str | Mapping[str, Any], request: Request) -> TrustDecision:
    """Evaluate a role trust policy for `request.principal` (which must be set)."""
    if request.principal is None:
        raise ValueError("evaluate_trust needs request.principal")
    best = TrustDecision.NO_MATCH
    for statement, version in _statements(policy):
        effect = statement.get("Effect")
        if not _applies(statement, request, version, trust=True, effect=effect):
            continue
        if effect == "Deny":
            return TrustDecision.DENY
        strength = _principal_strength(statement, request.principal)
        if strength is TrustDecision.ALLOW_PRINCIPAL or (
            strength is TrustDecision.ALLOW_ACCOUNT and best is TrustDecision.NO_MATCH
        ):
            best = strength
    return best


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcard matching: `*` is any run of characters, `?` exactly one."""
    return _compile(pattern, ignore_case).fullmatch(value) is not None


def principal_values(statement_principal: object) -> list[str]:
    """The `AWS` principal strings of a Principal/NotPrincipal element ("*" for "*")."""
    if statement_principal == "*":
        return ["*"]
    if isinstance(statement_principal, Mapping):
        return _as_strings(statement_principal.get("AWS"))
    return []


def statements(document: str | Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The statements of a policy document (malformed documents have none)."""
    return [statement for statement, _ in _statements(document)]


# --- statements ---------------------------------------------------------------------------


def _statements(document: str | Mapping[str, Any]) -> list[tuple[Mapping[str, Any], str]]:
    if isinstance(document, str):
        try:
            parsed: object = json.loads(document)
        except ValueError:
            return []
    else:
        parsed = document
    if not isinstance(parsed, Mapping):
        return []
    version = str(parsed.get("Version", ""))
    raw = parsed.get("Statement")
    items = [raw] if isinstance(raw, Mapping) else raw if isinstance(raw, list) else []
    return [(item, version) for item in items if isinstance(item, Mapping)]


def _applies(
    statement: Mapping[str, Any], request: Request, version: str, *, trust: bool, effect: object
) -> bool:
    if effect not in ("Allow", "Deny"):
        return False
    variables = version == "2012-10-17"
    context = _lower_keys(request.context)

    def action_matches(pattern: str) -> bool:
        return wildcard_match(pattern, request.action, ignore_case=True)

    def resource_matches(pattern: str) -> bool:
        return _match_with_variables(pattern, request.resource, context, variables, ignore_case=False)

    if not _covers(statement, "Action", action_matches, required=True):
        return False
    # Identity policies must say what they apply to; trust policies may not.
    if not _covers(statement, "Resource", resource_matches, required=not trust):
        return False
    if trust:
        assert request.principal is not None
        if _principal_strength(statement, request.principal) is None:
            return False
    if "Condition" in statement:
        return _conditions_hold(statement["Condition"], context, variables, effect == "Deny")
    return True


def _covers(
    statement: Mapping[str, Any], element: str, matches: Callable[[str], bool], *, required: bool
) -> bool:
    """Whether `element` (Action/Resource) or its `Not...` form covers the request."""
    if element in statement:
        return any(matches(pattern) for pattern in _as_strings(statement[element]))
    if f"Not{element}" in statement:
        return not any(matches(pattern) for pattern in _as_strings(statement[f"Not{element}"]))
    return not required


def _principal_strength(statement: Mapping[str, Any], principal: Principal) -> TrustDecision | None:
    """How the statement's Principal/NotPrincipal covers `principal` (None: it does not)."""
    if "Principal" in statement:
        return _named(statement["Principal"], principal)
    if "NotPrincipal" in statement:
        # Everyone except those listed. Never an exact naming of the caller.
        if _named(statement["NotPrincipal"], principal) is None:
            return TrustDecision.ALLOW_ACCOUNT
        return None
    return None


def _named(element: object, principal: Principal) -> TrustDecision | None:
    best: TrustDecision | None = None
    root = f"arn:aws:iam::{principal.account}:root"
    for value in principal_values(element):
        if value == principal.arn or value in principal.aliases:
            return TrustDecision.ALLOW_PRINCIPAL
        if value in ("*", principal.account, root):
            best = TrustDecision.ALLOW_ACCOUNT
    return best


# --- conditions --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Operator:
    base: str  # "StringEquals"
    qualifier: str | None  # "ForAnyValue:", "ForAllValues:" or None
    if_exists: bool


def _split_operator(operator: str) -> _Operator | None:
    """`ForAnyValue:StringEqualsIfExists` -> its parts; None for an operator IAM does not have."""
    qualifier = next((q for q in SET_QUALIFIERS if operator.startswith(q)), None)
    rest = operator[len(qualifier) :] if qualifier else operator
    if_exists = rest.endswith("IfExists")
    base = rest[: -len("IfExists")] if if_exists else rest
    if base not in KNOWN_OPERATORS or (base == "Null" and (if_exists or qualifier)):
        return None
    return _Operator(base, qualifier, if_exists)


def _conditions_hold(
    block: object, context: Mapping[str, ContextValue], variables: bool, is_deny: bool
) -> bool:
    if not isinstance(block, Mapping):
        return is_deny  # malformed: fail closed
    parsed: list[tuple[_Operator, Mapping[str, Any]]] = []
    for operator, keys in block.items():
        split = _split_operator(str(operator))
        if split is None or not isinstance(keys, Mapping):
            # Fail closed: never grants (Allow does not apply), always restricts (Deny does).
            return is_deny
        parsed.append((split, keys))
    for split, keys in parsed:
        for key, values in keys.items():
            holds = _condition_key_holds(split, str(key), _as_strings(values), context, variables)
            if not (is_deny if holds is None else holds):  # None: not understood, fail closed
                return False
    return True


def _condition_key_holds(
    operator: _Operator,
    key: str,
    values: list[str],
    context: Mapping[str, ContextValue],
    variables: bool,
) -> bool | None:
    """Whether the clause holds; None when IAM does not document the answer."""
    actual = context.get(key.lower())
    if operator.base == "Null":
        # {"Null": {"k": "true"}} holds when k is absent; "false" when it is present.
        return any((actual is None) == (v.lower() == "true") for v in values)
    negated = operator.base in _NEGATED
    positive = _POSITIVE_OF.get(operator.base, operator.base)

    def value_matches(one: str) -> bool:
        matched = any(_compare(positive, one, v, context, variables) for v in values)
        return not matched if negated else matched

    if operator.qualifier is not None:  # set operators first, whatever IfExists says
        members = () if actual is None else (actual,) if isinstance(actual, str) else actual
        if operator.qualifier == "ForAllValues:":
            return all(value_matches(m) for m in members)
        return any(value_matches(m) for m in members)
    if actual is None:
        return operator.if_exists or negated
    if not isinstance(actual, str):
        return None  # a plain operator on a multivalued key: IAM asks for a set operator
    return value_matches(actual)


def _compare(
    operator: str, actual: str, expected: str, context: Mapping[str, ContextValue], variables: bool
) -> bool:
    if operator == "StringEquals":
        resolved = _substitute(expected, context) if variables else expected
        return resolved is not None and actual == resolved
    if operator == "StringEqualsIgnoreCase":
        resolved = _substitute(expected, context) if variables else expected
        return resolved is not None and actual.lower() == resolved.lower()
    if operator in ("StringLike", "ArnLike", "ArnEquals"):
        return _match_with_variables(expected, actual, context, variables, ignore_case=False)
    if operator == "Bool":
        return expected.lower() in ("true", "false") and actual.lower() == expected.lower()
    return _numeric(operator, actual, expected)


def _numeric(operator: str, actual: str, expected: str) -> bool:
    try:
        a, e = float(actual), float(expected)
    except ValueError:
        return False
    return {
        "NumericEquals": a == e,
        "NumericLessThan": a < e,
        "NumericLessThanEquals": a <= e,
        "NumericGreaterThan": a > e,
        "NumericGreaterThanEquals": a >= e,
    }.get(operator, False)


# --- matching helpers --------------------------------------------------------------------


def _as_strings(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    result: list[str] = []
    for item in items:
        if isinstance(item, bool):
            result.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            result.append(str(item))
    return result


def _lower_keys(context: Mapping[str, ContextValue]) -> dict[str, ContextValue]:
    return {k.lower(): v for k, v in context.items()}


@lru_cache(maxsize=2048)
def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(_wild_regex(pattern), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _variable(context: Mapping[str, ContextValue], name: str) -> str | None:
    """A policy variable's value; multivalued keys cannot be policy variables (None)."""
    found = context.get(name.lower())
    return found if isinstance(found, str) else None


def _substitute(text: str, context: Mapping[str, ContextValue]) -> str | None:
    """Replace `${key}` policy variables by their values (None: a variable is missing)."""
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1).strip()
        if name in ("*", "?", "$"):
            return name
        found = _variable(context, name)
        if found is None:
            missing = True
            return ""
        return found

    result = _VARIABLE.sub(replace, text)
    return None if missing else result


def _match_with_variables(
    pattern: str, value: str, context: Mapping[str, ContextValue], variables: bool, *, ignore_case: bool
) -> bool:
    if not variables or "${" not in pattern:
        return wildcard_match(pattern, value, ignore_case=ignore_case)
    # Substituted values and ${*}/${?} are literal text, never wildcards.
    pieces: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(pattern):
        pieces.append(_wild_regex(pattern[position : match.start()]))
        name = match.group(1).strip()
        literal = name if name in ("*", "?", "$") else _variable(context, name)
        if literal is None:
            return False  # a missing variable makes the element match nothing
        pieces.append(re.escape(literal))
        position = match.end()
    pieces.append(_wild_regex(pattern[position:]))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch("".join(pieces), value, flags) is not None


def _wild_regex(text: str) -> str:
    return "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in text)
