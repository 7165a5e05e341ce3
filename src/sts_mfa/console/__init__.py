"""The AWS console, signed in as the role: a role session exchanged for a sign-in URL.

`sign_in` takes a role session (the caller obtained it, as `assume` would) and the
checked `places.Places`, asks the federation endpoint for a sign-in token
(`signin.signin_token`) and builds the login URL. Nothing here imports click or prints;
the URL is a bearer credential, so the CLI alone decides whether it is shown.

The rules, from AWS's IAM User Guide ("Enable custom identity broker access to the AWS
console") and what AWS answers:

* only sessions from `AssumeRole*` (and `GetFederationToken`, which sts-mfa never makes)
  can be exchanged; an MFA session from `GetSessionToken`, or an access key, is refused;
* the sign-in URL is valid for 15 minutes (`URL_SECONDS`), for one sign-in;
* `SessionDuration` (the console session's length, apart from the credentials' own)
  is 900 to 43200 seconds and may be sent for AssumeRole sessions; without it the
  console session lasts as long as the credentials. What AWS documents beyond that is
  two sentences: the guide says an AssumeRole made with DurationSeconds "must be called
  as an IAM user with long-term credentials", "otherwise, the call to the federation
  endpoint ... fails"; AWS's Knowledge Center ("Invalid credentials parameter") says a
  role session assumed with another role's credentials (role chaining) gets HTTP 400 for
  any SessionDuration. For a role assumed with a GetSessionToken session (a profile's
  MFA session) neither says where the line is; sts-mfa allows at most `CHAINED_MAX`
  there (the role-chaining limit of DurationSeconds), the full 12 h for a role assumed
  with the user's own key, and explains a refusal that follows a SessionDuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sts_mfa.console.places import Places
from sts_mfa.console.signin import login_url, session_json, signin_token
from sts_mfa.errors import UsageError

if TYPE_CHECKING:
    from sts_mfa.state.model import AnySession

URL_SECONDS = 900
MIN_SESSION_DURATION = 900
MAX_SESSION_DURATION = 43200
CHAINED_MAX = 3600


@dataclass(frozen=True)
class SignIn:
    """A sign-in URL and what it opens. `url` is a bearer credential until `valid_until`."""

    url: str
    valid_until: float
    destination: str
    console_until: float | None  # when the console session ends, if known now (None: SessionDuration
    # from the moment of sign-in)
    session_duration: int | None


def session_duration(requested: int | None, *, chained: bool, what: str) -> int | None:
    """The SessionDuration to send (None: none, the console lasts as long as the credentials).

    A UsageError, before anything is sent, for a value AWS would refuse."""
    if requested is None:
        return None
    if not MIN_SESSION_DURATION <= requested <= MAX_SESSION_DURATION:
        raise UsageError(
            f"--session-duration {requested}: a console session lasts "
            f"{MIN_SESSION_DURATION} to {MAX_SESSION_DURATION} seconds"
        )
    if chained and requested > CHAINED_MAX:
        raise UsageError(
            f"--session-duration {requested}: {what} is assumed with temporary credentials (an MFA "
            f"session's, as with role chaining), and AWS gives such a session a console session of "
            f"at most {CHAINED_MAX} s; ask for less, or add --no-mfa-session so that the role is "
            "assumed with the user's own key"
        )
    return requested


def sign_in(
    session: AnySession,
    where: Places,
    destination: str,
    *,
    duration: int | None,
    now: float,
) -> SignIn:
    """Exchange `session` at the federation endpoint; the login URL for `destination`."""
    document = session_json(session.access_key_id, session.secret_access_key, session.session_token)
    token = signin_token(where.federation, document, duration)
    return SignIn(
        url=login_url(where.federation, token, destination),
        valid_until=now + URL_SECONDS,
        destination=destination,
        console_until=session.expiration if duration is None else None,
        session_duration=duration,
    )


__all__ = ["CHAINED_MAX", "URL_SECONDS", "Places", "SignIn", "session_duration", "sign_in"]
