"""Counts that add up: what teardown, sweep and the demo say they deleted is what setup made.

Setup makes six resources: the user, its access key, the MFA device, the user's inline
policy, the managed policy and the role. Every count printed afterwards (text and
--json, teardown, teardown --sweep, the demo's steps and summary) must say six, and
name the inline policy as setup does. In-process against the strict sandbox.
"""

from __future__ import annotations

import json

import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.state.document import load
from tests.support.cli import Cli
from tests.support.sandbox import is_clean, residue

pytestmark = pytest.mark.sandbox

MADE_BY_SETUP = 6


def made(cli: Cli) -> list[str]:
    """What the finished setup's state file records: one entry per resource."""
    state = load(cli.state)
    assert state is not None
    return [r.kind for r in state.resources()]


def test_setup_makes_six_resources(software: Cli) -> None:
    assert sorted(made(software)) == sorted(
        ["user", "access_key", "mfa_device", "user_policy", "policy", "role"]
    )


def test_teardown_counts_the_users_inline_policy(software: Cli, sb: Sandbox) -> None:
    state = load(software.state)
    assert state is not None and state.user is not None and state.user_policy is not None

    doc = software.json("teardown")

    assert len(doc["deleted"]) == MADE_BY_SETUP, doc["deleted"]
    assert f"{state.user.name}/{state.user_policy.name}" in doc["deleted"]
    assert is_clean(residue(sb))


def test_teardown_text_says_six(software: Cli) -> None:
    assert len(made(software)) == MADE_BY_SETUP
    result = software("teardown")
    assert result.exit_code == 0, result.output
    assert f"Removed {MADE_BY_SETUP} resource(s)." in result.stdout


def test_dry_run_lists_six(software: Cli) -> None:
    doc = software.json("teardown", "--dry-run")
    assert len(doc["found"]) == MADE_BY_SETUP


def test_a_sweep_counts_six_too(software: Cli, sb: Sandbox) -> None:
    software.state.unlink()  # the state file is lost: the sweep finds everything by its marks

    doc = software.json("teardown", "--sweep")

    assert len(doc["deleted"]) == MADE_BY_SETUP, doc["deleted"]
    assert is_clean(residue(sb))


def test_the_demo_says_six_made_and_six_deleted(srun: Cli) -> None:
    result = srun("demo", "--aws", "--json")  # against the sandbox the test runs
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    steps = {step["name"]: step["outcome"] for step in summary["steps"]}

    assert steps["setup"] == f"{MADE_BY_SETUP} resources"
    assert steps["teardown"] == f"{MADE_BY_SETUP} deleted"
    assert summary["resources_deleted"] == MADE_BY_SETUP
