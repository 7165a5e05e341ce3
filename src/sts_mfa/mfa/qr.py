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


def label(user_name: str, account: str | None) -> str:
    """How the device is named in the authenticator app."""
    return f"{user_name}@{account}"


def expected_png(seed: str | None, user_name: str | None, account: str | None) -> bytes | None:
    """The PNG sts-mfa writes for this device, if the seed is still known (else None)."""
    if not seed or not user_name:
        return None
    return png_bytes(otpauth_uri(seed, label(user_name, account)))


def write_png(uri: str, path: str, *, replace: bytes | None = None) -> str:
    """Write the QR code as a new PNG readable only by its owner; return its SHA-256.

    Never overwrites a file, except the PNG an earlier run wrote there (`replace`: the
    bytes it wrote), which is replaced only while it is still exactly that file.
    """
    from sts_mfa.files.private import write_new

    if replace is not None and os.path.lexists(path):
        remove_if_ours(path, replace)
    data = png_bytes(uri)
    write_new(path, data, what="--qr-png")
    return sha256(data)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def remove_if_ours(path: str | None, expected: bytes | None) -> str:
    """Delete the QR code PNG at `path` only if it is exactly the one for this device; say what happened.

    `expected` is the PNG regenerated from the state's seed: a state file naming some
    other file (a planted one, or one the user replaced) never gets it deleted, since
    only the device's own QR code has those bytes.
    """
    if path is None:
        return "no QR code PNG was recorded"
    if expected is None or not os.path.isabs(path):
        return (
            f"left {path} in place: sts-mfa can no longer tell it is the QR code it wrote "
            "(if it is, delete it: it holds the MFA seed)"
        )
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return f"the QR code {path} was already gone"
    except OSError as e:
        return f"left {path} in place: cannot open it ({e.strerror or e})"
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        os.close(fd)  # before fdopen, which would refuse a directory with an error of its own
        return f"left {path} in place: it is not the file sts-mfa wrote"
    with os.fdopen(fd, "rb") as f:
        content = f.read(len(expected) + 1)
        if not content.startswith(PNG_SIGNATURE) or content != expected:
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
