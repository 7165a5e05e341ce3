"""The user in the identity account (111111111111), the role in a resource account (222222222222).

Across accounts AWS needs BOTH the role's trust policy to allow the caller and
the caller's own identity policy to allow sts:AssumeRole on the role; moto
alone checks trust only within one account, so these run on the sandbox.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.state.document import load
from tests.support.cli import Cli, no_traceback
from tests.support.sandbox import NOTHING, admin, leftovers

pytestmark = pytest.mark.sandbox

IDENTITY, RESOURCE = "111111111111", "222222222222"


@pytest.fixture
def profiles(sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An AWS credentials file with a profile for the resource account; the identity admin stays in env."""
    other = sb.accounts[1]
    creds = tmp_path / "credentials"
    creds.write_text(
        f"[resource]\naws_access_key_id = {other.access_key_id}\n"
        f"aws_secret_access_key = {other.secret_access_key}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    return "resource"


@pytest.fixture
def cross(srun: Cli, profiles: str) -> Cli:
    result = srun("setup", "--software-token", "--role-profile", profiles)
    assert result.exit_code == 0, result.output
    return srun


def test_setup_puts_each_resource_in_its_account(cross: Cli, sb: Sandbox) -> None:
    state = load(cross.state)
    assert state and state.user and state.role and state.policy and state.mfa_device
    assert (state.account, state.role_account, state.role_profile) == (IDENTITY, RESOURCE, "resource")
    assert f":{IDENTITY}:user/" in (state.user.arn or "")
    assert f":{IDENTITY}:mfa/" in (state.mfa_device.serial or "")
    assert f":{RESOURCE}:role/" in (state.role.arn or "")
    assert f":{RESOURCE}:policy/" in (state.policy.arn or "")
    trust = admin(sb, "iam", 1).get_role(RoleName=state.role.name)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"AWS": state.user.arn}
    user_policy = admin(sb, "iam", 0).get_user_policy(
        UserName=state.user.name, PolicyName=state.user_policy.name
    )  # type: ignore[union-attr]
    assert user_policy["PolicyDocument"]["Statement"][0]["Resource"] == state.role.arn


def test_every_step_across_accounts(cross: Cli, sb: Sandbox) -> None:
    check = cross("check-deny", "--json")
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["proven"] is True
    assert cross("assume").exit_code == 0
    listing = cross.json("list-buckets")
    assert sorted(b["name"] for b in listing["buckets"]) == [f"logs-{RESOURCE}", f"reports-{RESOURCE}"]
    assert f":{RESOURCE}:assumed-role/" in listing["assumed_role_arn"]
    status = cross.json("status")
    assert (status["account"], status["role_account"]) == (IDENTITY, RESOURCE)
    assert all(r["exists"] for r in status["resources"].values())
    assert cross("teardown").exit_code == 0
    assert leftovers(sb, 0) == NOTHING and leftovers(sb, 1) == NOTHING
    assert cross("teardown").exit_code == 0  # idempotent


def test_refused_for_a_user_the_role_does_not_trust(cross: Cli, sb: Sandbox) -> None:
    state = load(cross.state)
    assert state and state.role
    other_user = admin(sb, "iam", 0).create_user(UserName="someone-else")["User"]["Arn"]
    admin(sb, "iam", 1).update_assume_role_policy(
        RoleName=state.role.name,
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": other_user},
                        "Action": "sts:AssumeRole",
                        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                    }
                ],
            }
        ),
    )
    cross.clock.advance(300)  # long after setup: a refusal now is not propagation
    result = cross("assume")
    assert result.exit_code == 1
    assert "AssumeRole was refused" in result.stderr and "not authorized" in result.stderr
    assert no_traceback(result)


def test_refused_when_the_users_own_policy_does_not_allow_it(cross: Cli, sb: Sandbox) -> None:
    """Across accounts the trust policy is not enough: the identity side must allow the call too."""
    state = load(cross.state)
    assert state and state.user and state.user_policy
    admin(sb, "iam", 0).delete_user_policy(UserName=state.user.name, PolicyName=state.user_policy.name)
    cross.clock.advance(300)
    result = cross("assume")
    assert result.exit_code == 1
    assert "not authorized to perform: sts:AssumeRole" in result.stderr


def test_teardown_with_credentials_for_the_wrong_account_changes_nothing(
    cross: Cli, sb: Sandbox, tmp_path: Path
) -> None:
    identity = sb.accounts[0]
    creds = tmp_path / "credentials"
    creds.write_text(  # the "resource" profile now points at the identity account: a mistake
        f"[resource]\naws_access_key_id = {identity.access_key_id}\n"
        f"aws_secret_access_key = {identity.secret_access_key}\n"
    )
    before = cross.state.read_bytes()
    result = cross("teardown")
    assert result.exit_code == 4
    assert f"in account {RESOURCE}" in result.stderr
    assert cross.state.read_bytes() == before
    assert leftovers(sb, 1) != NOTHING


def test_sweep_finds_leftovers_in_both_accounts_without_a_state_file(cross: Cli, sb: Sandbox) -> None:
    cross.state.unlink()
    dry = cross.json("teardown", "--sweep", "--dry-run", "--role-profile", "resource")
    arns = [item["arn"] for item in dry["found"]]
    assert any(f":{IDENTITY}:user/" in a for a in arns) and any(f":{RESOURCE}:role/" in a for a in arns)
    result = cross("teardown", "--sweep", "--role-profile", "resource")
    assert result.exit_code == 0, result.output
    assert leftovers(sb, 0) == NOTHING and leftovers(sb, 1) == NOTHING
