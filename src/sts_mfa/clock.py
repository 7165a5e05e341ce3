"""The real clock, kept tiny: every command makes one, including the fast ones.

Anything that depends on time takes a clock (`now()`, `sleep()`), so tests
pass a fake one and move it instead of waiting for 30-second TOTP windows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time; the default everywhere outside tests."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


def sleep_until(clock: Clock, end: float, tick: Callable[[float], None] | None = None) -> float:
    """Sleep until `end` in slices of at most a second, calling `tick(remaining)` before each.

    Lands just past `end` (a TOTP window boundary must really have passed).
    Returns the seconds slept.
    """
    slept = 0.0
    while (remaining := end - clock.now()) > 0:
        if tick is not None:
            tick(remaining)
        piece = min(remaining + 0.01, 1.0)
        clock.sleep(piece)
        slept += piece
    return slept
