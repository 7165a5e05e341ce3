"""Condition operators as solver formulas, each beside the IAM rule it encodes.

IAM User Guide, "IAM JSON policy elements: Condition operators", and "Single-valued vs.
multivalued context keys":

* the values of one key are OR-ed: the clause holds if the request's value matches any;
* a negated operator (`StringNotEquals`, `NotIpAddress`, ...) holds when the value
  matches none of them, and when the key is missing;
* a positive operator on a missing key is false; `...IfExists` makes it true;
* `Null: "true"` holds when the key is absent, `"false"` when it is present;
* the set operators decide first, whatever the IfExists suffix: `ForAllValues:` holds
  when every value the request carries matches (so also with no key at all),
  `ForAnyValue:` when at least one does (so never without the key).

What cannot be encoded exactly (a policy variable, a value the operator cannot read, a
plain operator on a key that carries several values) raises `NotEncodable`, and the
clause becomes unknown to the caller: possibly true, possibly false.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction

from sts_mfa.trust.document import Clause
from sts_mfa.trust.request import Value
from sts_mfa.trust.solver import is_concat, representable, smt

_NUMBER = re.compile(r"-?\d+(\.\d+)?", re.ASCII)


class NotEncodable(Exception):
    """Why a clause cannot be encoded exactly."""


def encode(clause: Clause, value: Value) -> smt.BoolRef:
    """The clause as a formula over the request's value of its key."""
    if any("${" in v for v in clause.values):
        raise NotEncodable(f"{clause.text()} uses a policy variable, whose value the analysis cannot know")
    if not all(representable(v) for v in clause.values):
        raise NotEncodable(f"{clause.text()}: a character beyond U+2FFFF, which the solver cannot hold")
    if clause.base == "Null":
        return _null(clause, value)
    matches = _matcher(clause, value)
    if clause.qualifier is not None:
        return _set(clause, value, matches)
    if value.members and len(value.members) > 1:
        raise NotEncodable(
            f"{clause.text()}: a plain operator on {clause.key}, which can carry several values "
            "(IAM asks for ForAnyValue: or ForAllValues:)"
        )
    holds = _holds(value, matches)
    if clause.negated:
        return smt.Or(smt.Not(value.present), holds)  # true when the key is missing
    if clause.if_exists:
        return smt.Or(smt.Not(value.present), holds)
    return smt.And(value.present, holds)


def _null(clause: Clause, value: Value) -> smt.BoolRef:
    """`Null: "true"`: the key is absent; `"false"`: it is present. Several values are OR-ed."""
    wanted = {v.lower() for v in clause.values}
    if not wanted <= {"true", "false"}:
        raise NotEncodable(f"{clause.text()}: Null takes only true or false")
    return smt.Or(*((smt.Not(value.present) if w == "true" else value.present) for w in sorted(wanted)))


def _set(clause: Clause, value: Value, matches: Callable[[smt.ExprRef], smt.BoolRef]) -> smt.BoolRef:
    """ForAnyValue: some value the request carries matches; ForAllValues: every one does."""
    if value.branches:  # a key of the caller: one value, matched case by case
        holds = _holds(value, matches)
        if clause.qualifier == "ForAnyValue:":
            return smt.And(value.present, holds)
        return smt.Or(smt.Not(value.present), holds)
    if not value.members:
        raise NotEncodable(f"{clause.text()}: a set operator on a key that is not a string")
    if clause.qualifier == "ForAnyValue:":
        return smt.Or(*(smt.And(member, matches(item)) for member, item in value.members))
    return smt.And(*(smt.Implies(member, matches(item)) for member, item in value.members))


def _holds(value: Value, matches: Callable[[smt.ExprRef], smt.BoolRef]) -> smt.BoolRef:
    """The request's one value matches; a key of the caller is matched case by case."""
    if value.branches:
        return smt.Or(*(smt.And(case, matches(expr)) for case, expr in value.branches))
    return matches(value.value)


def _matcher(clause: Clause, value: Value) -> Callable[[smt.ExprRef], smt.BoolRef]:
    """One request value -> does it match the clause's values (negation applied)?"""
    positive = _POSITIVE[clause.family](clause, value)

    def matches(item: smt.ExprRef) -> smt.BoolRef:
        hit = smt.Or(*(positive(item, v) for v in clause.values))
        return smt.Not(hit) if clause.negated else hit

    return matches


# --- the families: (clause, value) -> (request value, policy value) -> formula -----------------


def _string(clause: Clause, value: Value) -> Callable[[smt.ExprRef, str], smt.BoolRef]:
    """StringEquals: exact; IgnoreCase: ASCII case folded; StringLike: `*` any run, `?` one character."""
    if value.type not in ("string", "number"):
        raise NotEncodable(f"{clause.text()}: {clause.key} is not compared as a string elsewhere")
    base = clause.base.replace("Not", "")

    def text(item: smt.ExprRef) -> smt.SeqRef:
        if value.type == "number":
            if value.text is None:
                raise NotEncodable(f"{clause.text()}: {clause.key} is a number compared as a string")
            return value.text
        assert isinstance(item, smt.SeqRef)
        return item

    def one(item: smt.ExprRef, expected: str) -> smt.BoolRef:
        if base == "StringEquals":
            return equals(text(item), expected)
        if base == "StringEqualsIgnoreCase":
            return smt.InRe(text(item), caseless(expected))
        return like(text(item), expected)

    return one


def _bool(clause: Clause, value: Value) -> Callable[[smt.ExprRef, str], smt.BoolRef]:
    """Bool: "true" or "false", compared without regard to case."""
    if any(v.lower() not in ("true", "false") for v in clause.values):
        raise NotEncodable(f"{clause.text()}: Bool takes only true or false")
    if value.type != "string":
        raise NotEncodable(f"{clause.text()}: {clause.key} is not a true/false value")
    return lambda item, expected: smt.InRe(item, caseless(expected))


def _binary(clause: Clause, value: Value) -> Callable[[smt.ExprRef, str], smt.BoolRef]:
    """BinaryEquals: the base-64 text compared exactly."""
    if value.type != "string":
        raise NotEncodable(f"{clause.text()}: {clause.key} is not compared as text elsewhere")
    return lambda item, expected: item == smt.StringVal(expected)


def _numeric(clause: Clause, value: Value) -> Callable[[smt.ExprRef, str], smt.BoolRef]:
    """Numeric*: decimal numbers; a value that is not a number cannot be compared."""
    if value.type != "number":
        raise NotEncodable(f"{clause.text()}: {clause.key} is not a number")
    if any(not _NUMBER.fullmatch(v) for v in clause.values):
        raise NotEncodable(f"{clause.text()}: {clause.base} takes only numbers")
    compare = _COMPARE[clause.base.replace("Numeric", "").replace("Not", "")]

    def one(item: smt.ExprRef, expected: str) -> smt.BoolRef:
        number = smt.RealVal(Fraction(Decimal(expected)))
        real = smt.ToReal(item) if smt.is_int(item) else item
        return compare(real, number)

    return one


def _date(clause: Clause, value: Value) -> Callable[[smt.ExprRef, str], smt.BoolRef]:
    """Date*: ISO 8601 times or epoch seconds, compared as points in time (to the second)."""
    if value.type not in ("date", "number"):
        raise NotEncodable(f"{clause.text()}: {clause.key} is not a date")
    epochs = {v: epoch_seconds(v) for v in clause.values}
    bad = next((v for v, e in epochs.items() if e is None), None)
    if bad is not None:
        raise NotEncodable(f"{clause.text()}: {bad!r} is not a date IAM reads")
    compare = _COMPARE[clause.base.replace("Date", "").replace("Not", "")]
    return lambda item, expected: compare(item, smt.IntVal(epochs[expected]))


def _ip(clause: Clause, value: Value) -> Callable[[smt.ExprRef, str], smt.BoolRef]:
    """IpAddress: the address is in the CIDR block (IPv4 or IPv6)."""
    if value.type != "ip" or value.ip6 is None or value.is_ip6 is None:
        raise NotEncodable(f"{clause.text()}: {clause.key} is not an IP address")
    networks = {}
    for v in clause.values:
        try:
            networks[v] = ipaddress.ip_network(v, strict=False)
        except ValueError:
            raise NotEncodable(f"{clause.text()}: {v!r} is not an IP address or CIDR block") from None
    ip6, is_ip6 = value.ip6, value.is_ip6

    def one(item: smt.ExprRef, expected: str) -> smt.BoolRef:
        net = networks[expected]
        if net.version == 4:
            mask = smt.BitVecVal(int(net.netmask), 32)
            return smt.And(smt.Not(is_ip6), item & mask == smt.BitVecVal(int(net.network_address), 32))
        mask6 = smt.BitVecVal(int(net.netmask), 128)
        return smt.And(is_ip6, ip6 & mask6 == smt.BitVecVal(int(net.network_address), 128))

    return one


def _arn(clause: Clause, value: Value) -> Callable[[smt.ExprRef, str], smt.BoolRef]:
    """ArnEquals/ArnLike: six colon-separated parts, each matched on its own with `*` and `?`."""
    if value.type != "string":
        raise NotEncodable(f"{clause.text()}: {clause.key} is not compared as text elsewhere")
    patterns = {}
    for v in clause.values:
        if v.count(":") < 5:
            raise NotEncodable(f"{clause.text()}: {v!r} is not an ARN (six colon-separated parts)")
        patterns[v] = arn_glob(v)
    return lambda item, expected: smt.InRe(item, patterns[expected])


_POSITIVE: dict[str, Callable[[Clause, Value], Callable[[smt.ExprRef, str], smt.BoolRef]]] = {
    "string": _string,
    "bool": _bool,
    "binary": _binary,
    "numeric": _numeric,
    "date": _date,
    "ip": _ip,
    "arn": _arn,
}
_COMPARE: dict[str, Callable[[smt.ArithRef, smt.ArithRef], smt.BoolRef]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}


# --- text patterns ------------------------------------------------------------------------------


def equals(item: smt.SeqRef, expected: str) -> smt.BoolRef:
    """`item == expected`, with the literal pieces of a concatenation checked here, not by the solver."""
    if not is_concat(item):
        return item == smt.StringVal(expected)
    pieces = [item.arg(i) for i in range(item.num_args())]
    rest = expected
    constraints: list[smt.BoolRef] = []
    while pieces and smt.is_string_value(pieces[0]):
        literal = pieces.pop(0).as_string()
        if not rest.startswith(literal):
            return smt.BoolVal(False)
        rest = rest[len(literal) :]
    while pieces and smt.is_string_value(pieces[-1]):
        literal = pieces.pop().as_string()
        if not rest.endswith(literal):
            return smt.BoolVal(False)
        rest = rest[: len(rest) - len(literal)]
    if len(pieces) == 1:
        return smt.And(*constraints, pieces[0] == smt.StringVal(rest))
    return (
        smt.And(*constraints, smt.Concat(*pieces) == smt.StringVal(rest))
        if pieces
        else smt.BoolVal(rest == "")
    )


def like(item: smt.SeqRef, pattern: str) -> smt.BoolRef:
    """`item` matches the StringLike pattern.

    Most patterns are a prefix, a suffix or both around one `*` (`repo:org/app:*`,
    `partner-*`): these are said as prefix and suffix, which the solver decides at once,
    where a regular expression intersected with a key's character class (an ExternalId's)
    costs it tens of milliseconds. The two say the same: `a*b` matches exactly the texts
    that start with `a`, end with `b`, and are at least as long as both.
    """
    if "?" in pattern or pattern.count("*") > 1 or is_concat(item):
        return smt.InRe(item, glob(pattern))
    if "*" not in pattern:
        return equals(item, pattern)
    head, tail = pattern.split("*")
    return smt.And(
        smt.PrefixOf(smt.StringVal(head), item),
        smt.SuffixOf(smt.StringVal(tail), item),
        smt.Length(item) >= len(head) + len(tail),
    )


def glob(pattern: str) -> smt.ReRef:
    """IAM's wildcards as a regular expression: `*` any run of characters, `?` exactly one."""
    return _pattern(pattern, smt.AllChar())


def arn_glob(pattern: str) -> smt.ReRef:
    """An ARN pattern: in the first five parts `*` and `?` stay within the part; the sixth is free."""
    head, rest = pattern.split(":", 5)[:5], pattern.split(":", 5)[5]
    in_part = smt.Intersect(smt.AllChar(), smt.Complement(smt.Re(":")))
    pieces = []
    for part in head:
        pieces += [_pattern(part, in_part), smt.Re(":")]
    pieces.append(_pattern(rest, smt.AllChar()))
    return smt.Concat(*pieces)


def _pattern(pattern: str, one_char: smt.ReRef) -> smt.ReRef:
    pieces: list[smt.ReRef] = []
    literal = ""
    for ch in pattern:
        if ch in "*?":
            if literal:
                pieces.append(smt.Re(literal))
                literal = ""
            pieces.append(smt.Star(one_char) if ch == "*" else one_char)
        else:
            literal += ch
    if literal or not pieces:
        pieces.append(smt.Re(literal))
    return pieces[0] if len(pieces) == 1 else smt.Concat(*pieces)


def caseless(text: str) -> smt.ReRef:
    """`text` in any mix of ASCII upper and lower case."""
    if not text:
        return smt.Re("")
    pieces = [
        smt.Union(smt.Re(c.lower()), smt.Re(c.upper())) if c.isascii() and c.isalpha() else smt.Re(c)
        for c in text
    ]
    return pieces[0] if len(pieces) == 1 else smt.Concat(*pieces)


def epoch_seconds(text: str) -> int | None:
    """A date as IAM reads one: ISO 8601 (a date, or a date and time), or epoch seconds."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())
