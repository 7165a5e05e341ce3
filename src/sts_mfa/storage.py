"""Reading and writing the state file's bytes: private, atomic, never torn.

Kept apart from the state model (`sts_mfa.state`) so that the cached-credentials
path can read the file without building the model: it runs every time another
program asks for credentials, and start-up time is what it costs.
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import Union

from sts_mfa.errors import StateError

PathLike = Union[str, "os.PathLike[str]"]

SCHEMA_VERSION = 2


def _check_private(path: PathLike, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise StateError(f"state file {path} is not a regular file")
    if st.st_mode & 0o077:
        raise StateError(
            f"state file {path} is accessible by other users (mode {stat.S_IMODE(st.st_mode):04o}); "
            "it holds an access key",
            hint=f"chmod 600 {path}",
        )


def read_text(path: PathLike) -> str | None:
    """The state file's text, or None if it does not exist. Refuses unsafe files."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise StateError(f"state file {path} is a directory") from None
    except PermissionError:
        raise StateError(f"cannot read state file {path}: permission denied") from None
    except OSError as e:
        raise StateError(f"cannot read state file {path}: {e.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        _check_private(path, os.fstat(f.fileno()))
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise StateError(f"state file {path} is not UTF-8 text") from None


def write_atomic(path: PathLike, text: str) -> None:
    """Write `text` to `path` atomically with mode 0600."""
    import tempfile  # only writers pay for it

    directory = os.path.dirname(os.fspath(path)) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise StateError(f"cannot write state file in {directory}: {e.strerror}") from None
    try:
        os.fchmod(fd, 0o600)  # mkstemp already uses 0600; say so whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StateError(f"cannot write state file {path}: {e.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
