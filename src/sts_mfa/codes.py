"""What an MFA code looks like: exactly six ASCII digits.

Separate from `totp` so that parsing `--code` costs nothing at start-up.
"""

from __future__ import annotations

import re


def normalize_code(text: str) -> str:
    """Accept '123 456' or '123-456' as typed from an app; anything else must be 6 digits."""
    return re.sub(r"[\s-]", "", text)


def code_problem(text: str) -> str | None:
    """Why `text` is not an MFA code, or None if it is one."""
    code = normalize_code(text)
    if not code:
        return "an MFA code is 6 digits; got nothing"
    if not code.isdigit() or not code.isascii():
        return f"an MFA code is 6 digits; {text!r} has other characters"
    if len(code) != 6:
        return f"an MFA code is exactly 6 digits; {text!r} has {len(code)}"
    return None
