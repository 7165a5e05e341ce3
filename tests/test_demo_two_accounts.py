"""`sts-mfa demo --two-accounts`: the story across the sandbox's two accounts, in one process.

It runs in-process on a clock a little behind real time (see tests/support/cli.py),
so the demo's TOTP wait moves the clock instead of taking half a minute; the
demo's own sandbox checks codes against the real clock, as AWS would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import SETUP_BEHIND, Cli
from tests.support.clock import ShiftedClock
from tests.support.env import exactly

pytestmark = pytest.mark.sandbox


def test_the_user_in_one_account_the_role_in_the_other(tmp_path: Path) -> None:
    demo = Cli(state=tmp_path / "unused.json", clock=ShiftedClock(-SETUP_BEHIND), app_kwargs={})
    with exactly({"HOME": str(tmp_path)}):
        result = demo("demo", "--two-accounts", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["accounts"] == {"user": "111111111111", "role": "222222222222"}
    assert summary["check_deny_proven"] is True
    assert ":222222222222:role/" in summary["role_arn"]
    assert summary["assumed_role_arn"].startswith("arn:aws:sts::222222222222:assumed-role/")
    assert sorted(summary["buckets"]) == ["logs-222222222222", "reports-222222222222"]
    assert summary["resources_deleted"] == 6  # as many as setup made
    assert "is not authorized to perform: sts:AssumeRole" in summary["denial_message"]
    assert summary["requests"] <= 34  # 30, plus teardown reading the role side's marks and account


def test_two_accounts_is_for_the_sandbox(tmp_path: Path) -> None:
    demo = Cli(state=tmp_path / "unused.json", clock=ShiftedClock(), app_kwargs={})
    result = demo("demo", "--two-accounts", "--aws")
    assert result.exit_code == 2
