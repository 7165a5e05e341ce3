"""A trust policy document, read the way IAM reads it: statements, principals, actions, conditions.

Reading never guesses: whatever is not plainly IAM's grammar (a malformed statement, an
operator IAM does not have, a look-alike letter) is kept as a *problem* next to what was
understood, for the encoding to treat as unknown. No solver here: `analyse` parses first,
and a document with nothing to decide never loads the solver.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import unquote

from sts_mfa.repeated_keys import RepeatedKey, no_repeats

ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")
ASSUME_ROLE, WEB_IDENTITY, SAML = ASSUME_ACTIONS

PrincipalKind = Literal["aws", "federated", "service", "everyone"]
Effect = Literal["Allow", "Deny"]

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

_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Condition"}
)
_VERSIONS = ("2012-10-17", "2008-10-17")
_PRINCIPAL_KINDS: dict[str, PrincipalKind] = {"AWS": "aws", "Federated": "federated", "Service": "service"}
_LABELS = {"aws": "AWS", "federated": "Federated", "service": "Service"}
# IAM's action grammar, with its wildcards: `*`, `sts:*`, `sts:Assume*`, `s3:Get?bject`.
_ACTION_PATTERN = re.compile(r"[A-Za-z0-9*?-]+(:[A-Za-z0-9*?-]*)?", re.ASCII)


@dataclass(frozen=True)
class Principal:
    """One entry of a Principal or NotPrincipal element."""

    kind: PrincipalKind
    value: str
    text: str  # as a person reads it: `AWS arn:aws:iam::111111111111:user/x`, `everyone (*)`


@dataclass(frozen=True)
class Clause:
    """One key under one operator: `ForAnyValue:StringLikeIfExists aws:TagKeys ["a*"]`."""

    operator: str  # as written
    base: str  # StringLike
    qualifier: str | None  # ForAnyValue: / ForAllValues:
    if_exists: bool
    key: str  # as written
    values: tuple[str, ...]

    @property
    def family(self) -> str:
        return OPERATORS[self.base][0]

    @property
    def negated(self) -> bool:
        return OPERATORS[self.base][1]

    def text(self) -> str:
        return f"{self.operator} {self.key} {' or '.join(json.dumps(v) for v in self.values)}"


@dataclass(frozen=True)
class Unknown:
    """A part of a Condition the reading does not understand, and why."""

    text: str
    reason: str


@dataclass(frozen=True)
class Statement:
    number: int  # 1-based position in the Statement list
    sid: str | None
    effect: Effect
    patterns: tuple[str, ...]
    not_action: bool
    principals: tuple[Principal, ...]  # for NotPrincipal: the exempted ones
    not_principal: bool
    clauses: tuple[Clause, ...]
    unknowns: tuple[Unknown, ...]  # condition parts not understood: each may be true or false
    bad_principals: tuple[str, ...]  # principal entries not understood

    def covers(self, action: str) -> bool:
        matched = any(_wildcard(p).fullmatch(action) for p in self.patterns)
        return not matched if self.not_action else matched

    def name(self) -> str:
        return f"statement {self.number}" + (f" (Sid {self.sid})" if self.sid else "")


@dataclass(frozen=True)
class Document:
    statements: tuple[Statement, ...]
    problems: tuple[tuple[int | None, str | None, str], ...]  # (statement, sid, why) not read at all
    # Statements (JSON objects) not read whose Effect is not plainly "Allow": each may be a
    # Deny that refuses any request, so no way in is known to be open. (statement, why)
    unread_denies: tuple[tuple[int, str], ...] = ()


def load(document: object) -> Mapping[object, object] | str:
    """The document as a mapping (JSON, or URL-encoded JSON as IAM sends it), or why it is not one."""
    if isinstance(document, Mapping):
        return document
    if not isinstance(document, str):
        return f"the trust policy is a {type(document).__name__}, not a JSON document"
    for text in (document, unquote(document)):
        try:
            parsed: object = json.loads(text, object_pairs_hook=no_repeats)
        except RepeatedKey as error:
            return f"the JSON repeats the key {error.key!r} in one object, so which value AWS uses is unclear"
        except (ValueError, RecursionError):
            continue
        if isinstance(parsed, Mapping):
            return parsed
        return "the trust policy is not a JSON object"
    return "the trust policy is not valid JSON (nor URL-encoded JSON)"


def parse(document: Mapping[object, object]) -> Document:
    problems: list[tuple[int | None, str | None, str]] = []
    unknown = sorted(text_of(k) for k in document if k not in _TOP_KEYS)
    if unknown:
        problems.append((None, None, f"the document has keys IAM does not allow: {', '.join(unknown)}"))
    if "Version" in document and document["Version"] not in _VERSIONS:
        problems.append((None, None, f"Version {show(document['Version'])} is not one IAM knows"))
    raw = document.get("Statement")
    if "Statement" not in document:
        problems.append((None, None, "the document has no Statement"))
    elif not isinstance(raw, (list, Mapping)):
        problems.append((None, None, "Statement is neither a list nor an object"))
    items: list[object] = [raw] if isinstance(raw, Mapping) else raw if isinstance(raw, list) else []
    statements: list[Statement] = []
    unread_denies: list[tuple[int, str]] = []
    for number, item in enumerate(items, 1):
        parsed = _statement(number, item, problems)
        if parsed is not None:
            statements.append(parsed)
        elif isinstance(item, Mapping) and item.get("Effect") != "Allow":  # a statement, maybe a Deny
            unread_denies.append((number, problems[-1][2]))
    return Document(tuple(statements), tuple(problems), tuple(unread_denies))


def _statement(
    number: int, item: object, problems: list[tuple[int | None, str | None, str]]
) -> Statement | None:
    if not isinstance(item, Mapping):
        problems.append((number, None, "the statement is not a JSON object"))
        return None
    raw_sid = item.get("Sid")
    sid = raw_sid if isinstance(raw_sid, str) else None
    reason = _statement_problem(item)
    patterns = _action_patterns(item)
    if reason is None and patterns is None:
        reason = "its Action/NotAction is not a string or a non-empty list of non-empty strings"
    if reason is None and patterns is not None:
        reason = _look_alike(patterns)
    if reason is not None or patterns is None:
        problems.append((number, sid, reason or "it cannot be read"))
        return None
    element = "NotPrincipal" if "NotPrincipal" in item else "Principal"
    principals, bad = _principals(item[element])
    clauses, unknowns = conditions(item["Condition"]) if "Condition" in item else ((), ())
    return Statement(
        number=number,
        sid=sid,
        effect="Allow" if item["Effect"] == "Allow" else "Deny",
        patterns=patterns,
        not_action="NotAction" in item,
        principals=tuple(principals),
        not_principal=element == "NotPrincipal",
        clauses=clauses,
        unknowns=unknowns,
        bad_principals=tuple(f"{element} {b}" for b in bad),
    )


def _statement_problem(item: Mapping[object, object]) -> str | None:
    unknown = sorted(text_of(k) for k in item if k not in _STATEMENT_KEYS)
    if unknown:
        return f"it has keys a trust policy statement cannot have: {', '.join(unknown)}"
    if "Sid" in item and not isinstance(item["Sid"], str):
        return "its Sid is not a string"
    if item.get("Effect") not in ("Allow", "Deny"):
        return f'its Effect is {show(item.get("Effect"))}, not exactly "Allow" or "Deny"'
    if ("Action" in item) == ("NotAction" in item):
        return "it must have exactly one of Action and NotAction"
    if ("Principal" in item) == ("NotPrincipal" in item):
        return "it must have exactly one of Principal and NotPrincipal"
    return None


def _action_patterns(item: Mapping[object, object]) -> tuple[str, ...] | None:
    raw = item.get("Action", item.get("NotAction"))
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(v, str) and v for v in values):
        return None
    return tuple(str(v) for v in values)


def _look_alike(patterns: tuple[str, ...]) -> str | None:
    """Why an action pattern is not plainly IAM's grammar (None: every one is).

    IAM matches actions without regard to case, and a case-folding comparison can take
    a long s (U+017F) for an s or a dotless i for an i: such a pattern may or may not
    cover an assume action, so the statement is neither skipped nor counted.
    """
    odd = next((p for p in patterns if not _ACTION_PATTERN.fullmatch(p)), None)
    if odd is None:
        return None
    what = "non-ASCII characters (a look-alike letter?)" if not odd.isascii() else "characters"
    return (
        f"its action {show(odd)} has {what} outside IAM's action grammar, "
        "so which actions it covers is not certain"
    )


def _principals(element: object) -> tuple[list[Principal], list[str]]:
    """The principals an element names, and the parts of it that are not understood."""
    if element == "*":
        return [Principal("everyone", "*", "everyone (*)")], []
    if not isinstance(element, Mapping) or not element:
        return [], [show(element)]
    found: list[Principal] = []
    bad: list[str] = []
    for key, raw in element.items():
        kind = _PRINCIPAL_KINDS.get(key) if isinstance(key, str) else None
        values = raw if isinstance(raw, list) else [raw]
        if kind is None or not values or not all(isinstance(v, str) and v and v.isascii() for v in values):
            bad.append(f"{text_of(key)} {show(raw)}")
            continue
        found.extend(Principal(kind, str(v), f"{_LABELS[kind]} {v}") for v in values)
    return found, bad


def parse_operator(text: str) -> tuple[str, str | None, bool] | None:
    """`ForAnyValue:StringEqualsIfExists` -> (base, qualifier, if_exists); None if IAM has none such."""
    qualifier = next((q for q in SET_QUALIFIERS if text.startswith(q)), None)
    rest = text[len(qualifier) :] if qualifier else text
    if_exists = rest.endswith("IfExists")
    base = rest[: -len("IfExists")] if if_exists else rest
    if base not in OPERATORS or (base == "Null" and (if_exists or qualifier)):
        return None
    return base, qualifier, if_exists


def conditions(condition: object) -> tuple[tuple[Clause, ...], tuple[Unknown, ...]]:
    """A Condition element's clauses, and what in it is not understood."""
    if not isinstance(condition, Mapping):
        return (), (Unknown("Condition", "the Condition element is not a JSON object"),)
    if not condition:
        return (), (Unknown("Condition", "the Condition element is empty"),)
    repeated = _repeated(condition)
    for keys in condition.values():
        if repeated is None and isinstance(keys, Mapping):
            repeated = _repeated(keys)
    if repeated is not None:
        why = f"{repeated} appears twice in one Condition, in different cases: which one AWS uses is unclear"
        return (), (Unknown("Condition", why),)
    clauses: list[Clause] = []
    unknowns: list[Unknown] = []
    for operator, keys in condition.items():
        name = text_of(operator)
        parsed = parse_operator(operator) if isinstance(operator, str) else None
        if parsed is None:
            unknowns.append(Unknown(name, _operator_problem(operator)))
            continue
        if not isinstance(keys, Mapping) or not keys:
            unknowns.append(Unknown(name, f"the keys under {name} are not a non-empty JSON object"))
            continue
        for key, raw in keys.items():
            key_text = text_of(key)
            values = _values(raw)
            if not key_text.isascii():
                unknowns.append(
                    Unknown(
                        f"{name} {key_text}", f"the key {key_text!r} has non-ASCII characters (a look-alike?)"
                    )
                )
            elif values is None:
                unknowns.append(
                    Unknown(
                        f"{name} {key_text}",
                        f"the values of {key_text} under {name} are not strings, numbers or booleans "
                        "(or a non-empty list of them)",
                    )
                )
            else:
                base, qualifier, if_exists = parsed
                clauses.append(Clause(name, base, qualifier, if_exists, key_text, values))
    return tuple(clauses), tuple(unknowns)


def _operator_problem(operator: object) -> str:
    name = text_of(operator)
    hint = ""
    if isinstance(operator, str) and not operator.isascii():
        hint = " (it has non-ASCII characters: a look-alike of an operator's name?)"
    elif isinstance(operator, str) and any(o.lower() == operator.lower() for o in OPERATORS):
        hint = " (operator names are case-sensitive)"
    return f"{name!r} is not an IAM condition operator{hint}"


def _repeated(names: Iterable[object]) -> str | None:
    seen: set[str] = set()
    for name in names:
        lowered = text_of(name).lower()
        if lowered in seen:
            return text_of(name)
        seen.add(lowered)
    return None


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


def show(value: object) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        return text_of(value)


@lru_cache(maxsize=512)
def _wildcard(pattern: str) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL | re.ASCII)
