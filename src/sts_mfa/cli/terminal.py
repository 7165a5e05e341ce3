"""What the terminal is: its width, and whether a stream is one (cheap: on every run)."""

from __future__ import annotations

import os
import sys
from typing import Any

MIN_COLUMNS, MAX_COLUMNS = 40, 1000


def sane_columns(value: str | None) -> int | None:
    """A terminal width from COLUMNS: None if unusable (unset, 0, negative, junk), else clamped."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 6 or int(value) == 0:
        return None
    return max(MIN_COLUMNS, min(MAX_COLUMNS, int(value)))


def terminal_width() -> int:
    """What shutil.get_terminal_size() answers, without importing shutil (2 ms) on every run.

    COLUMNS of 0, negative, junk or absurd is ignored or clamped (see `sane_columns`).
    """
    columns = sane_columns(os.environ.get("COLUMNS"))
    if columns is not None:
        return columns
    try:
        width = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 80
    except (AttributeError, ValueError, OSError):
        return 80
    return sane_columns(str(width)) or 80


def is_terminal(stream: Any) -> bool:
    """Whether `stream` is an open terminal (a closed or missing stream is not)."""
    try:
        return stream is not None and not stream.closed and bool(stream.isatty())
    except (OSError, ValueError, AttributeError):
        return False


def stdin_is_terminal() -> bool:
    return is_terminal(sys.stdin)


def stderr_is_terminal() -> bool:
    return is_terminal(sys.stderr)
