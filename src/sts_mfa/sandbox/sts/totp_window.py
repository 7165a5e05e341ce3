"""Which TOTP time step a code belongs to, under AWS's rules for virtual MFA devices.

A code is the RFC 6238 TOTP of the device's seed for one 30-second step
(step = floor(t / 30)). AWS accepts a code from the current step of its clock or
from one step either side, and accepts each step once per device: a code of a step
at or before the last one accepted is refused like a wrong code, which is why every
retry needs a fresh window. AssumeRole sends one code; EnableMFADevice sends two,
which must be the codes of two consecutive steps, both unspent, the later one
within the window. The step accepted is the one of the (later) code: it becomes the
device's last accepted step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyotp

from sts_mfa.sandbox.http.signing import secrets_equal

TOTP_STEP = 30  # seconds


def accepted_step(seed: str, codes: Sequence[str], now: float, last_step: int | None) -> int | None:
    """The step the last of `codes` belongs to if AWS would accept them now, else None.

    `codes` are the codes of consecutive steps (one for AssumeRole, two for
    EnableMFADevice); `last_step` is the device's last accepted step, if any.
    """
    totp = pyotp.TOTP(seed)
    current = math.floor(now / TOTP_STEP)
    for step in (current - 1, current, current + 1):
        first = step - (len(codes) - 1)
        if last_step is not None and first <= last_step:
            continue  # a step already spent (or older)
        if all(secrets_equal(code, totp.generate_otp(first + i)) for i, code in enumerate(codes)):
            return step
    return None
