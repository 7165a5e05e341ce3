"""Help and output that say the same thing the same way: env vars, exit codes, examples, ARNs, the sandbox.

Help is read through Click's runner (what `--help` prints), `status` in-process on the
sandbox at 80 columns, and `sandbox serve` as the console script, in both its modes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sts_mfa.cli import cli
from sts_mfa.cli.lazy import COMMANDS
from sts_mfa.state.document import load
from tests.support.cli import Cli
from tests.support.env import subprocess_env
from tests.support.processes import STS_MFA, run

READY = "# sts-mfa sandbox ready"


def loaded(name: str) -> click.Command:
    command = cli.get_command(click.Context(cli), name)  # type: ignore[attr-defined]
    assert command is not None
    return command


def every_command() -> list[tuple[str, click.Command]]:
    """Each command and subcommand, by its path (`sandbox serve`)."""
    found = []
    for name in COMMANDS:
        command = loaded(name)
        found.append((name, command))
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", each) for sub, each in command.commands.items()]
    return found


def option_help(command: click.Command, name: str) -> str:
    """The help text Click shows for option `name` of `command` (its env var included, if shown)."""
    ctx = click.Context(command, info_name=command.name)
    option = next(p for p in command.params if isinstance(p, click.Option) and name in p.opts)
    record = option.get_help_record(ctx)
    assert record is not None
    return " ".join(record[1].split())


# --- env vars, exit codes, examples ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [n for n, c in every_command() if any("--code" in getattr(p, "opts", []) for p in c.params)]
)
def test_every_code_option_shows_its_environment_variable(name: str) -> None:
    command = dict(every_command())[name]
    assert "[env: STS_MFA_CODE]" in option_help(command, "--code"), name


def test_list_buckets_takes_a_code_as_the_other_profile_commands_do() -> None:
    assert "[env: STS_MFA_CODE]" in option_help(loaded("list-buckets"), "--code")


def test_the_exit_code_list_says_audit_exits_3() -> None:
    help_text = CliRunner().invoke(cli, ["--help"], terminal_width=100).output
    three = re.search(r"^\s+3  (.*?)^\s+4  ", help_text[help_text.index("Exit codes:") :], re.M | re.S)
    assert three is not None, help_text
    assert "check-deny" in three[1] and "audit" in three[1]


@pytest.mark.parametrize(("name", "command"), every_command(), ids=[n for n, _ in every_command()])
def test_every_epilog_says_examples_in_one_word(name: str, command: click.Command) -> None:
    epilog = command.epilog or ""
    assert re.search(r"^Examples:$", epilog, re.M), f"{name}: no 'Examples:' heading"
    assert not re.search(r"\bExample:|\be\.g\.", epilog), f"{name}: another word for examples"


def test_status_says_it_takes_a_profile_in_the_command_list() -> None:
    help_text = CliRunner().invoke(cli, ["--help"], terminal_width=100).output
    line = next(line for line in help_text.splitlines() if line.strip().startswith("status "))
    assert "PROFILE" in line


# --- status at 80 columns -------------------------------------------------------------------------


@pytest.mark.sandbox
@pytest.mark.parametrize("columns", ["80", "200"])
def test_status_never_breaks_an_arn(software: Cli, columns: str) -> None:
    state = load(software.state)
    assert state is not None
    arns = [r.arn for r in state.resources() if r.arn]
    assert len(arns) == 4

    result = software("status", "--offline", env={"COLUMNS": columns})

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for arn in arns:
        assert any(arn in line for line in lines), f"{arn} is broken across lines:\n{result.stdout}"
    assert state.prefix in result.stdout and "user policy" in result.stdout


# --- the sandbox says how to stop it --------------------------------------------------------------


@pytest.mark.e2e
def test_sandbox_serve_in_the_foreground_ends_its_exports_saying_how_to_stop_it(tmp_path: Path) -> None:
    assert STS_MFA
    proc = subprocess.Popen(
        [STS_MFA, "sandbox", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=subprocess_env(tmp_path),
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            if line.strip() == READY:
                break
            lines.append(line.rstrip("\n"))
        assert lines and all(line.startswith("export ") for line in lines[:-1]), lines
        assert lines[-1].startswith("# ") and "Ctrl-C" in lines[-1] and f"kill {proc.pid}" in lines[-1]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


@pytest.mark.e2e
def test_sandbox_serve_in_the_background_ends_its_exports_with_the_command_that_stops_it(
    tmp_path: Path,
) -> None:
    assert STS_MFA
    env = subprocess_env(tmp_path)
    started = run([STS_MFA, "sandbox", "serve", "--background"], env, timeout=60)
    assert started.returncode == 0, started.stderr
    lines = started.stdout.splitlines()
    pid = int(next(line for line in lines if line.startswith("export STS_MFA_SANDBOX_PID=")).split("=")[1])
    try:
        assert all(line.startswith("export ") for line in lines[:-1]), lines
        comment = lines[-1]
        assert comment.startswith("# ") and "kill" in comment and "Ctrl-C" not in comment
        stop = comment[comment.index("kill") :].split("  ")[0]
        # The exports, then the command the comment gives: the server must be gone after it.
        done = run(["bash", "-c", f"{started.stdout}\n{stop}\nwait"], env, timeout=30)
        assert done.returncode == 0, (stop, done.stderr)
        for _ in range(100):
            if not os.path.exists(f"/proc/{pid}") or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                break
            subprocess.run(["sleep", "0.1"], check=True)
        else:
            pytest.fail(f"the sandbox ({pid}) still runs after `{stop}`")
    finally:
        if os.path.exists(f"/proc/{pid}"):
            os.kill(pid, signal.SIGKILL)
