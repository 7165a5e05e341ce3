"""Spending a one-time code: recorded in the device's ledger before AWS can see it, and never twice.

One routine for every caller on a device, state files and profiles alike, run with the
device's ledger entry held (`sts_mfa.mfa.ledger`): a code a person typed or a command
printed is refused locally if those very digits were just sent, and its time-step (known,
or the current one) is recorded, so the next caller waits for a fresh window instead of
sending a spent step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sts_mfa.clock import sleep_until
from sts_mfa.mfa import totp

if TYPE_CHECKING:
    from sts_mfa.clock import Clock
    from sts_mfa.mfa.ledger import Entry
    from sts_mfa.progress import Reporter


def spend(shared: Entry, code: str, now: float, *, step: int | None, typed: bool) -> None:
    """Record `code` (of `step`, when known) as sent; a `typed` one is refused if just spent."""
    if typed:
        totp.check_typed_code(code, shared.last_code, shared.last_used_at, now)
        shared.note_typed(code, now)
    shared.note_step(step)


def wait_for_unspent_step(shared: Entry, clock: Clock, report: Reporter) -> None:
    """Before asking a person or a command for the current window's code: that step must be unspent."""
    last, future = totp.sane_last_step(shared.last_step, clock.now())
    if future and shared.last_step is not None:
        report.warn(totp.future_step_warning(shared.last_step, clock.now()))
        shared.last_step = last
    wait = totp.seconds_until_usable(last, clock.now())
    if wait > 0:
        report.info(
            f"TOTP codes are single-use: this device's current code was already sent, "
            f"so sts-mfa waits for the next one ({wait:.0f} s)"
        )
        sleep_until(clock, clock.now() + wait, lambda r: report.countdown("the next code", r))
        report.done_waiting()
