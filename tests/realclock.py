"""Helpers for tests whose sandbox runs on the real clock, without waiting for real TOTP windows.

`setup --software-token` enables the device with the codes of the previous and
the current window, and the tool never resends a step, so the first `assume`
after it waits for the next window. Running setup in-process on a clock a little
BEHIND real time (`setup_behind`) moves those codes to earlier windows (the
sandbox, like AWS, accepts one step of drift), so a real-clock `assume` process
can use the current window at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, FakeClock

# Less than a full step behind, so that a boundary crossed between reading the clock and
# EnableMFADevice reaching the sandbox still leaves the codes within its one step of drift.
SETUP_BEHIND = 28.0

# `sts-mfa` in a process of its own, through the same Click group as the console script,
# but with a clock whose `sleep` returns at once and moves the clock on instead, by up to
# one 30 s step ahead of real time (the drift the sandbox, like AWS, accepts); any longer
# wait is slept. Locks, files and requests are as real as the console script's.
NO_WAIT_STS_MFA = """
import sys, time
from sts_mfa.cli import cli
from sts_mfa.cli.app import App

class NoWaitClock:
    ahead = 0.0

    def now(self):
        return time.time() + self.ahead

    def sleep(self, seconds):
        self.ahead += max(seconds, 0.0)
        if self.ahead > 30.0:
            time.sleep(self.ahead - 30.0)
            self.ahead = 30.0

cli.main(sys.argv[1:], prog_name="sts-mfa", obj=App(clock=NoWaitClock()))
"""


class ShiftedClock(FakeClock):
    """Real time plus `offset` seconds; `sleep` moves it on at once instead of waiting."""

    def __init__(self, offset: float = 0.0) -> None:
        super().__init__(time.time() + offset)
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset + self.slept

    def __call__(self) -> float:
        return self.now()


@contextmanager
def exactly(env: dict[str, str]) -> Iterator[None]:
    """This process's AWS and sts-mfa variables are exactly those of `env` (its others set too)."""
    with pytest.MonkeyPatch.context() as mp:
        for var in list(os.environ):
            if var.startswith(("AWS_", "STS_MFA_", "_STS_MFA_")):
                mp.delenv(var)
        for var, value in env.items():
            mp.setenv(var, value)
        yield


def setup_behind(state: Path, env: dict[str, str]) -> dict[str, Any]:
    """`sts-mfa setup --software-token --json` in-process, behind real time, in exactly `env`."""
    with exactly(env):
        doc: dict[str, Any] = Cli(state=state, clock=ShiftedClock(-SETUP_BEHIND), app_kwargs={}).json(
            "setup", "--software-token"
        )
    return doc
