"""Text from input, made safe to print on one line (no click, no rich: the fast paths use it)."""

from __future__ import annotations


def is_account_id(value: object) -> bool:
    """An AWS account ID: exactly 12 ASCII digits (a string; never an int, which loses leading zeros)."""
    return isinstance(value, str) and len(value) == 12 and value.isascii() and value.isdigit()


def one_line(text: str) -> str:
    """`text` on one line: newlines, tabs and other control characters shown as escapes.

    Messages quote input (paths, names, URLs); a newline or a terminal escape in it
    must not break "one line on stderr", nor reach the terminal raw.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
