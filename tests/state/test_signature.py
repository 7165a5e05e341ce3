"""The signing key and the HMAC of `sts_mfa.state.signature`: the standard library's answers, a key
of our own in a private place, and no OpenSSL on the cached-credentials path."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sts_mfa.errors import StateError
from sts_mfa.state import signature


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=200), st.binary(max_size=300))
def test_hmac_is_the_standard_librarys(key: bytes, message: bytes) -> None:
    """Keys shorter, as long as, and longer than SHA-256's 64-byte block (hashed first)."""
    assert signature.hmac_sha256(key, message) == hmac.new(key, message, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("size", [0, 1, 32, 63, 64, 65, 1000])
def test_hmac_at_the_block_boundaries(size: int) -> None:
    key = bytes(range(256)) * 4
    expected = hmac.new(key[:size], b"message", hashlib.sha256).hexdigest()
    assert signature.hmac_sha256(key[:size], b"message") == expected


def test_the_key_is_made_once_private_and_ours(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    key = signature.key_for_writing(str(root))
    path = root / signature.KEY_FILE
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key.secret) == 32 and path.read_text() == key.secret.hex()
    assert signature.key_for_writing(str(root)).secret == key.secret  # never replaced
    assert [p.name for p in root.iterdir()] == [signature.KEY_FILE]  # no temporary file left


def test_processes_making_the_key_at_once_all_use_one(tmp_path: Path) -> None:
    root = str(tmp_path / "cache")
    keys: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: keys.append(signature.key_for_writing(root).secret)) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1


def test_no_key_reads_as_none_and_makes_nothing(tmp_path: Path) -> None:
    assert signature.read_key(str(tmp_path / "cache")) is None
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (lambda root: (root / signature.KEY_FILE).chmod(0o644), "accessible by other users"),
        (lambda root: root.chmod(0o755), "open to other users"),
        (lambda root: (root / signature.KEY_FILE).write_text("not a key"), "is not one sts-mfa wrote"),
    ],
    ids=["key-readable-by-others", "cache-open-to-others", "key-damaged"],
)
def test_an_unsafe_or_damaged_key_is_refused(tmp_path: Path, spoil: object, says: str) -> None:
    root = tmp_path / "cache"
    signature.key_for_writing(str(root))
    spoil(root)  # type: ignore[operator]
    with pytest.raises(StateError, match=says):
        signature.read_key(str(root))


def test_a_symlinked_key_is_never_followed(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    signature.key_for_writing(str(root))
    theirs = tmp_path / "theirs.key"
    theirs.write_text("0" * 64)
    theirs.chmod(0o600)
    (root / signature.KEY_FILE).unlink()
    (root / signature.KEY_FILE).symlink_to(theirs)
    with pytest.raises(StateError, match="symbolic link"):
        signature.key_for_writing(str(root))


def test_a_signature_names_what_is_wrong(tmp_path: Path) -> None:
    root = str(tmp_path / "cache")
    key = signature.key_for_writing(root)
    doc = {"version": 4, "prefix": "p"}
    signed = {**doc, signature.FIELD: signature.sign(doc, key)}
    assert signature.problem(signed, key, root) is None
    assert signature.problem({**signed, "prefix": "q"}, key, root) == (
        "was changed after sts-mfa wrote it (its signature no longer matches its content)"
    )
    assert "is not signed" in (signature.problem(doc, key, root) or "")
    other = signature.Key("elsewhere", os.urandom(32))
    assert "another key" in (
        signature.problem({**doc, signature.FIELD: signature.sign(doc, other)}, key, root) or ""
    )
    for forged in (7, "hmac-sha256:xx", "md5:00:00", "hmac-sha256:ÿÿ:00"):
        assert "sts-mfa does not write" in (
            signature.problem({**doc, signature.FIELD: forged}, key, root) or ""
        )


def test_checking_a_signature_loads_no_openssl(tmp_path: Path) -> None:
    """What the cached-credentials path pays: no hashlib, hmac or OpenSSL (~4 ms)."""
    root = tmp_path / "cache"
    doc = {"version": 4}
    signed = {**doc, signature.FIELD: signature.sign(doc, signature.key_for_writing(str(root)))}
    probe = (
        "import json, sys\n"
        "from sts_mfa.state import signature\n"
        f"assert signature.is_signed(json.loads({__import__('json').dumps(signed)!r}), {str(root)!r})\n"
        "print(sorted(m for m in ('hashlib', 'hmac', '_hashlib', 'secrets') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
