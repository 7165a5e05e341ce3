"""`sts-mfa` in-process, through Click's runner, and what a run printed.

`Cli` runs the same Click group as the console script with an injected `App` (a fake
clock, optionally an endpoint or keys): the `run` and `srun` fixtures are `Cli`s.
`setup_behind` runs `setup --software-token` on a clock a little behind real time, for
tests whose sandbox and later processes use the real clock: `setup` enables the device
with the codes of the previous and the current window, and the tool never resends a
step, so the first `assume` after it would wait for the next window; run BEHIND real
time, those codes belong to earlier windows (the sandbox, like AWS, accepts one step of
drift), so a real-clock `assume` can use the current window at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from sts_mfa.cli import cli
from sts_mfa.cli.app import App
from tests.support.clock import FakeClock, ShiftedClock
from tests.support.env import exactly

ERROR_PREFIX = "sts-mfa: error:"
TRACEBACK = "Traceback (most recent call last)"

# Less than a full step behind, so that a boundary crossed between reading the clock and
# EnableMFADevice reaching the sandbox still leaves the codes within its one step of drift.
SETUP_BEHIND = 28.0


@dataclass
class Cli:
    """Runs `sts-mfa` in-process with an injected App (clock, endpoint, keys)."""

    state: Path
    clock: FakeClock
    app_kwargs: dict[str, Any]

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        app = App(clock=self.clock, **self.app_kwargs)
        runner = CliRunner()
        return runner.invoke(
            cli,
            ["--state", str(self.state), *args],
            obj=app,
            input=input,
            env=env,
            catch_exceptions=False,
        )

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


def no_traceback(result: Result) -> bool:
    return "Traceback" not in result.output and "Traceback" not in (result.stderr or "")


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(ERROR_PREFIX)]


def assert_one_error_line(result: Result, exit_code: int) -> str:
    """The failure is reported as exactly one `sts-mfa: error:` line, last, with no traceback."""
    assert result.exit_code == exit_code, result.output
    assert TRACEBACK not in result.output, result.output
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1] == lines[0], result.stderr
    return lines[0]


def setup_behind(state: Path, env: dict[str, str]) -> dict[str, Any]:
    """`sts-mfa setup --software-token --json` in-process, behind real time, in exactly `env`."""
    with exactly(env):
        doc: dict[str, Any] = Cli(state=state, clock=ShiftedClock(-SETUP_BEHIND), app_kwargs={}).json(
            "setup", "--software-token"
        )
    return doc
