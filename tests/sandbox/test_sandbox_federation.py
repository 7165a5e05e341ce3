"""The sandbox's console sign-in (`sts_mfa.sandbox.federation.endpoint`), spoken to over raw HTTP.

AWS's IAM User Guide, "Enable custom identity broker access to the AWS console":
`Action=getSigninToken` exchanges a role session (never a GetSessionToken session) for
a sign-in token; `Action=login` with that token is good for 15 minutes and, here, one
sign-in, and opens a console session at the destination. Plain moto has no federation
endpoint at all (`test_plain_moto_has_no_federation_endpoint`).
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.federation.endpoint import CONSOLE_PATH, COOKIE, FEDERATION_PATH, TOKEN_SECONDS
from tests.support.aws import (
    Aws,
    Creds,
    MfaUser,
    allow_assume,
    assume,
    create_mfa_user,
    create_role,
    http,
    plain_moto_server,
    trust_policy,
)

pytestmark = pytest.mark.sandbox


def session_of(creds: Creds) -> str:
    return json.dumps(
        {
            "sessionId": creds.access_key_id,
            "sessionKey": creds.secret_access_key,
            "sessionToken": creds.session_token,
        }
    )


def get_token(endpoint: str, session: str, **extra: str) -> tuple[int, dict[str, str], bytes]:
    query = urlencode({"Action": "getSigninToken", **extra, "Session": session})
    return http(endpoint, "GET", f"{FEDERATION_PATH}?{query}")


def login(endpoint: str, token: str, destination: str | None = None) -> tuple[int, dict[str, str], bytes]:
    page = (
        destination if destination is not None else f"{endpoint}{CONSOLE_PATH}/console/home?region=us-east-1"
    )
    query = urlencode({"Action": "login", "Issuer": "test", "Destination": page, "SigninToken": token})
    return http(endpoint, "GET", f"{FEDERATION_PATH}?{query}")


def cookie_of(headers: dict[str, str]) -> str:
    return headers["Set-Cookie"].split(";", 1)[0]


def console(endpoint: str, cookie: str | None, path: str = "/console/home") -> tuple[int, bytes]:
    status, _, body = http(endpoint, "GET", CONSOLE_PATH + path, headers={"Cookie": cookie} if cookie else {})
    return status, body


@pytest.fixture
def alice(aws: Aws) -> MfaUser:
    return create_mfa_user(aws)


@pytest.fixture
def role_session(aws: Aws, alice: MfaUser) -> tuple[Creds, dict[str, Any]]:
    role = create_role(aws, "Admin", trust_policy(alice.arn))
    allow_assume(aws, alice, role)
    aws.advance(30)
    answer = assume(aws, alice, role, mfa=True)
    return Creds.of_session(answer["Credentials"]), answer


def token_of(body: bytes) -> str:
    token = json.loads(body)["SigninToken"]
    assert isinstance(token, str)
    return token


def test_a_role_session_signs_in_once_and_the_console_shows_the_role(
    aws: Aws, sb: Sandbox, role_session: tuple[Creds, dict[str, Any]]
) -> None:
    creds, answer = role_session
    status, headers, body = get_token(aws.endpoint, session_of(creds))
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/json")
    token = token_of(body)

    status, headers, _ = login(aws.endpoint, token)
    assert status == 302
    assert headers["Location"] == f"{CONSOLE_PATH}/console/home?region=us-east-1"  # never elsewhere
    assert "HttpOnly" in headers["Set-Cookie"]
    status, page = console(aws.endpoint, cookie_of(headers))
    assert status == 200
    assert answer["AssumedRoleUser"]["Arn"].encode() in page
    assert b'id="account">111111111111<' in page

    again, _, refusal = login(aws.endpoint, token)
    assert again == 400
    assert b"already used" in refusal
    assert console(aws.endpoint, None)[0] == 403  # no cookie, no console
    codes = [(r.action, r.status, r.error_code) for r in sb.requests if r.service == "signin"]
    assert codes == [
        ("getSigninToken", 200, None),
        ("login", 302, None),
        ("console", 200, None),
        ("login", 400, "UsedSigninToken"),
        ("console", 403, "NotSignedIn"),
    ]
    assert token not in json.dumps([vars(r) for r in sb.requests])  # the log never holds a token


def test_a_sign_in_token_expires_after_15_minutes(
    aws: Aws, role_session: tuple[Creds, dict[str, Any]]
) -> None:
    creds, _ = role_session
    first = token_of(get_token(aws.endpoint, session_of(creds))[2])
    second = token_of(get_token(aws.endpoint, session_of(creds))[2])
    aws.advance(TOKEN_SECONDS - 1)
    assert login(aws.endpoint, first)[0] == 302
    aws.advance(1)
    status, _, body = login(aws.endpoint, second)
    assert status == 400
    assert b"expired" in body


def test_the_console_session_ends_with_session_duration(
    aws: Aws, role_session: tuple[Creds, dict[str, Any]]
) -> None:
    creds, _ = role_session
    token = token_of(get_token(aws.endpoint, session_of(creds), SessionDuration="900")[2])
    cookie = cookie_of(login(aws.endpoint, token)[1])
    aws.advance(899)
    assert console(aws.endpoint, cookie)[0] == 200
    aws.advance(1)
    status, page = console(aws.endpoint, cookie)
    assert status == 403
    assert b"ended" in page


@pytest.mark.parametrize("duration", ["899", "43201", "3600.0", "-1", ""])
def test_a_session_duration_out_of_range_is_refused(
    aws: Aws, role_session: tuple[Creds, dict[str, Any]], duration: str
) -> None:
    status, _, body = get_token(aws.endpoint, session_of(role_session[0]), SessionDuration=duration)
    assert status == 400
    assert b"SessionDuration" in body


def test_a_get_session_token_session_is_refused(aws: Aws, alice: MfaUser) -> None:
    aws.advance(30)
    sts = aws.client("sts", alice.creds)
    answer = sts.get_session_token(SerialNumber=alice.serial, TokenCode=aws.code(alice.seed))
    status, _, body = get_token(aws.endpoint, session_of(Creds.of_session(answer["Credentials"])))
    assert status == 400
    assert b"GetSessionToken cannot sign in" in body
    assert b"SigninToken" not in body


def test_an_access_key_and_forged_or_expired_sessions_are_refused(
    aws: Aws, alice: MfaUser, role_session: tuple[Creds, dict[str, Any]]
) -> None:
    creds, _ = role_session
    key = Creds(alice.creds.access_key_id, alice.creds.secret_access_key, "")
    cases = {
        "An access key cannot sign in": session_of(key),
        "not valid": session_of(
            Creds(creds.access_key_id, creds.secret_access_key + "x", creds.session_token)
        ),
        "not valid.": session_of(Creds(creds.access_key_id, creds.secret_access_key, "forged")),
    }
    for reason, session in cases.items():
        status, _, body = get_token(aws.endpoint, session)
        assert (status, reason.encode() in body) == (400, True), (reason, body)
    aws.advance(3600)  # the role session's own lifetime
    status, _, body = get_token(aws.endpoint, session_of(creds))
    assert (status, b"expired" in body) == (400, True)


@pytest.mark.parametrize(
    "session",
    [
        "",
        "not json",
        "[]",
        '{"sessionId": "ASIA"}',
        '{"sessionId": 1, "sessionKey": 2, "sessionToken": 3}',
        "[" * 5000,
    ],
)
def test_a_malformed_session_is_refused(aws: Aws, session: str) -> None:
    status, headers, body = get_token(aws.endpoint, session)
    assert status == 400
    assert headers["Content-Type"].startswith("text/html")
    assert b"Session must be a JSON object" in body


def test_hostile_requests_get_a_refusal_not_an_error(
    aws: Aws, role_session: tuple[Creds, dict[str, Any]]
) -> None:
    creds, _ = role_session
    endpoint = aws.endpoint
    assert http(endpoint, "GET", f"{FEDERATION_PATH}?Action=nothing")[0] == 400
    assert http(endpoint, "POST", f"{FEDERATION_PATH}?Action=getSigninToken")[0] == 405
    assert http(endpoint, "GET", f"{FEDERATION_PATH}?Action=login&Action=login")[0] == 400
    assert http(endpoint, "GET", f"{FEDERATION_PATH}?" + "a=1&" * 40)[0] == 400
    assert http(endpoint, "GET", f"{FEDERATION_PATH}?Action=login&SigninToken=guess")[0] == 400
    token = token_of(get_token(endpoint, session_of(creds))[2])
    host = urlsplit(endpoint).netloc
    for elsewhere in ("https://evil.example/", f"http://{host}/other", f"http://{host}{CONSOLE_PATH}/../x"):
        status, headers, body = login(endpoint, token, elsewhere)
        assert status == 400 and "Location" not in headers, elsewhere
        assert b"Destination must be a page" in body
    assert login(endpoint, token)[0] == 302  # a refused destination did not use the token up
    status, _, _ = http(endpoint, "GET", CONSOLE_PATH, headers={"Cookie": f"{COOKIE}=forged; x=\x7f"})
    assert status == 403


def test_a_destination_a_browser_would_read_differently_is_refused(
    aws: Aws, role_session: tuple[Creds, dict[str, Any]]
) -> None:
    """Dot segments a browser undoes (`%2e%2e`), and characters no Location header can carry."""
    creds, _ = role_session
    token = token_of(get_token(aws.endpoint, session_of(creds))[2])
    base = aws.endpoint + CONSOLE_PATH
    for elsewhere in (f"{base}/%2e%2e/%2E%2e/x", f"{base}/.%2e/x", f"{base}/\\..\\x", f"{base}/\u20ac"):
        status, headers, body = login(aws.endpoint, token, elsewhere)
        assert status == 400 and "Location" not in headers, elsewhere
        assert b"Destination must be a page" in body
    assert login(aws.endpoint, token)[0] == 302  # none of them used the token up
    status, _, body = get_token(aws.endpoint, session_of(creds), SessionDuration="9" * 5000)
    assert status == 400 and b"SessionDuration" in body  # not a 500


def test_one_token_signs_in_once_even_from_browsers_at_the_same_instant(
    aws: Aws, role_session: tuple[Creds, dict[str, Any]]
) -> None:
    token = token_of(get_token(aws.endpoint, session_of(role_session[0]))[2])
    start = threading.Barrier(8)
    statuses: list[int] = []

    def race() -> None:
        start.wait()
        statuses.append(login(aws.endpoint, token)[0])

    racers = [threading.Thread(target=race) for _ in range(8)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(10)
    assert sorted(statuses) == [302] + [400] * 7


def test_a_reset_forgets_every_token(
    aws: Aws, sb: Sandbox, role_session: tuple[Creds, dict[str, Any]]
) -> None:
    token = token_of(get_token(aws.endpoint, session_of(role_session[0]))[2])
    sb.reset()
    assert login(aws.endpoint, token)[0] == 400


def test_plain_moto_has_no_federation_endpoint() -> None:
    """moto serves no sign-in at all (it reads the path as an S3 bucket): `sts-mfa console`
    could not be tested against it."""
    with plain_moto_server() as endpoint:
        session = json.dumps({"sessionId": "ASIAEXAMPLE", "sessionKey": "secret", "sessionToken": "token"})
        query = urlencode({"Action": "getSigninToken", "Session": session})
        for path in (FEDERATION_PATH, "/federation"):
            status, _, body = http(endpoint, "GET", f"{path}?{query}")
            assert status == 404, (path, body[:200])
            assert b"NoSuchBucket" in body  # moto takes the path for an S3 bucket
            assert b"SigninToken" not in body
