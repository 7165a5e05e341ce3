"""Documents that differ only in whom they name are decided once.

An account's roles mostly trust *someone*: role A trusts user alice, role B user bob,
with the same conditions. To the solver these are the same question about a different
name, unless something in the document can tell one name from another. So a document is
given a *shape*: each IAM user or role named in an Allow's `Principal` gets a stand-in
name (`sts-mfa-shape-0`, ...), keeping its partition, account, type and path, and the
shape is analysed once; the answer is then told in the document's own names.

The stand-in is taken only when nothing can tell the names apart. Refused (the document
is analysed as it is) when any of these could read a name:

* a condition on a key of the caller's identity (`aws:PrincipalArn`, `aws:userid`,
  `aws:username`, any `aws:Principal...` key, `aws:SourceIdentity`), or a policy variable;
* a `NotPrincipal`, or a Deny that names an AWS principal other than `*` (it may name,
  or exempt, one of the callers);
* the same name spelled two ways, or a stand-in's spelling already in the document (in any case).

Equal names stay equal (one stand-in each), different names stay different, and the parts
that principals share (account, partition, path) are kept, so every relation the solver
could use between principals is the same in the shape as in the document.

Values are treated the same way. Roles that trust a partner each with an ExternalId of
their own (or a CI system each with a `sub` of its own) ask one question about different
strings. A condition key's literal values are replaced by stand-ins
(`sts-mfa-shape-value-0`, ...) only when the solver can do no more with them than test a
request's value for equality with each: every clause on the key (in any statement, in any
spelling of its name) is `StringEquals` or `StringNotEquals` (with `IfExists`,
`ForAnyValue:` or `ForAllValues:`) or `Null`; the key is none that the request model ties
to something (the MFA keys, the caller's keys, typed keys such as `aws:SourceIp`); and
every value is plain text (letters, digits and `_+=,.@:/-`; for a request parameter such as
`sts:ExternalId`, within AWS's pattern and length, as the stand-in is). Then swapping each
value with its stand-in maps the document's requests one to one onto the shape's, and a
request gets in to the one exactly when its image gets in to the other. A witness is told
back through the same swap; should the solver have picked one of the document's own values
where the shape has none, the swap gives a stand-in, and the caller asks afresh.

What the swap keeps is each question's answer (satisfiable or not), and every status is
decided from answers alone. It does not keep which unsat core the solver happens to
report first, so a reason may name other clauses than the document asked directly would
(the same clauses, in its own values); a solver timeout is undecided either way. A
document that already spells a stand-in, in any case (`Sts-Mfa-Shape-0` under a
case-folding operator), gets no shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sts_mfa.trust import keys as K
from sts_mfa.trust.verdicts import Analysis, Finding, WayIn
from sts_mfa.trust.witness import Witness

STAND_IN = "sts-mfa-shape-"
VALUE_STAND_IN = f"{STAND_IN}value-"
_NAMED = re.compile(r"(arn:[a-z-]+:iam::\d{12}:(?:user|role)(?:/[\x21-\x7e]*)?/)([\w+=,.@-]+)", re.ASCII)
_IDENTITY_KEYS = re.compile(r"aws:(principal|userid$|username$|sourceidentity$)", re.ASCII | re.IGNORECASE)
# The operators under which a value is only ever tested for equality, as IAM spells them.
_EQUALITY = frozenset(
    f"{qualifier}{base}{suffix}"
    for qualifier in ("", "ForAnyValue:", "ForAllValues:")
    for base in ("StringEquals", "StringNotEquals")
    for suffix in ("", "IfExists")
)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9._:/-]+", re.ASCII)
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_+=,.@:/-]+", re.ASCII)
# Keys the request model ties to the caller, the kind of sign-in or a type: never renamed.
_TIED = frozenset({K.MFA_PRESENT, K.MFA_AGE, *K.PRINCIPAL_KEYS, *K.TYPED})


@dataclass(frozen=True)
class Shape:
    """A document with stand-ins for the names and values nothing in it can tell apart."""

    text: str  # the shape, as JSON text (the cache key of its analysis)
    names: dict[str, str]  # stand-in ARN -> the document's ARN
    # condition key (lower case) -> the swap of its values and their stand-ins, both ways
    swaps: dict[str, dict[str, str]]


def shape_of(document: Mapping[object, object], text: str | None = None) -> Shape | None:
    """The document's shape; None if nothing in it can be stood in for. (`text`: the
    document as `json.dumps(document, sort_keys=True)`, when the caller has it already.)"""
    text = json.dumps(document, sort_keys=True) if text is None else text
    if STAND_IN in text.lower() or "${" in text:  # a stand-in in any case: no shape
        return None
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
        return None
    rename_names = all(_may_rename(statement) for statement in statements)
    swaps = _value_swaps(statements)
    originals: dict[str, str] = {}  # original ARN -> stand-in ARN
    shaped = []
    for given in statements:
        statement = dict(given)
        principal = statement.get("Principal")
        if (
            rename_names
            and statement.get("Effect") == "Allow"
            and isinstance(principal, Mapping)
            and "AWS" in principal
        ):
            statement["Principal"] = {**principal, "AWS": _renamed(principal["AWS"], originals)}
        if swaps and isinstance(statement.get("Condition"), Mapping):
            statement["Condition"] = _with_values(statement["Condition"], swaps)
        shaped.append(statement)
    if len({a.lower() for a in originals}) != len(originals):
        return None  # one name in two spellings (IAM names ignore case)
    if not originals and not swaps:
        return None
    shape = json.dumps({**document, "Statement": shaped}, sort_keys=True)
    return Shape(shape, {stand_in: original for original, stand_in in originals.items()}, swaps)


def _may_rename(statement: Mapping[object, object]) -> bool:
    if "NotPrincipal" in statement:
        return False
    if statement.get("Effect") != "Allow":
        principal = statement.get("Principal")
        if principal != "*" and not (isinstance(principal, Mapping) and principal.get("AWS") in (None, "*")):
            return False
    condition = statement.get("Condition")
    if isinstance(condition, Mapping):
        for block in condition.values():
            if isinstance(block, Mapping) and any(_IDENTITY_KEYS.match(str(k)) for k in block):
                return False
    return True


def _renamed(value: object, originals: dict[str, str]) -> object:
    if isinstance(value, list):
        return [_renamed(v, originals) for v in value]
    if not isinstance(value, str):
        return value
    match = _NAMED.fullmatch(value)
    if match is None:
        return value
    if value not in originals:
        originals[value] = f"{match[1]}{STAND_IN}{len(originals)}"
    return originals[value]


def _value_swaps(statements: list[Mapping[Any, Any]]) -> dict[str, dict[str, str]]:
    """Each key whose values may be stood in for (lower case) -> the swap: each value to its
    stand-in, each stand-in to its value."""
    found: dict[str, list[str]] = {}
    refused: set[str] = set()
    for statement in statements:
        condition = statement.get("Condition")
        if condition is None:
            continue
        if not isinstance(condition, Mapping):
            return {}  # a condition not understood may read anything
        for operator, block in condition.items():
            if not isinstance(block, Mapping):
                return {}
            for key, given in block.items():
                name = str(key).lower()
                if operator == "Null":
                    continue  # tests presence only
                items = given if isinstance(given, list) else [given]
                if operator in _EQUALITY and all(_plain(name, v) for v in items) and _free(name, key):
                    found.setdefault(name, []).extend(items)
                else:
                    refused.add(name)
    swaps: dict[str, dict[str, str]] = {}
    counter = 0
    for name in sorted(found.keys() - refused):
        swap = swaps[name] = {}
        for value in found[name]:
            if value not in swap:
                swap[value] = stand_in = f"{VALUE_STAND_IN}{counter}"
                swap[stand_in] = value  # no value is a stand-in: refused above
                counter += 1
    return swaps


def _free(name: str, key: object) -> bool:
    return isinstance(key, str) and _PLAIN_KEY.fullmatch(key) is not None and name not in _TIED


def _plain(name: str, value: object) -> bool:
    """Plain text, and (for a request parameter) a value AWS accepts, as every stand-in is."""
    if not isinstance(value, str) or _PLAIN_VALUE.fullmatch(value) is None:
        return False
    return K.parameter_accepts(name, value)


def _with_values(condition: Mapping[Any, Any], swaps: dict[str, dict[str, str]]) -> dict[Any, Any]:
    shaped: dict[Any, Any] = {}
    for operator, block in condition.items():
        if operator == "Null":
            shaped[operator] = block
            continue
        shaped[operator] = {
            key: _swapped(given, swaps.get(str(key).lower(), {})) for key, given in block.items()
        }
    return shaped


def _swapped(given: Any, swap: Mapping[str, str]) -> Any:
    """Each value put through the swap (a value to its stand-in, a stand-in to its value)."""
    if isinstance(given, list):
        return [_swapped(v, swap) for v in given]
    return swap.get(given, given) if isinstance(given, str) else given


def told_in_own_names(analysis: Analysis, shape: Shape) -> Analysis:
    """The shape's analysis, every stand-in put back as the document spells it.

    A witness's values go back through the same swap that made the shape; a value the
    solver picked that is one of the document's own becomes a stand-in, which the caller
    takes as a sign to ask the document afresh.
    """
    values = {s: v for swap in shape.swaps.values() for s, v in swap.items() if s.startswith(VALUE_STAND_IN)}
    stand_ins = {**shape.names, **values}
    pattern = re.compile("|".join(re.escape(s) for s in sorted(stand_ins, key=len, reverse=True)))

    def text(value: str) -> str:
        return pattern.sub(lambda m: stand_ins[m[0]], value)

    def context(given: Mapping[str, Any]) -> dict[str, Any]:
        return {k: _swapped(v, shape.swaps.get(k.lower(), {})) for k, v in given.items()}

    def witness(w: Witness | None) -> Witness | None:
        if w is None:
            return None
        return replace(w, principal=text(w.principal), context=context(w.context))

    def way(w: WayIn) -> WayIn:
        return replace(w, principal=text(w.principal), reason=text(w.reason), witness=witness(w.witness))

    def finding(f: Finding) -> Finding:
        principal = None if f.principal is None else text(f.principal)
        return replace(f, principal=principal, reason=text(f.reason), witness=witness(f.witness))

    return Analysis(
        analysis.verdict,
        tuple(finding(f) for f in analysis.findings),
        tuple(way(w) for w in analysis.ways_in),
    )
