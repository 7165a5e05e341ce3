"""A JSON-protocol answer (Organizations) checked against botocore's model before botocore parses it.

botocore's JSON parser trusts the answer's types: `{"Accounts": "everyone"}` for ListAccounts
ends in an AttributeError deep inside it, not in an error of its own. So a successful answer
is read here first: it must be a JSON object, and every member the operation's output shape
names must have the shape's type (a structure an object, a list a list, a string a string,
a number a number, ...), recursively. What is not in the shape is left alone, as botocore
leaves it. A problem is said in a few words, naming where (`Accounts[3].Id`).
"""

from __future__ import annotations

import json
from typing import Any

MAX_SHOWN = 60

_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "blob": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
}


def json_answer_problem(body: bytes | None, shape: Any) -> str | None:
    """What is wrong with a successful JSON answer to an operation whose output is `shape` (or None)."""
    text = (body or b"").strip()
    if not text:
        return None  # botocore reads no body as {} (an output with no members)
    try:
        document = json.loads(text)
    except ValueError:
        return "a body that is not JSON"
    if not isinstance(document, dict):
        return "a JSON document that is not an object"
    return _problem(document, shape, "") if shape is not None else None


def _problem(value: Any, shape: Any, where: str) -> str | None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return _wrong(where, "an object", value)
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                found = _problem(value[name], member, f"{where}.{name}" if where else name)
                if found:
                    return found
        return None
    if kind == "list":
        if not isinstance(value, list):
            return _wrong(where, "a list", value)
        return next(
            (p for n, item in enumerate(value) if (p := _problem(item, shape.member, f"{where}[{n}]"))), None
        )
    if kind == "map":
        if not isinstance(value, dict):
            return _wrong(where, "an object", value)
        return next(
            (p for k, item in value.items() if (p := _problem(item, shape.value, f"{where}[{k!r}]"))), None
        )
    allowed = _SCALARS.get(kind)
    if allowed is None:
        return None
    if isinstance(value, bool) and bool not in allowed:
        return _wrong(where, f"a {kind}", value)
    return None if isinstance(value, allowed) else _wrong(where, f"a {kind}", value)


def _wrong(where: str, expected: str, value: Any) -> str:
    shown = json.dumps(value)[:MAX_SHOWN]
    return f"a JSON document whose {where or 'body'} is not {expected} ({shown})"
