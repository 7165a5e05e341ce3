"""What an MFA code looks like: exactly six ASCII digits.

Separate from `totp` so that parsing `--code` costs nothing at start-up.
"""

from __future__ import annotations

import re


def normalize_code(text: str) -> str:
    """Accept '123 456' or '123-456' as typed from an app; anything else must be 6 digits."""
    return re.sub(r"[\s-]", "", text)


def _shown(text: str, limit: int = 16) -> str:
    """A code as typed, for a message: never echo more than `limit` characters of it."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text)} characters)"


def code_problem(text: str) -> str | None:
    """Why `text` is not an MFA code, or None if it is one."""
    code = normalize_code(text)
    if not code:
        return "an MFA code is 6 digits; got nothing"
    if not code.isdigit() or not code.isascii():
        return f"an MFA code is 6 digits; {_shown(text)} has other characters"
    if len(code) != 6:
        return f"an MFA code is exactly 6 digits; {_shown(text)} has {len(code)}"
    return None
