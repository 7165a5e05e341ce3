"""What an AssumeRole refusal means when a one-time code was sent: a pure function.

A code is spent the moment AWS reads it, even if the call is then refused, so a
refused attempt is never simply retried. `decide` says, from the error and what
is known about the run, whether to send the same code again (AWS refused before
reading it: a key not yet propagated), move to the next TOTP window (the code may
be spent, the software token can make a new one), or give up, and why.
`tests/session/test_assume_refusals.py` checks it with a table of cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

PROPAGATING_KEY = ("InvalidClientTokenId", "InvalidAccessKeyId")


class Next(Enum):
    SEND_AGAIN = "send-again"  # refused before the code was read: send the same code after `pause`
    NEXT_WINDOW = "next-window"  # the code may be spent: the software token waits for a new window
    GIVE_UP = "give-up"


class Failure(Enum):
    CODE_REFUSED = "code-refused"  # AWS says the code is invalid or used (exit 5)
    PROPAGATION = "propagation"  # the new role never became assumable in time (exit 1)
    DENIED = "denied"  # refused for another reason: trust or identity policy (exit 1)
    STALE_KEY = "stale-key"  # the user's key is gone (exit 4)
    OTHER = "other"  # anything else: translated as it is


@dataclass(frozen=True)
class Refusal:
    """One refused AssumeRole, and what the run knows about it."""

    error: str | None  # AWS's error code
    message: str
    typed: bool  # a person typed the code (else the software token made it)
    can_wait: bool  # before the deadline, and something was created recently enough to be propagating
    denials: int  # earlier refusals blamed on propagation in this run


@dataclass(frozen=True)
class Decision:
    next: Next
    failure: Failure | None = None
    pause: float = 0.0  # seconds to wait before sending again
    propagation: bool = False  # this refusal is blamed on propagation (one more denial)
    waiting_for: str | None = None  # what to tell the person the run is waiting for


ROLE = "the new role to become assumable"
KEY = "the new access key to work at STS"


def decide(refusal: Refusal) -> Decision:
    """What to do after `refusal` (see the module docstring)."""
    denied = refusal.error == "AccessDenied"
    if denied and "multifactorauthentication" in refusal.message.lower():
        if not refusal.typed and refusal.denials and refusal.can_wait:
            # Spent by an earlier attempt the new role was not ready for: a fresh window.
            return Decision(Next.NEXT_WINDOW)
        return Decision(Next.GIVE_UP, Failure.CODE_REFUSED)
    if denied and refusal.can_wait:
        # IAM has not propagated the new role or policy, and the refused attempt may have
        # spent the code: the software token moves to the next window (one code per window,
        # never more); a typed code is tried once more after a second, never in a loop.
        if not refusal.typed:
            return Decision(Next.NEXT_WINDOW, propagation=True, waiting_for=ROLE)
        if refusal.denials == 0:
            return Decision(Next.SEND_AGAIN, pause=1.0, propagation=True, waiting_for=ROLE)
        return Decision(Next.GIVE_UP, Failure.PROPAGATION, propagation=True, waiting_for=ROLE)
    if denied:
        return Decision(Next.GIVE_UP, Failure.PROPAGATION if refusal.denials else Failure.DENIED)
    if refusal.error in PROPAGATING_KEY:
        if refusal.can_wait:  # a new key STS does not know yet: refused before the code was read
            return Decision(Next.SEND_AGAIN, pause=1.0, waiting_for=KEY)
        return Decision(Next.GIVE_UP, Failure.STALE_KEY)
    return Decision(Next.GIVE_UP, Failure.OTHER)
