"""Waiting for IAM's eventual consistency: poll what AWS offers, bounded, with progress.

AWS gives no propagation figure; its guidance is to check that a change has
taken effect. So instead of the fixed sleeps of the AWS example, each wait
here polls a probe (GetCallerIdentity for a new key, the create call itself
for a trust policy naming a new user, AssumeRole for a new role) every
`interval` seconds, up to `timeout`, and then fails with a message that
names what was not ready.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sts_mfa.clock import Clock
from sts_mfa.errors import PropagationTimeout

T = TypeVar("T")

DEFAULT_TIMEOUT = 90.0
FIRST_INTERVAL = 0.25
MAX_INTERVAL = 1.0


class NotReady(Exception):
    """Raised by a probe: AWS has not caught up yet (the reason is kept for the final message)."""


@dataclass
class Outcome(Generic[T]):
    value: T
    attempts: int
    waited: float


def poll(
    probe: Callable[[], T],
    *,
    what: str,
    clock: Clock,
    timeout: float = DEFAULT_TIMEOUT,
    on_wait: Callable[[str, float], None] | None = None,
) -> Outcome[T]:
    """Call `probe` until it stops raising NotReady, or `timeout` seconds pass.

    The interval starts short (a change usually lands within a second) and
    grows to one second, so a wait ends within about a second of AWS being ready.
    """
    start = clock.now()
    interval = FIRST_INTERVAL
    attempts = 0
    while True:
        attempts += 1
        try:
            value = probe()
        except NotReady as e:
            elapsed = clock.now() - start
            if elapsed + interval > timeout:
                raise PropagationTimeout(
                    f"gave up after {elapsed:.0f} s waiting for {what}: {e}",
                    hint="IAM changes can take a while to propagate; run the command again",
                ) from None
            if on_wait is not None:
                on_wait(what, elapsed)
            clock.sleep(interval)
            interval = min(interval * 2, MAX_INTERVAL)
            continue
        return Outcome(value, attempts, clock.now() - start)
