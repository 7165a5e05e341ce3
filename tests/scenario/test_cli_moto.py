"""Every command through the CLI on moto (in-process `mock_aws`).

Plain moto accepts any MFA code and lets AssumeRole through without MFA, so
these tests check what the tool asks of AWS and what it leaves in the state
file; the sandbox tests check what AWS would refuse.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from sts_mfa.state.document import load, write_atomic
from tests.support.cli import Cli, no_traceback

pytestmark = pytest.mark.moto


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def done(run: Cli, moto: None) -> Cli:
    result = run("setup", "--software-token")
    assert result.exit_code == 0, result.output
    return run


def iam():  # type: ignore[no-untyped-def]
    return boto3.client("iam", region_name="us-east-1")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_setup_creates_every_resource_under_the_tool_path(done: Cli) -> None:
    state = load(done.state)
    assert state is not None and state.setup_complete()
    client = iam()
    users = client.list_users(PathPrefix="/sts-mfa/")["Users"]
    assert [u["UserName"] for u in users] == [state.user.name]  # type: ignore[union-attr]
    tags = client.list_user_tags(UserName=state.user.name)["Tags"]  # type: ignore[union-attr]
    assert {"Key": "created-by", "Value": "sts-mfa"} in tags
    role = client.get_role(RoleName=state.role.name)["Role"]  # type: ignore[union-attr]
    assert role["Path"] == "/sts-mfa/"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": state.user.arn}  # type: ignore[union-attr]
    attached = client.list_attached_role_policies(RoleName=state.role.name)["AttachedPolicies"]  # type: ignore[union-attr]
    assert [p["PolicyArn"] for p in attached] == [state.policy.arn]  # type: ignore[union-attr]
    inline = client.get_user_policy(UserName=state.user.name, PolicyName=state.user_policy.name)  # type: ignore[union-attr]
    assert inline["PolicyDocument"]["Statement"][0]["Resource"] == state.role.arn  # type: ignore[union-attr]
    devices = client.list_mfa_devices(UserName=state.user.name)["MFADevices"]  # type: ignore[union-attr]
    assert [d["SerialNumber"] for d in devices] == [state.mfa_device.serial]  # type: ignore[union-attr]
    assert mode(done.state) == 0o600


def test_setup_says_plainly_that_the_seed_is_on_disk(run: Cli, moto: None) -> None:
    result = run("setup", "--software-token")
    assert "seed is kept in the state file" in result.stderr
    assert "second factor on disk" in result.stderr


def test_setup_output_and_json_hold_no_secret(run: Cli, moto: None) -> None:
    result = run("setup", "--software-token", "--json")
    state = load(run.state)
    assert state is not None and state.access_key and state.seed
    for secret in (state.access_key.secret_access_key, state.seed):
        assert secret not in result.output and secret not in result.stderr
    data = json.loads(result.stdout)
    assert data["role_arn"] == state.role.arn  # type: ignore[union-attr]


def test_setup_twice_is_refused(done: Cli) -> None:
    result = done("setup", "--software-token")
    assert result.exit_code == 4
    assert "already complete" in result.stderr


def test_assume_caches_the_session_and_reuses_it(done: Cli) -> None:
    first = done("assume", "--format", "json")
    assert first.exit_code == 0, first.output
    second = done("-v", "assume", "--format", "json")
    assert json.loads(second.stdout) == json.loads(first.stdout)
    assert "cached session" in second.stderr
    forced = done("assume", "--force", "--format", "json")
    assert json.loads(forced.stdout)["AccessKeyId"] != json.loads(first.stdout)["AccessKeyId"]
    assert mode(done.state) == 0o600


def test_assume_right_after_setup_waits_for_a_fresh_window(done: Cli) -> None:
    """The enable codes used the current step; assume must not resend it."""
    state = load(done.state)
    assert state and state.mfa_device and state.mfa_device.serial
    used = state.totp[state.mfa_device.serial].last_step
    before = done.clock.now()
    result = done("assume")
    assert result.exit_code == 0, result.output
    after = load(done.state)
    assert after is not None
    assert after.totp[state.mfa_device.serial].last_step == used + 1  # type: ignore[operator]
    assert done.clock.now() - before >= 24  # waited out the rest of the window (fake clock)


@pytest.mark.parametrize("fmt", ["text", "json", "env", "process"])
def test_every_format(done: Cli, fmt: str) -> None:
    result = done("assume", "--format", fmt)
    assert result.exit_code == 0, result.output
    state = load(done.state)
    assert state and state.session
    secret = state.session.secret_access_key
    assert (secret in result.stdout) is (fmt != "text")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--code", "12345"], "exactly 6 digits"),
        (["--code", "1234567"], "exactly 6 digits"),
        (["--code", "12a456"], "other characters"),
        (["--duration", "899"], "899 is not in the range 900<=x<=43200"),
        (["--duration", "43201"], "not in the range"),
        (["--format", "yaml"], "'yaml' is not one of"),
        (["--json", "--format", "env"], "use one"),
    ],
)
def test_assume_usage_errors_exit_2(done: Cli, args: list[str], message: str) -> None:
    result = done("assume", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert no_traceback(result)


def test_duration_above_the_roles_maximum_is_refused_locally(done: Cli) -> None:
    result = done("assume", "--duration", "7200")
    assert result.exit_code == 2
    assert "longer than the role allows (3600 s)" in result.stderr


def test_list_buckets_uses_the_role_session(done: Cli) -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="some-bucket")
    data = done.json("list-buckets")
    assert [b["name"] for b in data["buckets"]] == ["some-bucket"]
    assert ":assumed-role/" in data["assumed_role_arn"]


def test_teardown_removes_everything_and_the_state_and_is_idempotent(done: Cli) -> None:
    result = done("teardown")
    assert result.exit_code == 0, result.output
    assert not done.state.exists()
    client = iam()
    assert client.list_users(PathPrefix="/sts-mfa/")["Users"] == []
    assert client.list_roles(PathPrefix="/sts-mfa/")["Roles"] == []
    assert client.list_policies(Scope="Local", PathPrefix="/sts-mfa/")["Policies"] == []
    assert client.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    again = done("teardown")
    assert again.exit_code == 0
    assert "Nothing to tear down" in again.stderr


def test_teardown_removes_what_was_added_behind_the_tools_back(done: Cli) -> None:
    state = load(done.state)
    assert state and state.user and state.role
    client = iam()
    client.create_access_key(UserName=state.user.name)  # a second key the state never saw
    client.put_role_policy(
        RoleName=state.role.name,
        PolicyName="extra",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )
    result = done("teardown")
    assert result.exit_code == 0, result.output
    assert client.list_users(PathPrefix="/sts-mfa/")["Users"] == []
    assert client.list_roles(PathPrefix="/sts-mfa/")["Roles"] == []


def test_teardown_tolerates_resources_already_deleted(done: Cli) -> None:
    state = load(done.state)
    assert state and state.role and state.policy and state.policy.arn
    client = iam()
    client.detach_role_policy(RoleName=state.role.name, PolicyArn=state.policy.arn)
    client.delete_role(RoleName=state.role.name)
    client.delete_policy(PolicyArn=state.policy.arn)
    result = done("teardown")
    assert result.exit_code == 0, result.output
    assert client.list_users(PathPrefix="/sts-mfa/")["Users"] == []


def test_status_shows_resources_and_no_secret(done: Cli) -> None:
    done("assume")
    state = load(done.state)
    assert state and state.session and state.access_key and state.seed
    for args in (["status"], ["status", "--json"]):
        result = done(*args)
        assert result.exit_code == 0, result.output
        for secret in (
            state.access_key.secret_access_key,
            state.seed,
            state.session.session_token,
            state.session.secret_access_key,
        ):
            assert secret not in result.output
    data = done.json("status")
    assert data["resources"]["role"]["exists"] is True
    assert data["session"]["valid"] is True


def test_status_without_a_state_file(run: Cli) -> None:
    result = run("status")
    assert result.exit_code == 0
    assert "nothing is set up" in result.stdout


@pytest.mark.parametrize("command", ["check-deny", "assume", "list-buckets"])
def test_steps_before_setup_exit_4(run: Cli, moto: None, command: str) -> None:
    result = run(command)
    assert result.exit_code == 4
    assert "no state file" in result.stderr
    assert "sts-mfa setup" in result.stderr


def test_state_from_another_endpoint_is_refused(done: Cli) -> None:
    result = done("--endpoint-url", "http://127.0.0.1:1", "assume")
    assert result.exit_code == 4
    assert "was made against AWS, but this run uses http://127.0.0.1:1" in result.stderr


def test_phone_mode_without_a_terminal_stops_after_creating_the_device(
    run: Cli, moto: None, tmp_path: Path
) -> None:
    png = tmp_path / "qr.png"
    first = run("setup", "--qr-png", str(png))
    assert first.exit_code == 2
    assert "setup --codes" in first.stderr
    assert mode(png) == 0o600 and png.read_bytes().startswith(b"\x89PNG")
    state = load(run.state)
    assert state and state.mfa_device and state.mfa_device.serial and not state.mfa_device.enabled
    # Plain moto accepts any codes; the sandbox tests check that real ones are required.
    second = run("setup", "--codes", "123456", "654321")
    assert second.exit_code == 0, second.output
    assert not png.exists()  # it held the seed
    done_state = load(run.state)
    assert done_state and done_state.setup_complete() and done_state.seed is None


def test_codes_before_the_device_exists_are_refused(run: Cli, moto: None) -> None:
    result = run("setup", "--codes", "123456", "654321")
    assert result.exit_code == 2
    assert "already exists" in result.stderr


def test_software_token_and_codes_conflict(run: Cli) -> None:
    result = run("setup", "--software-token", "--codes", "123456", "654321")
    assert result.exit_code == 2


def test_phone_mode_assume_without_code_or_terminal_fails_fast(run: Cli, moto: None) -> None:
    assert run("setup", "--qr-png", str(run.state.parent / "qr.png")).exit_code == 2
    assert run("setup", "--codes", "123456", "654321").exit_code == 0
    result = run("assume", "--format", "process")
    assert result.exit_code == 2
    assert "assume --code CODE" in result.stderr


def test_phone_mode_code_from_stdin_and_env(run: Cli, moto: None) -> None:
    run("setup", "--qr-png", str(run.state.parent / "qr.png"))
    run("setup", "--codes", "123456", "654321")
    result = run("assume", "--code", "-", input="111111\n")
    assert result.exit_code == 0, result.output
    result = run("assume", "--force", env={"STS_MFA_CODE": "222222"})
    assert result.exit_code == 0, result.output


def test_typed_code_reused_is_refused_locally_exit_5(run: Cli, moto: None) -> None:
    run("setup", "--qr-png", str(run.state.parent / "qr.png"))
    run("setup", "--codes", "123456", "654321")
    assert run("assume", "--code", "111111").exit_code == 0
    result = run("assume", "--force", "--code", "111111")
    assert result.exit_code == 5
    assert "already used" in result.stderr


def test_no_credentials_exit_6(run: Cli, moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = run("setup", "--software-token")
    assert result.exit_code == 6
    assert "no AWS credentials" in result.stderr
    assert no_traceback(result)


def test_no_region_exit_1(run: Cli, moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    result = run("setup", "--software-token")
    assert result.exit_code == 1
    assert "no AWS region" in result.stderr


def test_unsafe_state_file_exit_4(done: Cli) -> None:
    done.state.chmod(0o644)
    result = done("assume")
    assert result.exit_code == 4
    assert "chmod 600" in result.stderr


def test_corrupt_state_file_exit_4_and_untouched(done: Cli) -> None:
    write_atomic(done.state, '{"version": 1, "prefix": ')
    before = done.state.read_bytes()
    result = done("teardown")
    assert result.exit_code == 4
    assert "not valid JSON" in result.stderr
    assert done.state.read_bytes() == before


def test_teardown_removes_a_qr_png_left_by_an_unfinished_phone_setup(
    run: Cli, moto: None, tmp_path: Path
) -> None:
    png = tmp_path / "qr.png"
    assert run("setup", "--qr-png", str(png)).exit_code == 2
    assert png.exists()
    assert run("teardown").exit_code == 0
    assert not png.exists()  # it held the device's seed


def test_an_unwritable_qr_png_path_is_refused_before_anything_is_created(run: Cli, moto: None) -> None:
    result = run("setup", "--qr-png", "/nonexistent-dir/qr.png")
    assert result.exit_code == 2
    assert "cannot write in /nonexistent-dir" in result.stderr
    assert not run.state.exists()
    assert iam().list_users(PathPrefix="/sts-mfa/")["Users"] == []


def test_exec_of_something_that_cannot_be_run_exits_126(done: Cli, tmp_path: Path) -> None:
    assert done("assume").exit_code == 0
    script = tmp_path / "no-shebang"
    script.write_bytes(b"\x00\x01 not a program\n")
    script.chmod(0o755)
    result = done("exec", "--", str(script))
    assert result.exit_code == 126
    assert "cannot run" in result.stderr
