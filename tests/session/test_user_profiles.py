"""User profiles: an IAM user's own keys and an `mfa_serial`, no role, served with MFA.

The AWS CLI gives such a profile nothing but its raw keys; `sts-mfa assume alice` gives the
MFA session (GetSessionToken with one code), cached, and the very session the role
profiles whose `source_profile` is alice use. Here alice's identity policy allows
`s3:ListAllMyBuckets` only with MFA, as many organisations' "force MFA" policies do, so
the AWS CLI itself shows the difference: with alice's raw keys it is refused, through
`credential_process = sts-mfa assume alice --format process` it lists the buckets.

A strict Sandbox on the real clock; the codes come from a logging stand-in phone
(`mfa_process`), so the number of codes is counted by the phone; requests by the sandbox.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sts_mfa.sandbox import Sandbox
from tests.support.example_profiles import AWS, Alice, make_alice, secrets_of, with_user_profiles
from tests.support.processes import STS_MFA, run
from tests.support.sandbox import admin

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

MFA_ONLY_LISTING = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:ListAllMyBuckets",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    ],
}


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox(sample_buckets=("reports",)) as sandbox:
        yield sandbox


@pytest.fixture
def alice(running: Sandbox, tmp_path: Path) -> Alice:
    """The example identity plus a user profile `alice` and a role profile `prod` on top of it."""
    made = with_user_profiles(make_alice(running, tmp_path))
    admin(running, "iam").put_user_policy(
        UserName="alice", PolicyName="list-with-mfa", PolicyDocument=json.dumps(MFA_ONLY_LISTING)
    )
    running.reset_log()
    return made


def sts_mfa(alice: Alice, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert STS_MFA
    return run([STS_MFA, *args], env or alice.env)


def mfa_entries(alice: Alice) -> list[dict[str, object]]:
    cache = Path(alice.env["STS_MFA_CACHE_DIR"])
    return [json.loads(p.read_text()) for p in sorted(cache.glob("mfa-*.json"))]


def test_the_aws_cli_acts_as_alice_with_mfa_and_her_roles_share_the_one_code(alice: Alice) -> None:
    refused = alice.aws("sandbox-alice", "s3api", "list-buckets")  # her raw keys: no MFA
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr

    assert alice.caller_arn("cp-alice") == alice.identity.user_arn
    listed = alice.aws("cp-alice", "s3api", "list-buckets")
    assert listed.returncode == 0, listed.stderr
    assert alice.caller("cp-prod") == "Admin"

    assert alice.codes_given() == 1  # one code for alice and for prod
    assert alice.sb.count("GetSessionToken", 200) == alice.sb.count("GetSessionToken") == 1
    assert alice.sb.count("AssumeRole") == alice.sb.count("AssumeRole", 200) == 1  # without a code
    [entry] = mfa_entries(alice)  # one MFA session, which served prod too
    assert entry["roles"] == [alice.identity.role_arns["sandbox-admin"]]


def test_assume_alice_is_the_session_prod_is_then_assumed_with(alice: Alice) -> None:
    first = sts_mfa(alice, "assume", "alice", "--format", "json")
    assert first.returncode == 0, first.stderr
    mfa_key = json.loads(first.stdout)["AccessKeyId"]
    prod = sts_mfa(alice, "assume", "prod", "-v")

    assert prod.returncode == 0, prod.stderr
    assert "Source:        new role session from the cached MFA session (no new code)" in prod.stdout
    [entry] = mfa_entries(alice)
    assert entry["session"]["access_key_id"] == mfa_key  # type: ignore[index]
    assert alice.codes_given() == 1
    again = sts_mfa(alice, "assume", "alice")
    assert "Source:        cached session" in again.stdout
    assert alice.sb.count("GetSessionToken") == 1


def test_prod_first_then_alice_needs_no_new_code_either(alice: Alice) -> None:
    assert sts_mfa(alice, "assume", "prod").returncode == 0
    done = sts_mfa(alice, "assume", "alice")
    assert done.returncode == 0, done.stderr
    assert "Source:        the cached MFA session (no new code)" in done.stdout
    assert f"Session:       {alice.identity.user_arn}" in done.stdout
    assert alice.codes_given() == 1


def test_the_code_is_recorded_in_the_devices_ledger(alice: Alice) -> None:
    before = int(time.time() // 30)
    assert sts_mfa(alice, "assume", "alice").returncode == 0
    status = sts_mfa(alice, "status", "alice", "--json")
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert doc["last_step"] is not None and doc["last_step"] >= before
    assert doc["session"]["assumed_role_arn"] == alice.identity.user_arn
    [ledger] = [json.loads(p.read_text()) for p in Path(alice.env["STS_MFA_CACHE_DIR"]).glob("ledger-*.json")]
    assert ledger["serial"] == alice.identity.serial and ledger["last_step"] == doc["last_step"]
    # The code the phone gave, typed again, is refused locally, before AWS sees it.
    again = sts_mfa(alice, "assume", "alice", "--force", "--code", ledger["last_code"])
    assert again.returncode == 5, again.stderr
    assert f"code {ledger['last_code']} was already used" in again.stderr
    assert alice.sb.count("GetSessionToken") == 1


@pytest.mark.parametrize("fmt", ["process", "json", "env", "text"])
def test_every_format_hands_over_the_mfa_session(alice: Alice, fmt: str) -> None:
    done = sts_mfa(alice, "assume", "alice", "--format", fmt)
    assert done.returncode == 0, done.stderr
    [entry] = mfa_entries(alice)
    session = entry["session"]
    assert isinstance(session, dict)
    if fmt == "process":
        doc = json.loads(done.stdout)
        assert doc["Version"] == 1 and doc["AccountId"] == alice.identity.account
        assert doc["SessionToken"] == session["session_token"]
    elif fmt == "text":
        for secret in secrets_of(alice):
            assert secret not in done.stdout + done.stderr
        assert "Role:          - (a user's MFA session, GetSessionToken)" in done.stdout
        status = sts_mfa(alice, "status", "alice")
        assert status.stdout.startswith("Profile alice: a user profile: its session is the MFA session")
    else:
        assert session["session_token"] in done.stdout


def test_exec_gives_the_child_the_mfa_session(alice: Alice) -> None:
    done = sts_mfa(alice, "exec", "alice", "--", AWS, "s3api", "list-buckets", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert [b["Name"] for b in json.loads(done.stdout)["Buckets"]] == ["reports-111111111111"]
    assert alice.codes_given() == 1


def test_exec_server_serves_the_mfa_session_to_the_aws_cli(alice: Alice) -> None:
    done = sts_mfa(
        alice, "exec", "--server", "alice", "--", AWS, "sts", "get-caller-identity", "--output", "json"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Arn"] == alice.identity.user_arn


def test_serve_then_a_shell_that_sourced_its_lines(alice: Alice, tmp_path: Path) -> None:
    """`sts-mfa serve alice > lines &`, then a real bash sources the lines and runs the AWS CLI."""
    lines = tmp_path / "endpoint.sh"
    script = f"""
        set -e
        {STS_MFA} serve alice > {lines} 2>{tmp_path / "serve.err"} &
        server=$!
        trap 'kill $server' EXIT
        for _ in $(seq 200); do
            grep -q AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {lines} && break; sleep 0.1
        done
        . {lines}
        {AWS} s3api list-buckets --output json
    """
    done = run(["bash", "-c", script], alice.env)
    assert done.returncode == 0, done.stderr + (tmp_path / "serve.err").read_text()
    assert [b["Name"] for b in json.loads(done.stdout)["Buckets"]] == ["reports-111111111111"]
    assert alice.codes_given() == 1


def test_duration_seconds_is_the_mfa_sessions_length_unless_the_flag_says(alice: Alice) -> None:
    alice.add_config(
        f"\n[profile short]\nmfa_serial = {alice.identity.serial}\nmfa_process = {alice.phone}\n"
        f"duration_seconds = 1800\n{alice.where}"
    )
    with alice.files.credentials.open("a") as f:
        f.write(
            f"\n[short]\naws_access_key_id = {alice.identity.access_key_id}\n"
            f"aws_secret_access_key = {alice.identity.secret_access_key}\n"
        )
    done = sts_mfa(alice, "assume", "short", "--format", "json")
    assert done.returncode == 0, done.stderr
    [entry] = mfa_entries(alice)
    session = entry["session"]
    assert isinstance(session, dict)
    assert 1790 <= session["expiration"] - session["obtained_at"] <= 1810


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ("region = us-east-1\n", "has no mfa_serial and no role_arn"),
        ("mfa_serial = arn:aws:iam::111111111111:mfa/alice\nduration_seconds = 200000\n", "900 to 129600"),
        ("source_profile = alice\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\n", "has no role_arn"),
    ],
    ids=["no-serial", "duration", "source-without-role"],
)
def test_a_user_profile_sts_mfa_cannot_serve_is_one_line(alice: Alice, section: str, words: str) -> None:
    alice.add_config(f"\n[profile odd]\n{section}")
    done = sts_mfa(alice, "assume", "odd")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
    assert alice.sb.requests == []


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (["console", "alice", "--print"], "the console signs in only a role session"),
        (["check-deny", "alice"], "check-deny proves that a role needs MFA"),
    ],
)
def test_what_needs_a_role_refuses_a_user_profile_before_a_code_is_spent(
    alice: Alice, command: list[str], words: str
) -> None:
    done = sts_mfa(alice, *command)
    assert done.returncode == 2, done.stderr
    assert words in done.stderr and done.stderr.count("\n") == 1
    assert alice.codes_given() == 0 and alice.sb.requests == []


@pytest.mark.parametrize(
    ("shell", "script"),
    [
        ("bash", 'eval "$(sts-mfa assume alice --format env)"; aws sts get-caller-identity --output json'),
        (
            "bash",
            "env $(sts-mfa assume alice --format env-no-export) aws sts get-caller-identity --output json",
        ),
        ("fish", "sts-mfa assume alice --format fish | source; aws sts get-caller-identity --output json"),
    ],
    ids=["bash-env", "bash-env-no-export", "fish"],
)
def test_a_real_shell_takes_the_session_from_its_format(alice: Alice, shell: str, script: str) -> None:
    """The lines a person pastes into their shell: it then acts as alice, with MFA."""
    from tests.support.system_tools import tool

    env = {**alice.env, "AWS_ENDPOINT_URL": alice.sb.endpoint, "AWS_DEFAULT_REGION": alice.sb.region}
    done = run([tool(shell), "-c", script], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Arn"] == alice.identity.user_arn
    assert alice.codes_given() == 1
