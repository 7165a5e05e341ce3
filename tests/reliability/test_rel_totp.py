"""TOTP across concurrent runs and clocks: the lock covers choosing the step; skew is named.

- Two `assume --force` at the same instant (threads in one process, sharing the fake
  clock and the sandbox; `filelock` is per thread, so they contend like processes)
  never send the same time-step: AWS accepts both, refuses none.
- A sandbox whose clock is two minutes off the tool's refuses the software token's
  code (exit 5), and the message says the clock is the reason (from the `Date` header).

The real two-process race (real time, one TOTP window) is in `test_rel_realtime.py`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sts_mfa import scenario
from sts_mfa.aws.clients import Aws, AwsConfig
from sts_mfa.mfa.totp import step_at
from sts_mfa.progress import RecordingReporter
from sts_mfa.sandbox import Sandbox
from sts_mfa.state.document import load, transaction
from tests.support.cli import Cli, assert_one_error_line
from tests.support.clock import FakeClock, ShiftedClock

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def skew(shared_clock: FakeClock) -> ShiftedClock:
    """The sandbox's clock: the shared fake clock plus an adjustable offset."""
    return ShiftedClock(base=shared_clock)


@pytest.fixture(scope="module")
def running(skew: ShiftedClock) -> Iterator[Sandbox]:
    """This module's sandbox (overriding the shared fixture) runs on the skewable clock."""
    with Sandbox(clock=skew, sample_buckets=("reports", "logs")) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def in_sync(skew: ShiftedClock) -> Iterator[None]:
    skew.offset = 0.0
    yield
    skew.offset = 0.0


def test_two_assumes_at_the_same_moment_send_different_steps(
    software: Cli, sb: Sandbox, shared_clock: FakeClock
) -> None:
    """Two threads release together into `transaction` + `scenario.assume(force=True)`: one sends
    the next window's step, the other waits (inside the lock) for the window after it."""
    barrier = threading.Barrier(2)
    results: list[scenario.AssumeResult] = []
    errors: list[BaseException] = []

    def one() -> None:
        aws = Aws(AwsConfig(region=sb.region, endpoint_url=sb.endpoint), now=shared_clock.now)
        ctx = scenario.Context(aws=aws, clock=shared_clock, report=RecordingReporter())
        barrier.wait()
        try:
            with transaction(software.state) as txn:
                results.append(scenario.assume(ctx, txn, ask_code=None, force=True))
        except BaseException as e:  # reported by the assertion below
            errors.append(e)

    sb.reset_log()
    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    steps = [r.step for r in results]
    assert len(steps) == 2 and None not in steps and steps[0] != steps[1], steps
    calls = [r for r in sb.requests if r.action == "AssumeRole"]
    assert [r.status for r in calls] == [200, 200], calls
    assert sorted(step_at(r.time) for r in calls) == sorted(steps)  # each sent in its own window
    state = load(software.state)
    assert state is not None and state.mfa_device is not None and state.mfa_device.serial is not None
    assert state.totp[state.mfa_device.serial].last_step == max(s for s in steps if s is not None)


@pytest.mark.parametrize("offset", [120.0, -120.0], ids=["server-ahead-2-min", "server-behind-2-min"])
def test_a_server_clock_two_minutes_off_refuses_the_code_and_the_message_names_the_clock(
    software: Cli, sb: Sandbox, skew: ShiftedClock, offset: float
) -> None:
    """exit 5, one line, and it says the clocks disagree (the tool reads the server's `Date`).

    For "server behind", the tool's clock moves ahead instead: the server's never runs backwards.
    """
    if offset < 0:
        software.clock.advance(-offset)
    skew.offset = offset
    before = software.state.read_bytes()
    result = software("assume", "--force")
    line = assert_one_error_line(result, 5)
    assert "clock" in line, line
    assert f"{abs(offset):.0f} s" in line, line
    after = load(software.state)
    assert after is not None and before != software.state.read_bytes()  # the spent step is recorded


def test_a_small_skew_within_one_step_still_works(software: Cli, skew: ShiftedClock) -> None:
    """AWS (and the sandbox) accept one step either side: 20 s of skew is no problem."""
    skew.offset = 20.0
    result = software("assume", "--force")
    assert result.exit_code == 0, result.output


def test_the_clock_message_appears_for_a_typed_code_too(software: Cli, skew: ShiftedClock) -> None:
    """A phone user typing a right-looking code into a skewed setup hears about the clock as well."""
    skew.offset = 300.0
    state = load(software.state)
    assert state is not None and state.seed is not None
    import pyotp

    code = pyotp.TOTP(state.seed).at(software.clock.now() + 30)
    result = software("assume", "--force", "--code", code)
    line = assert_one_error_line(result, 5)
    assert "clock" in line, line


def test_sandbox_clock_offset_fixture_is_in_sync_by_default(software: Cli, sb: Sandbox) -> None:
    """Baseline for the skew tests: with no offset, the same command succeeds."""
    result = software("assume", "--force")
    assert result.exit_code == 0, result.output
    assert Path(software.state).exists()


def test_setup_with_a_software_token_against_a_skewed_server_names_the_clock(
    srun: Cli, sb: Sandbox, skew: ShiftedClock
) -> None:
    """The server is two minutes ahead while setup enables the device: AWS refuses the software
    token's two codes (exit 5). The one line must say why (the clock), not blame an app."""
    skew.offset = 120.0
    result = srun("setup", "--software-token")
    line = assert_one_error_line(result, 5)
    assert "clock" in line and "from the app" not in line, line
    assert srun("teardown").exit_code == 0
