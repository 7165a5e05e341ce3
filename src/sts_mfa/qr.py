"""The otpauth:// URI for an authenticator app, as a terminal QR code or a PNG.

The URI is built with pyotp from `Base32StringSeed`; `QRCodePNG` from AWS is
not used (moto returns random bytes there, and building the code ourselves
means the terminal and the PNG show exactly the same thing).
"""

from __future__ import annotations

import contextlib
import io
import os
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


def write_png(uri: str, path: Path) -> None:
    """Write the QR code as a PNG readable only by its owner (mode 0600 from creation)."""
    image = _make(uri).make_image()
    data = io.BytesIO()
    image.save(data, format="PNG")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data.getvalue())
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
