""" "A usable role session, please": the one place the session policy lives.

`Sessions.get` answers every command that needs the role's credentials (`assume`,
`exec`, `list-buckets`) the same way:

1. the cache, read lock-free straight from the state file (no boto3, no model:
   the file is replaced atomically, so a read is never torn);
2. on a miss, the state lock, then the cache again (another process may have
   renewed it meanwhile: many callers, one AssumeRole);
3. AssumeRole with a code from the caller's `Codes`, tried in order: a code given
   explicitly (`--code`, `--code -`, `STS_MFA_CODE`), the software token, a prompt
   (only when the caller has a terminal), else the caller's "no code" error;
4. with no code to be had, a cached session with at least `LAST_RESORT_SECONDS`
   left still beats none: it is returned with a warning saying what to run.

A session for an SDK that refreshes it itself (`Want.for_sdk`: `assume --format
process`, the endpoint's first session) follows the SDK's clock too: it is renewed
inside the SDK's 15-minute window when a fresh one would end well outside it, and
never handed out, even as a last resort, inside its last 10 minutes and a margin
(`sts_mfa.session.handoff.sdk_renew_below`, `sdk_floor`).

Commands choose only the code sources and how to render; nothing here imports click
or prints.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sts_mfa.errors import NoCode, StsMfaError
from sts_mfa.mfa.sources import NoneToBeHad
from sts_mfa.session.model import Obtained, Want
from sts_mfa.state.cached import read_cached
from sts_mfa.state.model import cached_session

if TYPE_CHECKING:
    from sts_mfa.clock import Clock
    from sts_mfa.mfa.sources import Codes
    from sts_mfa.scenario import Context
    from sts_mfa.state.document import Transaction
    from sts_mfa.state.model import State


class Sessions:
    """Role sessions for one state file; see the module docstring for the policy."""

    def __init__(
        self,
        *,
        state_path: str,
        endpoint: str | None,
        key_dir: str,
        clock: Clock,
        transaction: Callable[[], AbstractContextManager[Transaction]],
        context_for: Callable[[State], Context],
    ) -> None:
        self.state_path = state_path
        self.endpoint = endpoint
        self.key_dir = key_dir  # the private cache directory, whose key signs the state file
        self.clock = clock
        self._transaction = transaction
        self._context_for = context_for

    def get(self, want: Want, codes: Codes) -> Obtained:
        cached = None
        if not want.force:
            cached = read_cached(self.state_path, self.clock.now(), want.margin, self.endpoint, self.key_dir)
            if cached is not None and cached.remaining(self.clock.now()) > want.renew_below(cached):
                return Obtained(cached, cached=True)
        margin = want.renew_below(cached)
        with self._transaction() as txn:
            state = txn.require()  # a missing state file is said before boto3 is even imported
            from sts_mfa import scenario

            ctx = self._context_for(state)
            try:
                _, ask_code = codes.source(software=state.mode == "software" and bool(state.seed))
                result = scenario.assume(
                    ctx, txn, ask_code=ask_code, duration=want.duration, force=want.force, margin=margin
                )
            except NoneToBeHad as e:
                return self._last_resort(state, want, e.error)
            except NoCode as e:  # a code source that turned out to be empty (stdin closed)
                return self._last_resort(state, want, e)
        warnings = [w for w in (ctx.aws.skew_warning(),) if w]
        return Obtained(result.session, cached=result.cached, warnings=warnings)

    def _last_resort(self, state: State, want: Want, error: StsMfaError) -> Obtained:
        """No code to be had: a session inside the refresh margin still beats none."""
        import shlex

        floor = want.floor(state.session)
        session = None if want.force else cached_session(state, self.clock.now(), floor)
        if session is None:
            raise error
        left = int(session.remaining(self.clock.now()))
        refresh = shlex.join(["sts-mfa", "--state", str(self.state_path), "assume", "--code", "CODE"])
        warning = (
            f"the cached session expires in {left} s and there is no MFA code to renew it; "
            f"run `{refresh}` in a terminal"
        )
        return Obtained(session, cached=True, warnings=[warning])
