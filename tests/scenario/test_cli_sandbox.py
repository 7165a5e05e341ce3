"""The CLI against the strict sandbox: what AWS refuses, the tool reports with the right exit code.

Each test here fails on plain moto (which accepts any code and lets AssumeRole
through without MFA): they are the proof that the tool behaves where it matters.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pyotp
import pytest

from sts_mfa.mfa.totp import step_at
from sts_mfa.sandbox import Sandbox
from sts_mfa.state.document import load, write
from tests.support.cli import Cli, no_traceback
from tests.support.sandbox import NOTHING, admin, leftovers

pytestmark = pytest.mark.sandbox

MFA_DENIED = "MultiFactorAuthentication failed with invalid MFA one time pass code."


def private(cli: Cli) -> bool:
    return not cli.state.exists() or stat.S_IMODE(cli.state.stat().st_mode) == 0o600


def set_trust(sb: Sandbox, cli: Cli, statements: list[dict[str, Any]]) -> None:
    state = load(cli.state)
    assert state and state.role
    admin(sb, "iam").update_assume_role_policy(
        RoleName=state.role.name,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )


def user_arn(cli: Cli) -> str:
    state = load(cli.state)
    assert state and state.user and state.user.arn
    return state.user.arn


def test_the_five_steps_prove_the_pattern(software: Cli, sb: Sandbox) -> None:
    check = software("check-deny", "--json")
    assert check.exit_code == 0, check.output
    verdict = json.loads(check.stdout)
    assert verdict["denied"] and verdict["proven"]
    assert verdict["message"].startswith(
        f"User: {user_arn(software)} is not authorized to perform: sts:AssumeRole"
    )
    assert software("assume").exit_code == 0
    listing = software.json("list-buckets")
    assert sorted(b["name"] for b in listing["buckets"]) == ["logs-111111111111", "reports-111111111111"]
    assert private(software)
    assert software("teardown").exit_code == 0
    assert leftovers(sb) == NOTHING


def test_assume_role_uses_the_users_key_and_list_buckets_the_role_session(software: Cli, sb: Sandbox) -> None:
    software("assume")
    software("list-buckets")
    (assume,) = [r for r in sb.requests if r.action == "AssumeRole" and r.status == 200]
    assert assume.caller_arn == user_arn(software)
    (listing,) = [r for r in sb.requests if r.action == "ListBuckets"]
    assert listing.caller_arn is not None and ":assumed-role/" in listing.caller_arn


def test_the_users_own_key_cannot_list_buckets(software: Cli, sb: Sandbox) -> None:
    """The user has no permission but AssumeRole: the point of the pattern."""
    import boto3
    from botocore.exceptions import ClientError

    state = load(software.state)
    assert state and state.access_key
    s3 = boto3.client(
        "s3",
        endpoint_url=sb.endpoint,
        region_name="us-east-1",
        aws_access_key_id=state.access_key.access_key_id,
        aws_secret_access_key=state.access_key.secret_access_key,
    )
    with pytest.raises(ClientError) as err:
        s3.list_buckets()
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_a_wrong_code_exits_5_with_awss_reason(software: Cli, sb: Sandbox) -> None:
    state = load(software.state)
    assert state and state.seed
    now = software.clock.now()
    valid = {pyotp.TOTP(state.seed).at(now + d) for d in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    result = software("assume", "--code", wrong)
    assert result.exit_code == 5
    assert MFA_DENIED in result.stderr
    assert no_traceback(result)


def test_a_code_another_client_already_used_is_refused_by_aws(software: Cli, sb: Sandbox) -> None:
    """Without the local replay guard AWS refuses the step: exit 5, AWS's message.

    "Another client" is one that is not sts-mfa: neither the state file's record nor the
    device's shared ledger (in the private cache) knows the step it spent."""
    assert software("assume").exit_code == 0
    state = load(software.state)
    assert state and state.mfa_device and state.mfa_device.serial
    record = state.totp[state.mfa_device.serial]
    assert record.last_step == sb.last_accepted_step(state.mfa_device.serial)
    record.last_step -= 1  # type: ignore[operator]  # as if another tool had used the current step
    write(software.state, state)
    cache = Path(os.environ["STS_MFA_CACHE_DIR"])
    ledgers = list(cache.glob("ledger-*.json"))
    assert len(ledgers) == 1  # the device's, which the first assume wrote
    ledgers[0].unlink()
    result = software("assume", "--force")
    assert result.exit_code == 5
    assert MFA_DENIED in result.stderr


def test_two_assumes_in_a_row_never_resend_a_step(software: Cli, sb: Sandbox) -> None:
    assert software("assume").exit_code == 0
    assert software("assume", "--force").exit_code == 0
    refused = [r for r in sb.requests if r.action == "AssumeRole" and r.status != 200]
    assert refused == []


def test_check_deny_never_reads_a_same_named_role_of_another_account(
    software: Cli, sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run with the other account's admin, check-deny's GetRole (by name) would read that
    account's role of the same name, requiring MFA: not the role the state records."""
    state = load(software.state)
    assert state is not None and state.role is not None
    mfa_only = admin(sb, "iam").get_role(RoleName=state.role.name)["Role"]["AssumeRolePolicyDocument"]
    document = mfa_only if isinstance(mfa_only, str) else json.dumps(mfa_only)
    admin(sb, "iam", 1).create_role(RoleName=state.role.name, AssumeRolePolicyDocument=document)
    set_trust(sb, software, [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRoleWithSAML"}])
    for name, value in sb.env(1).items():
        monkeypatch.setenv(name, value)

    result = software("check-deny")

    assert result.exit_code == 4, result.output
    assert "answered with another role" in result.stderr and "Proven" not in result.stdout


@pytest.mark.parametrize(
    ("trust", "exit_code", "words"),
    [
        ("no-condition", 3, "EXPOSED"),
        ("bool-if-exists", 3, "EXPOSED"),
        ("deny-without-mfa", 0, None),
        ("other-user-with-mfa", 0, None),
        ("root-no-condition", 3, "EXPOSED"),
    ],
)
def test_check_deny_judges_the_real_trust_policy(
    software: Cli, sb: Sandbox, trust: str, exit_code: int, words: str | None
) -> None:
    me = user_arn(software)
    allow: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": me}, "Action": "sts:AssumeRole"}
    statements = {
        "no-condition": [allow],
        "bool-if-exists": [{**allow, "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}}],
        "deny-without-mfa": [
            allow,
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "sts:AssumeRole",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
            },
        ],
        "other-user-with-mfa": [
            {
                **allow,
                "Principal": {"AWS": "arn:aws:iam::111111111111:user/sandbox/sandbox-admin"},
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ],
        "root-no-condition": [{**allow, "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}],
    }[trust]
    set_trust(sb, software, statements)
    result = software("check-deny")
    assert result.exit_code == exit_code, result.output
    if words:
        assert words in result.stderr
    assert no_traceback(result)


def test_wrong_enable_codes_exit_5_and_right_ones_finish_setup(srun: Cli, sb: Sandbox) -> None:
    first = srun("setup", "--qr-png", str(srun.state.parent / "qr.png"))
    assert first.exit_code == 2
    state = load(srun.state)
    assert state and state.mfa_device and state.mfa_device.serial
    bad = srun("setup", "--codes", "123456", "654321")
    assert bad.exit_code == 5
    assert "AWS refused the two codes" in bad.stderr
    seed = sb.mfa_seed(state.mfa_device.serial)  # what the phone scanned
    now = srun.clock.now()
    totp = pyotp.TOTP(seed)
    good = srun("setup", "--codes", totp.at(now - 30), totp.at(now))
    assert good.exit_code == 0, good.output
    assert srun("check-deny").exit_code == 0
    # A phone's next code: the sandbox (like AWS) accepts one step of clock drift.
    assert srun("assume", "--code", totp.at(now + 30)).exit_code == 0
    assert srun("teardown").exit_code == 0
    assert leftovers(sb) == NOTHING


def test_phone_mode_list_buckets_without_a_session_exits_6(srun: Cli, sb: Sandbox) -> None:
    srun("setup", "--qr-png", str(srun.state.parent / "qr.png"))
    state = load(srun.state)
    assert state and state.mfa_device and state.mfa_device.serial
    totp = pyotp.TOTP(sb.mfa_seed(state.mfa_device.serial))
    now = srun.clock.now()
    assert srun("setup", "--codes", totp.at(now - 30), totp.at(now)).exit_code == 0
    result = srun("list-buckets")
    assert result.exit_code == 6
    assert "assume --code" in result.stderr


def test_an_expired_session_is_renewed_by_the_software_token(software: Cli, sb: Sandbox) -> None:
    assert software("assume").exit_code == 0
    software.clock.advance(3600)
    data = software.json("list-buckets")
    assert len(data["buckets"]) == 2
    assert sb.count("AssumeRole", status=200) == 2


def test_list_buckets_refused_when_the_role_loses_its_policy(software: Cli, sb: Sandbox) -> None:
    state = load(software.state)
    assert state and state.role and state.policy and state.policy.arn
    admin(sb, "iam").detach_role_policy(RoleName=state.role.name, PolicyArn=state.policy.arn)
    software.clock.advance(300)  # long after setup: not a propagation delay any more
    result = software("list-buckets")
    assert result.exit_code == 1
    assert "AccessDenied" in result.stderr
    assert no_traceback(result)


def test_teardown_clears_what_others_attached_to_the_user(software: Cli, sb: Sandbox) -> None:
    """DeleteUser conflicts (group, managed policy, login profile) are resolved, not reported."""
    iam = admin(sb, "iam")
    state = load(software.state)
    assert state and state.user
    iam.create_group(GroupName="outsiders")
    iam.add_user_to_group(GroupName="outsiders", UserName=state.user.name)
    policy = iam.create_policy(
        PolicyName="outside",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName=state.user.name, PolicyArn=policy)
    iam.create_login_profile(UserName=state.user.name, Password="Sandbox-Passw0rd!")
    result = software("teardown")
    assert result.exit_code == 0, result.output
    assert leftovers(sb) == NOTHING
    assert iam.get_group(GroupName="outsiders")["Group"]["GroupName"] == "outsiders"  # not ours: kept
    assert iam.get_policy(PolicyArn=policy)["Policy"]["PolicyName"] == "outside"


def test_status_against_the_sandbox_knows_what_exists(software: Cli, sb: Sandbox) -> None:
    data = software.json("status")
    assert all(r["exists"] for r in data["resources"].values())
    state = load(software.state)
    assert state and state.role and state.policy and state.policy.arn
    iam = admin(sb, "iam")
    iam.detach_role_policy(RoleName=state.role.name, PolicyArn=state.policy.arn)
    iam.delete_role(RoleName=state.role.name)
    data = software.json("status")
    assert data["resources"]["role"]["exists"] is False
    assert data["resources"]["user"]["exists"] is True


def test_state_is_private_after_every_command(software: Cli, sb: Sandbox) -> None:
    for args in (["check-deny"], ["assume"], ["list-buckets"], ["status"]):
        assert software(*args).exit_code == 0
        assert private(software), args


def test_the_time_step_sent_is_the_one_aws_accepted(software: Cli, sb: Sandbox) -> None:
    software("assume")
    state = load(software.state)
    assert state and state.mfa_device and state.mfa_device.serial
    assert state.totp[state.mfa_device.serial].last_step == sb.last_accepted_step(state.mfa_device.serial)
    assert state.totp[state.mfa_device.serial].last_step == step_at(software.clock.now())


def test_sweep_finds_leftovers_without_a_state_file_and_spares_look_alikes(
    software: Cli, sb: Sandbox
) -> None:
    iam = admin(sb, "iam")
    tool_tag = [{"Key": "created-by", "Value": "sts-mfa"}]
    # Look-alikes, each missing one of the tool's three marks (path, name prefix, tag):
    iam.create_user(UserName="sts-mfa-lookalike-user", Tags=tool_tag)  # path "/"
    iam.create_user(UserName="sts-mfa-untagged-user", Path="/sts-mfa/")  # no tag
    iam.create_user(UserName="someone-else", Path="/sts-mfa/", Tags=tool_tag)  # no prefix
    software.state.unlink()  # the state file is lost
    dry = software.json("teardown", "--sweep", "--dry-run")
    kinds = sorted(item["kind"] for item in dry["found"])
    assert kinds == ["mfa_device", "policy", "role", "user"]
    assert leftovers(sb) != NOTHING  # a dry run changes nothing
    result = software("teardown", "--sweep")
    assert result.exit_code == 0, result.output
    remaining = leftovers(sb)
    assert sorted(remaining["users"]) == ["someone-else", "sts-mfa-untagged-user"]
    assert remaining["roles"] == remaining["policies"] == remaining["mfa_devices"] == []
    assert iam.get_user(UserName="sts-mfa-lookalike-user")["User"]["Path"] == "/"


def test_a_typed_code_for_a_step_the_software_token_already_sent_is_refused_locally(
    software: Cli, sb: Sandbox
) -> None:
    assert software("assume").exit_code == 0
    state = load(software.state)
    assert state and state.seed and state.mfa_device and state.mfa_device.serial
    spent = pyotp.TOTP(state.seed).at(software.clock.now())  # the code the token just sent
    before = sb.count("AssumeRole")
    result = software("assume", "--force", "--code", spent)
    assert result.exit_code == 5
    assert "already used" in result.stderr
    assert sb.count("AssumeRole") == before  # refused without asking AWS


def test_list_buckets_finds_the_region_in_the_state_file(
    software: Cli, sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A credential helper's environment may lack AWS_REGION; the state recorded the one setup used."""
    assert software("assume").exit_code == 0
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    result = software("list-buckets", "--json")
    assert result.exit_code == 0, result.output
