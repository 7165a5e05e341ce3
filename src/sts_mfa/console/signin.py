"""The federation endpoint, spoken to as to a stranger: one GET, its answer checked to the byte.

`Action=getSigninToken` sends the role session itself (key, secret, token) and answers
`{"SigninToken": "..."}`; the sign-in URL is then the same endpoint with
`Action=login&Issuer=...&Destination=...&SigninToken=...` (the flow of AWS's IAM User
Guide, "Enable custom identity broker access to the AWS console"; AWS documents a GET,
so a GET it is). Whatever answers is treated as hostile:

* no redirect is ever followed: the request carries the credentials in its query, and
  a `Location` elsewhere would hand them on;
* a deadline (`TIMEOUT`) for connecting, for every read and for the whole exchange,
  and at most `MAX_RESPONSE_BYTES` read; plain http (loopback only) never goes through
  a proxy;
* a 200 must be JSON (`application/json`, `text/json`, `+json`; `text/plain` too, since AWS
  does not document the type it sends) holding one string `SigninToken` of printable ASCII
  without spaces, at most `MAX_TOKEN_LENGTH` long; anything else (a captive portal's HTML
  page, a proxy's error) is refused and said;
* a 400/401/403 means the credentials were refused: explained, never echoed (the body
  is the endpoint's, not ours to print);
* nothing here ever names the request's query: errors name the endpoint only.

urllib, not a third-party client: one GET with no redirects, a size cap and a timeout
is all this needs, urllib does it in the standard library, and building the opener by
hand (HTTP, HTTPS, proxies, error handling, and nothing else) means no `file:` or `ftp:`
handler can ever be reached.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from typing import Any
from urllib.parse import urlencode

from sts_mfa.errors import AwsError, CredentialsError

TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
MAX_TOKEN_LENGTH = 16 * 1024
ISSUER = "sts-mfa"
JSON_TYPES = ("application/json", "text/json", "text/plain")
CREDENTIALS_REFUSED = (400, 401, 403)

Open = Callable[[urllib.request.Request, float], Any]  # (request, timeout) -> a response


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer, never an instruction: it reaches the caller as an HTTPError."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(federation: str) -> Open:
    opener = urllib.request.OpenerDirector()
    # HTTPS_PROXY/NO_PROXY as botocore honours them, for https (a proxy sees only CONNECT);
    # never for plain http, which is loopback only and would hand a proxy the credentials.
    proxies: dict[str, str] | None = None if federation.startswith("https://") else {}
    for handler in (
        urllib.request.ProxyHandler(proxies),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        urllib.request.HTTPDefaultErrorHandler(),
        _NoRedirects(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return lambda request, timeout: opener.open(request, timeout=timeout)


def session_json(access_key_id: str, secret_access_key: str, session_token: str) -> str:
    """The `Session` parameter: the role session as the federation endpoint wants it."""
    return json.dumps(
        {"sessionId": access_key_id, "sessionKey": secret_access_key, "sessionToken": session_token},
        separators=(",", ":"),
    )


def token_request_url(federation: str, session: str, duration: int | None) -> str:
    params = {"Action": "getSigninToken"}
    if duration is not None:
        params["SessionDuration"] = str(duration)
    params["Session"] = session
    return f"{federation}?{urlencode(params)}"


def login_url(federation: str, token: str, destination: str) -> str:
    """The sign-in URL: whoever opens it in the next 15 minutes is signed in (a bearer credential)."""
    query = urlencode({"Action": "login", "Issuer": ISSUER, "Destination": destination, "SigninToken": token})
    return f"{federation}?{query}"


def signin_token(
    federation: str,
    session: str,
    duration: int | None,
    *,
    timeout: float = TIMEOUT,
    opener: Open | None = None,
) -> str:
    """Exchange the role session for a sign-in token at `federation` (see the module docstring)."""
    request = urllib.request.Request(  # noqa: S310 - the scheme was checked (http/https only)
        token_request_url(federation, session, duration),
        headers={"Accept": "application/json", "User-Agent": "sts-mfa"},
        method="GET",
    )
    where = f"the federation endpoint {federation}"
    try:
        status, headers, body = _exchange(opener or _opener(federation), request, timeout)
    except urllib.error.HTTPError as e:
        e.close()
        raise _refusal(where, e.code, duration) from None
    except TimeoutError:
        raise AwsError(f"{where} did not answer within {timeout:.0f} s") from None
    except urllib.error.URLError as e:
        raise AwsError(f"cannot reach {where}: {_reason(e.reason)}") from None
    except (http.client.HTTPException, OSError, ValueError) as e:
        raise AwsError(f"{where} answered with a broken HTTP response ({type(e).__name__})") from None
    if status != 200:
        raise _refusal(where, status, duration)
    return _token_from(where, headers, body)


def _exchange(open_: Open, request: urllib.request.Request, timeout: float) -> tuple[int, Message, bytes]:
    """The answer's status, headers and body, all within `timeout`.

    The socket timeout bounds each read, not the whole: a server sending its status line
    or headers a byte at a time (or a TLS handshake as slowly) would hold the command for
    as long as it liked. So the exchange runs in a daemon thread, abandoned at the deadline
    (the command ends soon after; `_read_capped` ends the thread's own reading)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            with open_(request, timeout) as response:
                body = _read_capped(response, time.monotonic() + timeout)
                outcome.append((int(response.status), response.headers, body))
        except BaseException as e:  # handed to the caller, which sorts it
            outcome.append(e)

    worker = threading.Thread(target=run, name="sts-mfa-federation", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise TimeoutError
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    answer: tuple[int, Message, bytes] = outcome[0]
    return answer


def _read_capped(response: Any, deadline: float) -> bytes:
    """At most MAX_RESPONSE_BYTES + 1 bytes, read before `deadline` (a server dripping bytes
    slower than the socket timeout would otherwise hold the command forever)."""
    read = getattr(response, "read1", response.read)
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_RESPONSE_BYTES:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = read(min(16 * 1024, MAX_RESPONSE_BYTES + 1 - size))  # what has come, up to n
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _reason(reason: object) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"its TLS certificate was not accepted ({reason.verify_message})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    if isinstance(reason, TimeoutError):
        return "timed out"
    return type(reason).__name__ if not isinstance(reason, str) else reason


def _refusal(where: str, status: int, duration: int | None) -> Exception:
    if status in CREDENTIALS_REFUSED:
        asked = (
            f"; SessionDuration={duration} was asked, which AWS refuses for a role assumed with "
            "temporary credentials: try without --session-duration"
            if duration is not None
            else ""
        )
        return CredentialsError(
            f"{where} refused the role session (HTTP {status}): it signs in only an unexpired role "
            "session from AssumeRole, never an MFA session from GetSessionToken nor an access key" + asked,
            hint="if the cached session is not such a role session, get a new one with --force",
        )
    if 300 <= status < 400:
        return AwsError(
            f"{where} answered with a redirect (HTTP {status}) instead of a sign-in token; sts-mfa "
            "never follows one with credentials in the request: check STS_MFA_FEDERATION_URL"
        )
    if status == 429 or status >= 500:
        return AwsError(f"{where} failed (HTTP {status}); try again in a moment")
    return AwsError(
        f"{where} answered HTTP {status}, not a sign-in token: "
        "is STS_MFA_FEDERATION_URL a federation endpoint?"
    )


def _token_from(where: str, headers: Message, body: bytes) -> str:
    def bad(why: str) -> AwsError:
        return AwsError(f"{where} answered with something that is not a sign-in token ({why})")

    if len(body) > MAX_RESPONSE_BYTES:
        raise bad(f"more than {MAX_RESPONSE_BYTES // 1024} KiB")
    kind = headers.get_content_type()
    if kind not in JSON_TYPES and not kind.endswith("+json"):
        raise bad(f"Content-Type {kind!r}")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad("not JSON") from None
    token = document.get("SigninToken") if isinstance(document, dict) else None
    if not isinstance(token, str):
        raise bad("no SigninToken string in it")
    if (
        not 0 < len(token) <= MAX_TOKEN_LENGTH
        or not token.isascii()
        or not token.isprintable()
        or " " in token
    ):
        raise bad("its SigninToken is empty, too long, or not printable ASCII")
    return token
