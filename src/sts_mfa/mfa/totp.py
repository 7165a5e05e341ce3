"""TOTP timing: the software token and the replay guard (code formats are in `codes`).

AWS accepts each 30 s time-step's code once per device. The tool therefore
remembers, per device, the last step it sent (and the last code a person typed),
never sends a step at or before it, and waits for the next window instead of
letting AWS refuse a reused code. Time comes from an injected `Clock`, so tests
move it instead of sleeping through real windows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sts_mfa.clock import Clock, sleep_until
from sts_mfa.errors import CodeRefused

STEP_SECONDS = 30
# A typed code equal to the last one used is refused locally for this long:
# AWS accepts a code for its own step and one either side, so within three
# steps the same digits are the same (already used) code.
TYPED_CODE_MEMORY_SECONDS = 3 * STEP_SECONDS


def step_at(t: float) -> int:
    return int(t // STEP_SECONDS)


def step_start(step: int) -> float:
    return float(step * STEP_SECONDS)


def code_for_step(seed: str, step: int) -> str:
    import pyotp

    return str(pyotp.TOTP(seed).generate_otp(step))


@dataclass(frozen=True)
class PlannedCode:
    step: int
    code: str
    waited: float


def enable_codes(seed: str, now: float) -> tuple[str, str, int]:
    """Two consecutive codes for EnableMFADevice: the previous window's and the current one's.

    Returns (code1, code2, step of code2). This is what AWS's own automation
    examples send; the device is then "used" up to the current step.
    """
    step = step_at(now)
    return code_for_step(seed, step - 1), code_for_step(seed, step), step


def step_of_code(seed: str, code: str, now: float) -> int | None:
    """Which time-step a typed code belongs to (the current one or one either side), if any."""
    current = step_at(now)
    for step in (current, current - 1, current + 1):
        if code_for_step(seed, step) == code:
            return step
    return None


# A recorded step further ahead than this is not a code that was used: this machine's clock was
# ahead when it was recorded (or the file was edited). Waiting for it could take weeks.
MAX_STEPS_AHEAD = 2


def sane_last_step(last_step: int | None, now: float) -> tuple[int | None, bool]:
    """(the last step to honour, whether the recorded one was impossibly far in the future)."""
    if last_step is not None and last_step > step_at(now) + MAX_STEPS_AHEAD:
        return step_at(now), True  # wait for the next window only: a step that AWS can have seen
    return last_step, False


def future_step_warning(last_step: int, now: float) -> str:
    ahead = int(step_start(last_step) - now)
    return (
        f"the last TOTP time-step recorded for this device is {ahead} s in the future: this machine's "
        "clock was ahead when it was recorded, or the file was edited; only the next window is waited for"
    )


def seconds_until_usable(last_step: int | None, now: float) -> float:
    """How long until a step after `last_step` begins (0 if the current one is fresh)."""
    if last_step is None or step_at(now) > last_step:
        return 0.0
    return step_start(last_step + 1) - now


def next_software_code(
    seed: str,
    last_step: int | None,
    clock: Clock,
    *,
    on_wait: Callable[[float], None] | None = None,
) -> PlannedCode:
    """The software token's next code, waiting for a fresh window when needed.

    Never returns a step at or before `last_step`: that code was already sent,
    and AWS refuses a code twice.
    """
    waited = 0.0
    if last_step is not None and step_at(clock.now()) <= last_step:
        waited = sleep_until(clock, step_start(last_step + 1), on_wait)
    step = step_at(clock.now())
    return PlannedCode(step=step, code=code_for_step(seed, step), waited=waited)


def check_typed_code(
    code: str,
    last_code: str | None,
    last_used_at: float | None,
    now: float,
) -> None:
    """Refuse, locally and with an explanation, a typed code that was just used."""
    if (
        last_code is not None
        and last_used_at is not None
        and code == last_code
        and now - last_used_at < TYPED_CODE_MEMORY_SECONDS
    ):
        ago = int(now - last_used_at)
        nxt = max(1, int(step_start(step_at(now) + 1) - now))
        raise CodeRefused(
            f"code {code} was already used {ago} s ago; AWS accepts each code once",
            hint=f"wait for your authenticator's next code (about {nxt} s)",
        )
