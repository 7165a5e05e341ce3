"""The private cache directory: where profile sessions, MFA sessions, ledgers and the signing key live.

One directory, `STS_MFA_CACHE_DIR` or the platform's user cache directory
(`platformdirs`: `~/.cache/sts-mfa` on Linux), mode 0700, refused if it is a
symlink, someone else's, or open to others. Each entry is one JSON file (0600,
written atomically) beside its `.lock`, named by a hash of what identifies it, so a
changed profile (another role, serial, duration) never finds an old session.

The cached-credentials path finds the directory without importing platformdirs
(`fast_root`): where that guess differs from platformdirs' answer it simply finds
nothing and the full path runs.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from contextlib import contextmanager

from sts_mfa.errors import StateError
from sts_mfa.files.private import os_problem, read_json_object, write_atomic

TYPE_CHECKING = False  # not typing's: importing typing costs ~10 ms of every start (mypy reads it as True)
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any

APP = "sts-mfa"
ENTRY_VERSION = 1


def root(environ: Mapping[str, str] = os.environ) -> str:
    """The cache directory (not created)."""
    explicit = environ.get("STS_MFA_CACHE_DIR")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    import platformdirs

    return str(platformdirs.user_cache_dir(APP, appauthor=False))


def fast_root(environ: Mapping[str, str]) -> str | None:
    """The cache directory as the light path can know it: the variable, or Linux's XDG rule."""
    explicit = environ.get("STS_MFA_CACHE_DIR")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    if not sys.platform.startswith("linux"):
        return None
    base = environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
    return os.path.join(base, APP) if os.path.isabs(base) else None


def ensure(path: str) -> str:
    """Create the cache directory (0700) if needed; refuse one that is not private and ours."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError as e:
        raise StateError(f"cannot use the cache directory {path}: {os_problem(e)}") from None
    check_directory(path, st)
    return path


def check_directory(path: str, st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise StateError(f"the cache directory {path} is not a directory (a symlink or a file)")
    if st.st_uid != os.geteuid():
        raise StateError(f"the cache directory {path} belongs to another user (uid {st.st_uid})")
    if st.st_mode & 0o077:
        import shlex

        raise StateError(
            f"the cache directory {path} is open to other users (mode {stat.S_IMODE(st.st_mode):04o}); "
            "it holds credentials",
            hint=f"chmod 700 {shlex.quote(path)}",
        )


def entry_name(kind: str, *parts: str) -> str:
    """`<kind>-<hash>.json`: the hash of what identifies the entry (never the secret itself)."""
    digest = _sha256_hex("\0".join(parts).encode("utf-8", "surrogatepass"))[:40]
    return f"{kind}-{digest}.json"


def _sha256_hex(data: bytes) -> str:
    return sha256(data).hex()


_FOUND: dict[str, Any] = {}  # the SHA-256 constructor, found once (a failed import searches sys.path)


def sha256(data: bytes) -> bytes:
    """SHA-256, from CPython's built-in module when there is one: hashlib loads OpenSSL first,
    ~4 ms of the cached-credentials answer. The digest is the same either way."""
    if not _FOUND:
        # The module's name for this version first: a failed import searches all of sys.path.
        names = ("_sha2", "_sha256") if sys.version_info >= (3, 12) else ("_sha256", "_sha2")
        for name in names:
            try:
                _FOUND["sha256"] = __import__(name).sha256
                break
            except ImportError:
                continue
        else:  # not CPython, or built without them
            from hashlib import sha256

            _FOUND["sha256"] = sha256
    return bytes(_FOUND["sha256"](data).digest())


def read_entry(path: str) -> dict[str, Any] | None:
    """An entry's document, or None if it is absent or not one this version wrote."""
    return read_json_object(path, "cache file", version=ENTRY_VERSION)


def write_entry(path: str, doc: Mapping[str, Any]) -> None:
    write_atomic(path, json.dumps({"version": ENTRY_VERSION, **doc}, indent=1), "cache file")


def remove_entry(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
        os.unlink(path)


@contextmanager
def locked(path: str, what: str, on_wait: Any = None) -> Iterator[None]:
    """Hold the entry's lock (`<entry>.lock`) while it is read, renewed and written."""
    from sts_mfa.files.locks import held

    with held(path, what=what, on_wait=on_wait):
        yield
