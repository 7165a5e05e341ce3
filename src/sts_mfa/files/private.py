"""Reading and writing the tool's private files: regular, owned, private, atomic, never torn.

Kept apart from the state model (`sts_mfa.state.document`) so that the cached-credentials
path can read the file without building the model: it runs every time another
program asks for credentials, and start-up time is what it costs.

Every path the tool reads is input. A FIFO there would block `open()` forever
(and with it every `credential_process` call), a device could be read without
end, a symlink could point anywhere, and a file someone else owns may have been
planted. So a file is opened without following symlinks and without blocking,
checked with `fstat` on the open descriptor (no race between check and use),
and refused unless it is a regular file of reasonable size, owned by this user,
and private to them, as ssh refuses a private key.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat

from sts_mfa.errors import StateError, WouldOverwrite

TYPE_CHECKING = False  # not typing's: importing typing costs ~10 ms of every start (mypy reads it as True)
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    PathLike: TypeAlias = str | os.PathLike[str]
else:
    PathLike = object  # only annotations name it, and they are never evaluated

# A state file is a few kilobytes; anything this big is not one (and is not read whole).
MAX_FILE_BYTES = 1 << 20
# Temporary files are named `.<name>.<16 hex>.tmp`: stale ones are matched exactly by this.
_TEMP_HEX = 16

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


def kind_of(mode: int) -> str:
    """'a FIFO (named pipe)', 'a directory'...: what a non-regular file is, for messages."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_file(
    path: PathLike,
    st: os.stat_result,
    what: str = "state file",
    *,
    private: bool = True,
    holds: str = "an access key",
) -> None:
    """Refuse anything but a (private) regular file owned by this user, of sensible size.

    `holds` says, in the message for a file open to others, what secret it keeps."""
    if not stat.S_ISREG(st.st_mode):
        raise StateError(f"{what} {path} is {kind_of(st.st_mode)}, not a regular file")
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise StateError(
            f"{what} {path} belongs to another user (uid {st.st_uid}); sts-mfa only uses files you own",
            hint="use a file of your own",
        )
    if private and st.st_mode & 0o077:
        import shlex

        raise StateError(
            f"{what} {path} is accessible by other users (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"it holds {holds}",
            hint=f"chmod 600 {shlex.quote(os.fspath(path))}",
        )
    if st.st_size > MAX_FILE_BYTES:
        raise StateError(f"{what} {path} is {st.st_size} bytes: far too big to be one sts-mfa wrote")


def os_problem(e: OSError) -> str:
    """An OSError as a short phrase ('File name too long'), never a traceback."""
    if e.errno == errno.ELOOP:
        return "it is a symbolic link (sts-mfa does not follow links to its private files)"
    return e.strerror or str(e)


def check_path(path: PathLike, what: str = "state file", *, private: bool = True) -> bool:
    """Before creating anything next to `path` (its lock): is what is there acceptable?

    Returns whether the file exists. Looks with `lstat`, so a FIFO is never opened
    and a symlink never followed.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as e:
        raise StateError(f"cannot use {what} {path}: {os_problem(e)}") from None
    if stat.S_ISLNK(st.st_mode):
        raise StateError(f"{what} {path} is a symbolic link; sts-mfa does not follow links to its files")
    check_file(path, st, what, private=private)
    return True


def read_text(
    path: PathLike, what: str = "state file", *, private: bool = True, holds: str = "an access key"
) -> str | None:
    """The file's text, or None if it does not exist. Refuses unsafe files (see the module doc)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise StateError(f"{what} {path} is a directory") from None
    except PermissionError:
        raise StateError(f"cannot read {what} {path}: permission denied") from None
    except OSError as e:
        if e.errno == errno.ENXIO:  # a socket (or a device with nothing behind it)
            with contextlib.suppress(OSError):
                kind = kind_of(os.lstat(path).st_mode)
                raise StateError(f"{what} {path} is {kind}, not a regular file") from None
        raise StateError(f"cannot read {what} {path}: {os_problem(e)}") from None
    try:
        check_file(path, os.fstat(fd), what, private=private, holds=holds)  # before fdopen: refuses dirs
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise StateError(f"{what} {path} is far too big to be one sts-mfa wrote")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise StateError(f"{what} {path} is not UTF-8 text") from None


def read_json_object(path: PathLike, what: str, *, version: int) -> dict[str, Any] | None:
    """A private file's JSON object if it is one of this `version`, else None (absent,
    malformed, another version: the caller's full path says what is wrong). Unsafe files
    still raise, as `read_text` does."""
    import json

    text = read_text(path, what)
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("version") != version:
        return None
    return doc


def temp_name_pattern(path: PathLike) -> re.Pattern[str]:
    """Exactly the names `write_atomic` gives its temporary files for `path`, and nothing else."""
    return re.compile(rf"\.{re.escape(os.path.basename(path))}\.[0-9a-f]{{{_TEMP_HEX}}}\.tmp")


def _new_temp(directory: str, name: str) -> tuple[int, str]:
    import secrets  # only writers pay for it

    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    while True:
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(_TEMP_HEX // 2)}.tmp")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue


def write_atomic(path: PathLike, text: str, what: str = "state file") -> None:
    """Write `text` to `path` atomically with mode 0600 (a temp file in the same directory, renamed)."""
    directory = os.path.dirname(os.fspath(path)) or "."
    try:
        fd, tmp = _new_temp(directory, os.path.basename(path))
    except OSError as e:
        raise StateError(f"cannot write {what} in {directory}: {os_problem(e)}") from None
    try:
        os.fchmod(fd, 0o600)  # O_CREAT's mode is filtered by the umask; say it whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StateError(f"cannot write {what} {path}: {os_problem(e)}") from None
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


def write_new(path: PathLike, data: bytes, what: str = "file") -> None:
    """Create `path` with mode 0600; refuse if anything is already there (never overwrite)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise WouldOverwrite(f"{what} {path} already exists; sts-mfa never overwrites a file") from None
    except OSError as e:
        raise StateError(f"cannot write {what} {path}: {os_problem(e)}") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def remove_stale_temp_files(path: PathLike) -> list[str]:
    """Delete temp files left by writers of `path` killed mid-write (call with the lock held).

    Each is a whole copy of the state, secrets included: it must not outlive the
    crash that left it. Only names `write_atomic` makes for this very path are
    touched (so `prod` never reaches `prod.json`'s), and only regular files of ours.
    """
    directory = os.path.dirname(os.fspath(path)) or "."
    pattern = temp_name_pattern(path)
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
                os.unlink(entry.path)
                removed.append(entry.path)
    return removed


def read_config_text(path: PathLike) -> str | None:
    """A user's own config file (the AWS config or credentials file): text, or None if absent.

    Symlinks are followed (dotfile managers link these files), but it must be a regular
    file of sensible size: a FIFO would block every TAB press, /dev/zero fill memory.
    The null device reads as the empty file it is (`exec --server` gives its command the
    AWS files as /dev/null). Raises StateError for anything else.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StateError(f"cannot read {path}: {os_problem(e)}") from None
    st = os.fstat(fd)
    if _is_null_device(st):
        os.close(fd)
        return ""
    if not stat.S_ISREG(st.st_mode):  # checked before fdopen, which refuses a directory itself
        os.close(fd)
        raise StateError(f"{path} is {kind_of(st.st_mode)}, not a regular file")
    with os.fdopen(fd, "rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise StateError(f"{path} is over {MAX_FILE_BYTES} bytes: too big to be an AWS config file")
    return raw.decode("utf-8", "replace")


def _is_null_device(st: os.stat_result) -> bool:
    """Is this the null device (whatever the name it was opened by)?"""
    if not stat.S_ISCHR(st.st_mode):
        return False
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(null.st_mode) and null.st_rdev == st.st_rdev
