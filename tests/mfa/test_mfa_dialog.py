"""The desktop prompt: the AWS CLI runs `credential_process` with no terminal, and a dialog asks for the code.

For real: Xvfb (a display of the test's own), zenity (the dialog sts-mfa opens), xdotool (the
person, typing into it), the AWS CLI started in a session of its own (`setsid`: no controlling
terminal) with stdin closed, a strict Sandbox on the real clock. The dialog's text is read
from the zenity process's own command line: it names the device and the profile.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from sts_mfa.errors import UsageError
from sts_mfa.mfa import dialog
from sts_mfa.sandbox import Sandbox
from tests.support.desktop import Desktop
from tests.support.example_profiles import AWS, TYPED, Alice, make_alice
from tests.support.processes import STS_MFA
from tests.support.system_tools import tool

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def desktop() -> Iterator[Desktop]:
    with Desktop() as made:
        yield made


@pytest.fixture
def alice(running: Sandbox, tmp_path: Path, desktop: Desktop) -> Alice:
    """The example identity; a person at a desktop (no STS_MFA_NO_PROMPT), and no terminal."""
    made = make_alice(running, tmp_path)
    made.env.pop("STS_MFA_NO_PROMPT", None)
    made.env.update(desktop.env())
    return made


def aws_without_a_terminal(alice: Alice, profile: str, **extra: str) -> subprocess.Popen[str]:
    """`aws --profile PROFILE sts get-caller-identity` under setsid: no controlling terminal, stdin closed."""
    return subprocess.Popen(
        [
            tool("setsid"),
            "--wait",
            AWS,
            "--profile",
            profile,
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ],
        env={**alice.env, **extra},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def code_now(alice: Alice) -> str:
    return str(pyotp.TOTP(alice.identity.seed).now())


def test_the_aws_cli_with_no_terminal_gets_a_dialog_and_the_code_typed_into_it(
    alice: Alice, desktop: Desktop
) -> None:
    cli = aws_without_a_terminal(alice, f"cp-{TYPED}")
    shown = desktop.wait_for_dialog()
    assert f"MFA code for {alice.identity.serial} (profile {TYPED})" in shown.text
    desktop.answer(code_now(alice))
    out, err = cli.communicate(timeout=60)

    assert cli.returncode == 0, err
    assert "/Admin/" in json.loads(out)["Arn"]
    assert alice.sb.count("GetSessionToken", 200) == 1
    assert desktop.dialogs() == []


def test_cancel_ends_it_at_once_with_exit_2_and_nothing_sent(alice: Alice, desktop: Desktop) -> None:
    assert STS_MFA
    sts = subprocess.Popen(
        [tool("setsid"), "--wait", STS_MFA, "assume", TYPED, "--format", "process"],
        env=alice.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    desktop.wait_for_dialog()
    cancelled = time.monotonic()
    desktop.cancel()
    out, err = sts.communicate(timeout=30)

    assert sts.returncode == 2, err
    assert time.monotonic() - cancelled < 5
    assert err.strip().splitlines() == [
        "sts-mfa: error: the MFA code dialog (zenity) was cancelled: no MFA code"
    ]
    assert out == "" and alice.sb.requests == []


def test_only_six_digits_are_taken_the_dialog_asks_again_saying_why(alice: Alice, desktop: Desktop) -> None:
    cli = aws_without_a_terminal(alice, f"cp-{TYPED}")
    first = desktop.wait_for_dialog()
    desktop.answer("12ab56")
    second = desktop.wait_for_dialog(after=first.pid)
    assert "has other characters" in second.text and alice.identity.serial in second.text
    desktop.answer(code_now(alice))
    _, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err
    assert alice.sb.count("GetSessionToken") == 1  # the bad one never reached AWS


@pytest.mark.parametrize("setting", ["none", "terminal"])
def test_none_and_terminal_never_open_a_window(alice: Alice, desktop: Desktop, setting: str) -> None:
    assert STS_MFA
    started = time.monotonic()
    done = subprocess.run(
        [tool("setsid"), "--wait", STS_MFA, "assume", TYPED],
        env={**alice.env, "STS_MFA_PROMPT": setting},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert f"run `sts-mfa assume {TYPED}` in a terminal" in done.stderr
    assert time.monotonic() - started < 5 and desktop.dialogs() == []


def test_a_dialog_named_in_the_profile_is_used_even_with_a_terminal(alice: Alice, desktop: Desktop) -> None:
    """`mfa_prompt = zenity`: the dialog, though a pseudo-terminal is the process's controlling terminal."""
    import os
    import pty

    alice.add_config(
        f"\n[profile windowed]\nrole_arn = {alice.identity.role_arns['sandbox-readonly']}\n"
        f"source_profile = sandbox-alice\nmfa_serial = {alice.identity.serial}\n"
        f"mfa_prompt = zenity\n{alice.where}"
    )
    assert STS_MFA
    pid, terminal = pty.fork()
    if pid == 0:
        os.execve(STS_MFA, [STS_MFA, "assume", "windowed", "--format", "json"], alice.env)
    shown: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(terminal, shown), daemon=True)
    reader.start()
    try:
        desktop.wait_for_dialog()
        desktop.answer(code_now(alice))
    finally:
        _, status = os.waitpid(pid, 0)
        reader.join(10)
        os.close(terminal)
    text = b"".join(shown).decode()
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "MFA code for" not in text  # nothing was asked on the terminal
    assert '"AccessKeyId"' in text


def _drain(fd: int, into: list[bytes]) -> None:
    import os

    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        into.append(chunk)


# --- choosing: the variable, the profile, what the desktop offers --------------------------------


def test_the_variable_wins_over_the_profile_and_junk_is_refused() -> None:
    assert dialog.choice("zenity", {"STS_MFA_PROMPT": "none"}) == "none"
    assert dialog.choice("kdialog", {}) == "kdialog"
    assert dialog.choice(None, {"STS_MFA_PROMPT": " "}) is None
    with pytest.raises(UsageError, match="STS_MFA_PROMPT must be one of terminal, zenity, kdialog"):
        dialog.choice(None, {"STS_MFA_PROMPT": "gui"})


def test_what_the_desktop_offers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """zenity before kdialog, only with a display; osascript on macOS, display or not."""
    for name in ("kdialog", "osascript"):
        program = tmp_path / name
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert dialog.offered({}) is None
    assert dialog.offered({"WAYLAND_DISPLAY": "wayland-0"}) == "kdialog"
    assert dialog.offered({}, platform="darwin") == "osascript"
    (tmp_path / "zenity").write_text("#!/bin/sh\n")
    (tmp_path / "zenity").chmod(0o755)
    assert dialog.offered({"DISPLAY": ":1"}) == "zenity"
