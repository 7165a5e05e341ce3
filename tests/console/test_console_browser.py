"""`sts-mfa console` end to end: the installed command, the sandbox, a real headless Chromium.

The identity is the one `sandbox serve --example-profiles` makes (alice, her MFA device,
role Admin that needs MFA), its files written by the same code; the command runs as a
subprocess with the sandbox's STS_MFA_FEDERATION_URL and STS_MFA_CONSOLE_URL, as
`sandbox serve` exports them, and gets its code from the profile's `mfa_process`.
The browser is Debian's `chromium` driven by its `chromedriver` through Selenium,
pointed at both so that Selenium Manager never runs (it would download a browser).

The sandbox runs on a `ShiftedClock` (real time, so the real clients' signatures and
codes hold): the expired-URL test moves it 15 minutes on, then back.

Screenshots of the pages land in STS_MFA_TEST_ARTIFACTS if set, else in pytest's tmp
directory; docs/console.png is one of them. Without chromium these tests skip, saying
so, unless CI_REQUIRE_BROWSER is set (as .ci/run sets it): then they fail.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.federation.endpoint import TOKEN_SECONDS, console_url, federation_url
from sts_mfa.sandbox.fixtures.examples import ExampleFiles, ExampleIdentity, create_identity, write_files
from tests.support.clock import ShiftedClock
from tests.support.env import subprocess_env
from tests.support.processes import STS_MFA, run

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = os.environ.get("STS_MFA_TEST_ARTIFACTS", "")  # read now: each test's environment is scrubbed
REQUIRED = os.environ.get("CI_REQUIRE_BROWSER", "") not in ("", "0")
PROFILE = "sandbox-admin"


@pytest.fixture(scope="module")
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture(scope="module")
def running(clock: ShiftedClock) -> Iterator[Sandbox]:
    with Sandbox(clock=clock) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        why = (
            f"no system Chromium ({', '.join(missing)} missing): apt-get install -y chromium chromium-driver"
        )
        if REQUIRED:
            pytest.fail(f"CI_REQUIRE_BROWSER is set and {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    def never(*_: object) -> None:
        raise AssertionError("Selenium Manager ran: it may download a browser")

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1100,720")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SeleniumManager, "binary_paths", never)
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = Path(ARTIFACTS) if ARTIFACTS else tmp_path_factory.mktemp("artifacts")
    where.mkdir(parents=True, exist_ok=True)
    return where


@dataclass
class Alice:
    sb: Sandbox
    identity: ExampleIdentity
    env: dict[str, str]
    home: Path
    phone_log: Path

    def console(self, *args: str, env: dict[str, str] | None = None, verbose: bool = False) -> Any:
        return run([STS_MFA, *(["-v"] if verbose else []), "console", *args], env or self.env, timeout=120)

    def codes_given(self) -> int:
        return len(self.phone_log.read_text().splitlines()) if self.phone_log.exists() else 0


@pytest.fixture
def alice(running: Sandbox, browser: Any, tmp_path: Path) -> Alice:
    running.reset()
    identity = create_identity(running)
    files = ExampleFiles.in_directory(tmp_path / "aws")
    write_files(files, identity, endpoint=running.endpoint, region=running.region, merge=False)
    log, phone = tmp_path / "phone.log", tmp_path / "phone.sh"
    phone.write_text(
        f"#!/bin/sh\necho code >> {shlex.quote(str(log))}\n"
        f"exec {shlex.quote(sys.executable)} -m sts_mfa.sandbox.totp_code {shlex.quote(str(files.seed))}\n"
    )
    phone.chmod(0o700)
    config = files.config.read_text()
    files.config.write_text(
        config.replace(f"{sys.executable} -m sts_mfa.sandbox.totp_code {files.seed}", str(phone))
    )
    env = subprocess_env(
        tmp_path,
        AWS_CONFIG_FILE=str(files.config),
        AWS_SHARED_CREDENTIALS_FILE=str(files.credentials),
        STS_MFA_FEDERATION_URL=federation_url(running.endpoint),
        STS_MFA_CONSOLE_URL=console_url(running.endpoint),
    )
    browser.delete_all_cookies()
    running.reset_log()
    return Alice(running, identity, env, tmp_path, log)


def text_of(browser: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.ID, element_id).text)


def printed_url(alice: Alice, *args: str) -> str:
    done = alice.console(PROFILE, "--print", *args, verbose=True)
    assert done.returncode == 0, done.stderr
    [url] = done.stdout.splitlines()
    token = parse_qs(urlsplit(url).query)["SigninToken"][0]
    assert url not in done.stderr and token not in done.stderr
    assert "bearer credential" in done.stderr
    return url


def files_holding(root: Path, secret: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


# --- the acceptance: the printed URL signs the browser in as the MFA role, once ----------------------


def test_the_printed_url_signs_the_browser_in_as_the_mfa_role_once(
    alice: Alice, browser: Any, artifacts: Path
) -> None:
    url = printed_url(alice)
    token = parse_qs(urlsplit(url).query)["SigninToken"][0]

    browser.get(url)

    assert urlsplit(browser.current_url).path == "/_sandbox/console/console/home"  # the token left the bar
    assert text_of(browser, "status") == f"Signed in to account {alice.identity.account} with a role session"
    [exchange] = [r for r in alice.sb.requests if r.action == "getSigninToken"]
    assert exchange.status == 200
    assert text_of(browser, "assumed-role-arn") == exchange.caller_arn
    assert f":assumed-role/Admin/sts-mfa-{PROFILE}-" in text_of(browser, "assumed-role-arn")
    assert text_of(browser, "role-arn") == alice.identity.role_arns[PROFILE]
    assert text_of(browser, "mfa").startswith("yes, authenticated at ")
    browser.save_screenshot(str(artifacts / "console-signed-in.png"))
    assert alice.codes_given() == 1

    browser.delete_all_cookies()
    browser.get(url)  # the same URL again, as someone who found it later would

    assert text_of(browser, "status") == "Not signed in"
    assert "already used" in text_of(browser, "reason")
    browser.save_screenshot(str(artifacts / "console-reused.png"))
    assert [(r.action, r.status, r.error_code) for r in alice.sb.requests if r.service == "signin"] == [
        ("getSigninToken", 200, None),
        ("login", 302, None),
        ("console", 200, None),
        ("login", 400, "UsedSigninToken"),
    ]
    assert files_holding(alice.home, token) == []  # no log, cache or config kept the URL


def test_an_expired_url_is_refused(alice: Alice, browser: Any, clock: ShiftedClock, artifacts: Path) -> None:
    url = printed_url(alice)
    clock.advance(TOKEN_SECONDS)
    try:
        browser.get(url)
    finally:
        clock.advance(-TOKEN_SECONDS)

    assert text_of(browser, "status") == "Not signed in"
    assert "expired (it was good for 15 minutes)" in text_of(browser, "reason")
    browser.save_screenshot(str(artifacts / "console-expired.png"))
    browser.get(url)  # unused, and back within its 15 minutes: it still works once
    assert text_of(browser, "status").startswith("Signed in to account")


def test_without_print_the_url_goes_to_the_browser_command(alice: Alice, browser: Any) -> None:
    """`webbrowser` runs BROWSER with the URL; its chatter never reaches stdout."""
    received = alice.home / "received"
    opener = alice.home / "opener.py"
    opener.write_text(
        "import pathlib, sys\n"
        f"pathlib.Path({str(received)!r}).write_text(sys.argv[1])\n"
        "print('Opening in existing browser session.')\n"
    )
    env = {**alice.env, "BROWSER": f"{shlex.quote(sys.executable)} {shlex.quote(str(opener))} %s"}

    done = alice.console(PROFILE, "--destination", "s3", env=env)

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    url = received.read_text()
    assert url not in done.stderr
    assert "opened the AWS console as arn:aws:sts::" in done.stderr
    browser.get(url)
    assert text_of(browser, "page") == "/s3/home?region=us-east-1"
    assert text_of(browser, "status").startswith("Signed in to account")


def test_a_long_console_session_from_an_mfa_session_is_refused_before_a_code(alice: Alice) -> None:
    done = alice.console(PROFILE, "--print", "--session-duration", "7200")

    assert done.returncode == 2
    assert "temporary credentials" in done.stderr and "at most 3600" in done.stderr
    assert done.stdout == ""
    assert alice.codes_given() == 0
    assert alice.sb.requests == []

    direct = alice.console(PROFILE, "--print", "--session-duration", "7200", "--no-mfa-session")

    assert direct.returncode == 0, direct.stderr  # the user's own key assumed it: up to 12 h
    assert "the console session lasts 7200 s from the sign-in" in direct.stderr
    assert alice.sb.count("GetSessionToken") == 0 and alice.sb.count("getSigninToken", 200) == 1


def test_sandbox_serve_exports_a_federation_endpoint_the_example_identity_signs_in_at(
    tmp_path: Path, browser: Any
) -> None:
    """`eval "$(sts-mfa sandbox serve --background --example-profiles DIR)"`, then `console --print`."""
    home = tmp_path / "home"
    home.mkdir()
    served = run(
        [STS_MFA, "sandbox", "serve", "--background", "--example-profiles", str(tmp_path / "aws")],
        subprocess_env(home),
        timeout=120,
    )
    assert served.returncode == 0, served.stderr
    exports = dict(
        shlex.split(line)[1].split("=", 1)
        for line in served.stdout.splitlines()
        if line.startswith("export ")
    )
    pid = int(exports["STS_MFA_SANDBOX_PID"])
    try:
        assert exports["STS_MFA_FEDERATION_URL"] == federation_url(exports["AWS_ENDPOINT_URL"])
        assert exports["STS_MFA_CONSOLE_URL"] == console_url(exports["AWS_ENDPOINT_URL"])
        done = run([STS_MFA, "console", PROFILE, "--print"], subprocess_env(home, **exports), timeout=120)
        assert done.returncode == 0, done.stderr
        browser.delete_all_cookies()
        browser.get(done.stdout.strip())
        assert ":assumed-role/Admin/" in text_of(browser, "assumed-role-arn")
    finally:
        os.kill(pid, signal.SIGTERM)
