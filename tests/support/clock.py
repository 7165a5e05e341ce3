"""Fake clocks: the tool, the sandbox and the test share one and move it instead of waiting.

TOTP windows are 30 s; apart from the tests marked `slow`, none waits for one. The tool
takes a clock with `now()` and `sleep()`; the sandbox takes any `() -> float`: a
`FakeClock` is both.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# A moment 5 s into a 30 s TOTP window, near the real time (moto stamps session
# expirations from the real clock, so a fake clock far from it would see them expired).
T0 = (time.time() // 30) * 30 + 5.0

# A fixed moment 5 s into a window, for the sandbox's own tests (tests/sandbox/).
START = 58_333_333 * 30 + 5.0


class FakeClock:
    """A clock tests move by hand; `sleep` advances it instantly (and counts what was slept)."""

    def __init__(self, start: float = T0) -> None:
        self.t = start
        self.slept = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.t += seconds
            self.slept += seconds

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def __call__(self) -> float:  # usable where a plain `() -> float` is wanted
        return self.now()


class ShiftedClock(FakeClock):
    """Another clock's time plus `offset` seconds; `sleep` moves it on at once instead of waiting.

    On real time (the default `base`) it keeps an in-process command near the clock that
    real processes and a real-clock sandbox read; on a FakeClock, `offset` skews it (a
    server whose clock is off the tool's).
    """

    def __init__(self, offset: float = 0.0, base: Callable[[], float] = time.time) -> None:
        self.base = base
        self.offset = offset
        super().__init__(base() + offset)

    def now(self) -> float:
        return self.base() + self.offset + self.slept

    def advance(self, seconds: float) -> None:
        self.offset += seconds
