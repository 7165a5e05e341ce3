"""`sts-mfa keys rotate` against the strict sandbox: the new key works, the old one is gone, and a
kill at any moment leaves a working stored key that a rerun turns into a finished rotation.

alice's identity (the example profiles) on a Sandbox on the real clock. The kill tests rotate
`sandbox-alice` (no mfa_serial: IAM with its long-term key, which a policy lets manage its own
keys), its key kept in the credentials file or in a keyring several processes share
(`tests.support.keyrings.FileKeyring`); the MFA test rotates the user profile `alice` under
the force-MFA policy of `docs/keys-policy.json`, which refuses a long-term key.
"""

from __future__ import annotations

import configparser
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from sts_mfa.sandbox import Faults, Sandbox
from tests.support.example_profiles import Alice, make_alice, with_user_profiles
from tests.support.keyrings import FILE_VARIABLE, environment
from tests.support.processes import STS_MFA, run
from tests.support.sandbox import admin

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

ROOT = Path(__file__).resolve().parents[2]
OWN_KEYS = json.loads((ROOT / "docs" / "keys-policy.json").read_text())["Statement"][0]
PROFILE = "sandbox-alice"


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def alice(running: Sandbox, tmp_path: Path) -> Alice:
    made = with_user_profiles(make_alice(running, tmp_path))
    document = {"Version": "2012-10-17", "Statement": [OWN_KEYS]}
    admin(running, "iam").put_user_policy(
        UserName="alice", PolicyName="own-keys", PolicyDocument=json.dumps(document)
    )
    running.reset_log()
    return made


def sts_mfa(alice: Alice, *args: str) -> subprocess.CompletedProcess[str]:
    assert STS_MFA
    return run([STS_MFA, *args], alice.env)


def keys_in_aws(alice: Alice) -> set[str]:
    listed = admin(alice.sb, "iam").list_access_keys(UserName="alice")["AccessKeyMetadata"]
    return {k["AccessKeyId"] for k in listed}


def works(alice: Alice, key: tuple[str, str]) -> bool:
    sts = boto3.client(
        "sts",
        endpoint_url=alice.sb.endpoint,
        region_name=alice.sb.region,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
    )
    try:
        return str(sts.get_caller_identity()["Arn"]) == alice.identity.user_arn
    except ClientError:
        return False


class Stored:
    """Where the test keeps sandbox-alice's key: the credentials file, or the shared test keyring."""

    def __init__(self, alice: Alice, kind: str) -> None:
        self.alice, self.kind = alice, kind
        if kind == "keyring":
            alice.env.update(
                environment("FileKeyring", **{FILE_VARIABLE: str(alice.files.directory / "kr.json")})
            )
            done = sts_mfa(alice, "keys", "add", PROFILE)
            assert done.returncode == 0, done.stderr

    def key(self) -> tuple[str, str]:
        if self.kind == "keyring":
            entries = json.loads((self.alice.files.directory / "kr.json").read_text())
            doc = json.loads(entries[f"sts-mfa/{PROFILE}"])
            return doc["aws_access_key_id"], doc["aws_secret_access_key"]
        parser = configparser.RawConfigParser()
        parser.read_string(self.alice.files.credentials.read_text())
        return parser.get(PROFILE, "aws_access_key_id"), parser.get(PROFILE, "aws_secret_access_key")


def journals(alice: Alice) -> list[Path]:
    return sorted(Path(alice.env["STS_MFA_CACHE_DIR"]).glob("rotation-*.json"))


@pytest.mark.parametrize("kind", ["file", "keyring"])
def test_rotate_stores_a_working_key_where_the_old_one_was_and_deletes_the_old(
    alice: Alice, kind: str
) -> None:
    stored = Stored(alice, kind)
    old = stored.key()
    before = alice.files.credentials.read_text()

    done = sts_mfa(alice, "keys", "rotate", PROFILE, "--json")

    assert done.returncode == 0, done.stderr
    new = stored.key()
    assert json.loads(done.stdout) == {
        "profile": PROFILE,
        "old": old[0],
        "new": new[0],
        "resumed": False,
        "orphans_deleted": [],
    }
    assert new != old and works(alice, new) and not works(alice, old)
    assert keys_in_aws(alice) == {new[0]}
    if kind == "file":  # the two values changed, every other byte kept
        assert alice.files.credentials.read_text() == before.replace(old[0], new[0], 1).replace(
            old[1], new[1], 1
        )
    for secret in (old[1], new[1]):
        assert secret not in done.stdout + done.stderr
    assert journals(alice) == []
    assert alice.caller("cp-sandbox-readonly") == "ReadOnly"  # the AWS CLI, through the rotated source


def test_two_keys_already_is_refused_naming_them_and_nothing_changes(alice: Alice) -> None:
    second = admin(alice.sb, "iam").create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    before = alice.files.credentials.read_bytes()

    done = sts_mfa(alice, "keys", "rotate", PROFILE)

    assert done.returncode == 1, done.stderr
    [line] = done.stderr.splitlines()
    assert "already has two access keys" in line
    assert alice.identity.access_key_id in line and second in line
    assert keys_in_aws(alice) == {alice.identity.access_key_id, second}
    assert alice.files.credentials.read_bytes() == before and journals(alice) == []


def test_with_an_mfa_serial_rotate_uses_the_mfa_session_the_policy_demands(alice: Alice) -> None:
    """The force-MFA policy refuses alice's long-term key; `alice` (a user profile) gets its MFA session."""
    policy = (ROOT / "docs" / "keys-policy.json").read_text()
    admin(alice.sb, "iam").put_user_policy(UserName="alice", PolicyName="own-keys", PolicyDocument=policy)

    refused = sts_mfa(alice, "keys", "rotate", PROFILE)  # no mfa_serial: the long-term key
    assert refused.returncode == 1
    assert "AccessDenied" in refused.stderr and "give the profile an mfa_serial" in refused.stderr

    done = sts_mfa(alice, "keys", "rotate", "alice")
    assert done.returncode == 0, done.stderr
    assert alice.codes_given() == 1 and alice.sb.count("GetSessionToken", 200) == 1
    [new] = keys_in_aws(alice)
    assert new != alice.identity.access_key_id
    assert alice.caller_arn("cp-alice") == alice.identity.user_arn  # the new key, a new MFA session


def test_a_lost_answer_to_create_access_key_is_finished_by_a_rerun(alice: Alice) -> None:
    """AWS made the key, the answer never came: the secret is lost, so that key is deleted and made again."""
    alice.sb.set_faults(Faults(fail={1: "after"}))
    failed = sts_mfa(alice, "keys", "rotate", PROFILE)
    alice.sb.set_faults(Faults())
    assert failed.returncode == 1, failed.stderr
    assert len(keys_in_aws(alice)) == 2 and len(journals(alice)) == 1
    assert works(alice, Stored(alice, "file").key())

    done = sts_mfa(alice, "keys", "rotate", PROFILE, "--json")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["resumed"] is True and len(result["orphans_deleted"]) == 1
    assert keys_in_aws(alice) == {Stored(alice, "file").key()[0]} and journals(alice) == []


# The requests of a rotation, in order; a kill lands just after the sandbox answered one of them.
# (GetCallerIdentity with the new key is refused while it propagates: `key_delay`.)
STEPS = [
    ("GetCallerIdentity", 200, 1),  # the stored key's user
    ("ListAccessKeys", 200, 1),
    ("CreateAccessKey", 200, 1),  # in the journal or not yet: the new key's secret dies with the run
    ("GetCallerIdentity", 403, 1),  # waiting for STS to take the new key
    ("GetCallerIdentity", 200, 2),  # STS took it: storing, or stored
    ("DeleteAccessKey", 200, 1),  # the old key gone, the journal not yet
]


def kill_after(alice: Alice, action: str, status: int, nth: int) -> int | None:
    """Start a rotation; SIGKILL it once the sandbox answered `action` with `status` `nth` times
    (None; or its exit status, if it ended first)."""
    assert STS_MFA
    process = subprocess.Popen(
        [STS_MFA, "keys", "rotate", PROFILE],
        env=alice.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while alice.sb.count(action, status) < nth and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return None


def rerun_finishes(alice: Alice, stored: Stored, original: tuple[str, str]) -> None:
    done = sts_mfa(alice, "keys", "rotate", PROFILE)
    assert done.returncode == 0, done.stderr
    final = stored.key()
    assert final != original and works(alice, final)
    assert keys_in_aws(alice) == {final[0]}  # the old key and any orphan gone: never a third
    assert not any(r.error_code == "LimitExceeded" for r in alice.sb.requests)
    assert journals(alice) == []


@pytest.mark.parametrize("kind", ["file", "keyring"])
@pytest.mark.parametrize(("action", "status", "nth"), STEPS, ids=[f"{a}-{s}-{n}" for a, s, n in STEPS])
def test_a_kill_at_any_step_leaves_a_working_key_and_a_rerun_finishes(
    alice: Alice, kind: str, action: str, status: int, nth: int
) -> None:
    stored = Stored(alice, kind)
    original = stored.key()
    alice.sb.set_faults(Faults(key_delay=1.0))  # a real wait for the new key: a kill can land in it
    while not works(alice, original):  # (the example's own key is new too)
        time.sleep(0.05)
    alice.sb.reset_log()

    assert kill_after(alice, action, status, nth) is None, "the rotation ended before the kill"

    assert works(alice, stored.key()), "killed, the stored key must still work"
    assert len(keys_in_aws(alice)) <= 2
    rerun_finishes(alice, stored, original)


@pytest.mark.parametrize("fault", [{2: "before"}, {2: "after"}], ids=["delete-refused", "delete-lost"])
def test_a_failed_call_at_either_change_is_finished_by_a_rerun(alice: Alice, fault: dict[int, str]) -> None:
    """DeleteAccessKey failed before or after taking effect (CreateAccessKey's lost answer: above)."""
    stored = Stored(alice, "file")
    original = stored.key()
    alice.sb.set_faults(Faults(fail=fault))  # type: ignore[arg-type]
    failed = sts_mfa(alice, "keys", "rotate", PROFILE)
    alice.sb.set_faults(Faults())
    assert failed.returncode == 1, failed.stderr
    assert works(alice, stored.key()) and len(journals(alice)) == 1
    rerun_finishes(alice, stored, original)
