"""Real processes on the real clock: `kill -9` and Ctrl-C of `setup`, and two `assume`s racing.

The installed `sts-mfa` console script runs as a subprocess against a sandbox served
from this process on the real clock (small propagation delays slow setup down so
kills land at different points). After every kill or interrupt, a `sts-mfa teardown`
subprocess must leave nothing behind, and the state file must never have been seen
torn: a watcher thread parses it continuously while setup runs.

The two racing `assume`s are processes of their own too, through the same Click
group, but on a clock whose TOTP wait moves it on instead of sleeping (see
`NO_WAIT_STS_MFA`), so the race costs no real 30 s window.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sts_mfa.sandbox import Faults, Sandbox
from sts_mfa.state.document import load
from tests.support.cli import SETUP_BEHIND, TRACEBACK, Cli
from tests.support.clock import ShiftedClock
from tests.support.env import subprocess_env
from tests.support.processes import NO_WAIT_STS_MFA, STS_MFA, sts_mfa
from tests.support.sandbox import is_clean, residue
from tests.support.state import StateWatcher

if TYPE_CHECKING:
    from tests.support.tally import Tally

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]


@pytest.fixture(scope="module")
def live() -> Iterator[Sandbox]:
    """A sandbox on the real clock (the subprocesses' clock)."""
    with Sandbox(sample_buckets=("reports", "logs")) as sandbox:
        yield sandbox


@pytest.fixture
def env(live: Sandbox, tmp_path: Path) -> dict[str, str]:
    live.reset()
    # The children share this test's private cache (its ledger, the key that signs the state
    # file) with the in-process setup and the checks that read the file here.
    return subprocess_env(
        tmp_path,
        **live.env(0),
        STS_MFA_STATE=str(tmp_path / "state.json"),
        STS_MFA_CACHE_DIR=os.environ["STS_MFA_CACHE_DIR"],
    )


def run_until(proc: subprocess.Popen[str], lines: int) -> list[str]:
    """Read stderr until `lines` lines have been printed (or the process ends)."""
    assert proc.stderr is not None
    seen: list[str] = []
    while len(seen) < lines:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
    return seen


def finish(proc: subprocess.Popen[str], seen: list[str]) -> tuple[int, str]:
    assert proc.stderr is not None
    rest = proc.stderr.read()
    code = proc.wait(timeout=60)
    return code, "\n".join(seen) + ("\n" + rest if rest else "")


# Kill after the n-th stderr line of setup (1: the seed notice, 2: user, 4: MFA device,
# 7: waiting for the trust-policy principal, 10: the inline policy), plus a random jitter.
KILL_POINTS = [1, 2, 4, 7, 10]


@pytest.mark.parametrize("after_lines", KILL_POINTS, ids=[f"after-line-{n}" for n in KILL_POINTS])
def test_kill_9_of_setup_at_any_point_then_teardown_leaves_nothing(
    live: Sandbox, env: dict[str, str], tally: Tally, after_lines: int
) -> None:
    """SIGKILL lands somewhere in setup; the state file was never seen torn, and teardown cleans up."""
    live.set_faults(Faults(key_delay=1.5, principal_delay=0.5))
    state_path = Path(env["STS_MFA_STATE"])
    rng = random.Random(after_lines)
    assert STS_MFA
    # The state file parsed every millisecond or two, and once more after the process is gone.
    with StateWatcher(state_path, pause=0.001, check_on_exit=True) as watcher:
        proc = subprocess.Popen(
            [STS_MFA, "setup", "--software-token"],
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        seen = run_until(proc, after_lines)
        time.sleep(rng.uniform(0.0, 0.08))
        proc.send_signal(signal.SIGKILL)
        code, stderr = finish(proc, seen)
    live.set_faults(Faults())
    tally.output(f"setup killed after line {after_lines}", stderr)
    tally.state_reads_checked(watcher.reads, watcher.torn)
    assert watcher.torn == []
    assert code == -signal.SIGKILL, f"setup was not killed mid-way:\n{stderr}"
    tally.stray_temp_files += len(list(state_path.parent.glob(f".{state_path.name}.*.tmp")))

    result = sts_mfa(env, "teardown")
    found = residue(live)
    tally.kill(f"setup-kill-after-line-{after_lines}", leaked=not is_clean(found) or result.returncode != 0)
    tally.output("teardown after kill", result.stderr)
    assert result.returncode == 0, result.stderr
    assert TRACEBACK not in result.stderr
    assert is_clean(found), found
    assert not state_path.exists()


@pytest.mark.parametrize(
    ("marker", "faults"),
    [
        pytest.param("Created IAM user", Faults(principal_delay=30), id="after-the-user"),
        pytest.param("waiting for the new access key", Faults(key_delay=30), id="while-waiting-for-the-key"),
    ],
)
def test_ctrl_c_of_setup_exits_130_with_one_line_and_teardown_leaves_nothing(
    live: Sandbox, env: dict[str, str], tally: Tally, marker: str, faults: Faults
) -> None:
    """SIGINT mid-setup (a propagation delay keeps setup busy): exit 130, a single `interrupted` line
    last on stderr, no traceback; the state file is valid and teardown removes what was created."""
    live.set_faults(faults)
    assert STS_MFA
    proc = subprocess.Popen(
        [STS_MFA, "setup", "--software-token"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line.rstrip("\n"))
        if marker in line:
            break
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    code, stderr = finish(proc, seen)
    live.set_faults(Faults())
    lines = stderr.strip().splitlines()
    one_line = bool(lines) and lines[-1].startswith("sts-mfa: interrupted")
    tally.interrupt(marker, clean_exit=code == 130 and one_line and TRACEBACK not in stderr)
    tally.output(f"setup interrupted ({marker})", stderr)
    assert any(marker in line for line in seen), stderr
    assert code == 130, stderr
    assert TRACEBACK not in stderr
    assert one_line, stderr
    assert sum("interrupted" in line for line in stderr.splitlines()) == 1, stderr
    assert load(Path(env["STS_MFA_STATE"])) is not None

    result = sts_mfa(env, "teardown")
    found = residue(live)
    assert result.returncode == 0, result.stderr
    assert is_clean(found), found


def test_two_assume_processes_at_the_same_moment_never_send_the_same_step(
    live: Sandbox, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `assume --force` processes started together: each gets a session, AWS (the sandbox, which
    refuses a reused step) accepted both, and no AssumeRole was refused: two different steps, both
    after the enable codes'. The second to take the lock waits for the next 30 s window: the lock
    covers choosing the step (outside it, both would pick the current window and one be refused).

    Setup runs in-process on a clock 28 s behind, so the enable codes (normally) use the previous
    window. The two processes wait on the real state lock, but their TOTP wait moves their clock
    on instead of sleeping: the second sends the next window's step at once, which the sandbox
    (on the real clock) accepts as one step ahead, as AWS does. So the race waits for no window
    (at most 2 s when setup ran in the last 2 s of one).
    """
    for name, value in live.env(0).items():
        monkeypatch.setenv(name, value)
    state_path = Path(env["STS_MFA_STATE"])
    setup = Cli(state=state_path, clock=ShiftedClock(-SETUP_BEHIND), app_kwargs={})(
        "setup", "--software-token"
    )
    assert setup.exit_code == 0, setup.output
    enabled = load(state_path)
    assert enabled is not None and enabled.mfa_device is not None and enabled.mfa_device.serial is not None
    enable_step = live.last_accepted_step(enabled.mfa_device.serial)
    assert enable_step is not None
    live.reset_log()

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", NO_WAIT_STS_MFA, "assume", "--force", "--format", "json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=90) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    keys = {json.loads(out)["AccessKeyId"] for out, _ in outputs}
    assert len(keys) == 2

    calls = [r for r in live.requests if r.action == "AssumeRole"]
    assert [r.status for r in calls] == [200, 200], calls
    state = load(state_path)
    assert state is not None and state.mfa_device is not None and state.mfa_device.serial is not None
    serial = state.mfa_device.serial
    # The sandbox accepts a step only once and only after the last it accepted: two 200s are two
    # steps after the enable's, the later one what both the tool and the sandbox recorded last.
    last = live.last_accepted_step(serial)
    assert last is not None
    assert state.totp[serial].last_step == last >= enable_step + 2
    assert sts_mfa(env, "teardown").returncode == 0
    assert is_clean(residue(live))
