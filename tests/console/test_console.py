"""`sts-mfa console`, in-process against the strict sandbox (its federation endpoint included).

The state file's role after `setup --software-token`: the URL on stdout only with
--print, never in stderr or -v output; input checked before any code is spent; a
GetSessionToken session (which the endpoint refuses, as AWS does) explained; the
browser opened through `webbrowser` otherwise. The real browser is in
test_console_browser.py.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.federation.endpoint import console_url, federation_url
from sts_mfa.state.document import load, write
from tests.support.cli import Cli, assert_one_error_line
from tests.support.sandbox import admin

pytestmark = pytest.mark.sandbox


@pytest.fixture
def signin(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("STS_MFA_FEDERATION_URL", federation_url(sb.endpoint))
    monkeypatch.setenv("STS_MFA_CONSOLE_URL", console_url(sb.endpoint))
    return sb


def secrets_of(state: Path) -> list[str]:
    session = load(state).session
    assert session is not None
    return [session.secret_access_key, session.session_token]


def test_print_puts_the_url_on_stdout_only(software: Cli, signin: Sandbox) -> None:
    result = software("-v", "console", "--print")

    assert result.exit_code == 0, result.output
    [url] = result.stdout.splitlines()
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(federation_url(signin.endpoint) + "?")
    assert query["Action"] == ["login"] and query["Issuer"] == ["sts-mfa"]
    assert query["Destination"] == [f"{console_url(signin.endpoint)}/console/home?region={signin.region}"]
    token = query["SigninToken"][0]
    assert token not in result.stderr and "SigninToken" not in result.stderr
    assert "bearer credential" in result.stderr and "15 minutes" in result.stderr
    for secret in secrets_of(software.state):
        assert secret not in result.output
    assert [(r.action, r.status) for r in signin.requests if r.service == "signin"] == [
        ("getSigninToken", 200)
    ]


def test_json_holds_the_url_only_when_printed(
    software: Cli, signin: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, new=0: opened.append(url) or True)
    shown = software.json("console", "--print", "--destination", "s3", "--session-duration", "7200")
    assert shown["url"].startswith(federation_url(signin.endpoint))
    assert shown["destination"].endswith("/s3/home?region=" + signin.region)
    assert shown["session_duration"] == 7200 and shown["opened"] is False
    assert opened == []

    result = software("console")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    [url] = opened
    assert parse_qs(urlsplit(url).query)["SigninToken"][0] not in result.stderr
    assert "opened the AWS console as arn:aws:sts::" in result.stderr
    assert signin.count("AssumeRole", 200) == 1  # the cached role session served both


def test_no_browser_is_one_error_line(
    software: Cli, signin: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("webbrowser.open", lambda url, new=0: False)
    line = assert_one_error_line(software("console"), 1)
    assert "no web browser could be opened" in line


@pytest.mark.parametrize(
    ("args", "variable", "words"),
    [
        (["--destination", "https://evil.example/"], None, "is not a page of the console"),
        (["--session-duration", "60"], None, "900<=x<=43200"),
        ([], "http://signin.example/federation", "plain http to a host that is not this machine"),
        ([], "ftp://127.0.0.1/federation", "must start with http:// or https://"),
    ],
)
def test_bad_input_is_refused_before_any_aws_request(
    software: Cli,
    signin: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    variable: str | None,
    words: str,
) -> None:
    if variable is not None:
        monkeypatch.setenv("STS_MFA_FEDERATION_URL", variable)
    signin.reset_log()
    result = software("console", "--print", "--force", *args)
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert result.stdout == ""
    assert signin.requests == []  # no code spent, nothing sent


def test_a_get_session_token_session_is_explained_not_passed_on(software: Cli, signin: Sandbox) -> None:
    """A cached session that is an MFA session, not a role session: the endpoint refuses it."""
    assert software("assume").exit_code == 0
    mfa_session = admin(signin, "sts").get_session_token()["Credentials"]
    state = load(software.state)
    assert state is not None and state.session is not None
    session = replace(
        state.session,
        access_key_id=mfa_session["AccessKeyId"],
        secret_access_key=mfa_session["SecretAccessKey"],
        session_token=mfa_session["SessionToken"],
    )
    write(software.state, replace(state, session=session))
    signin.reset_log()

    line = assert_one_error_line(software("console", "--print"), 6)

    assert "refused the role session (HTTP 400)" in line
    assert "never an MFA session from GetSessionToken" in line
    assert mfa_session["SecretAccessKey"] not in line
    [(action, status, code)] = [(r.action, r.status, r.error_code) for r in signin.requests]
    assert (action, status, code) == ("getSigninToken", 400, "SessionCredentialsRefused")


def test_an_expired_role_session_is_renewed_first(software: Cli, signin: Sandbox) -> None:
    assert software("assume").exit_code == 0
    software.clock.advance(3600 + 30)
    result = software("console", "--print")
    assert result.exit_code == 0, result.output
    assert signin.count("AssumeRole", 200) == 2
    assert signin.count("getSigninToken", 200) == 1
