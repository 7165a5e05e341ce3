"""The otpauth:// URI for an authenticator app, as a terminal QR code or a PNG.

The URI is built with pyotp from `Base32StringSeed`; `QRCodePNG` from AWS is
not used (moto returns random bytes there, and building the code ourselves
means the terminal and the PNG show exactly the same thing).
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

ISSUER = "sts-mfa"


def otpauth_uri(seed: str, account_label: str, issuer: str = ISSUER) -> str:
    import pyotp

    return str(pyotp.TOTP(seed).provisioning_uri(name=account_label, issuer_name=issuer))


def _make(uri: str):  # type: ignore[no-untyped-def]  # qrcode ships no types
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(uri)
    qr.make(fit=True)
    return qr


def terminal_qr(uri: str) -> str:
    """The QR code drawn with half-block characters (two modules per character row)."""
    buf = io.StringIO()
    _make(uri).print_ascii(out=buf, invert=True)
    return buf.getvalue()


def png_bytes(uri: str) -> bytes:
    image = _make(uri).make_image()
    data = io.BytesIO()
    image.save(data, format="PNG")
    return data.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def absolute(path: Path | str) -> str:
    """Where `path` is, independent of the working directory: its directory resolved, its name kept."""
    text = os.fspath(path)
    return os.path.join(os.path.realpath(os.path.dirname(text) or "."), os.path.basename(text))


def write_png(uri: str, path: str, *, replace_sha256: str | None = None) -> str:
    """Write the QR code as a new PNG readable only by its owner; return its SHA-256.

    Never overwrites a file, except the PNG an earlier run wrote there and recorded
    (`replace_sha256`), which is replaced only while it is still exactly that file.
    """
    from sts_mfa.storage import write_new

    if replace_sha256 is not None:
        remove_if_ours(path, replace_sha256)
    data = png_bytes(uri)
    write_new(path, data, what="--qr-png")
    return sha256(data)


def remove_if_ours(path: str | None, expected_sha256: str | None) -> str:
    """Delete the QR code PNG at `path` only if it is exactly what sts-mfa wrote; say what happened."""
    if path is None:
        return "no QR code PNG was recorded"
    if expected_sha256 is None or not os.path.isabs(path):
        return (
            f"left {path} in place: an older sts-mfa recorded it without what it wrote, so it cannot "
            "tell the file there now is its QR code (if it is, delete it: it holds the MFA seed)"
        )
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return f"the QR code {path} was already gone"
    except OSError as e:
        return f"left {path} in place: cannot open it ({e.strerror or e})"
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_size > 1 << 20:
            return f"left {path} in place: it is not the file sts-mfa wrote"
        if sha256(f.read()) != expected_sha256:
            return f"left {path} in place: its content is not the QR code sts-mfa wrote"
        try:
            now = os.lstat(path)
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                return f"left {path} in place: it was replaced while being checked"
            os.unlink(path)
        except FileNotFoundError:
            return f"the QR code {path} was already gone"
        except OSError as e:
            return f"could not remove {path} ({e.strerror or e}): delete it, it holds the MFA seed"
    return f"Removed {path}: it held the device's seed"
