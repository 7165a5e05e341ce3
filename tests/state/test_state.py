"""The state file: validated, private, atomic, serialized."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from sts_mfa.errors import NotSigned, StateError
from sts_mfa.state.document import adopt, load, parse, transaction, write, write_atomic
from sts_mfa.state.model import AccessKey, Resource, Session, State
from sts_mfa.state.version import SCHEMA_VERSION
from tests.support.state import signed


def sample_state() -> State:
    return State(
        prefix="sts-mfa-abcd1234",
        iam_path="/sts-mfa/",
        mode="software",
        user=Resource(
            "sts-mfa-abcd1234-user", "arn:aws:iam::123456789012:user/sts-mfa/sts-mfa-abcd1234-user"
        ),
        access_key=AccessKey("AKIAIOSFODNN7EXAMPLE", "secret"),
        seed=None,
    )


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    state = sample_state()
    state.session = Session("ASIA", "s", "t", 123.0, "arn:role")
    path = tmp_path / "s.json"
    write(path, state)
    assert load(path) == state


def test_document_starts_with_the_version() -> None:
    assert list(json.loads(signed(sample_state())))[:2] == ["version", "tool"]


def test_the_signature_comes_last_and_covers_the_rest() -> None:
    doc = json.loads(signed(sample_state()))
    assert list(doc)[-1] == "signature" and doc["signature"].startswith("hmac-sha256:")


def test_written_file_is_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        path = tmp_path / "s.json"
        write(path, sample_state())
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o666])
def test_group_or_world_accessible_file_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "s.json"
    write(path, sample_state())
    path.chmod(mode)
    with pytest.raises(StateError, match="accessible by other users") as err:
        load(path)
    assert "chmod 600" in str(err.value)


def test_missing_file_loads_as_none(tmp_path: Path) -> None:
    assert load(tmp_path / "nope.json") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("{", "not valid JSON"),
        ("[1, 2]", "must hold a JSON object, not a list"),
        ('"x"', "must hold a JSON object, not a string"),
        ("{}", "version: expected an integer"),
        ('{"version": "1"}', "version: expected an integer, got a string"),
        ('{"version": true}', "version: expected an integer"),
        ('{"version": 99}', "newer sts-mfa"),
        ('{"version": 0}', "not a schema version"),
        ('{"version": 1, "iam_path": "/x/", "mode": "software"}', "prefix: missing"),
        (
            '{"version": 1, "prefix": 5, "iam_path": "/x/", "mode": "software"}',
            "prefix: expected a string, got int",
        ),
        (
            '{"version": 1, "prefix": "p", "iam_path": "/x/", "mode": "sms"}',
            "mode: expected 'phone' or 'software'",
        ),
        (
            '{"version": 1, "prefix": "p", "iam_path": "/x/", "mode": "phone", "user": {"arn": "a"}}',
            "user.name: missing",
        ),
        (
            '{"version": 1, "prefix": "p", "iam_path": "/x/", "mode": "phone", "user": []}',
            "user: expected an object, got a list",
        ),
        (
            '{"version": 1, "prefix": "p", "iam_path": "/x/", "mode": "phone", "colour": "red"}',
            "colour: unknown field",
        ),
        (
            '{"version": 1, "prefix": "p", "iam_path": "/x/", "mode": "phone", '
            '"session": {"access_key_id": "a", "secret_access_key": "b", "session_token": "c", '
            '"expiration": "soon", "role_arn": "r"}}',
            "session.expiration: expected a number, got a string",
        ),
        (
            '{"version": 1, "prefix": "p", "iam_path": "/x/", "mode": "phone", '
            '"totp": {"s": {"last_step": 1.5}}}',
            "totp.s.last_step: expected an integer or null",
        ),
        (
            '{"version": 1, "prefix": "p", "iam_path": "/x/", "mode": "software", '
            '"mfa_device": {"name": "d", "serial": "arn"}}',
            "seed: missing",
        ),
    ],
)
def test_invalid_documents_are_refused_saying_what_and_where(text: str, message: str) -> None:
    with pytest.raises(StateError, match=message):
        parse(text)


def test_future_version_names_both_versions() -> None:
    with pytest.raises(StateError) as err:
        parse(json.dumps({"version": SCHEMA_VERSION + 1}))
    assert f"schema version {SCHEMA_VERSION + 1}" in str(err.value)
    assert "upgrade sts-mfa" in str(err.value)


def test_transaction_serializes_read_modify_write(tmp_path: Path) -> None:
    """Eight threads each add 25 to a counter under the lock: no update is lost."""
    path = tmp_path / "s.json"
    state = sample_state()
    state.max_session_duration = 3600  # the counter (a field the schema lets range up to 43200)
    write(path, state)

    def bump() -> None:
        for _ in range(25):
            with transaction(path) as txn:
                s = txn.require()
                s.max_session_duration += 1
                txn.save()

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    loaded = load(path)
    assert loaded is not None and loaded.max_session_duration == 3600 + 200


def test_transaction_in_a_missing_directory_is_a_state_error(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="does not exist"), transaction(tmp_path / "nope" / "s.json"):
        pass


def test_read_only_directory_is_a_state_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        with pytest.raises(StateError):
            write_atomic(d / "s.json", "{}")
    finally:
        d.chmod(0o700)


def test_secrets_stay_out_of_repr() -> None:
    state = sample_state()
    state.seed = "JBSWY3DPEHPK3PXP"
    state.session = Session("ASIA", "sessionsecret", "sessiontoken", 1.0, "r")
    text = repr(state)
    assert "secret" not in text.replace("secret_access_key", "")
    assert "JBSWY3DPEHPK3PXP" not in text
    assert "sessiontoken" not in text


V1_DOCUMENT = {
    "version": 1,
    "tool": "sts-mfa",
    "prefix": "sts-mfa-0a1b2c3d",
    "iam_path": "/sts-mfa/",
    "mode": "phone",
    "region": "us-east-1",
    "endpoint": None,
    "account": "111111111111",
    "created_at": 1.0,
    "max_session_duration": 3600,
    "user": {
        "name": "sts-mfa-0a1b2c3d-user",
        "arn": "arn:aws:iam::111111111111:user/sts-mfa/sts-mfa-0a1b2c3d-user",
        "created_at": 1.0,
    },
    "mfa_device": None,
    "access_key": None,
    "policy": None,
    "role": {"name": "sts-mfa-0a1b2c3d-role", "arn": None, "created_at": None},
    "policy_attached": False,
    "user_policy": None,
    "seed": None,
    "qr_png": None,
    "totp": {},
    "session": None,
}


def test_a_version_1_file_is_migrated_its_role_in_the_identity_account() -> None:
    state = parse(json.dumps(V1_DOCUMENT))
    assert state.version == SCHEMA_VERSION == 4
    assert state.role_account == "111111111111"
    assert state.role_profile is None and state.role_endpoint is None
    assert state.user is not None and state.user.arn == V1_DOCUMENT["user"]["arn"]  # type: ignore[index]


def test_an_older_file_is_unsigned_and_used_only_once_adopted(tmp_path: Path) -> None:
    """Versions before 4 were never signed: refused by every read, migrated and signed by adopt."""
    path = tmp_path / "s.json"
    write_atomic(path, json.dumps(V1_DOCUMENT))
    with pytest.raises(NotSigned, match="is not signed"):
        load(path)
    with pytest.raises(NotSigned), transaction(path):
        pass
    adopted = adopt(path)
    assert not adopted.already and adopted.was is not None and "is not signed" in adopted.was
    assert json.loads(path.read_text())["version"] == 4
    assert load(path) == adopted.state
