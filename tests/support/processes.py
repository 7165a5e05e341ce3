"""`sts-mfa` in a process of its own: the installed console script, a stand-in that never waits, a probe.

`sts_mfa(env, ...)` runs the console script; `run(command, env)` any program, the same
way: output captured as text, a timeout, and stdin closed unless `input` is given (so a
prompt fails fast instead of hanging the test). The environment is the caller's, usually
`tests.support.env.subprocess_env()`. `run_probe` runs the entry point in a fresh
interpreter and says which of the heavy libraries (`WATCHED`: the AWS libraries, rich, the solver) it loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.env import subprocess_env


def _console_script() -> str | None:
    """`sts-mfa` on PATH, else the one next to this Python (the venv's, activated or not)."""
    beside = Path(sys.executable).parent / "sts-mfa"
    return shutil.which("sts-mfa") or (str(beside) if beside.exists() else None)


STS_MFA = _console_script()
BIN = str(Path(STS_MFA).parent) if STS_MFA else ""  # to put first on a subprocess's PATH


def run(
    command: list[str],
    env: dict[str, str],
    *,
    input: str | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def sts_mfa(
    env: dict[str, str], *args: str, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The installed console script with `args`, in `env`."""
    assert STS_MFA, "the sts-mfa console script is not installed (pip install -e '.[test]')"
    return run([STS_MFA, *args], env, input=input, timeout=timeout)


# `sts-mfa` in a process of its own, through the same Click group as the console script,
# but with a clock whose `sleep` returns at once and moves the clock on instead, by up to
# one 30 s step ahead of real time (the drift the sandbox, like AWS, accepts); any longer
# wait is slept. Locks, files and requests are as real as the console script's. Run it as
# `[sys.executable, "-c", NO_WAIT_STS_MFA, *args]`.
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

# The libraries a light path (help, completion, a cached answer) must never load.
WATCHED = ("boto3", "botocore", "moto", "rich", "cvc5", "keyring")

# Runs the console script's entry point; writes the watched modules that were
# loaded to $PROBE_OUT at exit, or just before `exec` replaces the process.
PROBE = f"""
import atexit, json, os, sys
out = os.environ.pop("PROBE_OUT")
watched = {WATCHED!r}
def report():
    with open(out, "w") as f:
        json.dump(sorted(m for m in watched if m in sys.modules), f)
atexit.register(report)
real_execvpe = os.execvpe
def execvpe(file, args, env):
    report()
    real_execvpe(file, args, env)
os.execvpe = execvpe
sys.argv[0] = "sts-mfa"
from sts_mfa.cli import main
main()
"""


def run_probe(
    tmp_path: Path, args: list[str], **extra_env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run `sts-mfa ARGS` through the probe; return the result and the watched modules it loaded."""
    out = tmp_path / "loaded.json"
    out.unlink(missing_ok=True)
    env = subprocess_env(tmp_path, PROBE_OUT=str(out), **extra_env)
    result = run([sys.executable, "-c", PROBE, *args], env, timeout=60, cwd=tmp_path)
    assert out.exists(), f"the probe did not report (exit {result.returncode}): {result.stderr}"
    return result, json.loads(out.read_text())


def parse_exports(lines: list[str]) -> dict[str, str]:
    """`sandbox serve`'s export lines as a dict (its comment lines, how to stop it, skipped)."""
    env = {}
    for line in lines:
        if line.startswith("# "):
            continue
        assert line.startswith("export "), line
        name, _, value = line[len("export ") :].partition("=")
        env[name] = value.strip("'")
    return env


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """End a helper started with `start_new_session=True` (a daemon, a display): its whole group."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
