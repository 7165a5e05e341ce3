"""Handing the role session to other programs, on a path that never loads boto3.

`assume --format process` runs every time the AWS CLI or an SDK wants
credentials (the AWS CLI does not cache `credential_process` output), and
`exec` runs before every wrapped command. When the state file holds a session
with more than the refresh margin left, this module answers from it alone:
json + the state module, no boto3, no rich, no lock (the state file is
replaced atomically, so a lock-free read is never torn).
"""

from __future__ import annotations

import json
import shlex
from datetime import datetime, timezone
from pathlib import Path

from sts_mfa.state import Session, State, load

FORMATS = ("text", "json", "env", "process")
ENV_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION")
# What `exec` removes so the child cannot fall back on other credentials.
SCRUBBED_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)


def iso8601(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cached_session(state: State | None, now: float, margin: float) -> Session | None:
    """The cached session if it belongs to the current role and has more than `margin` s left."""
    if state is None or state.session is None or state.role is None:
        return None
    session = state.session
    if session.role_arn != state.role.arn or session.remaining(now) <= margin:
        return None
    return session


def read_cached(path: Path, now: float, margin: float) -> Session | None:
    return cached_session(load(path), now, margin)


def environment(session: Session) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": session.access_key_id,
        "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
        "AWS_SESSION_TOKEN": session.session_token,
        "AWS_CREDENTIAL_EXPIRATION": iso8601(session.expiration),
    }


def render(session: Session, fmt: str, *, now: float, cached: bool) -> str:
    """The session in one of FORMATS; only `text` leaves the secrets out."""
    if fmt == "process":
        return json.dumps(
            {
                "Version": 1,
                "AccessKeyId": session.access_key_id,
                "SecretAccessKey": session.secret_access_key,
                "SessionToken": session.session_token,
                "Expiration": iso8601(session.expiration),
            }
        )
    if fmt == "json":
        return json.dumps(
            {
                "AccessKeyId": session.access_key_id,
                "SecretAccessKey": session.secret_access_key,
                "SessionToken": session.session_token,
                "Expiration": iso8601(session.expiration),
            },
            indent=2,
        )
    if fmt == "env":
        return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in environment(session).items())
    remaining = max(0, int(session.remaining(now)))
    return "\n".join(
        [
            f"Role:          {session.role_arn}",
            f"Session:       {session.assumed_role_arn or '-'}",
            f"Access key id: {session.access_key_id}",
            f"Expires:       {iso8601(session.expiration)} (in {remaining // 60} min {remaining % 60} s)",
            f"Source:        {'cached session' if cached else 'new session (AssumeRole with MFA)'}",
        ]
    )
