"""A trust policy's Condition block, judged for requests made without MFA.

`trust.py` asks one question of a statement's condition block: in each of the
contexts a request can have, is the block certainly true, certainly false, true or
false depending on things the caller controls, or not understood?

The contexts (see `docs/trust-analysis.md`):

* `A`: no MFA key at all: long-term access keys, and every web-identity or SAML
  sign-in.
* `B`: `aws:MultiFactorAuthPresent` is "false" and `aws:MultiFactorAuthAge` absent:
  temporary credentials obtained without MFA (role chaining, a session token).
* `M`: with MFA: `aws:MultiFactorAuthPresent` is "true" and `aws:MultiFactorAuthAge`
  holds some number of seconds the analysis does not know.

Only the two MFA keys are evaluated. A clause on any other key is MAYBE: the caller
(an attacker, in the worst case) may be able to make it true. A clause the analysis
does not understand is UNDECIDED, and a block is UNDECIDED unless some clause is
certainly FALSE, because AND-ing with a false clause decides the block whatever the
rest means.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Literal

Context = Literal["A", "B", "M"]
CONTEXTS: tuple[Context, ...] = ("A", "B", "M")

MFA_PRESENT = "aws:multifactorauthpresent"
MFA_AGE = "aws:multifactorauthage"
MFA_KEYS = frozenset({MFA_PRESENT, MFA_AGE})


class Outcome(Enum):
    TRUE = "true"
    FALSE = "false"
    MAYBE = "maybe"  # depends on keys the caller may control
    UNDECIDED = "undecided"  # not understood


# base operator -> (family, negated). IAM's operator list; names are case-sensitive.
OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("string", False),
    "StringNotEquals": ("string", True),
    "StringEqualsIgnoreCase": ("string", False),
    "StringNotEqualsIgnoreCase": ("string", True),
    "StringLike": ("string", False),
    "StringNotLike": ("string", True),
    "NumericEquals": ("numeric", False),
    "NumericNotEquals": ("numeric", True),
    "NumericLessThan": ("numeric", False),
    "NumericLessThanEquals": ("numeric", False),
    "NumericGreaterThan": ("numeric", False),
    "NumericGreaterThanEquals": ("numeric", False),
    "DateEquals": ("date", False),
    "DateNotEquals": ("date", True),
    "DateLessThan": ("date", False),
    "DateLessThanEquals": ("date", False),
    "DateGreaterThan": ("date", False),
    "DateGreaterThanEquals": ("date", False),
    "Bool": ("bool", False),
    "BinaryEquals": ("binary", False),
    "IpAddress": ("ip", False),
    "NotIpAddress": ("ip", True),
    "ArnEquals": ("arn", False),
    "ArnLike": ("arn", False),
    "ArnNotEquals": ("arn", True),
    "ArnNotLike": ("arn", True),
    "Null": ("null", False),
}
SET_QUALIFIERS = ("ForAnyValue:", "ForAllValues:")
# Which operator families can compare each MFA key's value ("true"/"false", seconds).
_COMPARABLE = {MFA_PRESENT: {"string", "bool", "null"}, MFA_AGE: {"numeric", "string", "null"}}
_NUMBER = re.compile(r"-?\d+(\.\d+)?", re.ASCII)
_VERBS = {
    "StringEquals": "equals",
    "StringNotEquals": "does not equal",
    "StringEqualsIgnoreCase": "equals (ignoring case)",
    "StringNotEqualsIgnoreCase": "does not equal (ignoring case)",
    "StringLike": "matches",
    "StringNotLike": "does not match",
    "Bool": "is",
    "Null": "is absent:",
}


@dataclass(frozen=True)
class Operator:
    """An operator as written, split into its parts."""

    text: str
    base: str
    qualifier: str | None  # "ForAnyValue:" / "ForAllValues:"
    if_exists: bool

    @property
    def family(self) -> str:
        return OPERATORS[self.base][0]

    @property
    def negated(self) -> bool:
        return OPERATORS[self.base][1]


def parse_operator(text: str) -> Operator | None:
    """`ForAnyValue:StringEqualsIfExists` -> its parts; None if IAM has no such operator."""
    qualifier = next((q for q in SET_QUALIFIERS if text.startswith(q)), None)
    rest = text[len(qualifier) :] if qualifier else text
    if_exists = rest.endswith("IfExists")
    base = rest[: -len("IfExists")] if if_exists else rest
    if base not in OPERATORS or (base == "Null" and (if_exists or qualifier)):
        return None
    return Operator(text, base, qualifier, if_exists)


@dataclass(frozen=True)
class Clause:
    """One key under one operator, with its outcome in each context."""

    operator: str
    key: str
    values: tuple[str, ...]
    outcomes: tuple[Outcome, Outcome, Outcome]  # in CONTEXTS order
    problem: str | None = None  # why it is UNDECIDED

    @property
    def on_mfa(self) -> bool:
        return self.key.lower() in MFA_KEYS

    def outcome(self, context: Context) -> Outcome:
        return self.outcomes[CONTEXTS.index(context)]

    def text(self) -> str:
        """`Bool aws:MultiFactorAuthPresent "true"`: the clause as the policy writes it."""
        return f"{self.operator} {self.key} {_values_text(self.values)}"

    def plain(self) -> str:
        """`sts:ExternalId equals "x"`: the clause as a sentence, for reasons."""
        parsed = parse_operator(self.operator)
        if parsed is None:
            return self.text()
        verb = _VERBS.get(parsed.base, parsed.base)
        who = {"ForAnyValue:": "some value of ", "ForAllValues:": "every value of "}.get(
            parsed.qualifier or "", ""
        )
        if_present = " (if present)" if parsed.if_exists else ""
        return f"{who}{self.key}{if_present} {verb} {_values_text(self.values)}"


@dataclass(frozen=True)
class Block:
    """A statement's whole Condition element."""

    clauses: tuple[Clause, ...] = ()
    problem: str | None = None  # the element itself is not understood

    def outcome(self, context: Context) -> Outcome:
        """All clauses AND-ed: one certainly false clause decides."""
        if self.problem is not None:
            return Outcome.UNDECIDED  # e.g. a repeated key: which values count is unclear
        found = [c.outcome(context) for c in self.clauses]
        if Outcome.FALSE in found:
            return Outcome.FALSE
        if Outcome.UNDECIDED in found:
            return Outcome.UNDECIDED
        if Outcome.MAYBE in found:
            return Outcome.MAYBE
        return Outcome.TRUE

    def first_problem(self) -> str | None:
        if self.problem is not None:
            return self.problem
        return next((c.problem for c in self.clauses if c.problem is not None), None)


def parse_block(condition: object) -> Block:
    """A statement's Condition element (a statement without one has `Block()`)."""
    if not isinstance(condition, Mapping):
        return Block(problem="the Condition element is not a JSON object")
    if not condition:
        return Block(problem="the Condition element is empty")
    clauses: list[Clause] = []
    for operator, keys in condition.items():
        clauses.extend(_parse_operator_block(operator, keys))
    repeated = _repeated(condition)
    for keys in condition.values():
        if repeated is None and isinstance(keys, Mapping):
            repeated = _repeated(keys)
    if repeated is not None:
        return Block(tuple(clauses), f"{repeated} appears twice in one Condition, in different cases")
    return Block(tuple(clauses))


def _repeated(names: Iterable[object]) -> str | None:
    """A name that appears twice when case is ignored (None: none does)."""
    seen: set[str] = set()
    for name in names:
        lowered = text_of(name).lower()
        if lowered in seen:
            return text_of(name)
        seen.add(lowered)
    return None


def _parse_operator_block(operator: object, keys: object) -> list[Clause]:
    name = text_of(operator)
    parsed = parse_operator(operator) if isinstance(operator, str) else None
    if parsed is None:
        hint = ""
        if isinstance(operator, str) and not operator.isascii():
            hint = " (it has non-ASCII characters: a look-alike of an operator's name?)"
        elif isinstance(operator, str) and any(o.lower() == operator.lower() for o in OPERATORS):
            hint = " (operator names are case-sensitive)"
        return [_undecided(name, "", (), f"{name!r} is not an IAM condition operator{hint}")]
    if not isinstance(keys, Mapping) or not keys:
        return [_undecided(name, "", (), f"the keys under {name} are not a non-empty JSON object")]
    return [_clause(parsed, text_of(key), raw) for key, raw in keys.items()]


def _clause(operator: Operator, key: str, raw: object) -> Clause:
    if not key.isascii():
        # Key names are compared without regard to case, and case folding can take a
        # dotless i for an i: such a key may be an MFA key, or not.
        return _undecided(
            operator.text, key, (), f"the key {key!r} has non-ASCII characters (a look-alike of a key?)"
        )
    values = _values(raw)
    if values is None:
        return _undecided(
            operator.text,
            key,
            (),
            f"the values of {key} under {operator.text} are not strings, "
            "numbers or booleans (or a non-empty list of them)",
        )
    if key.lower() not in MFA_KEYS:
        maybe = (Outcome.MAYBE, Outcome.MAYBE, Outcome.MAYBE)
        return Clause(operator.text, key, values, maybe)
    problem = _mfa_problem(operator, key, values)
    if problem is not None:
        return _undecided(operator.text, key, values, problem)
    outcomes = (
        _mfa_outcome(operator, key.lower(), values, "A"),
        _mfa_outcome(operator, key.lower(), values, "B"),
        _mfa_outcome(operator, key.lower(), values, "M"),
    )
    return Clause(operator.text, key, values, outcomes)


def _mfa_problem(operator: Operator, key: str, values: tuple[str, ...]) -> str | None:
    """Why a clause on an MFA key cannot be judged exactly (None: it can)."""
    where = f"{operator.text} {key} {_values_text(values)}"
    if any("${" in v for v in values):
        return f"{where} uses a policy variable, whose value the analysis cannot know"
    if operator.family not in _COMPARABLE[key.lower()]:
        return f"{operator.text} cannot compare {key} (its value is " + (
            '"true" or "false")' if key.lower() == MFA_PRESENT else "a number of seconds)"
        )
    if operator.family in ("bool", "null") and any(v.lower() not in ("true", "false") for v in values):
        return f"{where}: {operator.base} takes only true or false"
    if operator.family == "numeric" and any(not _NUMBER.fullmatch(v) for v in values):
        return f"{where}: {operator.base} takes only numbers"
    return None


def _mfa_outcome(operator: Operator, key: str, values: tuple[str, ...], context: Context) -> Outcome:
    actual: str | None
    if context == "A":
        actual = None
    elif context == "B":
        actual = "false" if key == MFA_PRESENT else None
    else:
        actual = "true" if key == MFA_PRESENT else "?"  # the age: some number, unknown
    if operator.base == "Null":
        return _truth(any((actual is None) == (v.lower() == "true") for v in values))
    if actual is None:
        # Set operators decide first, whatever the operator or the IfExists suffix: over a
        # missing key (no values at all) ForAllValues is vacuously true, ForAnyValue false.
        if operator.qualifier == "ForAllValues:":
            return Outcome.TRUE
        if operator.qualifier == "ForAnyValue:":
            return Outcome.FALSE
        if operator.if_exists:
            return Outcome.TRUE
        return _truth(operator.negated)  # negated operators are true when the key is missing
    if actual == "?":
        return Outcome.MAYBE
    matched = any(_matches(operator.base, actual, v) for v in values)
    return _truth(not matched if operator.negated else matched)


def _matches(base: str, actual: str, expected: str) -> bool:
    if base in ("StringEquals", "StringNotEquals"):
        return actual == expected
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return actual.lower() == expected.lower()
    if base in ("StringLike", "StringNotLike"):
        return _wildcard(expected).fullmatch(actual) is not None
    return actual.lower() == expected.lower()  # Bool


def _truth(value: bool) -> Outcome:
    return Outcome.TRUE if value else Outcome.FALSE


def _undecided(operator: str, key: str, values: tuple[str, ...], problem: str) -> Clause:
    undecided = (Outcome.UNDECIDED, Outcome.UNDECIDED, Outcome.UNDECIDED)
    return Clause(operator, key, values, undecided, problem)


def _values(raw: object) -> tuple[str, ...] | None:
    """A key's values as strings (JSON true -> "true"); None when they are not scalars."""
    items = raw if isinstance(raw, list) else [raw]
    values: list[str] = []
    for item in items:
        if isinstance(item, bool):
            values.append("true" if item else "false")
        elif isinstance(item, int) and abs(item) < 10**18:
            values.append(str(item))
        elif isinstance(item, float) and math.isfinite(item):
            values.append(repr(item))
        elif isinstance(item, str):
            values.append(item)
        else:
            return None
    return tuple(values) if values else None


def text_of(value: object) -> str:
    """`str(value)`, for any value a document can hold (str() refuses huge integers)."""
    try:
        return str(value)
    except ValueError:
        return f"<a {type(value).__name__}>"


def _values_text(values: tuple[str, ...]) -> str:
    if not values:
        return ""
    return " or ".join(json.dumps(v) for v in values)


@lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))
