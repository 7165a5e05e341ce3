"""The endpoint's token where SDKs read it (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`), gone with the server.

SDKs read the token from that file on every fetch (botocore: `ContainerProvider`), so the
token need not be printed nor kept in any environment. The file must not outlive the
server: a shell that sourced `serve`'s lines keeps pointing its SDKs at the port, and a
local process that binds the port once it is free would receive the token with every
fetch, and could answer with credentials of its own. So, where it can:

* on Linux, the token is an anonymous memory file (`memfd_create`) the server holds open,
  sealed against writes, and its path is `/proc/<server pid>/fd/<n>`: only the user (and
  root) can open it, and it stops resolving the moment the server's process ends, however
  it ends (SIGKILL included). An SDK with the old variables then fails to read the token
  and sends no request at all;
* elsewhere (or where /proc cannot serve it), a file created new in sts-mfa's private
  cache directory (0700, the user's own), with mode 0600, `O_EXCL` and `O_NOFOLLOW`
  (`storage.write_new`), named `endpoint-<server pid>-<16 hex>.token`. It is removed when
  the server ends, only if it is still exactly the file written; one a killed server left
  is swept by the next server's start (`sweep`): a regular file of the user's, matched
  exactly by that name, whose server process is gone.

Either way it holds the token and no newline (botocore refuses a token with one).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from dataclasses import dataclass

from sts_mfa.errors import StateError
from sts_mfa.files import cache
from sts_mfa.files.private import read_text, write_new

WHAT = "token file"
FILE_NAME = re.compile(r"endpoint-(?P<pid>[1-9][0-9]{0,9})-[0-9a-f]{16}\.token")


@dataclass
class Token:
    """Where the token is, for as long as the server runs: `path`; `remove()` when it stops."""

    path: str
    token: str
    fd: int | None = None  # the memory file's descriptor; None for a file in the cache

    def remove(self) -> bool:
        """Make the path stop resolving: close the memory file, or remove the file if still ours."""
        if self.fd is None:
            return remove(self.path, self.token)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = None
        return True


def create(token: str, directory: str | None = None) -> Token:
    """The token in a memory file where /proc can serve it, else in a new private file; stale files swept."""
    root = cache.ensure(directory or cache.root())
    sweep(root)
    held = _in_memory(token)
    return held if held is not None else Token(write(token, root), token)


def _in_memory(token: str) -> Token | None:
    """The token in a sealed memory file, if this system has them and /proc names them."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is None:
        return None
    try:
        fd = memfd_create("sts-mfa-endpoint-token", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    except OSError:
        return None
    held = Token(f"/proc/{os.getpid()}/fd/{fd}", token, fd)
    try:
        _fill_and_seal(fd, token.encode("ascii"))
        with open(held.path, "rb") as f:  # the path resolves, to exactly the token
            readable = f.read() == token.encode("ascii")
    except (OSError, AttributeError):  # no /proc here, or no seals in this fcntl
        readable = False
    if not readable:
        held.remove()
        return None
    return held


def _fill_and_seal(fd: int, data: bytes) -> None:
    import fcntl

    os.fchmod(fd, 0o600)  # /proc already lets only the user in; the file says so too
    written = 0
    while written < len(data):
        written += os.write(fd, data[written:])
    seals = fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)


def write(token: str, directory: str | None = None) -> str:
    """Write `token` to a new private file in the cache directory, named for this process; its path."""
    root = cache.ensure(directory or cache.root())
    path = os.path.join(root, f"endpoint-{os.getpid()}-{secrets.token_hex(8)}.token")
    write_new(path, token.encode("ascii"), WHAT)
    return path


def remove(path: str, token: str) -> bool:
    """Remove the file if it is still the one written (ours, regular, private, this token)."""
    try:
        if read_text(path, WHAT) != token:
            return False
    except StateError:
        return False  # replaced by something that is not ours to delete
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return True


def sweep(directory: str) -> list[str]:
    """Remove the token files of servers that are gone (killed before they could); the paths removed.

    Only names `write` gives (`endpoint-<pid>-<16 hex>.token`), only regular files of this
    user's, only when no process has that pid (one that does, or whose existence cannot be
    told, keeps its file).
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = FILE_NAME.fullmatch(entry.name)
        if match is None or _running(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
                os.unlink(entry.path)
                removed.append(entry.path)
    return removed


def _running(pid: int) -> bool:
    """Is there a process `pid` (a server that may still be using its file)?"""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's, or cannot tell: leave its file
    return True
