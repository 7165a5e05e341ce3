"""The HTTP side of the credentials endpoint: loopback only, one path, GET only, a token.

What it answers is what botocore's container provider reads (`ContainerMetadataFetcher`
and `ContainerProvider` in botocore; the AWS SDKs and Tools reference guide, "Container
credential provider"): a JSON object with `AccessKeyId`, `SecretAccessKey`, `Token` and
`Expiration` (ISO 8601). botocore sends `Accept: application/json` and the token,
verbatim, as the `Authorization` header, and only over http to a loopback address.

Every request is hostile input. In order, a request is refused:

* with 405 for any method but GET (HEAD included), whatever else it carries;
* with 403 when its `Host` header is not the loopback address it reached (a web page
  that rebinds a name of its own to 127.0.0.1 sends its own name there);
* with 401 without an `Authorization` header, 403 with a wrong one (or several), the
  token compared in constant time (`hmac.compare_digest`);
* with 404 for any other path (a query string included).

Each refusal is logged, with the method, a printable and shortened path and the peer,
never a header's value. A connection that sends nothing is dropped after a few seconds.
No response carries anything but the status, a short JSON body and plain headers.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import secrets
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from sts_mfa.credentials import iso8601
from sts_mfa.errors import AwsError, UsageError
from sts_mfa.server.keeper import Unavailable

if TYPE_CHECKING:
    from sts_mfa.credentials import AnySession

PATH = "/sts-mfa/credentials"
IDLE_SECONDS = 3.0  # a connection that sends no request within this is dropped
SHOWN_PATH = 80  # characters of a refused request's path that are logged


def new_token() -> str:
    """A fresh authorization token: 256 random bits, URL-safe (no newline, a legal header value)."""
    return secrets.token_urlsafe(32)


def loopback(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """`host` as a loopback IP address, or a UsageError: the endpoint hands out credentials."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(
            f"{host!r} is not an IP address: the credentials endpoint listens only on a loopback "
            "address, such as 127.0.0.1 or ::1"
        ) from None
    if not address.is_loopback:
        raise UsageError(
            f"{host} is not a loopback address: the credentials endpoint hands out credentials, so it "
            "listens only on 127.0.0.1 (or another 127.x address, or ::1), never where others can reach it"
        )
    return address


def container_document(session: AnySession) -> dict[str, str]:
    """The session as the container credentials provider reads it."""
    return {
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": session.secret_access_key,
        "Token": session.session_token,
        "Expiration": iso8601(session.expiration),
    }


def _printable(text: str) -> str:
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= SHOWN_PATH else shown[:SHOWN_PATH] + "..."


class _Http(ThreadingHTTPServer):
    daemon_threads = True
    endpoint: CredentialServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """An exception in a handler: one line in the log, never a traceback on stderr."""
        import sys

        error = sys.exc_info()[1]
        self.endpoint.log(f"a request from {client_address[0]} failed: {type(error).__name__}")


class _Http6(_Http):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Http
    server_version = "sts-mfa"
    sys_version = ""
    protocol_version = "HTTP/1.0"  # one request per connection
    timeout = IDLE_SECONDS

    def do_GET(self) -> None:
        self.server.endpoint.answer(self)

    def __getattr__(self, name: str) -> Any:
        """Every other method (`do_POST`, `do_HEAD`, `do_BREW`...) is refused with 405."""
        if name.startswith("do_"):
            return self._other_method
        raise AttributeError(name)

    def _other_method(self) -> None:
        self.server.endpoint.refuse(self, 405, "MethodNotAllowed", f"{self.command} is not allowed")

    def log_message(self, format: str, *args: Any) -> None:
        """http.server's own log lines (malformed requests, timeouts), through ours."""
        self.server.endpoint.log(
            f"refused a request from {self.client_address[0]}: {_printable(format % args)}"
        )

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None  # answered requests are logged by the endpoint itself

    def reply(self, status: int, document: dict[str, str], extra: dict[str, str] | None = None) -> None:
        body = json.dumps(document).encode()
        with contextlib.suppress(OSError):  # the client may be gone already
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)


class CredentialServer:
    """The endpoint: `answer()` gives the session for each authorized request (see the module doc)."""

    def __init__(
        self,
        answer: Callable[[], AnySession],
        *,
        token: str,
        log: Callable[[str], None],
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        address = loopback(host)
        if not token or not token.isprintable() or token != token.strip():
            raise ValueError("the token must be printable, with no surrounding whitespace")
        self._answer = answer
        self._token = token.encode()
        self.log = log
        self.verbose = verbose
        self.served = 0
        self.refused = 0
        self._counts = threading.Lock()
        kind = _Http6 if address.version == 6 else _Http
        try:
            self._http = kind((str(address), port), _Handler)
        except OSError as e:
            raise AwsError(f"cannot listen on {host} port {port}: {e.strerror or e}") from None
        self._http.endpoint = self
        self.host = str(address)
        self.port = int(self._http.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{PATH}"

    def _hosts(self) -> set[str]:
        """The Host headers a request that really came to this address carries."""
        names = {self.host, f"[{self.host}]", "localhost"}
        return {f"{name}:{self.port}" for name in names}

    # -- requests ------------------------------------------------------------------------

    def answer(self, request: _Handler) -> None:
        host = request.headers.get_all("Host") or []
        tokens = request.headers.get_all("Authorization") or []
        if len(host) != 1 or host[0].strip().lower() not in self._hosts():
            return self.refuse(request, 403, "Forbidden", "the Host header is not this loopback address")
        if not tokens:
            return self.refuse(request, 401, "Unauthorized", "no Authorization header")
        given = tokens[0].encode("latin-1", "replace")  # http.server decoded it as latin-1
        if len(tokens) != 1 or not hmac.compare_digest(given, self._token):
            return self.refuse(request, 403, "Forbidden", "wrong authorization token")
        if request.path != PATH:
            return self.refuse(request, 404, "NotFound", "no such path")
        try:
            session = self._answer()
        except Unavailable as e:
            self.log(f"could not answer {request.client_address[0]}: {e}")
            return request.reply(503, {"code": "SessionUnavailable", "message": str(e)}, {"Retry-After": "1"})
        except Exception as e:
            self.log(f"could not answer {request.client_address[0]}: internal error: {type(e).__name__}")
            return request.reply(500, {"code": "InternalError", "message": "sts-mfa: internal error"})
        with self._counts:
            self.served += 1
        if self.verbose:
            self.log(
                f"served {session.access_key_id} to {request.client_address[0]}:{request.client_address[1]}"
            )
        return request.reply(200, container_document(session))

    def refuse(self, request: _Handler, status: int, code: str, why: str) -> None:
        with self._counts:
            self.refused += 1
        peer = f"{request.client_address[0]}:{request.client_address[1]}"
        self.log(f"refused {request.command} {_printable(request.path)} from {peer} ({status}): {why}")
        extra = {"Allow": "GET"} if status == 405 else None
        request.reply(status, {"code": code, "message": f"sts-mfa: {why}"}, extra)

    # -- lifetime ------------------------------------------------------------------------

    def start(self) -> CredentialServer:
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sts-mfa-credentials-endpoint",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, finish the requests in hand, and join every thread of the server."""
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join()
            self._thread = None
        self._http.server_close()  # joins the request threads (ThreadingMixIn.block_on_close)

    def __enter__(self) -> CredentialServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
