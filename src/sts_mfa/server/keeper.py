"""The session a credentials endpoint hands out: renewed ahead of expiry, one renewal at a time.

What botocore's container provider does with what it gets (`ContainerProvider`,
`ContainerMetadataFetcher` and `RefreshableCredentials` in botocore):

* each fetch is one GET with a 2 s timeout, tried 3 times with 1 s between tries; any
  answer but 200 is an error whose text is the response body;
* it fetches again when the credentials have less than 15 minutes left (advisory: a
  failure is logged and the old credentials kept) and must at 10 minutes (mandatory: a
  failure is raised to the program); credentials that are expired after a refresh are
  an error too.

So the keeper, by the session's lifetime (from when it was obtained; else from now):

* renews when the session has less than `renew_below` left: 16 minutes (ahead of the
  SDK's 15, so an SDK that refreshes gets a session it need not refresh again at once);
  one of less than 20 minutes at the SDK's own 15 (`MIN_RENEWAL_PERIOD_SECONDS`: a
  session of 961 s is not renewed every second); one a fresh copy of which would be
  inside the SDK's window at once (AWS's shortest, 900 s), a minute before the floor;
  a sandbox session of a few seconds, at half its life;
* meanwhile answers with the current session while it has more than `serve_above` left:
  the SDK's mandatory 10 minutes and a margin (`credentials.sdk_floor`; a quarter of a
  sandbox session's life, at most 60 s), never less, since botocore must refresh such a
  session at every call; the renewal runs in a thread of its own, so a request never
  waits for a TOTP window or an `mfa_process`;
* only when the session is too close to expiry to hand out does a request wait for the
  renewal, and then for at most `budget` (1.5 s, inside botocore's 2 s): after that it
  is told to come back (`Unavailable`), and the SDK's next try finds the new session;
* counts what is left as the SDK will see it: `Expiration` goes out in whole seconds,
  rounded down (a 2 s session may show 1 s);
* runs one renewal at a time however many requests ask (ten children: one renewal per
  expiry, not ten); other processes renewing the same session queue on its cache lock
  and find the new session there;
* after a failed renewal waits before the next try (`retry_after` seconds, doubled after
  each failure in a row up to `MAX_RETRY_AFTER_SECONDS`, so a device nobody can answer
  is not asked, nor warned about, on every call), and until then answers with the
  failure's message (what to run), which botocore shows as it is.

What a renewal is, is the caller's: `renew(margin)` returns an `Obtained`, the same one
`assume` gets. A session that comes back unchanged (the state file's last resort) is
not a renewal: its warning becomes the failure.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sts_mfa.session.handoff import (
    SDK_ADVISORY_SECONDS,
    SDK_SAFETY_SECONDS,
    SHORT_SESSION_SECONDS,
    iso8601,
    lifetime,
    sdk_floor,
)

if TYPE_CHECKING:
    from sts_mfa.session.model import Obtained
    from sts_mfa.state.model import AnySession

RENEW_AHEAD_SECONDS = SDK_ADVISORY_SECONDS + 60.0
REQUEST_BUDGET_SECONDS = 1.5  # botocore gives up on a request after 2 s
RETRY_AFTER_SECONDS = 5.0
MAX_RETRY_AFTER_SECONDS = 30.0
MIN_RENEWAL_PERIOD_SECONDS = 240.0  # under 20 minutes, a session is renewed at the SDK's 15, not 16


@dataclass(frozen=True)
class Margins:
    renew_below: float  # renew once the session has less than this left
    serve_above: float  # never hand out a session with this little left


def margins(lifetime: float) -> Margins:
    """The margins for a session that lasts `lifetime` seconds (see the module docstring)."""
    lifetime = max(lifetime, 0.0)
    floor = sdk_floor(lifetime)
    if lifetime >= RENEW_AHEAD_SECONDS:  # not so near its start that it is renewed every few seconds
        renew_below = min(
            RENEW_AHEAD_SECONDS, max(SDK_ADVISORY_SECONDS, lifetime - MIN_RENEWAL_PERIOD_SECONDS)
        )
    elif lifetime >= SHORT_SESSION_SECONDS:  # a fresh one would be in the SDK's window at once
        renew_below = floor + SDK_SAFETY_SECONDS
    else:
        renew_below = lifetime / 2
    return Margins(renew_below, floor)


def _lifetime(session: AnySession, now: float) -> float:
    """The session's lifetime, from when it was obtained; unknown, from now (rounded as the SDK sees it)."""
    known = lifetime(session)
    return known if known is not None else math.floor(session.expiration) - now


class Unavailable(Exception):
    """No session to hand out right now; the message says why (and what to run)."""


class Keeper:
    """The current session and its renewal (see the module docstring)."""

    def __init__(
        self,
        first: AnySession,
        renew: Callable[[float], Obtained],
        *,
        now: Callable[[], float],
        log: Callable[[str], None],
        warn: Callable[[str], None],
        budget: float = REQUEST_BUDGET_SECONDS,
        retry_after: float = RETRY_AFTER_SECONDS,
    ) -> None:
        self._renew = renew
        self._now = now
        self._log = log
        self._warn = warn
        self._budget = budget
        self._retry_after = retry_after
        self._lock = threading.Condition()  # guards everything below; notified when a renewal ends
        self._session = first
        self._margins = margins(_lifetime(first, now()))
        self._renewal: threading.Thread | None = None
        self._failure: str | None = None
        self._failed_at = 0.0  # time.monotonic() of the last failure
        self._failed_in_a_row = 0
        self.renewals = 0  # new sessions obtained (for -v and tests)
        self.failures = 0

    @property
    def session(self) -> AnySession:
        with self._lock:
            return self._session

    def current(self) -> AnySession:
        """The session to hand out now; may start a renewal; never waits longer than the budget."""
        deadline = time.monotonic() + self._budget
        with self._lock:
            left = self._left()
            if left >= self._margins.renew_below:
                return self._session
            self._start_renewal()
            if left > self._margins.serve_above:
                return self._session  # still good for a while: the renewal goes on meanwhile
            while self._renewal is not None and (wait := deadline - time.monotonic()) > 0:
                self._lock.wait(wait)
            if self._left() > self._margins.serve_above:
                return self._session
            raise Unavailable(self._why_not())

    def _left(self) -> float:
        """What the SDK will see left (lock held): `Expiration` is sent in whole seconds, rounded down."""
        return math.floor(self._session.expiration) - self._now()

    def _why_not(self) -> str:
        if self._failure is not None:
            return self._failure
        if self._renewal is not None:
            return "sts-mfa is renewing the session (it may be waiting for the next TOTP window); try again"
        return "the session has expired and sts-mfa has not renewed it yet; try again"

    def _start_renewal(self) -> None:
        """Start a renewal unless one is running or the last one failed only just now (lock held)."""
        if self._renewal is not None:
            return
        if self._failure is not None and time.monotonic() - self._failed_at < self._backoff():
            return
        margin = self._margins.renew_below
        self._renewal = threading.Thread(
            target=self._run_renewal, args=(margin,), name="sts-mfa-renewal", daemon=True
        )
        self._renewal.start()

    def _backoff(self) -> float:
        """How long after a failure the next renewal may be tried (lock held)."""
        doubled = self._retry_after * 2.0 ** max(self._failed_in_a_row - 1, 0)
        return min(doubled, max(MAX_RETRY_AFTER_SECONDS, self._retry_after))

    def _run_renewal(self, margin: float) -> None:
        before = self.session
        try:
            got = self._renew(margin)
            renewed = got.session.access_key_id != before.access_key_id
            problem = None if renewed else (got.warnings or ["no newer session could be obtained"])[0]
        except Exception as e:
            got, problem = None, str(e) or type(e).__name__
        with self._lock:
            self._renewal = None
            if got is not None and problem is None:
                self._session = got.session
                self._margins = margins(_lifetime(got.session, self._now()))
                self._failure = None
                self._failed_in_a_row = 0
                self.renewals += 1
            else:
                self._failure = f"sts-mfa could not renew the session: {problem}"
                self._failed_at = time.monotonic()
                self._failed_in_a_row += 1
                self.failures += 1
            backoff = self._backoff()
            self._lock.notify_all()
        if got is not None and problem is None:
            for warning in got.warnings:
                self._warn(warning)
            left = int(got.session.expiration - self._now())
            self._log(
                f"renewed the session: {got.session.access_key_id}, until "
                f"{iso8601(got.session.expiration)} ({left} s)"
            )
        else:
            self._warn(f"{self._failure} (tried again on a request after {backoff:.0f} s)")

    def close(self, timeout: float = 2.0) -> None:
        """Wait a little for a renewal in flight (it is a daemon thread: it never holds up exit)."""
        with self._lock:
            renewal = self._renewal
        if renewal is not None:
            renewal.join(timeout)
