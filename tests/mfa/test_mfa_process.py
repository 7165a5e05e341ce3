"""A profile's `mfa_process` that misbehaves: endless output, a timeout with grandchildren.

The installed `sts-mfa assume PROFILE` runs in a process of its own, with a private
home and cache, a profile whose source keys are fake and whose endpoint nothing
listens on: the code is asked for before any request, so the `mfa_process` is the
whole story. Each run is measured from outside (wall time, and the peak memory the
kernel reports for the process through wait4), under an address-space limit, so a
tool that reads without bound fails the test instead of the machine.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import TRACEBACK, error_lines
from tests.support.env import subprocess_env
from tests.support.processes import STS_MFA

pytestmark = [pytest.mark.e2e]

ADDRESS_SPACE = 1 << 30  # far above what sts-mfa needs (about 40 MB resident), far below "gigabytes"

# The command in argv[1:], run (same process, so wait4 measures it) under ADDRESS_SPACE.
# Forked from this small interpreter, not from the test process: Linux keeps a process's peak
# RSS across exec, so a child forked from a large pytest worker would report the worker's size.
LIMITED = f"""
import os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass
class Ran:
    returncode: int
    stderr: str
    seconds: float
    peak_mb: float


def assume_with(tmp_path: Path, mfa_process: str, timeout: str = "30") -> Ran:
    """`sts-mfa assume p` whose profile's mfa_process is `mfa_process`, measured from outside."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "config").write_text(
        "[profile src]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:1\n\n"
        "[profile p]\nrole_arn = arn:aws:iam::111111111111:role/Admin\nsource_profile = src\n"
        f"mfa_serial = arn:aws:iam::111111111111:mfa/alice\nmfa_process = {mfa_process}\n"
    )
    (home / "credentials").write_text(
        "[src]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    )
    env = subprocess_env(
        home,
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        STS_MFA_MFA_PROCESS_TIMEOUT=timeout,
    )
    err = tmp_path / "stderr"
    assert STS_MFA
    started = time.monotonic()
    with err.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", LIMITED, str(tmp_path / "peak"), STS_MFA, "assume", "p"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    status, _ = wait_with_usage(child, deadline=started + 60)
    return Ran(
        returncode=os.waitstatus_to_exitcode(status),
        stderr=err.read_text(errors="replace"),
        seconds=time.monotonic() - started,
        peak_mb=int((tmp_path / "peak").read_text()) / 1024,  # KiB on Linux
    )


def wait_with_usage(child: subprocess.Popen[bytes], deadline: float) -> tuple[int, resource.struct_rusage]:
    """The child's wait status and resource usage; killed (and the test failed) past `deadline`."""
    while time.monotonic() < deadline:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            return status, usage
        time.sleep(0.05)
    child.kill()
    child.wait()
    pytest.fail("sts-mfa was still running after 60 s: it waited on an mfa_process that never ends")


def gone(pid: int, within: float = 5.0) -> bool:
    """Whether `pid` has stopped running (exited, or a zombie nobody reaped yet)."""
    deadline = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def one_error_line(ran: Ran, exit_code: int) -> str:
    assert ran.returncode == exit_code, ran.stderr
    assert TRACEBACK not in ran.stderr, ran.stderr
    lines = error_lines(ran.stderr)
    assert len(lines) == 1, ran.stderr
    return lines[0]


def test_endless_output_fails_fast_in_bounded_memory(tmp_path: Path) -> None:
    ran = assume_with(tmp_path, "yes 123456")

    line = one_error_line(ran, 6)
    assert "profile p: mfa_process `yes 123456`" in line
    assert "more than" in line
    assert ran.seconds < 10, ran
    assert ran.peak_mb < 150, ran


# A command whose child prints nothing and leaves a grandchild that holds its stdout open;
# both write their pid to a file so the test can look for them afterwards.
LINGERING = textwrap.dedent(
    """
    import os, sys, time
    pids, leader_waits = sys.argv[1], sys.argv[2] == "wait"
    if os.fork() == 0:
        with open(pids + ".grandchild", "w") as f:
            f.write(str(os.getpid()))
        time.sleep(120)
        os._exit(0)
    with open(pids + ".child", "w") as f:
        f.write(str(os.getpid()))
    if leader_waits:
        time.sleep(120)
    """
)


@pytest.mark.parametrize("leader", ["wait", "exit"], ids=["child-sleeps-too", "child-exits-at-once"])
def test_a_timeout_leaves_nothing_of_the_mfa_process_running(tmp_path: Path, leader: str) -> None:
    script, pids = tmp_path / "lingering.py", tmp_path / "pid"
    script.write_text(LINGERING)
    command = shlex.join([sys.executable, str(script), str(pids), leader])
    try:
        ran = assume_with(tmp_path, command, timeout="1")

        assert ran.seconds < 10, ran
        for who in ("child", "grandchild"):
            pid = int(Path(f"{pids}.{who}").read_text())
            assert gone(pid), f"the mfa_process's {who} ({pid}) is still running"
        line = one_error_line(ran, 6)
        # The error names the command; a long one (a deep temporary directory, as on CI) is
        # clipped with an ellipsis, so only its start is sure to be shown whole.
        assert f"mfa_process `{command[:60]}" in line
        assert "did not print a code within 1 s" in line
    finally:
        for who in ("child", "grandchild"):
            pid_file = Path(f"{pids}.{who}")
            if pid_file.exists() and not gone(int(pid_file.read_text()), within=0):
                with contextlib.suppress(ProcessLookupError):  # ours, left by a broken tool
                    os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_what_a_failing_mfa_process_printed_is_never_shown(tmp_path: Path) -> None:
    ran = assume_with(tmp_path, f"{shlex.quote(sys.executable)} -c \"print('hun' + 'ter2')\"")

    line = one_error_line(ran, 6)
    assert "printed no code" in line
    assert "hunter2" not in ran.stderr
