"""`sts-mfa keys` against a real Secret Service (gnome-keyring in its own D-Bus session), end to end.

alice's key goes from the credentials file into the keyring; `secret-tool` (libsecret, the
way a person looks) finds it there, and a grep of the private HOME finds the secret in no
file. Then every flow still works, with no key in any file: the user profile and the role
profiles through the real AWS CLI (`credential_process`), `exec`, `exec --server`, `serve`,
`console`, `audit --prove-with`. A locked keyring and no keyring at all are one line and
exit 6, at once; a keyring that refuses to store changes no file.

A strict Sandbox on the real clock; codes from the logging stand-in phone.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.federation.endpoint import console_url, federation_url
from tests.support.example_profiles import AWS, Alice, make_alice, with_user_profiles
from tests.support.keyrings import environment
from tests.support.processes import STS_MFA, run
from tests.support.secret_service import SecretService

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox(sample_buckets=("reports",)) as sandbox:
        yield sandbox


@pytest.fixture
def alice(running: Sandbox, tmp_path: Path) -> Alice:
    return with_user_profiles(make_alice(running, tmp_path))


@pytest.fixture
def keyring(alice: Alice, tmp_path: Path) -> Iterator[SecretService]:
    with SecretService(tmp_path) as service:
        alice.env.update(service.env())
        yield service


def sts_mfa(alice: Alice, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert STS_MFA
    return run([STS_MFA, *args], env or alice.env)


def files_holding(home: Path, secret: str) -> list[str]:
    """`grep -rl SECRET HOME`: every file under `home` that holds the secret."""
    done = run(["grep", "-rlF", "--", secret, str(home)], {"PATH": "/usr/bin:/bin"})
    assert done.returncode in (0, 1), done.stderr
    return done.stdout.split()


def test_keys_add_moves_the_key_into_the_secret_service_and_out_of_every_file(
    alice: Alice, keyring: SecretService, tmp_path: Path
) -> None:
    secret = alice.identity.secret_access_key
    before = alice.files.credentials.read_text()
    assert files_holding(tmp_path, secret) == [str(alice.files.credentials)]

    for profile in ("alice", "sandbox-alice"):
        done = sts_mfa(alice, "keys", "add", profile)
        assert done.returncode == 0, done.stderr
        assert "SecretService" in done.stdout and secret not in done.stdout + done.stderr

    stored = keyring.lookup("alice")
    assert stored is not None and json.loads(stored) == {
        "aws_access_key_id": alice.identity.access_key_id,
        "aws_secret_access_key": secret,
    }
    assert files_holding(tmp_path, secret) == []  # the daemon's keyring file is encrypted
    expected = before.replace(
        f"aws_access_key_id = {alice.identity.access_key_id}\naws_secret_access_key = {secret}\n",
        "sts_mfa_keys = keyring\n",
    )
    assert alice.files.credentials.read_text() == expected  # every other byte kept
    listed = sts_mfa(alice, "keys", "list", "--json")
    assert json.loads(listed.stdout)["profiles"] == [
        {"profile": p, "access_key_id": alice.identity.access_key_id, "status": "in the keyring"}
        for p in ("alice", "sandbox-alice")
    ]


@pytest.fixture
def moved(alice: Alice, keyring: SecretService) -> Alice:
    for profile in ("alice", "sandbox-alice"):
        done = sts_mfa(alice, "keys", "add", profile)
        assert done.returncode == 0, done.stderr
    assert alice.identity.secret_access_key not in alice.files.credentials.read_text()
    alice.sb.reset_log()
    return alice


def test_the_aws_cli_through_credential_process_finds_the_keys_in_the_keyring(moved: Alice) -> None:
    assert moved.caller_arn("cp-alice") == moved.identity.user_arn
    assert moved.caller("cp-prod") == "Admin"
    assert moved.caller("cp-sandbox-readonly") == "ReadOnly"
    assert moved.codes_given() == 1  # one MFA session: both profiles hold the same key, one device


def test_exec_serve_and_exec_server_find_them_too(moved: Alice, tmp_path: Path) -> None:
    done = sts_mfa(moved, "exec", "alice", "--", AWS, "sts", "get-caller-identity", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Arn"] == moved.identity.user_arn
    served = sts_mfa(moved, "exec", "--server", "prod", "--", AWS, "sts", "get-caller-identity")
    assert served.returncode == 0, served.stderr
    assert "/Admin/" in served.stdout
    lines = tmp_path / "endpoint.sh"
    script = f"""
        {STS_MFA} serve sandbox-readonly > {lines} 2>/dev/null &
        server=$!
        trap 'kill $server' EXIT
        for _ in $(seq 200); do grep -q TOKEN_FILE {lines} && break; sleep 0.1; done
        . {lines}
        {AWS} sts get-caller-identity --output json
    """
    shell = run(["bash", "-c", script], moved.env)
    assert shell.returncode == 0, shell.stderr
    assert "/ReadOnly/" in json.loads(shell.stdout)["Arn"]


def test_console_and_audit_find_them_too(moved: Alice) -> None:
    sb = moved.sb
    env = {
        **moved.env,
        "STS_MFA_FEDERATION_URL": federation_url(sb.endpoint),
        "STS_MFA_CONSOLE_URL": console_url(sb.endpoint),
    }
    console = sts_mfa(moved, "console", "prod", "--print", env=env)
    assert console.returncode == 0, console.stderr
    assert console.stdout.startswith(console_url(sb.endpoint)[:20])
    sb.reset_log()
    audit_env = {**moved.env, **sb.env(0)}  # the admin reads the roles; alice proves
    audit = sts_mfa(moved, "audit", "--prove-with", "sandbox-alice", "--json", env=audit_env)
    assert audit.returncode in (0, 3), audit.stderr
    proofs = [r for r in sb.requests if r.action == "AssumeRole"]
    assert proofs and all(r.caller_arn == moved.identity.user_arn and r.status == 403 for r in proofs)


def test_a_locked_keyring_is_one_line_and_exit_6_at_once(moved: Alice, keyring: SecretService) -> None:
    keyring.__exit__(None, None, None)
    with SecretService(keyring.home, unlocked=False) as locked:
        env = {**moved.env, **locked.env()}
        started = time.monotonic()
        done = sts_mfa(moved, "assume", "alice", env=env)
        assert time.monotonic() - started < 10
    assert done.returncode == 6, done.stderr
    [line] = done.stderr.splitlines()
    assert "locked" in line and "Traceback" not in line
    assert moved.sb.requests == [] and moved.codes_given() == 0


def test_no_keyring_at_all_is_one_line_and_exit_6(moved: Alice) -> None:
    env = {k: v for k, v in moved.env.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    done = sts_mfa(moved, "assume", "alice", env=env)
    assert done.returncode == 6, done.stderr
    [line] = done.stderr.splitlines()
    assert "no OS keyring is available" in line
    # ... and the AWS CLI passes the line on, through credential_process
    via_cli = moved.aws("cp-alice", "sts", "get-caller-identity", env=env)
    assert via_cli.returncode != 0 and "no OS keyring is available" in via_cli.stderr


def test_a_keyring_that_refuses_the_key_changes_no_file(alice: Alice) -> None:
    before = alice.files.credentials.read_bytes(), alice.files.config.read_bytes()
    env = {**alice.env, **environment("RefusingKeyring")}
    done = sts_mfa(alice, "keys", "add", "alice", env=env)
    assert done.returncode == 6, done.stderr
    assert "PasswordSetError" in done.stderr and done.stderr.count("\n") == 1
    assert (alice.files.credentials.read_bytes(), alice.files.config.read_bytes()) == before


def test_with_the_key_in_the_file_no_keyring_is_needed(alice: Alice) -> None:
    """No D-Bus, no keyring: a profile whose key is in the file never asks for one."""
    env = {**alice.env, **environment("HangingKeyring")}
    started = time.monotonic()
    assert sts_mfa(alice, "assume", "alice", env=env).returncode == 0
    assert time.monotonic() - started < 15


def test_the_cached_answer_for_a_keyring_profile_loads_no_keyring(moved: Alice, tmp_path: Path) -> None:
    """`credential_process` on a cached session: neither keyring nor boto3, so no D-Bus call either."""
    from tests.support.processes import run_probe

    assert moved.caller_arn("cp-alice") == moved.identity.user_arn
    names = (
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "STS_MFA_CACHE_DIR",
        "DBUS_SESSION_BUS_ADDRESS",
    )
    result, loaded = run_probe(
        tmp_path, ["assume", "alice", "--format", "process"], **{k: moved.env[k] for k in names}
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1
    assert not set(loaded) & {"keyring", "boto3", "botocore"}, loaded


def test_keys_remove_deletes_the_entry_and_says_the_profile_has_no_key_now(
    moved: Alice, keyring: SecretService
) -> None:
    done = sts_mfa(moved, "keys", "remove", "alice")

    assert done.returncode == 0, done.stderr
    key_id = moved.identity.access_key_id
    assert done.stdout.strip() == (
        f"profile alice's key {key_id} was deleted from the OS keyring; it has no key now"
    )
    assert f"the access key {key_id} itself still exists in AWS" in done.stderr
    assert keyring.lookup("alice") is None and keyring.lookup("sandbox-alice") is not None
    assert moved.files.credentials.read_text().endswith("\n[alice]\n")  # its sts_mfa_keys line gone too
    again = sts_mfa(moved, "keys", "remove", "alice")
    assert again.returncode == 6 and "profile alice has no key in the OS keyring" in again.stderr
    listed = json.loads(sts_mfa(moved, "keys", "list", "--json").stdout)["profiles"]
    assert [row["profile"] for row in listed] == ["sandbox-alice"]
