"""A policy file's text: bounded, never blocking, strictly UTF-8.

These are the user's own files (a template, a plan), so symbolic links are followed, as
`storage.read_config_text` follows them. But a path can name anything: a FIFO would block
`open()` and `read()` forever, a device could be read without end, a directory cannot be
read at all. So the file is opened without blocking and checked on the open descriptor
(no race between check and use): only a regular file is read, and never more than
`MAX_BYTES` + 1 bytes of it.
"""

from __future__ import annotations

import errno
import os
import stat

from sts_mfa.audit.policy_files.model import Refused
from sts_mfa.files.private import kind_of

TYPE_CHECKING = False  # not typing's: see sts_mfa.files.private
if TYPE_CHECKING:
    from typing import BinaryIO

MIB = 1 << 20
# `terraform show -json` of a large configuration runs to tens of megabytes; past this it is
# not read at all (json.loads needs about ten times the text in memory).
MAX_BYTES = 32 * MIB
# CloudFormation accepts templates of up to 1 MB; pure-Python YAML reads about 0.4 MB/s.
MAX_YAML_BYTES = 10 * MIB
# A number written with more characters than this is refused: Python will not convert a
# decimal of over 4,300 digits, and YAML 1.1's base-60 integers (1:2:3) cost quadratic time.
MAX_NUMBER_CHARS = 4000
_PIPE_HINT = "to read a pipe, give - and send it to standard input"


def read_path(path: str) -> bytes:
    """The file's bytes, or `Refused` saying why not."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise Refused("no such file") from None
    except PermissionError:
        raise Refused("permission denied") from None
    except ValueError:  # a NUL in the path
        raise Refused("not a usable path (it contains a NUL character)") from None
    except OSError as e:
        if e.errno == errno.ENXIO:  # a socket, or a device with nothing behind it
            raise Refused(f"{_kind_at(path)}, not a regular file") from None
        raise Refused(f"cannot open it: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            hint = _PIPE_HINT if stat.S_ISFIFO(st.st_mode) else None
            raise Refused(f"it is {kind_of(st.st_mode)}, not a regular file", hint=hint)
        if st.st_size > MAX_BYTES:
            raise Refused(_too_big(st.st_size))
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise Refused(f"cannot read it: {e.strerror or e}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_BYTES:  # it grew after fstat
        raise Refused(_too_big(None))
    return raw


def read_stream(stream: BinaryIO) -> bytes:
    """Standard input's bytes (read once, up to the bound), or `Refused`."""
    try:
        terminal = stream.isatty()
        raw = b"" if terminal else stream.read(MAX_BYTES + 1)
    except (OSError, ValueError) as e:  # ValueError: a closed stream
        raise Refused(f"cannot read standard input: {getattr(e, 'strerror', None) or e}") from None
    if terminal:  # it would wait for someone to type a template and press Ctrl-D
        raise Refused(
            "- means standard input, which is a terminal here",
            hint="pipe or redirect the file into sts-mfa, or give its path",
        )
    if not isinstance(raw, bytes):  # a text stream passed where bytes were expected
        raise Refused("standard input was not opened in binary mode")
    if len(raw) > MAX_BYTES:
        raise Refused(_too_big(None))
    return raw


def decode(raw: bytes) -> str:
    """UTF-8 text (a leading byte-order mark dropped), or `Refused` saying where it is not."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refused(
            "it is UTF-16 text, not UTF-8",
            hint="PowerShell's > writes UTF-16: use Out-File -Encoding utf8, or write the file from the tool",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise Refused(f"it is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})") from None


def _too_big(size: int | None) -> str:
    if size is None:  # found by reading: it grew after fstat, or fstat does not know (/proc, a pipe)
        return f"it is over {amount(MAX_BYTES)}, the limit"
    return f"it is {size} bytes; the limit is {amount(MAX_BYTES)}"


def amount(size: int) -> str:
    """`32 MiB`, `100 bytes`: a size bound, as a person reads it."""
    return f"{size // MIB} MiB" if size >= MIB and size % MIB == 0 else f"{size} bytes"


def _kind_at(path: str) -> str:
    try:
        return f"it is {kind_of(os.stat(path).st_mode)}"
    except (OSError, ValueError):
        return "it is not a regular file"
