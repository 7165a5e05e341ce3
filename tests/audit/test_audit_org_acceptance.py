"""The acceptance of `audit --organization`: 20 accounts x 50 roles, one MFA code for all of them.

A well-protected organization on a strict Sandbox (real clock): the identity account manages
20 member accounts of 50 roles that require MFA each, and every member's
`OrganizationAccountAccessRole` requires MFA too (its admins changed its trust through
IAM's API), so only an MFA session gets in. Its admins also planted roles anyone in the
management account can assume without MFA in three accounts, and deleted the access role of
a fourth. The auditor is `sandbox-admin`, the MFA role profile `sandbox serve
--example-profiles` writes (alice's device; its `mfa_process` is a phone that logs each code
it gives), run as the installed `sts-mfa` in a process of its own with no terminal.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sts_mfa.sandbox import Faults, Sandbox
from sts_mfa.sandbox.fixtures.examples import create_identity
from sts_mfa.sandbox.fixtures.organization import Organization, create_organization
from tests.support.organization import plant_open_role, protect_access_role, remove_access_role
from tests.support.processes import STS_MFA
from tests.support.sandbox import phone_profiles

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

MEMBERS, ROLES = 20, 50


@dataclass
class Acceptance:
    sb: Sandbox
    org: Organization
    env: dict[str, str]
    phone_log: Path
    planted: dict[str, str]  # role ARN -> its account
    broken: str

    def codes_given(self) -> int:
        return len(self.phone_log.read_text().splitlines()) if self.phone_log.exists() else 0

    def audit(self, *args: str) -> tuple[int, dict[str, Any], str]:
        assert STS_MFA
        command = [STS_MFA, "--profile", "sandbox-admin", "audit", "--organization", "--json", *args]
        ran = subprocess.run(
            command,
            check=False,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in ran.stderr, ran.stderr
        return ran.returncode, json.loads(ran.stdout), ran.stderr


@pytest.fixture(scope="module")
def acceptance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Acceptance]:
    tmp = tmp_path_factory.mktemp("org")
    with Sandbox(sample_buckets=()) as sb:
        identity = create_identity(sb)
        org = create_organization(sb, members=MEMBERS, roles_per_account=ROLES)
        members = [m.account_id for m in org.members]
        planted = {plant_open_role(sb, org, account, "legacy-deploy"): account for account in members[3:6]}
        broken = members[11]
        remove_access_role(sb, org, broken)
        for account in members:
            if account != broken:
                protect_access_role(sb, org, account)
        profiles = phone_profiles(sb, identity, tmp)
        yield Acceptance(sb, org, profiles.env, profiles.phone_log, planted, broken)


def _verdicts(document: dict[str, Any]) -> dict[str, str]:
    return {role["arn"]: role["verdict"] for role in document["roles"]}


def _statuses(document: dict[str, Any]) -> dict[str, str]:
    return {account["id"]: account["status"] for account in document["accounts"]}


def test_the_organization_with_one_code(acceptance: Acceptance) -> None:
    sb = acceptance.sb
    sb.reset_log()
    code, document, stderr = acceptance.audit("-v")

    assert code == 3, stderr
    opened = {r["arn"]: r["account"] for r in document["roles"] if r["verdict"] == "open"}
    assert opened == acceptance.planted  # the open roles, each with its account
    statuses = _statuses(document)
    assert statuses.pop(acceptance.broken) == "unreadable"
    assert set(statuses.values()) == {"read"} and len(statuses) == MEMBERS
    broken = next(a for a in document["accounts"] if a["id"] == acceptance.broken)
    assert "AssumeRole" in broken["note"] and "AccessDenied" in broken["note"]
    summary = document["summary"]
    # 19 members of 50 roles and the access role, 3 planted; the management account's Admin and ReadOnly
    assert summary["roles"] == 19 * 51 + 3 + 2 and summary["requires-mfa"] == 19 * 51 + 2
    assert acceptance.codes_given() == 1, "one code for the whole organization"

    # the requests: ListAccounts pages + 2 per account (+ the MFA session and its role, once); the
    # account whose AssumeRole is refused costs one; GetCallerIdentity stands for the management
    # account's AssumeRole, which is not needed
    listing = sb.count("ListAccounts")
    assert listing == 3  # the empty first page the sandbox gives, then 20 and 1 accounts
    audit = len(sb.requests) - sb.count("GetSessionToken") - 1  # the Admin role's own AssumeRole
    assert audit == listing + 2 * (MEMBERS + 1) - 1 == summary["requests"]
    assert f"sts-mfa: {summary['requests'] + 2} AWS requests" in stderr

    excluded = [*acceptance.planted.values(), acceptance.broken]
    code, document, stderr = acceptance.audit(
        *(a for account in excluded for a in ("--exclude-account", account))
    )
    assert code == 0, stderr
    assert set(_statuses(document).values()) == {"read", "excluded"}
    assert acceptance.codes_given() == 1  # the MFA role session was cached: no new code


def test_concurrency_one_and_eight_give_the_same_verdicts(acceptance: Acceptance) -> None:
    code_one, one, _ = acceptance.audit("--concurrency", "1")
    code_eight, eight, _ = acceptance.audit("--concurrency", "8")
    assert code_one == code_eight == 3
    assert _verdicts(one) == _verdicts(eight) and _statuses(one) == _statuses(eight)
    assert one["roles"] == eight["roles"]  # in the same order, too


def test_thirty_percent_of_calls_throttled_the_same_verdicts(acceptance: Acceptance) -> None:
    _, calm, _ = acceptance.audit()
    acceptance.sb.set_faults(Faults(throttle_rate=0.3, seed=5))
    try:
        code, throttled, stderr = acceptance.audit()
    finally:
        acceptance.sb.set_faults(Faults())
    assert code == 3, stderr
    assert _verdicts(throttled) == _verdicts(calm) and _statuses(throttled) == _statuses(calm)
    assert throttled["summary"]["throttles"] > 5
