"""The HTTP side of the credentials endpoint: loopback only, one path, GET only, a token.

What it answers (`sts_mfa.session.handoff.container_document`) is what botocore's
container provider reads (`ContainerMetadataFetcher` and `ContainerProvider` in botocore;
the AWS SDKs and Tools reference guide, "Container credential provider"): a JSON object
with `AccessKeyId`, `SecretAccessKey`, `Token` and `Expiration` (ISO 8601). botocore
sends `Accept: application/json` and the token, verbatim, as the `Authorization` header,
and only over http to a loopback address.

Every request is hostile input. In order, a request is refused:

* with 405 for any method but GET (HEAD included), whatever else it carries;
* with 403 when its `Host` header is not the loopback address it reached (a web page
  that rebinds a name of its own to 127.0.0.1 sends its own name there);
* with 401 without an `Authorization` header, 403 with a wrong one (or several), the
  token compared in constant time (`hmac.compare_digest`);
* with 404 for any other path (a query string included).

Each refusal is logged (at most REFUSALS_LOGGED in a window, the rest counted), with the
method, a printable and shortened path and the peer, never a header's value. A connection
that has not sent its whole request within IDLE_SECONDS is dropped, and at most MAX_WAITING
wait at once (a new one drops the oldest).
No response carries anything but the status, a short JSON body and plain headers.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import ipaddress
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from sts_mfa.errors import AwsError, UsageError
from sts_mfa.server.keeper import Unavailable
from sts_mfa.session.handoff import container_document
from sts_mfa.text import one_line

if TYPE_CHECKING:
    from sts_mfa.state.model import AnySession

PATH = "/sts-mfa/credentials"
IDLE_SECONDS = 3.0  # a connection that has not sent its whole request within this is dropped
MAX_HEAD = 16 * 1024  # bytes of request line and headers (botocore sends a few hundred)
MAX_WAITING = 64  # connections still sending their request; a new one beyond drops the oldest
SHOWN_PATH = 80  # characters of a refused request's path that are logged
REFUSALS_LOGGED = 20  # refusals logged per window; the rest are counted and said once
REFUSAL_WINDOW_SECONDS = 10.0


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


def _hosts(host: str, port: int) -> frozenset[str]:
    """The Host headers a request that really came to this address carries."""
    names = {host, f"[{host}]", "localhost"}
    hosts = {f"{name}:{port}" for name in names}
    return frozenset(hosts | names if port == 80 else hosts)  # clients leave the default port out


def _printable(text: str) -> str:
    shown = one_line(text)
    return shown if len(shown) <= SHOWN_PATH else shown[:SHOWN_PATH] + "..."


def _read_head(conn: socket.socket) -> tuple[bytes, str | None]:
    """The request line and headers, read within IDLE_SECONDS in all (not per read); else why not."""
    deadline = time.monotonic() + IDLE_SECONDS
    head = b""
    while b"\r\n\r\n" not in head and b"\n\n" not in head:
        if len(head) > MAX_HEAD:
            return b"", f"a request over {MAX_HEAD} bytes"
        left = deadline - time.monotonic()
        if left <= 0:
            return b"", f"no complete request within {IDLE_SECONDS:g} s"
        conn.settimeout(left)
        try:
            chunk = conn.recv(4096)
        except TimeoutError:
            return b"", f"no complete request within {IDLE_SECONDS:g} s"
        except OSError:
            chunk = b""
        if not chunk:  # closed by the client, or by process_request to make room
            return b"", None if not head else "the connection ended before a complete request"
        head += chunk
    return head, None


class _Http(ThreadingHTTPServer):
    """One daemon thread per connection, and a bounded number of them waiting for a request: a
    connection beyond MAX_WAITING drops the one that has waited longest (an SDK sends its request
    at once, so only idle or trickling connections are ever dropped)."""

    daemon_threads = True
    request_queue_size = 128  # a burst of connections is not refused by the kernel
    endpoint: CredentialServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._waiting: dict[Any, None] = {}  # connections still sending their request, oldest first
        self._waiting_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._waiting_lock:
            while len(self._waiting) >= MAX_WAITING:
                oldest = next(iter(self._waiting))
                del self._waiting[oldest]
                with contextlib.suppress(OSError):
                    oldest.shutdown(socket.SHUT_RDWR)  # its thread's recv returns at once
            self._waiting[request] = None
        super().process_request(request, client_address)

    def done_waiting(self, request: Any) -> None:
        with self._waiting_lock:
            self._waiting.pop(request, None)

    def shutdown_request(self, request: Any) -> None:
        self.done_waiting(request)
        super().shutdown_request(request)

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

    def setup(self) -> None:
        """Read the whole request head first, within IDLE_SECONDS in all: a client that sends it
        byte by byte cannot hold a thread for longer (the socket's timeout is per read)."""
        super().setup()
        head, problem = _read_head(self.connection)
        self.server.done_waiting(self.request)
        self.connection.settimeout(self.timeout)
        if problem is not None:
            with self.server.endpoint._counts:
                self.server.endpoint.refused += 1
            self.server.endpoint.log_refusal(f"refused a request from {self.client_address[0]}: {problem}")
        self.rfile.close()
        self.rfile = io.BytesIO(head)  # empty: http.server closes the connection without an answer

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
        self.server.endpoint.log_refusal(
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
        self._counts = threading.Lock()  # guards the counts and the refusal log's window
        self._window_started = -REFUSAL_WINDOW_SECONDS
        self._in_window = self._skipped = 0
        kind = _Http6 if address.version == 6 else _Http
        try:
            self._http = kind((str(address), port), _Handler)
        except OSError as e:
            raise AwsError(f"cannot listen on {host} port {port}: {e.strerror or e}") from None
        self._http.endpoint = self
        self.host = str(address)
        self.port = int(self._http.server_address[1])
        self._hosts = _hosts(self.host, self.port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{PATH}"

    # -- requests ------------------------------------------------------------------------

    def answer(self, request: _Handler) -> None:
        host = request.headers.get_all("Host") or []
        tokens = request.headers.get_all("Authorization") or []
        if len(host) != 1 or host[0].strip().lower() not in self._hosts:
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
            request.reply(503, {"code": "SessionUnavailable", "message": str(e)}, {"Retry-After": "1"})
            return self.log(f"could not answer {request.client_address[0]}: {e}")
        except Exception as e:
            request.reply(500, {"code": "InternalError", "message": "sts-mfa: internal error"})
            peer = request.client_address[0]
            return self.log(f"could not answer {peer}: internal error: {type(e).__name__}")
        with self._counts:
            self.served += 1
        request.reply(200, container_document(session))  # then the log: a stderr that blocks holds up no SDK
        if self.verbose:
            self.log(
                f"served {session.access_key_id} to {request.client_address[0]}:{request.client_address[1]}"
            )
        return None

    def refuse(self, request: _Handler, status: int, code: str, why: str) -> None:
        with self._counts:
            self.refused += 1
        peer = f"{request.client_address[0]}:{request.client_address[1]}"
        extra = {"Allow": "GET"} if status == 405 else None
        request.reply(status, {"code": code, "message": f"sts-mfa: {why}"}, extra)
        self.log_refusal(
            f"refused {request.command} {_printable(request.path)} from {peer} ({status}): {why}"
        )

    def log_refusal(self, message: str) -> None:
        """Log a refusal, at most REFUSALS_LOGGED a window: any local process can knock, and must not
        flood stderr (or the file it goes to); the others are counted, and said with the next one logged."""
        with self._counts:
            now = time.monotonic()
            skipped = 0
            if now - self._window_started >= REFUSAL_WINDOW_SECONDS:
                self._window_started, self._in_window, skipped, self._skipped = now, 0, self._skipped, 0
            self._in_window += 1
            logged = self._in_window <= REFUSALS_LOGGED
            self._skipped += 0 if logged else 1
        if skipped:
            self.log(f"{skipped} more requests were refused, not logged")
        if logged:
            self.log(message)

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
