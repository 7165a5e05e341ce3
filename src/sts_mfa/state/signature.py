"""The signature on every state file sts-mfa writes: HMAC-SHA256 under a per-user key.

A state file is a credential source (an access key, a cached role session), and owner and
mode cannot say who wrote it: a 0600 file from a tarball or a `git clone` is the user's own
by both. So every state file sts-mfa writes carries, in its top-level `signature` field, an
HMAC-SHA256 of its content under a key only this user's sts-mfa reads: 32 random bytes in
`state-signing.key` in the private cache directory (`sts_mfa.files.cache`, 0700; the key 0600,
made once, never replaced). A state file whose signature does not check (none, another
key's, or content changed since) is used for nothing until `sts-mfa adopt` signs it.

The signature covers the content, not the layout: the JSON document without its
`signature` field, with sorted keys and no spaces (`canonical`). It says nothing about
where the file is: a copy of one's own state file is still one's own.

This module is on the cached-credentials path, so it is light: SHA-256 from CPython's
built-in module (hashlib and hmac load OpenSSL, ~4 ms of that answer) and HMAC (RFC 2104)
in a few lines, tested against the standard library's `hmac`; `secrets` only to make a key.
"""

from __future__ import annotations

import contextlib
import json
import os
from _operator import _compare_digest  # hmac.compare_digest without importing hmac (OpenSSL)

from sts_mfa.errors import StateError
from sts_mfa.files import cache
from sts_mfa.files.private import os_problem, read_text

TYPE_CHECKING = False  # not typing's: importing typing costs ~10 ms of every start (mypy reads it as True)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

FIELD = "signature"
KEY_FILE = "state-signing.key"
ALGORITHM = "hmac-sha256"
WHAT = "signing key"
_KEY_BYTES = 32
_BLOCK = 64  # SHA-256's block size, which HMAC pads the key to
_INNER = bytes(b ^ 0x36 for b in range(256))  # translate() tables: XOR each byte with ipad / opad
_OUTER = bytes(b ^ 0x5C for b in range(256))
_HEX = frozenset("0123456789abcdef")


def hmac_sha256(key: bytes, message: bytes) -> str:
    """HMAC-SHA256 (RFC 2104) of `message` under `key`, in hex: the standard library's answer."""
    if len(key) > _BLOCK:
        key = cache.sha256(key)
    key = key.ljust(_BLOCK, b"\0")
    inner = cache.sha256(key.translate(_INNER) + message)
    return cache.sha256(key.translate(_OUTER) + inner).hex()


class Key:
    """A signing key and the file it was read from (for messages)."""

    __slots__ = ("path", "secret")

    def __init__(self, path: str, secret: bytes) -> None:
        self.path = path
        self.secret = secret

    @property
    def id(self) -> str:
        """Which key signed a file (so a message can say "another key"): reveals nothing of it."""
        return hmac_sha256(self.secret, b"sts-mfa state-signing key id")[:16]


def key_path(root: str) -> str:
    return os.path.join(root, KEY_FILE)


def canonical(doc: Mapping[str, Any]) -> bytes:
    """What is signed: the document without its signature, sorted keys, no spaces, ASCII."""
    body = {k: v for k, v in doc.items() if k != FIELD}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")


def sign(doc: Mapping[str, Any], key: Key) -> str:
    """The value of the document's `signature` field: `hmac-sha256:<key id>:<HMAC in hex>`."""
    return f"{ALGORITHM}:{key.id}:{hmac_sha256(key.secret, canonical(doc))}"


def read_key(root: str) -> Key | None:
    """The key in the cache directory `root`, or None if there is none (nothing made it yet, or
    the cache was cleared). A directory or key file that is not private and ours is refused."""
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StateError(f"cannot use the cache directory {root}: {os_problem(e)}") from None
    cache.check_directory(root, st)
    path = key_path(root)
    text = read_text(path, WHAT, holds="the key that signs your state files")
    if text is None:
        return None
    if len(text) != 2 * _KEY_BYTES or not _HEX.issuperset(text):
        raise StateError(
            f"{WHAT} {path} is not one sts-mfa wrote (64 hex digits)",
            hint="remove it: sts-mfa makes a new one, and every state file then needs `sts-mfa adopt`",
        )
    return Key(path, bytes.fromhex(text))


def key_for_writing(root: str) -> Key:
    """The key in `root`, made first (the directory too, 0700) if there is none.

    A new key is written whole to a temporary file, then linked to its name: `link` never
    replaces a file, so when two processes make one at once, both use the one that won.
    """
    key = read_key(cache.ensure(root))
    if key is None:
        _make_key(root)
        key = read_key(root)
    if key is None:  # pragma: no cover - removed between link and read
        raise StateError(f"{WHAT} {key_path(root)} vanished as it was made")
    return key


def _make_key(root: str) -> None:
    import secrets  # only a first write pays for it (it imports hmac, and so OpenSSL)

    tmp = os.path.join(root, f".{KEY_FILE}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, secrets.token_bytes(_KEY_BYTES).hex().encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another sts-mfa made one first: it is the key
            os.link(tmp, key_path(root))
    except OSError as e:
        raise StateError(f"cannot write {WHAT} {key_path(root)}: {os_problem(e)}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def problem(doc: Mapping[str, Any], key: Key | None, root: str) -> str | None:
    """Why `doc` is not a document this user's sts-mfa signed (a phrase to follow its name), or
    None if it is one. `key` is the key of the cache directory `root` (None: it has none)."""
    value = doc.get(FIELD)
    if value is None:
        return "is not signed: sts-mfa did not write it, or an sts-mfa older than schema version 4 did"
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) != 3 or parts[0] != ALGORITHM or not all(_HEX.issuperset(p) for p in parts[1:]):
        return "has a signature sts-mfa does not write"
    if key is None:
        return (
            f"was signed with a key that is gone: there is no {key_path(root)} (was the cache "
            "directory cleared, or does STS_MFA_CACHE_DIR name another?); every state file "
            "written before then needs adopting"
        )
    if not _compare_digest(parts[1], key.id):
        return (
            f"was signed with another key than {key.path} (another cache directory's, "
            "another user's or machine's, or one since replaced)"
        )
    if not _compare_digest(parts[2], hmac_sha256(key.secret, canonical(doc))):
        return "was changed after sts-mfa wrote it (its signature no longer matches its content)"
    return None


def is_signed(doc: Mapping[str, Any], root: str) -> bool:
    """True if `doc` carries a good signature under the key in `root` (an unsafe key raises)."""
    return problem(doc, read_key(root), root) is None
