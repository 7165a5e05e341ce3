"""Handing the role session to other programs, on a path that never loads boto3.

`assume --format process` runs every time the AWS CLI or an SDK wants
credentials (the AWS CLI does not cache `credential_process` output), and
`exec` runs before every wrapped command. When the state file holds a session
with more than the refresh margin left, this module answers from it alone:
json and `sts_mfa.storage`, no boto3, no rich, no lock (the state file is
replaced atomically, so a lock-free read is never torn), not even the state
model; but never from a file whose signature does not check, as the full path
would not (`sts_mfa.signature`). Anything unexpected sends the caller down the
full path, which validates the file and says what is wrong.
"""

from __future__ import annotations

import json
import math
import time

from sts_mfa.signature import is_signed
from sts_mfa.storage import LATEST_TIME, SCHEMA_VERSION, read_json_object

TYPE_CHECKING = False  # not typing's: importing typing costs ~10 ms of every start (mypy reads it as True)
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from sts_mfa.state import Session, State
    from sts_mfa.storage import PathLike

FORMATS = ("text", "json", "env", "process")
DEFAULT_REFRESH_MARGIN = 300.0  # seconds: a cached session with less left is renewed
MAX_REFRESH_MARGIN = 3600.0
# What `exec` removes from the child's environment: every variable that can supply
# credentials or point at something that does, so the child can only act as the role.
SCRUBBED_VARS = (
    # credentials themselves (AWS_ACCESS_KEY/AWS_SECRET_KEY: the Java SDK's older names)
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    # profiles, and the files that hold them (keys, credential_process, SSO, role_arn)
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    # web identity, IAM Roles Anywhere, SSO
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_SSO_SESSION",
    # the instance metadata service, which hands out an instance role's credentials
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    # aws-vault's markers of a session it serves
    "AWS_VAULT",
)
# Whole families: container credentials endpoints (AWS_CONTAINER_CREDENTIALS_FULL_URI,
# ..._RELATIVE_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]) and sts-mfa's own settings,
# which include an MFA code (STS_MFA_CODE), a state file holding an access key
# (STS_MFA_STATE) and the sandbox's admin keys (STS_MFA_SANDBOX_*).
SCRUBBED_PREFIXES = ("AWS_CONTAINER_", "STS_MFA_", "_STS_MFA_")
# Set in the child: with no other source left, an SDK would next ask the instance
# metadata service; it must not fall back to an instance role.
CHILD_SETTINGS = {"AWS_EC2_METADATA_DISABLED": "true"}


def scrubbed(environ: dict[str, str]) -> dict[str, str]:
    """`environ` without any variable that supplies or points at credentials (see SCRUBBED_VARS)."""
    return {
        k: v for k, v in environ.items() if k not in SCRUBBED_VARS and not k.startswith(SCRUBBED_PREFIXES)
    }


class Cached:
    """A session read straight from the file: the fields `render` needs, nothing else."""

    __slots__ = (
        "access_key_id",
        "assumed_role_arn",
        "expiration",
        "role_arn",
        "secret_access_key",
        "session_token",
    )

    def __init__(self, doc: dict[str, Any]) -> None:
        self.access_key_id: str = doc["access_key_id"]
        self.secret_access_key: str = doc["secret_access_key"]
        self.session_token: str = doc["session_token"]
        self.expiration: float = doc["expiration"]
        self.role_arn: str = doc["role_arn"]
        self.assumed_role_arn: str | None = doc.get("assumed_role_arn")

    def remaining(self, now: float) -> float:
        return self.expiration - now


if TYPE_CHECKING:
    AnySession: TypeAlias = Session | Cached
else:
    AnySession = object  # only annotations name it, and they are never evaluated


SESSION_FIELDS = frozenset(
    {
        "access_key_id",
        "secret_access_key",
        "session_token",
        "expiration",
        "role_arn",
        "assumed_role_arn",
        "obtained_at",
    }
)


def usable(session_role_arn: str, expiration: float, role_arn: str | None, now: float, margin: float) -> bool:
    """The one rule for a cached session: it is the current role's and has more than `margin` s left.

    Used on the raw document here (the cached-credentials path must not build the
    state model) and on the model by `State.usable_session`.
    """
    return session_role_arn == role_arn and expiration - now > margin


def iso8601(epoch: float) -> str:
    """An epoch time as ISO 8601 (UTC); times outside what datetime can show are clamped to it."""
    clamped = min(max(epoch, 0.0), float(LATEST_TIME)) if not math.isnan(epoch) else 0.0
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clamped))  # datetime costs ~2 ms to import


def read_cached(
    path: PathLike, now: float, margin: float, endpoint: str | None, key_dir: str
) -> Cached | None:
    """The cached session if it is usable as is (current role, endpoint, > margin left) and the
    file is signed under the key in the cache directory `key_dir`, else None.

    Raises StateError only for an unsafe file (world-readable, unreadable; the cache
    directory or its key too): that must be refused on every path, fast or not.
    """
    doc = read_json_object(path, "state file", version=SCHEMA_VERSION)
    if doc is None:
        return None
    if not isinstance(doc.get("session"), dict) or not set(doc["session"]) <= SESSION_FIELDS:
        return None  # not what this version wrote: the full path says what is wrong
    session, role = doc.get("session"), doc.get("role")
    if (
        (doc.get("endpoint") or None) != endpoint
        or not isinstance(session, dict)
        or not isinstance(role, dict)
    ):
        return None
    strings = ("access_key_id", "secret_access_key", "session_token", "role_arn")
    expiration = session.get("expiration")
    if not all(isinstance(session.get(k), str) for k in strings):
        return None
    if not isinstance(expiration, (int, float)) or isinstance(expiration, bool):
        return None
    if not 0 <= expiration <= LATEST_TIME:  # also refuses NaN
        return None
    if not usable(session["role_arn"], expiration, role.get("arn"), now, margin):
        return None
    if not is_signed(doc, key_dir):  # never looser than the full path: it refuses such a file
        return None
    return Cached(session)


def cached_session(state: State | None, now: float, margin: float) -> Session | None:
    """From a loaded State: the session if it belongs to the current role and has > `margin` s left."""
    return None if state is None else state.usable_session(now, margin)


def environment(session: AnySession) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": session.access_key_id,
        "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
        "AWS_SESSION_TOKEN": session.session_token,
        "AWS_CREDENTIAL_EXPIRATION": iso8601(session.expiration),
    }


def render(session: AnySession, fmt: str, *, now: float, cached: bool, source: str | None = None) -> str:
    """The session in one of FORMATS; only `text` leaves the secrets out (and says `source`, if given)."""
    if fmt in ("process", "json"):
        credentials = {  # STS's Credentials object; credential_process adds its Version
            "AccessKeyId": session.access_key_id,
            "SecretAccessKey": session.secret_access_key,
            "SessionToken": session.session_token,
            "Expiration": iso8601(session.expiration),
        }
        if fmt == "process":
            return json.dumps({"Version": 1, **credentials})
        return json.dumps(credentials, indent=2)
    if fmt == "env":
        import shlex

        return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in environment(session).items())
    from sts_mfa.text import one_line  # the text format only: not on the fast paths

    remaining = max(0, int(session.remaining(now)))
    source = source or ("cached session" if cached else "new session (AssumeRole with MFA)")
    shown = {
        k: one_line(getattr(session, k) or "-") for k in ("role_arn", "assumed_role_arn", "access_key_id")
    }
    return "\n".join(
        [
            f"Role:          {shown['role_arn']}",
            f"Session:       {shown['assumed_role_arn']}",
            f"Access key id: {shown['access_key_id']}",
            f"Expires:       {iso8601(session.expiration)} (in {remaining // 60} min {remaining % 60} s)",
            f"Source:        {source}",
        ]
    )
