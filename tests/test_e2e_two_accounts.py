"""End to end across two accounts: the installed console script, one process per step.

The sandbox runs in this process (so a test can read the device seed, as a phone
scans it); every step is a separate `sts-mfa` process, as in a shell script.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from sts_mfa.sandbox import Sandbox
from tests.support.env import subprocess_env
from tests.support.processes import STS_MFA, sts_mfa
from tests.support.sandbox import NOTHING, leftovers

pytestmark = pytest.mark.e2e
RESOURCE = "222222222222"


def test_the_five_steps_as_separate_processes_across_two_accounts(tmp_path: Path) -> None:
    """Installed console script, one process per step, real clock; a phone's codes, so no TOTP wait."""
    assert STS_MFA
    with Sandbox(sample_buckets=("reports", "logs")) as sb:
        creds = tmp_path / "credentials"
        other = sb.accounts[1]
        creds.write_text(
            f"[resource]\naws_access_key_id = {other.access_key_id}\n"
            f"aws_secret_access_key = {other.secret_access_key}\n"
        )
        env = subprocess_env(
            tmp_path,
            **sb.env(0),
            STS_MFA_STATE=str(tmp_path / "state.json"),
            AWS_SHARED_CREDENTIALS_FILE=str(creds),
        )

        def step(*args: str) -> subprocess.CompletedProcess[str]:
            return sts_mfa(env, *args, timeout=60)

        first = step("setup", "--role-profile", "resource", "--qr-png", str(tmp_path / "qr.png"))
        assert first.returncode == 2, first.stderr  # no terminal: the device waits for two codes
        state: dict[str, Any] = json.loads((tmp_path / "state.json").read_text())
        phone = pyotp.TOTP(sb.mfa_seed(state["mfa_device"]["serial"]))  # what the phone scanned
        now = time.time()
        done = step("setup", "--role-profile", "resource", "--codes", phone.at(now - 30), phone.at(now))
        assert done.returncode == 0, done.stderr
        assert step("check-deny").returncode == 0
        refused_without = [r for r in sb.requests if r.action == "AssumeRole" and r.status == 403]
        assert refused_without, "AssumeRole without MFA must have been refused"
        assert step("assume", "--code", phone.at(now + 30)).returncode == 0
        listing = step("list-buckets", "--json")
        assert listing.returncode == 0, listing.stderr
        assert sorted(b["name"] for b in json.loads(listing.stdout)["buckets"]) == [
            f"logs-{RESOURCE}",
            f"reports-{RESOURCE}",
        ]
        assert step("teardown").returncode == 0
        assert leftovers(sb, 0) == NOTHING and leftovers(sb, 1) == NOTHING
