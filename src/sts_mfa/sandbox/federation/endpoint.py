"""The sandbox's console sign-in: a federation endpoint and a console, as AWS's behave.

AWS's IAM User Guide, "Enable custom identity broker access to the AWS console"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_enable-console-custom-url.html),
describes the endpoint; plain moto has none at all. What is reproduced:

* `GET FEDERATION_PATH?Action=getSigninToken&Session=JSON[&SessionDuration=N]`: `Session`
  is `{"sessionId", "sessionKey", "sessionToken"}`. Only an unexpired role session this
  sandbox issued (AssumeRole) is exchanged, and only with its own secret and token; an
  MFA session from GetSessionToken, a long-term access key, an unknown key and a
  malformed Session are refused (HTTP 400, as AWS answers "Bad Request"). SessionDuration,
  when given, is a whole number of seconds from 900 to 43200 ("You can specify a
  SessionDuration maximum value of 43,200"). The answer is `{"SigninToken": "..."}`.
* `GET FEDERATION_PATH?Action=login&Issuer=...&Destination=...&SigninToken=...`: "The URL
  is valid for 15 minutes from the time it is created", and here for one sign-in: a
  second use is refused, like an expired one, with a refusal page. The console session it
  opens lasts SessionDuration from the sign-in, else as long as the credentials (the
  guide: "If the SessionDuration parameter is missing, then the session defaults to the
  duration of the credentials"). It is kept in an HttpOnly cookie, and the answer is a
  302 to the destination, which must be a page of this sandbox's console (never a
  redirect elsewhere).
* `GET CONSOLE_PATH/...`: the console page (`console_page`) for the browser holding a
  live console session, else a refusal (403).

Not reproduced: AWS also caps SessionDuration at one hour for a role-chained session;
the sandbox's record of a role session (`callers.IssuedSession`) does not say whether it
was chained, so that cap is the tool's to keep (sts_mfa.console).

`Federation` is a WSGI middleware in front of the `Enforcer`: it answers those paths
itself, under the enforcer's lock, logs each answer in the request log (service
"signin"; no token, no credentials), and passes every other request on. Its memory of
tokens and console sessions is dropped whenever the sandbox is reset. Tokens and
cookies are remembered by their SHA-256 only.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from sts_mfa.sandbox.federation import console_page
from sts_mfa.sandbox.federation.console_page import SignedIn
from sts_mfa.sandbox.http.errors import HttpResponse
from sts_mfa.sandbox.http.records import RequestRecord
from sts_mfa.sandbox.http.signing import secrets_equal
from sts_mfa.sandbox.seam import motoview

if TYPE_CHECKING:
    from sts_mfa.sandbox.http.enforcer import Enforcer
    from sts_mfa.sandbox.rules.bookkeeping import EnforcerState
    from sts_mfa.sandbox.rules.callers import IssuedSession

FEDERATION_PATH = "/_sandbox/federation"
CONSOLE_PATH = "/_sandbox/console"
COOKIE = "sts-mfa-sandbox-console"
TOKEN_SECONDS = 900
MIN_DURATION, MAX_DURATION = 900, 43200
MAX_QUERY = 32 * 1024
SERVICE = "signin"


def federation_url(endpoint: str) -> str:
    """The federation endpoint of the sandbox at `endpoint` (for STS_MFA_FEDERATION_URL)."""
    return endpoint + FEDERATION_PATH


def console_url(endpoint: str) -> str:
    """The console of the sandbox at `endpoint` (for STS_MFA_CONSOLE_URL)."""
    return endpoint + CONSOLE_PATH


class Refused(Exception):
    """A request answered with a refusal: HTTP status, a code for the log, a reason for the page."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason


@dataclass
class Grant:
    """What a sign-in token stands for: the role session it was made from."""

    session: IssuedSession
    issued_at: float
    duration: int | None
    used: bool = False


@dataclass
class SigninState:
    grants: dict[str, Grant] = field(default_factory=dict)  # by SHA-256 of the token
    consoles: dict[str, SignedIn] = field(default_factory=dict)  # by SHA-256 of the cookie


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def assumed_role_arn(session: IssuedSession) -> str:
    role_name = session.role_arn.rsplit("/", 1)[-1]
    return f"arn:aws:sts::{session.account}:assumed-role/{role_name}/{session.session_name}"


class Federation:
    """The WSGI middleware; see the module docstring."""

    def __init__(self, enforcer: Enforcer, clock: Callable[[], float]) -> None:
        self._enforcer = enforcer
        self._clock = clock
        self._memory: tuple[EnforcerState, SigninState] | None = None

    def _state(self) -> SigninState:
        """This sandbox generation's memory (a reset replaces the enforcer's state, and so this)."""
        current = self._enforcer.state
        if self._memory is None or self._memory[0] is not current:
            self._memory = (current, SigninState())
        return self._memory[1]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path == FEDERATION_PATH:
            handler = self._federation
        elif path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/"):
            handler = self._console
        else:
            return self._enforcer(environ, start_response)
        with self._enforcer.lock:
            now = self._clock()
            action, caller, code = _action(environ, handler == self._console), None, None
            try:
                action, caller, response = handler(environ, now)
            except Refused as refusal:
                code = refusal.code
                response = console_page.refusal_page(refusal.status, refusal.reason)
            except Exception as exc:  # a bug here must not kill the server, nor look like a refusal
                code = "InternalFailure"
                response = console_page.refusal_page(500, f"sandbox error: {type(exc).__name__}")
            account = caller.split(":")[4] if caller else None
            record = RequestRecord(now, account, SERVICE, action, caller, response.status, code)
            self._enforcer.state.log.append(record)
        start_response(response.status_line, response.headers)
        return [response.body]

    # --- the federation endpoint ------------------------------------------------------------------

    def _federation(self, environ: dict[str, Any], now: float) -> tuple[str, str | None, HttpResponse]:
        params = _query(environ)
        action = params.get("Action", "")
        if action == "getSigninToken":
            return self._get_signin_token(params, now)
        if action == "login":
            return self._login(environ, params, now)
        raise Refused(400, "InvalidAction", "Action must be getSigninToken or login")

    def _get_signin_token(self, params: dict[str, str], now: float) -> tuple[str, str | None, HttpResponse]:
        duration = _session_duration(params.get("SessionDuration"))
        session = _role_session(params.get("Session"), self._enforcer.state, now)
        token = secrets.token_urlsafe(96)
        self._state().grants[_digest(token)] = Grant(session, issued_at=now, duration=duration)
        body = json.dumps({"SigninToken": token}).encode()
        headers = [("Content-Type", "application/json;charset=UTF-8"), ("Cache-Control", "no-store")]
        headers.append(("Content-Length", str(len(body))))
        return "getSigninToken", assumed_role_arn(session), HttpResponse(200, headers, body)

    def _login(
        self, environ: dict[str, Any], params: dict[str, str], now: float
    ) -> tuple[str, str | None, HttpResponse]:
        location = _own_console_page(environ, params.get("Destination", ""))
        grant = self._state().grants.get(_digest(params.get("SigninToken", "")))
        if grant is None:
            raise Refused(400, "InvalidSigninToken", "This sign-in link is not valid.")
        if grant.used:
            raise Refused(400, "UsedSigninToken", "This sign-in link was already used: each works once.")
        if now >= grant.issued_at + TOKEN_SECONDS:
            raise Refused(
                400, "ExpiredSigninToken", "This sign-in link has expired (it was good for 15 minutes)."
            )
        session = grant.session
        if grant.duration is None and now >= session.expires_at:
            raise Refused(400, "ExpiredCredentials", "The role session behind this sign-in link has expired.")
        grant.used = True
        until = now + grant.duration if grant.duration is not None else session.expires_at
        cookie = secrets.token_urlsafe(32)
        page, _, query = location.partition("?")
        region = parse_qs(query).get("region", [None])[0]
        self._state().consoles[_digest(cookie)] = SignedIn(
            assumed_role_arn(session),
            session.account,
            session.role_arn,
            session.mfa_at,
            until,
            params.get("Issuer", "")[:256],
            page[len(CONSOLE_PATH) :] or "/",
            region,
        )
        attributes = f"Path={CONSOLE_PATH}; Max-Age={max(int(until - now), 0)}; HttpOnly; SameSite=Lax"
        return (
            "login",
            assumed_role_arn(session),
            console_page.redirect(location, f"{COOKIE}={cookie}; {attributes}"),
        )

    # --- the console ------------------------------------------------------------------------------

    def _console(self, environ: dict[str, Any], now: float) -> tuple[str, str | None, HttpResponse]:
        cookie = _cookie(environ)
        signed = self._state().consoles.get(_digest(cookie)) if cookie else None
        if signed is None:
            raise Refused(403, "NotSignedIn", "This browser is not signed in to the sandbox's console.")
        if now >= signed.until:
            raise Refused(403, "ConsoleSessionEnded", "The console session has ended: sign in again.")
        path = str(environ.get("PATH_INFO", ""))[len(CONSOLE_PATH) :] or "/"
        query = str(environ.get("QUERY_STRING", ""))
        region = parse_qs(query).get("region", [None])[0]
        shown = replace(signed, page=path + (f"?{query}" if query else ""), region=region)
        return "console", signed.assumed_role_arn, console_page.console_page(shown)


def _action(environ: dict[str, Any], console: bool) -> str:
    """The log's name for a request, refused or not: console, getSigninToken, login, else Request."""
    if console:
        return "console"
    query = str(environ.get("QUERY_STRING", ""))[:MAX_QUERY]
    named = parse_qs(query, max_num_fields=None).get("Action", [""]) if "Action=" in query else [""]
    return named[0] if named[0] in ("getSigninToken", "login") else "Request"


def _query(environ: dict[str, Any]) -> dict[str, str]:
    """The query's parameters, each given once; GET only (as AWS documents the endpoint)."""
    if str(environ.get("REQUEST_METHOD", "GET")).upper() not in ("GET", "HEAD"):
        raise Refused(405, "MethodNotAllowed", "The federation endpoint answers GET requests.")
    raw = str(environ.get("QUERY_STRING", ""))
    if len(raw) > MAX_QUERY:
        raise Refused(400, "RequestTooLarge", "The request's query is too long.")
    try:
        parsed = parse_qs(raw, keep_blank_values=True, strict_parsing=False, max_num_fields=16)
    except ValueError:
        raise Refused(400, "MalformedQuery", "The request has too many parameters.") from None
    if any(len(values) != 1 for values in parsed.values()):
        raise Refused(400, "MalformedQuery", "A parameter was given more than once.")
    return {name: values[0] for name, values in parsed.items()}


def _session_duration(text: str | None) -> int | None:
    if text is None:
        return None
    if (
        not (len(text) <= 5 and text.isascii() and text.isdigit())
        or not MIN_DURATION <= int(text) <= MAX_DURATION
    ):
        raise Refused(
            400, "InvalidSessionDuration", "SessionDuration must be a whole number of seconds, 900 to 43200."
        )
    return int(text)


def _role_session(text: str | None, state: EnforcerState, now: float) -> IssuedSession:
    """The role session `Session` names, if its secret and token are that session's and it is live."""
    try:
        document = json.loads(text or "")
    except (ValueError, RecursionError):
        document = None
    names = ("sessionId", "sessionKey", "sessionToken")
    if not isinstance(document, dict) or not all(isinstance(document.get(n), str) for n in names):
        raise Refused(
            400, "MalformedSession", "Session must be a JSON object of sessionId, sessionKey, sessionToken."
        )
    key_id, secret, token = (str(document[n]) for n in names)
    if key_id in state.user_sessions:
        raise Refused(
            400,
            "SessionCredentialsRefused",
            "Credentials from GetSessionToken cannot sign in to the console: "
            "use a role session (AssumeRole).",
        )
    session = state.sessions.get(key_id)
    moto_session = motoview.assumed_role(session.account, key_id) if session is not None else None
    if session is None or moto_session is None:
        if motoview.find_access_key(key_id) is not None:
            raise Refused(400, "LongTermCredentialsRefused", "An access key cannot sign in to the console.")
        raise Refused(400, "InvalidCredentials", "The credentials in Session are not valid.")
    if not (
        secrets_equal(secret, moto_session.secret_access_key)
        and secrets_equal(token, moto_session.session_token)
    ):
        raise Refused(400, "InvalidCredentials", "The credentials in Session are not valid.")
    if now >= session.expires_at:
        raise Refused(400, "ExpiredCredentials", "The credentials in Session have expired.")
    return session


def _own_console_page(environ: dict[str, Any], destination: str) -> str:
    """The path (and query) of `destination` if it is a page of this sandbox's console."""
    host = str(environ.get("HTTP_HOST", "")).lower()
    refusal = Refused(
        400,
        "InvalidDestination",
        f"Destination must be a page of this sandbox's console (http://{host}{CONSOLE_PATH}/...).",
    )
    # ASCII only (a Location header is Latin-1 at best), no backslash (a browser reads one as
    # "/"), and no dot segment even percent-encoded (a browser undoes `%2e%2e` too).
    if not (destination.isascii() and destination.isprintable()) or "\\" in destination:
        raise refusal
    try:
        parts = urlsplit(destination)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise refusal from None
    path = parts.path
    own = parts.scheme == "http" and parts.netloc.lower() == host
    inside = path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/")
    if not own or not inside or ".." in unquote(path):
        raise refusal
    return path + (f"?{parts.query}" if parts.query else "")


def _cookie(environ: dict[str, Any]) -> str:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(str(environ.get("HTTP_COOKIE", "")))
    except CookieError:
        return ""
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else ""
