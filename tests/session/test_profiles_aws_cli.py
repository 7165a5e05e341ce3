"""Profiles served to the real AWS CLI through `credential_process`, as people will use them.

A strict Sandbox on the real clock holds the identity `sandbox serve --example-profiles`
makes (alice, her MFA device, roles Admin and ReadOnly that need MFA); its files are
written by the same code. The AWS config gets `credential_process` profiles that run
the installed `sts-mfa assume PROFILE --format process`, and the AWS CLI (`aws` from
PyPI) is the client: alone, eight at once, in a pseudo-terminal with its stdin and
stderr captured, and in a session with no terminal at all.

The device's codes come from the example's `mfa_process` (the sandbox's own
`python -m sts_mfa.sandbox.totp_code SEED`), behind a small wrapper that logs each
call, so the number of codes is counted by the "phone", not by sts-mfa.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from sts_mfa.sandbox import Sandbox
from tests.support.example_profiles import AWS, TYPED, Alice, make_alice, secrets_of
from tests.support.processes import STS_MFA, run, run_probe

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox(sample_buckets=("reports",)) as sandbox:
        yield sandbox


@pytest.fixture
def alice(running: Sandbox, tmp_path: Path) -> Alice:
    return make_alice(running, tmp_path)


# --- the acceptance: two profiles, one code -------------------------------------------------------


def test_two_profiles_through_credential_process_cost_one_code(alice: Alice) -> None:
    assert alice.caller("cp-sandbox-readonly") == "ReadOnly"
    assert alice.caller("cp-sandbox-admin") == "Admin"

    assert alice.codes_given() == 1
    assert alice.sb.count("GetSessionToken", 200) == 1
    assert alice.sb.count("AssumeRole", 200) == 2
    assert alice.sb.count("AssumeRole") == 2  # none refused
    listed = alice.aws("cp-sandbox-readonly", "s3api", "list-buckets")
    assert listed.returncode == 0, listed.stderr
    assert [b["Name"] for b in json.loads(listed.stdout)["Buckets"]] == ["reports-111111111111"]
    assert alice.sb.count("AssumeRole") == 2  # the cached session served the third call


def test_eight_parallel_callers_on_a_cold_cache_make_one_assume_role(alice: Alice) -> None:
    """Terraform's parallel providers: one code, one GetSessionToken, one AssumeRole between them."""
    callers = [alice.popen_aws("cp-sandbox-readonly") for _ in range(8)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in callers]

    for code, out, err in results:
        assert code == 0, err
        assert "/ReadOnly/" in json.loads(out)["Arn"]
    assert alice.codes_given() == 1
    assert alice.sb.count("GetSessionToken") == 1
    assert alice.sb.count("AssumeRole") == 1
    for _, out, err in results:
        for secret in secrets_of(alice)[:2]:  # alice's key and seed: never printed
            assert secret not in out and secret not in err


def test_the_cached_answer_for_a_profile_loads_no_aws_library(alice: Alice, tmp_path: Path) -> None:
    assert alice.caller("cp-sandbox-readonly") == "ReadOnly"
    extra = {k: alice.env[k] for k in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "STS_MFA_CACHE_DIR")}
    alice.sb.reset_log()

    result, loaded = run_probe(tmp_path, ["assume", "sandbox-readonly", "--format", "process"], **extra)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1
    assert not set(loaded) & {"boto3", "botocore", "moto"}, loaded
    assert alice.sb.requests == []


@pytest.mark.slow
def test_parallel_callers_of_two_profiles_without_mfa_sessions_never_share_a_step(alice: Alice) -> None:
    """Each role directly with a code: two codes, on two different time-steps, none refused."""
    env = {**alice.env, "STS_MFA_NO_MFA_SESSION": "1"}
    callers = [alice.popen_aws(f"cp-sandbox-{kind}", env) for kind in ("admin", "readonly") * 4]
    results = [(p.wait(timeout=150), *p.communicate()) for p in callers]

    for code, _, err in results:
        assert code == 0, err
    assert alice.codes_given() == 2
    assumes = [r for r in alice.sb.requests if r.action == "AssumeRole"]
    assert [r.status for r in assumes] == [200, 200]  # AWS saw no step twice
    assert abs(assumes[1].time - assumes[0].time) > 0  # and the second came in a later window
    assert int(assumes[1].time // 30) != int(assumes[0].time // 30)


# --- a person at a terminal, and nobody -------------------------------------------------------


def read_until(fd: int, wanted: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the terminal closed: everyone has exited
                break
            if not chunk:
                break
            seen += chunk
    return seen


def wait_or_kill(pid: int, timeout: float) -> int:
    """The child's wait status; after `timeout`, its whole session is killed (a test never hangs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.1)
    os.killpg(pid, 9)  # pty.fork made the child a session (and group) leader
    return os.waitpid(pid, 0)[1]


def test_the_prompt_reaches_the_terminal_when_stdin_and_stderr_are_captured(
    alice: Alice, tmp_path: Path
) -> None:
    """The AWS CLI runs credential_process with stdin and stderr its own; the code is asked on /dev/tty."""
    out, err = tmp_path / "out.json", tmp_path / "err.txt"
    env = {k: v for k, v in alice.env.items() if k != "STS_MFA_NO_PROMPT"}
    # Not `exec`: the shell keeps the terminal open, as a person's shell does (with no process
    # holding it, the terminal would read as closed until sts-mfa opens /dev/tty).
    line = (
        f"{AWS} --profile cp-{TYPED} sts get-caller-identity --output json </dev/null >{out} 2>{err}; exit $?"
    )
    pid, terminal = pty.fork()
    if pid == 0:  # the child: a session whose controlling terminal is the pty
        os.execve("/bin/sh", ["sh", "-c", line], env)
    try:
        shown = read_until(terminal, b"MFA code for", 60)
        assert b"MFA code for" in shown, shown
        assert alice.identity.serial.encode() in read_until(terminal, b": ", 5) + shown
        os.write(terminal, pyotp.TOTP(alice.identity.seed).now().encode() + b"\n")
        read_until(terminal, b"\0", 60)  # until the terminal closes
    finally:
        status = wait_or_kill(pid, 60)
        os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0, err.read_text()
    assert "/Admin/" in json.loads(out.read_text())["Arn"]
    assert "MFA code" not in err.read_text()  # asked on the terminal, not on the captured stderr
    assert alice.sb.count("GetSessionToken", 200) == 1


def no_terminal(command: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """`command` in a session of its own: no controlling terminal, as under cron or CI."""
    started = time.monotonic()
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    )
    return done, time.monotonic() - started


def test_with_no_terminal_it_fails_at_once_with_the_command_to_run(alice: Alice) -> None:
    env = {k: v for k, v in alice.env.items() if k != "STS_MFA_NO_PROMPT"}
    assert STS_MFA
    done, seconds = no_terminal([STS_MFA, "assume", TYPED, "--format", "process"], env)

    assert done.returncode == 2, done.stderr
    assert f"run `sts-mfa assume {TYPED}` in a terminal" in done.stderr
    assert done.stdout == ""
    assert seconds < 1.5, seconds  # a start-up, not a wait (about 0.5 s on an idle 2-core machine)
    via_cli, _ = no_terminal([AWS, "--profile", f"cp-{TYPED}", "sts", "get-caller-identity"], env)
    assert via_cli.returncode != 0
    assert f"sts-mfa assume {TYPED}" in via_cli.stderr  # the AWS CLI passes our line on
    assert alice.sb.count("GetSessionToken") == alice.sb.count("AssumeRole") == 0


def test_an_mfa_process_stderr_reaches_the_person(alice: Alice) -> None:
    """A touch-your-key message from the mfa_process is passed through; its failure is one line."""
    config = alice.files.config
    config.write_text(
        config.read_text()
        + "\n[profile touchy]\n"
        + f"role_arn = {alice.identity.role_arns['sandbox-admin']}\nsource_profile = sandbox-alice\n"
        + f"mfa_serial = {alice.identity.serial}\nendpoint_url = {alice.sb.endpoint}\n"
        + "mfa_process = sh -c 'echo \"touch your security key\" >&2; exit 1'\n"
    )
    assert STS_MFA
    done = run([STS_MFA, "assume", "touchy"], alice.env)

    assert done.returncode == 6, done.stderr
    assert "touch your security key" in done.stderr
    assert (
        done.stderr.strip().splitlines()[-1] == "sts-mfa: error: profile touchy: mfa_process "
        "`sh -c 'echo \"touch your security key\" >&2; exit 1'` failed (exit 1)"
    )


def test_exec_with_a_profile_gives_the_child_the_role_and_the_endpoint(alice: Alice) -> None:
    """The child's environment has no AWS config: the session, the endpoint and the region come with it."""
    assert STS_MFA
    done = run([STS_MFA, "exec", "sandbox-readonly", "--", AWS, "sts", "get-caller-identity"], alice.env)
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    assert "/ReadOnly/" in doc["Arn"]
    for secret in secrets_of(alice):
        assert secret not in done.stdout + done.stderr
