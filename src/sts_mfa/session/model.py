"""What a caller asks of the session machinery, and what it gets back (a state file and a profile alike)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sts_mfa.session.handoff import lifetime, sdk_floor, sdk_renew_below

if TYPE_CHECKING:
    from sts_mfa.state.model import AnySession

LAST_RESORT_SECONDS = 60.0  # a session this close to expiry is not handed out, even as a last resort
DEFAULT_MFA_SESSION_SECONDS = 43200  # how long one code unlocks a profile's roles (GetSessionToken)
NO_MFA_SESSION = "STS_MFA_NO_MFA_SESSION"


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


@dataclass(frozen=True)
class Settings:
    """How a profile's roles are assumed: through one MFA session (GetSessionToken), or each with a code."""

    use_mfa_session: bool = True
    mfa_session_duration: int = DEFAULT_MFA_SESSION_SECONDS
    duration_given: bool = False  # --mfa-session-duration was given: it wins over a profile's own

    @classmethod
    def of(cls, no_mfa_session: bool, mfa_session_duration: int | None, environ: Any = None) -> Settings:
        """From the flags, and STS_MFA_NO_MFA_SESSION (set and not "0": no MFA session)."""
        import os

        value = (os.environ if environ is None else environ).get(NO_MFA_SESSION, "")
        off = no_mfa_session or value.strip() not in ("", "0")
        given = mfa_session_duration is not None
        duration = mfa_session_duration if mfa_session_duration is not None else DEFAULT_MFA_SESSION_SECONDS
        return cls(use_mfa_session=not off, mfa_session_duration=duration, duration_given=given)


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
