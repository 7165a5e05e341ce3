"""The bench the bad-input table runs on: a case, its runners, and the usual preparations.

See `tests/reliability/test_rel_bad_inputs.py` for what every case is checked for,
and `docs/bad-inputs.md` for the table itself.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from click.testing import Result

from sts_mfa.sandbox import Faults, Sandbox
from sts_mfa.state.document import write_atomic
from tests.support.cli import Cli
from tests.support.sandbox import admin, is_clean, phone_codes, residue
from tests.support.state import write_document


@dataclass
class Bench:
    """What a case prepares: the CLI (its state file), the sandbox, and the run's env and stdin."""

    cli: Cli
    sb: Sandbox
    tmp: Path
    env: dict[str, str | None] = field(default_factory=dict)
    stdin: str | None = None
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    saved: dict[str, Any] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.cli.state.read_text())
        return data

    def write(self, data: dict[str, Any] | str) -> None:
        """A document (edited from what sts-mfa wrote) is signed as sts-mfa signs it, so the case
        tests what it edits, not the signature; text (damaged, hostile) is written as it is."""
        if isinstance(data, str):
            write_atomic(self.cli.state, data)
        else:
            write_document(self.cli.state, data)

    def run(self, *args: str) -> Result:
        result = self.cli(*args)
        assert result.exit_code == 0, (args, result.output)
        return result

    def path(self, name: str) -> Path:
        return self.tmp / name


Prepare = Callable[[Bench], None]
Check = Callable[[Bench, "Outcome"], None]
Runner = Literal["cli", "shell", "pty"]


@dataclass(frozen=True)
class Case:
    """One bad input. `runner` says how the command runs:

    - "cli": in-process through Click's runner (the default; shares the fake clock);
    - "shell": the installed program under bash, for what only a real process has (a
      closed stdout, a vanished pipe reader, a closed stdin): `shell` is the snippet,
      `{sts}` in it the command with this case's `--state`;
    - "pty": the program on a pseudo-terminal, for prompts; `keys` are (text to wait
      for, bytes to type) pairs.
    """

    id: str
    what: str  # the bad input, for people (and docs/bad-inputs.md)
    argv: list[str] | Callable[[Bench], list[str]]
    exit: int
    says: str  # a regex the error line (or, for exit 0, the output) must match
    prepare: tuple[Prepare, ...] = ()
    changes_state: bool = False  # changing the state file is this command's job
    check: Check | None = None
    bug: str | None = None  # an xfail reason: "BUG: ..."
    runner: Runner = "cli"
    shell: str | None = None
    keys: tuple[tuple[str, bytes], ...] = ()
    shows_credentials: bool = False  # the role session's keys are the output asked for

    def param(self) -> Any:
        marks = [pytest.mark.xfail(strict=True, reason=self.bug)] if self.bug else []
        return pytest.param(self, id=self.id, marks=marks)


@dataclass(frozen=True)
class Outcome:
    """What a run produced, whichever runner ran it (a pty has one stream: both fields hold it)."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout if self.stdout is self.stderr else self.stdout + self.stderr


# ----------------------------------------------------------------------------- runners

RUN_TIMEOUT = 60.0  # a hang (a FIFO opened for reading, a prompt nobody sees) fails the case


def program(b: Bench, case: Case) -> list[str]:
    return [sys.executable, "-m", "sts_mfa", "--state", str(b.cli.state), *argv(case, b)]


def argv(case: Case, b: Bench) -> list[str]:
    return case.argv(b) if callable(case.argv) else list(case.argv)


def environment(b: Bench) -> dict[str, str]:
    """The test's environment (fake or sandbox credentials, no machine settings) plus the case's."""
    env = dict(os.environ)
    for name, value in b.env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_case(case: Case, b: Bench) -> Outcome:
    if case.runner == "cli":
        result = b.cli(*argv(case, b), input=b.stdin, env=b.env)
        return Outcome(result.exit_code, result.stdout, result.stderr)
    if case.runner == "shell":
        assert case.shell is not None
        sts = shlex.join([sys.executable, "-m", "sts_mfa", "--state", str(b.cli.state)])
        done = subprocess.run(
            ["bash", "-c", case.shell.format(sts=sts, tmp=shlex.quote(str(b.tmp)))],
            input=b.stdin,
            capture_output=True,
            text=True,
            env=environment(b),
            timeout=RUN_TIMEOUT,
            check=False,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)
    on_terminal = {k: v for k, v in environment(b).items() if k != "STS_MFA_NO_PROMPT"}  # a person is there
    return run_on_pty(program(b, case), on_terminal, case.keys)


def waiting_for_input(pid: int, within: float = 2.0) -> None:
    """Wait until the child sleeps (in its read of the terminal) before a key is typed.

    A person types after the prompt has appeared; a test that types the instant the prompt's
    text arrives can land its Ctrl-C in the microseconds between that write and the read,
    where CPython only sets a flag and the read then blocks for good (a Python limitation,
    not the tool's: a second Ctrl-C ends it). Linux's /proc says when the child sleeps.
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return  # no /proc, or the child is gone: type now
        if stat.rsplit(")", 1)[1].split()[0] == "S":
            time.sleep(0.05)  # and a person's moment more
            return
        time.sleep(0.01)


def run_on_pty(command: list[str], env: dict[str, str], keys: tuple[tuple[str, bytes], ...]) -> Outcome:
    """Run `command` with a pseudo-terminal as its controlling terminal, typing `keys` when asked."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
        try:
            os.execvpe(command[0], command, env)
        finally:
            os._exit(127)
    seen = b""
    deadline = time.monotonic() + RUN_TIMEOUT
    pending = list(keys)
    try:
        while True:
            if pending and re.search(pending[0][0].encode(), seen):
                waiting_for_input(pid)
                os.write(fd, pending.pop(0)[1])
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError(f"no end after {RUN_TIMEOUT} s; the terminal showed: {seen[-2000:]!r}")
            ready, _, _ = select.select([fd], [], [], min(left, 0.2))
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    text = seen.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return Outcome(os.waitstatus_to_exitcode(status), text, text)


# ------------------------------------------------------------------- preparations


def software(b: Bench) -> None:
    """A finished software-token setup, five minutes old (nothing is still propagating)."""
    b.run("setup", "--software-token")
    b.cli.clock.advance(300)


def with_session(b: Bench) -> None:
    b.run("assume")


def phone_setup(b: Bench) -> None:
    """A finished phone-mode setup (QR code PNG, then two codes from the 'phone')."""
    first = b.cli("setup", "--qr-png", str(b.tmp / "qr.png"))
    assert first.exit_code == 2, first.output
    b.run("setup", "--codes", *phone_codes(b.sb, b.cli))


def expire_session(b: Bench) -> None:
    b.cli.clock.advance(3600 + 60)


def session_near_its_end(b: Bench) -> None:
    """A phone setup's hour-long session, typed in, now 10 minutes from its end."""
    import pyotp

    serial = b.state()["mfa_device"]["serial"]
    b.cli.clock.advance(60)  # past the window the enable codes used
    b.run("assume", "--code", pyotp.TOTP(b.sb.mfa_seed(serial)).at(b.cli.clock.now()))
    b.cli.clock.advance(3600 - 600)


def forge_session_lifetime(b: Bench) -> None:
    """The session expired at AWS an hour ago, but the state file says it is good for another hour."""
    b.cli.clock.advance(3600 + 600)
    data = b.state()
    data["session"]["expiration"] = b.cli.clock.now() + 3600
    b.write(data)


def edit(change: Callable[[dict[str, Any]], object]) -> Prepare:
    def prepare(b: Bench) -> None:
        data = b.state()
        change(data)
        b.write(data)

    return prepare


def text(content: str | Callable[[str], str]) -> Prepare:
    """Replace the state file's text (a function gets the current text)."""

    def prepare(b: Bench) -> None:
        current = b.cli.state.read_text() if b.cli.state.exists() else ""
        b.write(content(current) if callable(content) else content)

    return prepare


def raw_bytes(content: bytes) -> Prepare:
    def prepare(b: Bench) -> None:
        b.write("{}")
        b.cli.state.write_bytes(content)

    return prepare


def chmod(mode: int) -> Prepare:
    def prepare(b: Bench) -> None:
        b.cli.state.chmod(mode)

    return prepare


def iam(b: Bench) -> Any:
    return admin(b.sb, "iam")


def delete_role(b: Bench) -> None:
    data = b.state()
    iam(b).detach_role_policy(RoleName=data["role"]["name"], PolicyArn=data["policy"]["arn"])
    iam(b).delete_role(RoleName=data["role"]["name"])


def delete_key(b: Bench) -> None:
    data = b.state()
    iam(b).delete_access_key(UserName=data["user"]["name"], AccessKeyId=data["access_key"]["access_key_id"])


def delete_device(b: Bench) -> None:
    data = b.state()
    serial = data["mfa_device"]["serial"]
    iam(b).deactivate_mfa_device(UserName=data["user"]["name"], SerialNumber=serial)
    iam(b).delete_virtual_mfa_device(SerialNumber=serial)


def delete_user(b: Bench) -> None:
    delete_key(b)
    delete_device(b)
    data = b.state()
    iam(b).delete_user_policy(UserName=data["user"]["name"], PolicyName=data["user_policy"]["name"])
    iam(b).delete_user(UserName=data["user"]["name"])


def half_setup(b: Bench) -> None:
    """setup died after creating the MFA device (its answer lost): an unfinished setup."""
    b.sb.set_faults(Faults(fail={3: "after"}))
    assert b.cli("setup", "--software-token").exit_code == 1
    b.sb.set_faults(Faults())


def other_account(b: Bench) -> None:
    """The admin credentials now belong to the sandbox's second account."""
    b.env.update({k: v for k, v in b.sb.env(1).items() if k.startswith("AWS_")})


def no_credentials(b: Bench) -> None:
    b.env.update({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None})


def no_region(b: Bench) -> None:
    b.env.update({"AWS_REGION": None, "AWS_DEFAULT_REGION": None})


def stdin(value: str) -> Prepare:
    def prepare(b: Bench) -> None:
        b.stdin = value

    return prepare


def env(**values: str) -> Prepare:
    def prepare(b: Bench) -> None:
        b.env.update(values)

    return prepare


def role_profile(name: str = "prod", **extra: str) -> Prepare:
    """`[profile NAME]`, an MFA role profile of the AWS config (plus `extra` keys), its source's keys."""

    def prepare(b: Bench) -> None:
        config, credentials = b.path("config"), b.path("credentials")
        keys = "".join(f"{key} = {value}\n" for key, value in extra.items())
        section = f'"{name}"' if " " in name else name  # botocore splits the header as a shell would
        config.write_text(
            f"[profile src]\nregion = {b.sb.region}\nendpoint_url = {b.sb.endpoint}\n\n"
            f"[profile {section}]\nrole_arn = arn:aws:iam::111111111111:role/Admin\nsource_profile = src\n"
            f"mfa_serial = arn:aws:iam::111111111111:mfa/alice\n{keys}"
        )
        credentials.write_text("[src]\naws_access_key_id = AKIASRC\naws_secret_access_key = src-secret\n")
        b.env.update({"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)})

    return prepare


def used_code(b: Bench) -> None:
    """A typed code was just spent (AWS refused it, but it was sent): the same code again is a replay."""
    result = b.cli("assume", "--force", "--code", "000000")
    assert result.exit_code == 5, result.output


def immutable_directory(b: Bench) -> None:
    """The state file's directory is read-only even for root (`chattr +i`, undone afterwards)."""
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("chattr is not available")
    probe = subprocess.run([chattr, "+i", str(b.tmp)], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"chattr +i does not work here: {probe.stderr.strip()}")
    b.cleanup.append(lambda: subprocess.run([chattr, "-i", str(b.tmp)], check=True))


# -------------------------------------------------------------------------- checks


def no_assume_role_sent(b: Bench, _: Outcome) -> None:
    """Nothing reached AWS that could spend a code."""
    assert b.sb.count("AssumeRole") == 0


def nothing_created_in_the_other_account(b: Bench, _: Outcome) -> None:
    found = residue(b.sb, 1)
    assert is_clean(found), f"created in the second account: {found}"


def nothing_deleted(b: Bench, _: Outcome) -> None:
    assert residue(b.sb)["users"], "teardown deleted resources it could not record deleting"


def no_state_left_that_only_rm_can_remove(b: Bench, _: Outcome) -> None:
    """A setup that never reached AWS either leaves no state file, or one a teardown can clear."""
    if not b.cli.state.exists():
        return
    again = b.cli("--endpoint-url", "http://127.0.0.1:1", "teardown")
    assert again.exit_code == 0, f"the state file can only be removed by hand: {again.output}"


def state_file_kept(b: Bench, _: Outcome) -> None:
    assert b.cli.state.exists()
