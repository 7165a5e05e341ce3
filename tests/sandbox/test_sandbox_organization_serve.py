"""`sts-mfa sandbox serve --organization`, as a person would use it: a shell, eval, the AWS CLI.

The organization the flags ask for is there (the real AWS CLI pages ListAccounts across the
sandbox's empty first page), `--mfa-access-role` keeps long-term keys out of the member
accounts (the audit says so, per account), and the flags that belong to `--organization` are
refused without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.env import subprocess_env
from tests.support.processes import BIN

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

SCRIPT = """
set -u
eval "$(sts-mfa sandbox serve --background --organization 3 --roles-per-account 2 --mfa-access-role)"
trap 'kill "$STS_MFA_SANDBOX_PID"' EXIT
aws organizations list-accounts --query 'Accounts[].Name' --output json > accounts.json
sts-mfa audit --organization --json > audit.json
echo "audit exit $?"
"""


def test_an_organization_from_the_command_line(tmp_path: Path) -> None:
    env = subprocess_env(
        tmp_path,
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        STS_MFA_SANDBOX_LOG=str(tmp_path / "sandbox.log"),
    )
    ran = subprocess.run(
        ["bash", "-c", SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "audit exit 3" in ran.stdout, ran.stderr
    names = json.loads((tmp_path / "accounts.json").read_text())
    assert names == ["sandbox-management", "member-001", "member-002", "member-003"]
    audit = json.loads((tmp_path / "audit.json").read_text())
    statuses = [(a["name"], a["status"]) for a in audit["accounts"]]
    assert statuses == [("sandbox-management", "read")] + [(f"member-00{n}", "unreadable") for n in (1, 2, 3)]
    assert all("AccessDenied" in a["note"] for a in audit["accounts"][1:])  # no MFA, no way in
    log = (tmp_path / "sandbox.log").read_text()  # the server's own account of what it made
    assert "3 member accounts, each with OrganizationAccountAccessRole (AdministratorAccess, trusting " in log
    assert "the management account with MFA) and 2 roles requiring MFA (mfa-role-0001, ...)" in log


@pytest.mark.parametrize("flag", [["--roles-per-account", "3"], ["--mfa-access-role"]])
def test_organization_flags_go_with_organization(tmp_path: Path, flag: list[str]) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "sts_mfa", "sandbox", "serve", "--background", *flag],
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 2
    assert f"{flag[0]} goes with --organization" in ran.stderr
