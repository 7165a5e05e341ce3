"""JSON objects that may not say one key twice.

Python's `json` keeps the last of two equal keys in one object; AWS's parsers may keep the
first, or refuse. A policy whose reader and whose enforcer may see different values proves
nothing, so every policy the tool reads is parsed with `no_repeats` as the
`object_pairs_hook`, and a repeated key raises `RepeatedKey` naming it.
"""

from __future__ import annotations


class RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def no_repeats(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """`json.loads(..., object_pairs_hook=no_repeats)`: an object, or RepeatedKey."""
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise RepeatedKey(key)
        result[key] = value
    return result
