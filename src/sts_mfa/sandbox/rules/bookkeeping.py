"""What the sandbox remembers that moto does not, and how a request updates it.

moto holds every IAM/STS/S3 entity; the sandbox additionally remembers the sessions
it issued (with their expiry and MFA time; for GetSessionToken, whose keys moto does
not keep, the credentials themselves), when access keys, users and roles were
created (for the propagation delays of `Faults`), the last TOTP step accepted per
MFA device (a code is accepted once), and the request log. Nothing here is written
before moto has accepted the request: a rule that wants something remembered
returns an `AfterSuccess`, and `record_success` applies it to moto's 2xx answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from sts_mfa.sandbox.http.errors import HttpResponse
from sts_mfa.sandbox.http.records import RequestRecord
from sts_mfa.sandbox.http.wire import WireRequest
from sts_mfa.sandbox.rules.callers import Caller, IssuedSession, UserSession


@dataclass
class EnforcerState:
    """Everything the sandbox knows that moto does not (all reset with moto)."""

    sessions: dict[str, IssuedSession] = field(default_factory=dict)  # by access key id
    user_sessions: dict[str, UserSession] = field(default_factory=dict)  # GetSessionToken's, by key id
    key_created: dict[str, float] = field(default_factory=dict)  # access key id -> time
    user_created: dict[str, float] = field(default_factory=dict)  # user ARN -> time
    role_created: dict[str, float] = field(default_factory=dict)  # role ARN -> time
    last_step: dict[str, int] = field(default_factory=dict)  # MFA serial -> TOTP step
    log: list[RequestRecord] = field(default_factory=list)


@dataclass(frozen=True)
class AfterSuccess:
    """What to remember once moto has accepted the request (by default, nothing)."""

    enable_step: tuple[str, int] | None = None  # (serial, step) EnableMFADevice spent
    session: IssuedSession | None = None  # the session AssumeRole is issuing
    user_session: UserSession | None = None  # the session GetSessionToken is issuing
    forget_device: str | None = None  # the serial DeleteVirtualMFADevice removes
    # GetCallerIdentity of a caller moto does not know: (UserId, Account, Arn) to answer
    identity: tuple[str, str, str] | None = None
    # A read the rule answered itself from moto's models (GetAccountAuthorizationDetails,
    # which moto does not paginate): sent as it is, moto is not asked.
    answer: HttpResponse | None = None


NOTHING = AfterSuccess()

# IAM action -> the response element naming what it created, and where its creation
# time is kept.
_CREATION_TIMES: dict[str, tuple[str, Callable[[EnforcerState], dict[str, float]]]] = {
    "iam:CreateAccessKey": ("AccessKeyId", lambda state: state.key_created),
    "iam:CreateUser": ("Arn", lambda state: state.user_created),
    "iam:CreateRole": ("Arn", lambda state: state.role_created),
}


def record_success(
    state: EnforcerState, request: WireRequest, now: float, after: AfterSuccess, response: HttpResponse
) -> HttpResponse:
    """Remember what a successful request did; returns the response to send."""
    created = _CREATION_TIMES.get(request.iam_action)
    if created is not None:
        tag, times = created
        name = _xml_value(response.body, tag)
        if name:
            times(state)[name] = now
    if after.enable_step is not None:
        serial, step = after.enable_step
        state.last_step[serial] = step
    if after.forget_device is not None:
        state.last_step.pop(after.forget_device, None)
    if after.session is not None:
        return _issue_session(state, after.session, response)
    if after.user_session is not None:
        return _issue_user_session(state, after.user_session, response)
    if after.identity is not None:
        user_id, account, arn = after.identity
        return _rewrite(response, {"UserId": user_id, "Account": account, "Arn": arn})
    return response


def _issue_session(state: EnforcerState, session: IssuedSession, response: HttpResponse) -> HttpResponse:
    key_id = _xml_value(response.body, "AccessKeyId")
    if key_id:
        session.access_key_id = key_id
        state.sessions[key_id] = session
    # moto stamps the expiry with the real time; the sandbox's clock is the truth.
    return _rewrite(response, {"Expiration": iso8601(session.expires_at)})


def _issue_user_session(state: EnforcerState, session: UserSession, response: HttpResponse) -> HttpResponse:
    """moto answers GetSessionToken with fixed example keys it keeps nowhere: the
    sandbox's own credentials replace them (and the sandbox's clock the expiry)."""
    state.user_sessions[session.access_key_id] = session
    return _rewrite(
        response,
        {
            "AccessKeyId": session.access_key_id,
            "SecretAccessKey": session.secret_access_key,
            "SessionToken": session.session_token,
            "Expiration": iso8601(session.expires_at),
        },
    )


def _rewrite(response: HttpResponse, values: dict[str, str]) -> HttpResponse:
    """`response` with the text of each `<tag>` of `values` replaced."""
    text = response.body.decode("utf-8")
    for tag, value in values.items():
        element = f"<{tag}>{escape(value)}</{tag}>"
        text = re.sub(rf"<{tag}>[^<]*</{tag}>", element.replace("\\", "\\\\"), text)
    return _replace_body(response, text.encode("utf-8"))


def moto_error_code(response: HttpResponse) -> str | None:
    """The AWS error code of one of moto's answers (its HTTP status if it names none)."""
    if response.status < 300:
        return None
    code = _xml_value(response.body, "Code") or _json_type(response.body)
    return code if code is not None else str(response.status)


def _json_type(body: bytes) -> str | None:
    """The `__type` of a JSON-protocol error (Organizations), without its namespace."""
    match = re.search(rb'"__type"\s*:\s*"([^"#]*#)?([^"]*)"', body)
    return match.group(2).decode("utf-8", "replace") if match else None


def log_record(
    request: WireRequest, caller: Caller | None, now: float, response: HttpResponse, error_code: str | None
) -> RequestRecord:
    return RequestRecord(
        time=now,
        account=caller.account if caller else None,
        service=request.service,
        action=request.action,
        caller_arn=caller.arn if caller else None,
        status=response.status,
        error_code=error_code,
        mutating=request.mutating,
    )


def iso8601(timestamp: float) -> str:
    """`2024-01-01T00:00:00Z`: how AWS writes times in responses and aws:CurrentTime."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _xml_value(body: bytes, tag: str) -> str | None:
    """The text of the first `<tag>` in a response body (enough for moto's flat XML)."""
    pattern = f"<{re.escape(tag)}>([^<]*)</{re.escape(tag)}>"
    match = re.search(pattern, body.decode("utf-8", "replace"))
    return match.group(1) if match else None


def _replace_body(response: HttpResponse, body: bytes) -> HttpResponse:
    headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    return HttpResponse(response.status, headers, body)
