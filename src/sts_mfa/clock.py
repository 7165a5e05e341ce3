"""The real clock, kept tiny: every command makes one, including the fast ones.

Anything that depends on time takes a clock (`now()`, `sleep()`), so tests
pass a fake one and move it instead of waiting for 30-second TOTP windows.
"""

from __future__ import annotations

import time


class SystemClock:
    """Wall-clock time; the default everywhere outside tests."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
