"""Holding a file's lock: `<file>.lock`, checked before it is created, waited for with a bound.

The state file, the profile session cache and the per-device ledger of TOTP
time-steps are all read-modify-written under such a lock (filelock, flock on
Unix). The lock file is looked at first: a symlink or someone else's file there
is never opened, and a path that is refused gains no lock file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from sts_mfa.errors import StateError
from sts_mfa.files.private import check_path, os_problem

# assume may hold a lock through a TOTP window and a propagation wait, setup through a
# person typing two codes, a profile through a person answering a prompt: wait long
# before calling it stuck.
LOCK_TIMEOUT_SECONDS = 600.0


@contextlib.contextmanager
def held(
    path: str,
    *,
    what: str,
    timeout: float = LOCK_TIMEOUT_SECONDS,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold the lock of `path` (the file `<path>.lock`); `on_wait` is called if another holds it."""
    from filelock import FileLock, Timeout  # 16 ms to import: only paths that write pay it

    lock_path = path + ".lock"
    check_path(lock_path, "lock file", private=False)
    lock = FileLock(lock_path, mode=0o600)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait is not None:
            on_wait()
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise StateError(
                f"{what} {path} is still in use by another sts-mfa after {timeout:.0f} s",
                hint="let it finish (the lock is released the moment it exits), then run this again",
            ) from None
    except OSError as e:
        raise StateError(f"cannot lock {what} {path}: {os_problem(e)}") from None
    try:
        yield
    finally:
        lock.release()
