"""The shared state file: model, validation, migration, atomic write, lock.

One JSON document records what `setup` created (written *before* each create
with the intended name, and again after with the ARN), the TOTP replay guard,
and the cached role session. Every step reads it; so do scripts.

Guarantees:

- **Atomic**: a write goes to a temporary file in the same directory, is
  fsynced, then renamed over the old one (and the directory fsynced). A reader
  sees the old document or the new one, never a torn one; readers therefore
  take no lock.
- **Private**: created with mode 0600 whatever the umask (fchmod after open),
  and a file that is group- or world-accessible is refused on load, as ssh
  refuses a private key.
- **Serialized**: read-modify-write happens under a `filelock` lock on
  `<state>.lock`, with a re-read inside the lock so no update is lost.
- **Validated**: a document that is not what this version wrote is refused
  with a message naming the field and what is wrong; a newer schema version
  is refused; older ones are migrated (for `adopt`: they are unsigned).
- **Signed**: every write carries an HMAC of the content under this user's key
  (`sts_mfa.state.signature`), and a file without a good one is used for nothing until
  `sts-mfa adopt` signs it: owner and mode cannot tell a planted file from ours.

This module imports neither boto3 nor rich: the cached-credentials path
(`assume --format process`) reads the state on every call another program makes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sts_mfa.errors import NotSigned, StateError
from sts_mfa.files import cache
from sts_mfa.files.locks import LOCK_TIMEOUT_SECONDS
from sts_mfa.files.private import check_path, os_problem, read_text, remove_stale_temp_files, write_atomic
from sts_mfa.state import signature
from sts_mfa.state.model import State

__all__ = ["remove_stale_temp_files", "write_atomic"]


# -------------------------------------------------------------------- file I/O


def parse(text: str, *, source: str = "state file") -> State:
    """Parse and validate a state document (see `sts_mfa.state.schema`); its signature is not checked."""
    from sts_mfa.state import schema

    return schema.parse(text, source=source)


@dataclass
class Read:
    """A state file as read: the state, and why sts-mfa must not use it if it did not sign it."""

    path: Path
    state: State
    problem: str | None  # None: signed by this user's sts-mfa

    def refusal(self) -> NotSigned | None:
        """The error that refuses this file (exit 4), if it is not signed; else None."""
        if self.problem is None:
            return None
        return NotSigned(
            f"state file {self.path} {self.problem}; sts-mfa uses only state files it wrote",
            hint=f"if it is yours and you trust what it names: `sts-mfa --state {self.path} adopt`, "
            "which discards any cached session in it",
        )


def read(path: Path, *, key_dir: str | None = None) -> Read | None:
    """The state file at `path`, validated, with its signature checked (None: there is no file).

    The order says the most specific thing: an unsafe file (another user's, open to others, a
    FIFO, a symlink, huge) is refused unread, then an invalid document for what is wrong in it,
    and only a valid document is judged by its signature (under the key in `key_dir`, the
    private cache directory; None: this run's, `cache.root()`).
    """
    from sts_mfa.state import schema

    text = read_text(path)
    if text is None:
        return None
    source = f"state file {path}"
    doc = schema.decode(text, source=source)
    state = schema.build(doc, source=source)
    root = key_dir or cache.root()
    return Read(path, state, signature.problem(doc, signature.read_key(root), root))


def load(path: Path, *, key_dir: str | None = None) -> State | None:
    """Load without locking (writes are atomic renames, so a read is never torn); only a file
    this user's sts-mfa signed (else NotSigned, exit 4)."""
    found = read(path, key_dir=key_dir)
    if found is None:
        return None
    refusal = found.refusal()
    if refusal is not None:
        raise refusal
    return found.state


def dump(state: State, key: signature.Key) -> str:
    """The state file's text: the document, signed with `key`."""
    doc = state.to_json()
    doc[signature.FIELD] = signature.sign(doc, key)
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def write(path: Path, state: State, *, key_dir: str | None = None) -> None:
    """Write `state` at `path` atomically, signed with the key in `key_dir` (made if need be)."""
    write_atomic(path, dump(state, signature.key_for_writing(key_dir or cache.root())))


# ---------------------------------------------------------------- transactions


class Transaction:
    """The state under the lock: `state` may be None until `create()`."""

    def __init__(self, path: Path, state: State | None, key_dir: str) -> None:
        self.path = path
        self.state = state
        self.key_dir = key_dir
        self.deleted = False

    def require(self) -> State:
        if self.state is None:
            raise StateError(
                f"no state file at {self.path}", hint="run `sts-mfa setup` first, or pass --state"
            )
        return self.state

    def save(self) -> None:
        """Persist now, signed (called before and after every create)."""
        write(self.path, self.require(), key_dir=self.key_dir)

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        remove_stale_temp_files(self.path)
        self.state = None
        self.deleted = True


@contextlib.contextmanager
def locked(
    path: Path, *, timeout: float = LOCK_TIMEOUT_SECONDS, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the state file's lock (its directory and path checked first); stale temp files go."""
    from sts_mfa.files.locks import held

    try:
        parent_is_dir = path.parent.is_dir()
    except OSError as e:
        raise StateError(f"cannot use state file {path}: {os_problem(e)}") from None
    if not parent_is_dir:
        raise StateError(f"directory {path.parent} for the state file does not exist")
    # Look before creating the lock: a refused path must not gain a lock file.
    check_path(path)
    with held(str(path), what="state file", timeout=timeout, on_wait=on_wait):
        remove_stale_temp_files(path)
        yield


@contextlib.contextmanager
def transaction(
    path: Path,
    *,
    key_dir: str | None = None,
    timeout: float = LOCK_TIMEOUT_SECONDS,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[Transaction]:
    """Hold the state lock, re-read the file inside it, and yield it for changes.

    Changes are written by `Transaction.save()`; nothing is written implicitly,
    so a command that fails half-way leaves what it last saved. A file this
    user's sts-mfa did not sign is refused (NotSigned) before anything is done.
    """
    root = key_dir or cache.root()
    with locked(path, timeout=timeout, on_wait=on_wait):
        yield Transaction(path, load(path, key_dir=root), root)


@dataclass
class Adopted:
    """What `adopt` did: nothing (`already` signed), or signed it, dropping a cached session."""

    state: State
    already: bool
    discarded_session: bool
    was: str | None  # why it was refused before (`signature.problem`'s phrase)


def adopt(path: Path, *, key_dir: str | None = None, on_wait: Callable[[], None] | None = None) -> Adopted:
    """Sign the state file at `path`, which the user vouches for, as the current version.

    It must be a valid state file (as every read requires). Its cached role session is
    discarded: in a file sts-mfa did not write, a session is someone else's credentials.
    """
    root = key_dir or cache.root()
    missing = StateError(f"no state file at {path}", hint="name it with --state / STS_MFA_STATE")
    if not check_path(path):  # nothing to adopt: no lock file is made for it
        raise missing
    with locked(path, on_wait=on_wait):
        found = read(path, key_dir=root)
        if found is None:
            raise missing
        if found.problem is None:
            return Adopted(found.state, already=True, discarded_session=False, was=None)
        state = found.state
        discarded = state.session is not None
        state.session = None
        write(path, state, key_dir=root)
        return Adopted(state, already=False, discarded_session=discarded, was=found.problem)
