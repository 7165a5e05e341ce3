"""`sts_mfa.console`: the places a sign-in goes, and the federation endpoint as a hostile server.

`places` checks STS_MFA_FEDERATION_URL / STS_MFA_CONSOLE_URL, the region and
--destination before any session is obtained. `signin.signin_token` talks to a small
local HTTP server here that answers whatever a test asks: redirects, HTML, huge or
broken bodies, refusals, silence. Each answer must become one clear error naming the
endpoint, never the request's query (it holds the role's secret key and token).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from sts_mfa import console
from sts_mfa.console import places, signin
from sts_mfa.errors import AwsError, CredentialsError, ExitCode, UsageError

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN"
SESSION = signin.session_json("ASIAEXAMPLE", SECRET, TOKEN)

# --- places: the environment, the region, the destination -----------------------------------------


@pytest.mark.parametrize(
    ("region", "federation", "console_url"),
    [
        ("eu-west-1", "https://signin.aws.amazon.com/federation", "https://console.aws.amazon.com"),
        ("cn-north-1", "https://signin.amazonaws.cn/federation", "https://console.amazonaws.cn"),
        (
            "us-gov-west-1",
            "https://signin.amazonaws-us-gov.com/federation",
            "https://console.amazonaws-us-gov.com",
        ),
    ],
)
def test_each_partition_has_its_sign_in(region: str, federation: str, console_url: str) -> None:
    assert places.places({}, region) == places.Places(federation, console_url)


def test_an_isolated_partition_needs_both_variables() -> None:
    with pytest.raises(UsageError, match="STS_MFA_FEDERATION_URL and STS_MFA_CONSOLE_URL"):
        places.places({"STS_MFA_FEDERATION_URL": "https://signin.example/federation"}, "us-iso-east-1")
    both = {"STS_MFA_FEDERATION_URL": "https://signin.example/f", "STS_MFA_CONSOLE_URL": "https://c.example"}
    assert places.places(both, "us-iso-east-1") == places.Places(
        "https://signin.example/f", "https://c.example"
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://signin.example/federation", "plain http to a host that is not this machine"),
        ("file:///etc/passwd", "must start with http:// or https://"),
        ("https://user:pw@signin.example/federation", "user name or password"),
        ("https://signin.example/federation?x=1", "must not have a query"),
        ("https://signin.example/fed eration", "spaces or control characters"),
        ("https://signin.example:99999/", "out of range"),
    ],
)
def test_a_federation_url_that_would_leak_the_session_is_refused(url: str, why: str) -> None:
    with pytest.raises(UsageError, match="STS_MFA_FEDERATION_URL") as info:
        places.places({"STS_MFA_FEDERATION_URL": url}, "us-east-1")
    assert why in str(info.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:5000/_sandbox/federation", "http://localhost:1/f", "http://[::1]:2/f"]
)
def test_plain_http_is_allowed_to_this_machine_only(url: str) -> None:
    assert places.places({"STS_MFA_FEDERATION_URL": url}, "us-east-1").federation == url


@pytest.mark.parametrize("region", ["us-east-1\n", "US-EAST-1", "us-east-1/../x", "", "us-east-1?x"])
def test_a_region_that_is_not_one_is_refused(region: str) -> None:
    with pytest.raises(UsageError, match="not an AWS region name"):
        places.places({}, region)


AWS = places.places({}, "eu-west-1")


@pytest.mark.parametrize(
    ("wanted", "page"),
    [
        (None, "https://console.aws.amazon.com/console/home?region=eu-west-1"),
        ("s3", "https://console.aws.amazon.com/s3/home?region=eu-west-1"),
        ("https://console.aws.amazon.com/iam/home#/roles", "https://console.aws.amazon.com/iam/home#/roles"),
        (
            "https://eu-west-1.console.aws.amazon.com/ec2/home",
            "https://eu-west-1.console.aws.amazon.com/ec2/home",
        ),
    ],
)
def test_the_destination_is_a_console_page(wanted: str | None, page: str) -> None:
    assert places.destination(AWS, "eu-west-1", wanted) == page


@pytest.mark.parametrize(
    "wanted",
    [
        "https://evil.example/",
        "https://console.aws.amazon.com.evil.example/",
        "https://evil.example/?https://console.aws.amazon.com",
        "https://me@console.aws.amazon.com/",
        "http://console.aws.amazon.com/",
        "https://console.aws.amazon.com:8443/",
        "S3!",
        "javascript:alert(1)",
        "https://console.aws.amazon.com/\nx",
    ],
)
def test_a_destination_off_the_console_is_refused(wanted: str) -> None:
    with pytest.raises(UsageError, match="--destination"):
        places.destination(AWS, "eu-west-1", wanted)


@pytest.mark.parametrize(
    "wanted",
    [
        "https://evil.example\\.console.aws.amazon.com/",  # a browser reads the host as evil.example
        "https://evil.example%2f.console.aws.amazon.com/",
        "https://evil.example;.console.aws.amazon.com/",
        "https://a.b.console.aws.amazon.com/",  # a region's subdomain is one label
        "https://console.aws.amazon.com/\\evil.example",
    ],
)
def test_a_destination_a_browser_reads_elsewhere_is_refused(wanted: str) -> None:
    with pytest.raises(UsageError, match="--destination"):
        places.destination(AWS, "eu-west-1", wanted)


@pytest.mark.parametrize("tail", ["/../x", "/%2e%2e/x", "/.%2E/x", "/a/%2e./%2e%2e/%2e%2e/x"])
def test_a_destination_cannot_climb_out_of_the_consoles_path(tail: str) -> None:
    sandbox = places.Places("http://127.0.0.1:1/_sandbox/federation", "http://127.0.0.1:1/_sandbox/console")
    with pytest.raises(UsageError, match="--destination"):
        places.destination(sandbox, "us-east-1", "http://127.0.0.1:1/_sandbox/console" + tail)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example\\.signin.aws.amazon.com/federation",  # Python and a browser disagree
        "https://evil.example%2f.signin.aws.amazon.com/federation",
        "https://s\u00edgnin.example/federation",
        "https://" + "\u00e9" * 70 + ".example/federation",
    ],
)
@pytest.mark.parametrize("name", ["STS_MFA_FEDERATION_URL", "STS_MFA_CONSOLE_URL"])
def test_a_host_name_that_is_not_plain_ascii_is_refused(url: str, name: str) -> None:
    with pytest.raises(UsageError, match=name) as info:
        places.places({name: url}, "us-east-1")
    assert "host name" in str(info.value)


@pytest.mark.parametrize("endpoint", [None, "https://sts.example", "http://10.0.0.1:4566"])
def test_a_loopback_federation_url_gets_no_session_from_elsewhere(endpoint: str | None) -> None:
    """A stale STS_MFA_FEDERATION_URL of a stopped sandbox: whoever listens on its port now
    (any user of the machine) would get an AWS role session's secret key and token."""
    local = places.places(
        {"STS_MFA_FEDERATION_URL": "http://127.0.0.1:5000/_sandbox/federation"}, "us-east-1"
    )
    with pytest.raises(UsageError, match=r"STS_MFA_FEDERATION_URL .* plain http"):
        places.check_session_endpoint(local, endpoint)
    places.check_session_endpoint(local, "http://127.0.0.1:5000")  # the sandbox's own session
    places.check_session_endpoint(AWS, None)  # https: the user's choice, whatever the endpoint


# --- SessionDuration ----------------------------------------------------------------------------


def test_session_duration_follows_aws_rules() -> None:
    assert console.session_duration(None, chained=True, what="x") is None
    assert console.session_duration(43200, chained=False, what="x") == 43200
    assert console.session_duration(3600, chained=True, what="x") == 3600
    with pytest.raises(UsageError, match="at most 3600 s"):
        console.session_duration(3601, chained=True, what="profile p's role session")
    for outside in (899, 43201):
        with pytest.raises(UsageError, match="900 to 43200"):
            console.session_duration(outside, chained=False, what="x")


# --- the federation endpoint, hostile -------------------------------------------------------------

Answer = Callable[[BaseHTTPRequestHandler], None]


class Hostile:
    """A local server whose every answer is `self.answer`; it records the queries it got."""

    def __init__(self) -> None:
        self.answer: Answer = reply(200, "application/json", b'{"SigninToken": "tok"}')
        self.queries: list[dict[str, list[str]]] = []
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hostile.queries.append(parse_qs(urlsplit(self.path).query))
                hostile.answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/federation"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def reply(status: int, kind: str, body: bytes, **headers: str) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return answer


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    server = Hostile()
    yield server
    server.close()


def test_the_token_request_is_the_documented_get(hostile: Hostile) -> None:
    assert signin.signin_token(hostile.url, SESSION, 3600) == "tok"
    [query] = hostile.queries
    assert query == {"Action": ["getSigninToken"], "SessionDuration": ["3600"], "Session": [SESSION]}
    assert json.loads(query["Session"][0]) == {
        "sessionId": "ASIAEXAMPLE",
        "sessionKey": SECRET,
        "sessionToken": TOKEN,
    }
    url = signin.login_url(hostile.url, "tok", "https://console.aws.amazon.com/console/home")
    assert parse_qs(urlsplit(url).query) == {
        "Action": ["login"],
        "Issuer": ["sts-mfa"],
        "Destination": ["https://console.aws.amazon.com/console/home"],
        "SigninToken": ["tok"],
    }


def test_a_redirect_is_never_followed(hostile: Hostile) -> None:
    elsewhere = Hostile()
    try:
        hostile.answer = reply(302, "text/plain", b"", Location=elsewhere.url)
        with pytest.raises(AwsError, match="redirect") as info:
            signin.signin_token(hostile.url, SESSION, None)
        assert elsewhere.queries == []  # the credentials went nowhere else
        assert_no_secret(info.value)
    finally:
        elsewhere.close()


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (reply(200, "text/html", b"<html>captive portal</html>"), "Content-Type 'text/html'"),
        (reply(200, "application/json", b"x" * (64 * 1024 + 1)), "more than 64 KiB"),
        (reply(200, "application/json", b"{not json"), "not JSON"),
        (reply(200, "application/json", b"\xff\xfe"), "not JSON"),
        (reply(200, "application/json", b"[" * 100000), "more than 64 KiB"),
        (reply(200, "application/json", b"[" * 60000), "not JSON"),
        (reply(200, "application/json", b'["SigninToken"]'), "no SigninToken"),
        (reply(200, "application/json", b'{"SigninToken": 5}'), "no SigninToken"),
        (reply(200, "application/json", b'{"SigninToken": "a b"}'), "not printable ASCII"),
        (reply(200, "application/json", b'{"SigninToken": "a\\u00e9"}'), "not printable ASCII"),
        (reply(200, "application/json", b'{"SigninToken": ""}'), "empty"),
        (reply(404, "text/html", b"nope"), "HTTP 404, not a sign-in token"),
        (reply(503, "text/html", b"busy"), "try again in a moment"),
    ],
)
def test_a_hostile_answer_is_one_clear_error(hostile: Hostile, answer: Answer, why: str) -> None:
    hostile.answer = answer
    with pytest.raises(AwsError) as info:
        signin.signin_token(hostile.url, SESSION, None)
    assert why in str(info.value)
    assert hostile.url in str(info.value)
    assert_no_secret(info.value)


@pytest.mark.parametrize("status", [400, 401, 403])
def test_refused_credentials_are_explained_not_echoed(hostile: Hostile, status: int) -> None:
    hostile.answer = reply(status, "text/html", f"<p>{SECRET} bad</p>".encode())
    with pytest.raises(CredentialsError) as info:
        signin.signin_token(hostile.url, SESSION, None)
    assert info.value.exit_code == ExitCode.CREDENTIALS
    assert "never an MFA session from GetSessionToken" in str(info.value)
    assert_no_secret(info.value)


def test_silence_ends_at_the_deadline(hostile: Hostile) -> None:
    hostile.answer = lambda handler: time.sleep(1.5)
    started = time.monotonic()
    with pytest.raises(AwsError, match="did not answer within"):
        signin.signin_token(hostile.url, SESSION, None, timeout=0.3)
    assert time.monotonic() - started < 1.4


def test_a_dripping_body_ends_at_the_deadline(hostile: Hostile) -> None:
    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        for _ in range(40):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.05)

    hostile.answer = drip
    started = time.monotonic()
    with pytest.raises(AwsError, match="did not answer within"):
        signin.signin_token(hostile.url, SESSION, None, timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_dripping_headers_end_at_the_deadline(hostile: Hostile) -> None:
    """The deadline covers the status line and headers too, not only the body."""

    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(30):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.05)

    hostile.answer = drip
    started = time.monotonic()
    with pytest.raises(AwsError, match="did not answer within"):
        signin.signin_token(hostile.url, SESSION, None, timeout=0.3)
    assert time.monotonic() - started < 1.2


def test_plain_http_never_goes_through_a_proxy(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = Hostile()
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url.removesuffix("/federation"))
        monkeypatch.setenv("http_proxy", proxy.url.removesuffix("/federation"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        assert signin.signin_token(hostile.url, SESSION, None) == "tok"
        assert proxy.queries == [] and len(hostile.queries) == 1
    finally:
        proxy.close()


def test_nobody_listening_is_said(hostile: Hostile) -> None:
    url = hostile.url
    hostile.close()
    with pytest.raises(AwsError, match="cannot reach the federation endpoint") as info:
        signin.signin_token(url, SESSION, None)
    assert_no_secret(info.value)


def assert_no_secret(error: Exception) -> None:
    text = f"{error} {getattr(error, 'hint', '')}"
    for secret in (SECRET, TOKEN, "Session=", "sessionKey"):
        assert secret not in text, text
