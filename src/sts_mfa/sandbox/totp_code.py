"""Print a virtual MFA device's current TOTP code: `python -m sts_mfa.sandbox.totp_code SEEDFILE`.

The phone of the example identity `sts-mfa sandbox serve --example-profiles DIR`
creates: its profiles name this command as their `mfa_process`, with the device's
seed in `DIR/alice.seed`. The seed is a secret (whoever reads it has the second
factor), so the file must be a private regular file of this user (mode 0600, no
symlink), exactly as sts-mfa demands of its own state file; anything else is
refused (exit 1) rather than read.
"""

from __future__ import annotations

import sys


def current_code(seed_path: str) -> str:
    """The 6-digit code of the seed in `seed_path` for the current 30-second window."""
    import pyotp

    from sts_mfa.errors import StateError
    from sts_mfa.files.private import read_text

    text = read_text(seed_path, "seed file", private=True)
    if text is None:
        raise StateError(f"seed file {seed_path} does not exist")
    seed = text.strip()
    try:
        return str(pyotp.TOTP(seed).now())
    except Exception:  # pyotp's error for a seed that is not base32
        raise StateError(f"seed file {seed_path} does not hold a base32 TOTP seed") from None


def main(argv: list[str] | None = None) -> int:
    from sts_mfa.errors import StsMfaError

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sts_mfa.sandbox.totp_code SEEDFILE", file=sys.stderr)
        return 2
    try:
        print(current_code(args[0]))
    except StsMfaError as exc:
        print(f"totp_code: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
