"""Secrets stay where they belong: in the state file, and on stdout only when asked for.

The user's secret access key, the software token's seed, and the role session's
secret key and token never appear in what `setup`, `status`, `check-deny`,
`list-buckets` or `teardown` print, with or without `--json` or `-v`. `assume`
prints them only in the formats whose purpose is to hand them over (json, env,
process); that positive control also proves the scan would catch a leak. The
phone-mode QR code PNG (it encodes the seed) is private and gone once the device
is enabled. The bad-input table (`test_rel_bad_inputs.py`) scans its error messages too.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

import pyotp
import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.state.document import load
from tests.support.cli import TRACEBACK, Cli
from tests.support.leaks import leaked, state_secrets

if TYPE_CHECKING:
    from tests.support.tally import Tally

pytestmark = pytest.mark.reliability

TEXT_STORY = [
    ["setup", "--software-token"],
    ["status"],
    ["status", "--offline"],
    ["check-deny"],
    ["assume"],
    ["-v", "list-buckets"],
    ["list-buckets"],
    ["teardown", "--dry-run"],
    ["teardown", "--sweep", "--dry-run"],
    ["teardown"],
]
JSON_STORY = [
    ["--json", "setup", "--software-token"],
    ["--json", "status"],
    ["status", "--offline", "--json"],
    ["check-deny", "--json"],
    ["assume", "--format", "text"],  # `assume --json` means "print the credentials": see below
    ["-v", "--json", "list-buckets"],
    ["--json", "teardown", "--dry-run"],
    ["teardown", "--sweep", "--dry-run", "--json"],
    ["--json", "teardown"],
]


@pytest.mark.parametrize("story", [TEXT_STORY, JSON_STORY], ids=["text", "json"])
def test_no_secret_in_any_output_of_the_story(
    srun: Cli, sb: Sandbox, tally: Tally, story: list[list[str]]
) -> None:
    """Every step's stdout and stderr, scanned for every secret the state file has held so far."""
    secrets: dict[str, str] = {}
    for args in story:
        result = srun(*args)
        assert result.exit_code == 0, (args, result.output)
        secrets.update(state_secrets(srun.state))
        found = leaked(result.output, secrets)
        tally.secrets_scanned(" ".join(args), found)
        tally.output(" ".join(args), result.output)
        assert found == [], f"{args} printed {found}"
    assert {"seed", "user secret key", "session secret key", "session token"} <= set(secrets)


@pytest.mark.parametrize("fmt", ["json", "env", "process"])
def test_assume_prints_the_session_secrets_only_when_asked_to(
    srun: Cli, sb: Sandbox, tally: Tally, fmt: str
) -> None:
    """The formats that exist to hand over credentials do contain them (and nothing else secret)."""
    assert srun("setup", "--software-token").exit_code == 0
    result = srun("assume", "--format", fmt)
    assert result.exit_code == 0, result.output
    secrets = state_secrets(srun.state)
    assert leaked(result.stdout, secrets) == ["session secret key", "session token"]
    assert leaked(result.stderr, secrets) == []
    tally.secrets_scanned(f"assume --format {fmt} (stderr)", leaked(result.stderr, secrets))


def test_the_qr_png_is_private_and_removed_once_the_device_is_enabled(
    srun: Cli, sb: Sandbox, tally: Tally
) -> None:
    """Phone mode without a terminal: the PNG is written with mode 0600 even under umask 000, the
    seed is printed nowhere; `setup --codes` enables the device, removes the PNG, and drops the
    seed from the state file (the phone holds it now)."""
    png = srun.state.parent / "qr.png"
    old = os.umask(0)
    try:
        first = srun("setup", "--qr-png", str(png))
    finally:
        os.umask(old)
    assert first.exit_code == 2, first.output  # no terminal to ask for the codes: finish with --codes
    assert TRACEBACK not in first.output
    assert png.exists() and stat.S_IMODE(png.stat().st_mode) == 0o600
    state = load(srun.state)
    assert state is not None and state.mfa_device is not None and state.mfa_device.serial is not None
    seed = sb.mfa_seed(state.mfa_device.serial)
    found = leaked(first.output, {"seed": seed, **state_secrets(srun.state)})
    tally.secrets_scanned("setup --qr-png", found)
    assert found == []

    totp = pyotp.TOTP(seed)
    now = srun.clock.now()
    second = srun("setup", "--codes", totp.at(now - 30), totp.at(now))
    assert second.exit_code == 0, second.output
    assert not png.exists(), "the PNG holding the seed survived the enabling"
    assert str(png) in second.stderr  # and the user is told it was removed
    after = load(srun.state)
    assert after is not None and after.seed is None and after.qr_png is None
    found = leaked(second.output, {"seed": seed, **state_secrets(srun.state)})
    tally.secrets_scanned("setup --codes", found)
    assert found == []
    assert srun("teardown").exit_code == 0
