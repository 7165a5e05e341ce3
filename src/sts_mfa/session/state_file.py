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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sts_mfa.errors import CredentialsError, NoCode, StsMfaError
from sts_mfa.session.handoff import cached_session, lifetime, sdk_floor, sdk_renew_below
from sts_mfa.state.cached import read_cached
from sts_mfa.state.model import AnySession

if TYPE_CHECKING:
    from sts_mfa.clock import Clock
    from sts_mfa.scenario import Context
    from sts_mfa.state.document import Transaction
    from sts_mfa.state.model import State

LAST_RESORT_SECONDS = 60.0  # a session this close to expiry is not handed out, even as a last resort
DEFAULT_MFA_SESSION_SECONDS = 43200  # how long one code unlocks a profile's roles (GetSessionToken)


@dataclass(frozen=True)
class Codes:
    """Where an MFA code may come from, in the order `Sessions.get` tries them.

    `given` is a code asked for explicitly (the value of `--code`, one read from stdin
    for `--code -`, `STS_MFA_CODE`); then the software token, if the state keeps a
    seed; then `prompt`, which a caller sets only when a person can answer it; and
    else `missing(state)` is raised: the error that says what to run instead.
    """

    given: Callable[[], str] | None = None
    prompt: Callable[[], str] | None = None
    missing: Callable[[State], StsMfaError] | None = None

    def asker(self, state: State) -> Callable[[], str] | None:
        """The code source for this state (None: the software token makes the code)."""
        if self.given is not None:
            return self.given
        if state.mode == "software" and state.seed:
            return None
        if self.prompt is not None:
            return self.prompt
        missing = self.missing or _no_code

        def none_to_be_had() -> str:
            raise _NoneToBeHad(missing(state))

        return none_to_be_had


class _NoneToBeHad(Exception):
    """No code source can serve; carries the error the caller chose to say so."""

    def __init__(self, error: StsMfaError) -> None:
        super().__init__(str(error))
        self.error = error


def _no_code(state: State) -> StsMfaError:
    return NoCode("an MFA code is needed and there is no way to get one here")


@dataclass(frozen=True)
class Want:
    """What the caller needs: at least `margin` seconds left, a new session if `force`; with
    `for_sdk`, a session an SDK that refreshes it will not refuse (see the module docstring)."""

    margin: float
    duration: int | None = None
    force: bool = False
    for_sdk: bool = False

    def renew_below(self, session: AnySession | None) -> float:
        """Renew `session` (None: one not known yet) once it has less than this left."""
        if not self.for_sdk:
            return self.margin
        return max(self.margin, sdk_renew_below(lifetime(session)))

    def floor(self, session: AnySession | None) -> float:
        """Never hand out `session` with less than this left, even as a last resort."""
        return sdk_floor(lifetime(session)) if self.for_sdk else LAST_RESORT_SECONDS


@dataclass
class Obtained:
    session: AnySession
    cached: bool
    warnings: list[str] = field(default_factory=list)
    # Where the session is valid, for a child's environment: a profile's own endpoint_url
    # and region (None: the flag's or the environment's, as for a state file).
    endpoint: str | None = None
    region: str | None = None
    # How a new session was obtained, when it is not plain AssumeRole with a code (the text format's
    # "Source:"): a profile's role assumed from its MFA session.
    source: str | None = None


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
                result = scenario.assume(
                    ctx,
                    txn,
                    ask_code=codes.asker(state),
                    duration=want.duration,
                    force=want.force,
                    margin=margin,
                )
            except _NoneToBeHad as e:
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


# --- profiles (see sts_mfa.session.profile, which imports boto3: these stay light) ---------


@dataclass(frozen=True)
class ProfileCodes:
    """Where a profile's code comes from, in order: given, the profile's mfa_process, a prompt."""

    given: Callable[[], str] | None = None
    process: Callable[[], str] | None = None
    prompt: Callable[[], str] | None = None
    missing: Callable[[], StsMfaError] | None = None

    def source(self) -> tuple[str, Callable[[], str]]:
        """(kind, how to get the code) — kind is given, process or prompt."""
        for kind, get in (("given", self.given), ("process", self.process), ("prompt", self.prompt)):
            if get is not None:
                return kind, get
        missing = self.missing or (
            lambda: CredentialsError("an MFA code is needed and there is no way to get one")
        )
        raise missing()


@dataclass(frozen=True)
class Settings:
    use_mfa_session: bool = True
    mfa_session_duration: int = DEFAULT_MFA_SESSION_SECONDS


def session_doc(creds: Any, role_arn: str, assumed: str | None, now: float) -> dict[str, Any]:
    return {
        "access_key_id": creds["AccessKeyId"],
        "secret_access_key": creds["SecretAccessKey"],
        "session_token": creds["SessionToken"],
        "expiration": creds["Expiration"].timestamp(),
        "role_arn": role_arn,
        "assumed_role_arn": assumed,
        "obtained_at": now,
    }
