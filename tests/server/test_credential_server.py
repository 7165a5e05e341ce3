"""The credentials endpoint's parts on their own: the keeper, the HTTP side, the token file, the child.

The client is real wherever one can be: botocore's own `ContainerProvider` fetches from
the endpoint (the same code every boto3 program and the AWS CLI run), and raw requests
go over real sockets with `http.client`. Sessions are plain objects on a fake clock, so
nothing here waits for real but the budget tests (about 0.3 s each).
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from botocore.credentials import ContainerProvider
from botocore.exceptions import CredentialRetrievalError
from botocore.utils import ContainerMetadataFetcher

from sts_mfa.cli.app import App
from sts_mfa.cli.commands.serve import _print_exports
from sts_mfa.errors import AwsError, NoCode, UsageError
from sts_mfa.sandbox import Sandbox
from sts_mfa.server import child, endpoint, tokenfile
from sts_mfa.server.endpoint import PATH, CredentialServer, loopback, new_token
from sts_mfa.server.keeper import RENEW_AHEAD_SECONDS, Keeper, Unavailable, margins
from sts_mfa.server.serving import Running, _first_and_renew, running_endpoint
from sts_mfa.session.handoff import SDK_ADVISORY_SECONDS, SDK_FLOOR_SECONDS, container_document
from sts_mfa.session.model import Obtained, Settings
from sts_mfa.state.cached import Cached
from tests.support.cli import Cli
from tests.support.clock import FakeClock
from tests.support.processes import run_probe
from tests.support.state import write_cached_state

HOUR = 3600.0


def session(clock: FakeClock, n: int, lifetime: float = HOUR) -> Cached:
    return Cached(
        {
            "access_key_id": f"ASIA{n:016d}",
            "secret_access_key": f"secret-{n}-{'s' * 30}",
            "session_token": f"token-{n}-{'t' * 60}",
            "expiration": clock.now() + lifetime,
            "role_arn": "arn:aws:iam::123456789012:role/r",
        }
    )


def vars_of(cached: Cached) -> dict[str, object]:
    return {name: getattr(cached, name) for name in Cached.__slots__}


class Renewer:
    """`renew(margin)` for a keeper: counts calls, can be slow or fail."""

    def __init__(self, clock: FakeClock, lifetime: float = HOUR) -> None:
        self.clock, self.lifetime = clock, lifetime
        self.calls = 0
        self.delay = 0.0
        self.error: Exception | None = None
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()

    def __call__(self, margin: float) -> Obtained:
        with self._lock:
            self.calls += 1
            n = self.calls
        if self.gate is not None:
            self.gate.wait(10)
        time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return Obtained(session(self.clock, 100 + n, self.lifetime), cached=False)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(1_800_000_000.0)


def keeper(clock: FakeClock, renew: Renewer, lifetime: float = HOUR, **kw: float) -> tuple[Keeper, list[str]]:
    said: list[str] = []
    return Keeper(
        session(clock, 1, lifetime), renew, now=clock, log=said.append, warn=said.append, **kw
    ), said


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# --- the keeper ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "renew_below", "serve_above"),
    [
        (HOUR, RENEW_AHEAD_SECONDS, SDK_FLOOR_SECONDS),  # never inside botocore's mandatory 10 minutes
        (1200.0, RENEW_AHEAD_SECONDS, SDK_FLOOR_SECONDS),
        (1000.0, SDK_ADVISORY_SECONDS, SDK_FLOOR_SECONDS),  # at the SDK's own 15 minutes
        (900.0, SDK_FLOOR_SECONDS + 60, SDK_FLOOR_SECONDS),  # a fresh one is in the SDK's window at once
        (600.0, 300.0, 60.0),  # the sandbox's: in proportion to its life
        (4.0, 2.0, 1.0),
    ],
)
def test_margins_renew_ahead_of_the_sdk_or_at_half_a_short_session(
    lifetime: float, renew_below: float, serve_above: float
) -> None:
    assert margins(lifetime) == (margins(lifetime).__class__(renew_below, serve_above))


def test_a_fresh_session_is_handed_out_without_a_renewal(fake_clock: FakeClock) -> None:
    renew = Renewer(fake_clock)
    k, _ = keeper(fake_clock, renew)
    fake_clock.advance(HOUR - RENEW_AHEAD_SECONDS - 1)
    assert k.current().access_key_id == "ASIA0000000000000001"
    assert renew.calls == 0


def test_inside_the_margin_it_answers_at_once_and_renews_meanwhile(fake_clock: FakeClock) -> None:
    renew = Renewer(fake_clock)
    renew.gate = threading.Event()
    k, _ = keeper(fake_clock, renew)
    fake_clock.advance(HOUR - 700)  # under 16 minutes, over 10 and a margin: renew, but there is time to
    started = time.monotonic()
    assert k.current().access_key_id == "ASIA0000000000000001"
    assert time.monotonic() - started < 0.2
    renew.gate.set()
    wait_for(lambda: k.renewals == 1)
    assert k.current().access_key_id == "ASIA0000000000000101"


def test_many_requests_at_once_make_one_renewal(fake_clock: FakeClock) -> None:
    renew = Renewer(fake_clock, lifetime=4.0)
    renew.delay = 0.2
    k, _ = keeper(fake_clock, renew, lifetime=4.0)
    fake_clock.advance(3.5)  # 0.5 s left: under the floor, requests wait for the renewal
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(k.current().access_key_id)) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert renew.calls == 1
    assert answers == ["ASIA0000000000000101"] * 20


def test_a_request_never_waits_longer_than_the_budget(fake_clock: FakeClock) -> None:
    renew = Renewer(fake_clock)
    renew.gate = threading.Event()  # a renewal that hangs (an mfa_process waiting for a window)
    k, _ = keeper(fake_clock, renew, budget=0.3)
    fake_clock.advance(HOUR - 30)  # under the floor
    started = time.monotonic()
    with pytest.raises(Unavailable, match="renewing the session"):
        k.current()
    assert 0.25 < time.monotonic() - started < 1.0
    renew.gate.set()
    wait_for(lambda: k.renewals == 1)
    assert k.current().access_key_id == "ASIA0000000000000101"


def test_what_is_left_is_counted_as_the_sdk_sees_it_in_whole_seconds(fake_clock: FakeClock) -> None:
    """`Expiration` goes out rounded down: 1.85 s left shows as 0.95 s, under a 4 s session's floor."""
    fake_clock.t = 1_800_000_000.0
    first = Cached({**vars_of(session(fake_clock, 1)), "expiration": fake_clock.t + 4.9})
    renew = Renewer(fake_clock, lifetime=4.0)
    renew.delay = 0.1
    k = Keeper(first, renew, now=fake_clock, log=lambda _: None, warn=lambda _: None)
    fake_clock.t += 3.05

    assert k.current().access_key_id == "ASIA0000000000000101"  # waited for the new one


def test_a_failed_renewal_is_said_with_what_to_run_and_retried_later(fake_clock: FakeClock) -> None:
    renew = Renewer(fake_clock)
    renew.error = NoCode("no terminal to ask for one: run `sts-mfa assume prod` in a terminal")
    k, said = keeper(fake_clock, renew, budget=0.3, retry_after=0.2)
    fake_clock.advance(HOUR - 30)
    with pytest.raises(Unavailable, match=r"could not renew the session: no terminal.*sts-mfa assume prod"):
        k.current()
    with pytest.raises(Unavailable, match="sts-mfa assume prod"):
        k.current()  # within the back-off: no second try
    assert renew.calls == 1
    assert any("sts-mfa assume prod" in line for line in said)
    renew.error = None  # the person ran `assume`
    time.sleep(0.25)
    k.current()  # starts the retry (or answers it)
    wait_for(lambda: k.renewals == 1)
    assert k.current().access_key_id.startswith("ASIA00000000000001")


def test_a_session_inside_the_sdks_mandatory_window_is_never_handed_out(fake_clock: FakeClock) -> None:
    """botocore must refresh such a session at every call, and fails the call when that fails: the
    endpoint renews it, or answers what to run, but never hands it out (its lifetime tells it is AWS's)."""
    first = Cached({**vars_of(session(fake_clock, 1)), "obtained_at": fake_clock.now()})
    renew = Renewer(fake_clock)
    renew.error = NoCode("run `sts-mfa assume prod` in a terminal")
    k = Keeper(first, renew, now=fake_clock, log=lambda _: None, warn=lambda _: None, budget=0.3)
    fake_clock.advance(HOUR - SDK_FLOOR_SECONDS - 5)
    assert k.current().access_key_id == first.access_key_id  # the renewal fails meanwhile
    fake_clock.advance(10)
    with pytest.raises(Unavailable, match="sts-mfa assume prod"):
        k.current()


def test_the_same_session_back_is_not_a_renewal(fake_clock: FakeClock) -> None:
    """The state file's last resort returns the cached session with a warning: that is the failure."""
    first = session(fake_clock, 1, 120)
    said: list[str] = []

    def last_resort(margin: float) -> Obtained:
        return Obtained(first, cached=True, warnings=["the cached session expires in 90 s; run `assume`"])

    k = Keeper(first, last_resort, now=fake_clock, log=said.append, warn=said.append, budget=0.3)
    fake_clock.advance(100)  # 20 s left: under the floor
    with pytest.raises(Unavailable, match="could not renew the session: the cached session expires"):
        k.current()
    assert k.renewals == 0


# --- the HTTP side ------------------------------------------------------------------------------


@pytest.fixture
def served(fake_clock: FakeClock) -> Iterator[tuple[CredentialServer, str, list[str], list[Cached]]]:
    token = new_token()
    log: list[str] = []
    current = [session(fake_clock, 7)]
    with CredentialServer(lambda: current[0], token=token, log=log.append) as server:
        yield server, token, log, current


def request(
    server: CredentialServer, method: str = "GET", path: str = PATH, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        answer = conn.getresponse()
        body = answer.read()
        return answer.status, json.loads(body) if body else {}
    finally:
        conn.close()


def no_wait_provider(env: dict[str, str]) -> ContainerProvider:
    """botocore's provider, its three tries without the second between them."""
    fetcher = ContainerMetadataFetcher(sleep=lambda _: None)
    return ContainerProvider(environ=env, fetcher=fetcher)  # type: ignore[arg-type]  # the stubs are wrong


def test_botocore_container_provider_reads_the_session(
    served: tuple[CredentialServer, str, list[str], list[Cached]],
) -> None:
    server, token, _, current = served
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": token}
    creds = ContainerProvider(environ=env).load()
    assert creds is not None
    frozen = creds.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        current[0].access_key_id,
        current[0].secret_access_key,
        current[0].session_token,
    )
    assert server.served == 1


def test_botocore_reads_the_token_file(
    served: tuple[CredentialServer, str, list[str], list[Cached]], tmp_path: Path
) -> None:
    server, token, _, _ = served
    path = tokenfile.write(token, str(tmp_path / "cache"))
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": path}
    assert ContainerProvider(environ=env).load() is not None


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", PATH, {}, 401),
        ("GET", PATH, {"Authorization": "wrong"}, 403),
        ("GET", PATH, {"Authorization": "TOKEN "}, 403),
        ("GET", PATH, {"Authorization": "Bearer TOKEN"}, 403),
        ("GET", "/", {"Authorization": "TOKEN"}, 404),
        ("GET", PATH + "?x=1", {"Authorization": "TOKEN"}, 404),
        ("GET", PATH + "/", {"Authorization": "TOKEN"}, 404),
        ("POST", PATH, {"Authorization": "TOKEN"}, 405),
        ("PUT", PATH, {"Authorization": "TOKEN"}, 405),
        ("DELETE", PATH, {"Authorization": "TOKEN"}, 405),
        ("HEAD", PATH, {"Authorization": "TOKEN"}, 405),
        ("BREW", PATH, {"Authorization": "TOKEN"}, 405),
        ("GET", PATH, {"Authorization": "TOKEN", "Host": "evil.example:80"}, 403),
    ],
)
def test_everything_but_get_on_the_path_with_the_token_is_refused_and_logged(
    served: tuple[CredentialServer, str, list[str], list[Cached]],
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    server, token, log, current = served
    headers = {k: v.replace("TOKEN", token) for k, v in headers.items()}
    got, body = request(server, method, path, headers)
    assert got == status
    text = json.dumps(body)
    assert current[0].secret_access_key not in text and current[0].access_key_id not in text
    assert server.refused == 1 and server.served == 0
    wait_for(lambda: len(log) >= 1)  # logged just after the answer
    assert len(log) == 1 and log[0].startswith("refused ") and f"({status})" in log[0]
    assert token not in log[0]


def test_a_token_of_another_run_is_refused(
    served: tuple[CredentialServer, str, list[str], list[Cached]],
) -> None:
    server, _, _, _ = served
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": new_token()}
    with pytest.raises(CredentialRetrievalError, match="403"):
        no_wait_provider(env).load()
    assert server.served == 0


def test_unavailable_is_an_error_botocore_reports_with_its_message(fake_clock: FakeClock) -> None:
    token = new_token()

    def unavailable() -> Cached:
        raise Unavailable("sts-mfa could not renew the session: run `sts-mfa assume prod` in a terminal")

    with CredentialServer(unavailable, token=token, log=lambda _: None) as server:
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": token}
        with pytest.raises(CredentialRetrievalError, match=r"503.*run `sts-mfa assume prod` in a terminal"):
            no_wait_provider(env).load()


@pytest.mark.parametrize(
    "host",
    ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "localhost", "example.com", ""],  # noqa: S104 - refused
)
def test_only_a_loopback_address_is_listened_on(host: str) -> None:
    with pytest.raises(UsageError, match="loopback"):
        loopback(host)
    with pytest.raises(UsageError, match="loopback"):
        CredentialServer(lambda: None, token=new_token(), log=lambda _: None, host=host)  # type: ignore[arg-type, return-value]


def test_the_document_is_what_the_provider_reads(fake_clock: FakeClock) -> None:
    doc = container_document(session(fake_clock, 3, 100))
    assert set(doc) == {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "AccountId"}
    assert doc["Expiration"].endswith("Z") and doc["AccountId"] == "123456789012"  # the role's
    assumed = Cached({**vars_of(session(fake_clock, 3)), "assumed_role_arn": "arn:aws:sts::210987654321:x/y"})
    assert container_document(assumed)["AccountId"] == "210987654321"  # the assumed role's, first
    no_account = Cached({**vars_of(session(fake_clock, 3)), "role_arn": "arn:role"})
    assert "AccountId" not in container_document(no_account)


def test_stop_joins_the_server_threads(fake_clock: FakeClock) -> None:
    before = set(threading.enumerate())
    server = CredentialServer(lambda: session(fake_clock, 1), token=new_token(), log=lambda _: None).start()
    request(server, headers={})
    server.stop()
    assert set(threading.enumerate()) <= before


# --- the state file's renewals (what `exec --server` and `serve` run without a PROFILE) ---


@pytest.mark.sandbox
def test_the_software_token_renews_by_itself_without_a_prompt(software: Cli, sb: Sandbox) -> None:
    app = App(state_file=str(software.state), clock=software.clock)
    first, renew = _first_and_renew(app, None, None, 300.0, Settings(), lambda _: None)
    before = sb.count("AssumeRole", 200)
    software.clock.advance(first.session.expiration - software.clock.now() - 10)  # 10 s left

    renewed = renew(960.0)

    assert renewed.session.access_key_id != first.session.access_key_id
    assert renewed.session.expiration - software.clock.now() > 3000
    assert sb.count("AssumeRole", 200) == before + 1


@pytest.mark.sandbox
def test_a_session_the_keeper_would_renew_at_once_is_renewed_at_the_start(software: Cli, sb: Sandbox) -> None:
    app = App(state_file=str(software.state), clock=software.clock)
    cached = software("assume")
    assert cached.exit_code == 0, cached.output
    software.clock.advance(3600 - 600)  # 10 minutes left: more than --refresh-margin, under 16
    before = sb.count("AssumeRole", 200)

    with running_endpoint(app, None, None, 300.0, Settings()) as running:
        left = running.first.session.expiration - software.clock.now()

    assert sb.count("AssumeRole", 200) == before + 1 and left > 3000


def test_a_phone_device_cannot_renew_and_says_what_to_run(tmp_path: Path, clock: object) -> None:
    """No code, no prompt (a request must never wait for a person): the last resort, then the error."""
    state = tmp_path / "state.json"
    cached = write_cached_state(state, "ASIACACHED", "secret", "token", remaining=120)
    app = App(state_file=str(state))
    first, renew = _first_and_renew(app, None, None, 60.0, Settings(), lambda _: None)
    assert first.session.access_key_id == cached.access_key_id

    last_resort = renew(960.0)  # 120 s left: handed back with a warning, which the keeper takes as failure
    assert last_resort.session.access_key_id == cached.access_key_id
    assert "assume --code CODE" in last_resort.warnings[0]

    write_cached_state(state, "ASIACACHED", "secret", "token", remaining=30)
    with pytest.raises(NoCode, match=r"sts-mfa --state .* assume --code CODE"):
        renew(960.0)


# --- the token file -----------------------------------------------------------------------------


def test_the_token_file_is_private_without_a_newline_and_removed(tmp_path: Path) -> None:
    token = new_token()
    path = tokenfile.write(token, str(tmp_path / "cache"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert Path(path).read_bytes() == token.encode()
    assert tokenfile.remove(path, token)
    assert not os.path.exists(path)


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="no memory files here: the token goes to a file")
def test_the_token_path_is_read_by_botocore_on_every_fetch_and_stops_resolving_once_released(
    served: tuple[CredentialServer, str, list[str], list[Cached]], tmp_path: Path
) -> None:
    """A memory file the server holds, named through /proc: nothing on disk, gone with the server."""
    server, token, _, _ = served
    held = tokenfile.create(token, str(tmp_path / "cache"))
    assert held.path.startswith(f"/proc/{os.getpid()}/fd/")
    assert list((tmp_path / "cache").iterdir()) == []
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": held.path,
    }
    creds = no_wait_provider(env).load()
    assert creds is not None
    for _ in range(2):
        creds._refresh_using()  # what botocore calls to refresh: it reads the token file again
    assert server.served == 3
    with pytest.raises(PermissionError):
        open(held.path, "w")  # noqa: SIM115 - sealed: not even the user can change the token
    held.remove()
    assert not os.path.exists(held.path)
    with pytest.raises(OSError):
        creds._refresh_using()
    assert server.served == 3 and server.refused == 0  # no request was even sent


@pytest.mark.skipif(not hasattr(os, "memfd_create") or os.geteuid() != 0, reason="needs memfd and root")
def test_another_user_cannot_open_the_token_path(tmp_path: Path) -> None:
    held = tokenfile.create(new_token(), str(tmp_path / "cache"))
    try:
        other = subprocess.run(["cat", held.path], user=65534, capture_output=True, check=False)
        assert other.returncode != 0 and b"Permission denied" in other.stderr, other.stderr
        assert held.token.encode() not in other.stdout
    finally:
        held.remove()


def test_stale_token_files_of_gone_servers_are_swept_when_a_server_starts(tmp_path: Path) -> None:
    """Only names the tool gives, only regular files of the user's, only when their server is gone."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead, alive = gone.pid, os.getpid()
    stale = cache / f"endpoint-{dead}-0123456789abcdef.token"
    kept = [
        cache / f"endpoint-{alive}-0123456789abcdef.token",  # a server still running
        cache / f"endpoint-{dead}-0123456789abcdef.token.bak",  # not a name the tool gives
        cache / "endpoint-0123456789abcdef.token",  # an older sts-mfa's: no server to ask about
        cache / f"endpoint-{dead}-0123456789abcdeg.token",
        cache / "notes.txt",
    ]
    for path in (stale, *kept):
        path.write_text("x")
    link = cache / f"endpoint-{dead}-fedcba9876543210.token"
    link.symlink_to(tmp_path / "precious")
    (tmp_path / "precious").write_text("mine")
    if os.geteuid() == 0:
        others = cache / f"endpoint-{dead}-aaaaaaaaaaaaaaaa.token"
        others.write_text("x")
        os.chown(others, 65534, 65534)
        kept.append(others)

    held = tokenfile.create(new_token(), str(cache))
    held.remove()

    assert not stale.exists()
    assert all(path.exists() for path in kept), [p.name for p in kept if not p.exists()]
    assert link.is_symlink() and (tmp_path / "precious").read_text() == "mine"


def test_a_token_file_replaced_by_someone_else_is_left_alone(tmp_path: Path) -> None:
    token = new_token()
    path = tokenfile.write(token, str(tmp_path / "cache"))
    os.unlink(path)
    os.symlink(tmp_path / "precious", path)
    (tmp_path / "precious").write_text(token)
    assert not tokenfile.remove(path, token)
    assert (tmp_path / "precious").exists()


# --- the child ------------------------------------------------------------------------------------


def test_the_exit_status_is_the_shells(tmp_path: Path) -> None:
    assert child.run([sys.executable, "-c", "raise SystemExit(7)"], os.environ) == 7
    assert child.run([sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"], os.environ) == 137
    with pytest.raises(Exception, match="command not found") as e:
        child.run(["no-such-command-here"], os.environ)
    assert getattr(e.value, "exit_code", None) == 127


def test_sigterm_to_us_reaches_the_command(tmp_path: Path) -> None:
    """A Python parent running `child.run`, sent SIGTERM: the command sees it, exits 143, so do we."""
    seen = tmp_path / "seen"
    script = (
        "import signal, sys, time\n"
        f"signal.signal(signal.SIGTERM, lambda *a: (open({str(seen)!r}, 'w').write('TERM'), sys.exit(143)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    parent = (
        "import os, sys\n"
        "from sts_mfa.server import child\n"
        f"sys.exit(child.run([sys.executable, '-c', {script!r}], os.environ))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 143
    assert seen.read_text() == "TERM"


# --- the light paths ------------------------------------------------------------------------------


def test_serve_and_exec_help_load_no_aws_library(tmp_path: Path) -> None:
    for args in (["serve", "--help"], ["exec", "--help"]):
        result, loaded = run_probe(tmp_path, args)
        assert result.returncode == 0, result.stderr
        assert "Usage: sts-mfa" in result.stdout
        assert loaded == [], (args, loaded)


# --- review: hostile clients, the export lines ----------------------------------------------------


def test_a_client_trickling_its_request_is_dropped_at_the_deadline_in_total(
    served: tuple[CredentialServer, str, list[str], list[Cached]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The idle timeout bounds the whole request, not each read: a byte every 0.1 s keeps no thread."""
    server, _, log, _ = served
    monkeypatch.setattr(endpoint, "IDLE_SECONDS", 0.5)
    conn = socket.create_connection((server.host, server.port), timeout=5)
    started = time.monotonic()
    with contextlib.suppress(OSError):
        for byte in b"GET /sts-mfa/credentials HTTP/1.0\r\nX-Slow: " + b"a" * 100:
            conn.send(bytes([byte]))
            time.sleep(0.1)
            if time.monotonic() - started > 3:
                break
    conn.settimeout(2)
    with contextlib.suppress(OSError):
        conn.recv(100)
    conn.close()
    assert time.monotonic() - started < 2.5
    assert server.served == 0
    assert any("no complete request" in line for line in log), log


def test_idle_connections_hold_a_bounded_number_of_threads_and_botocore_still_gets_through(
    served: tuple[CredentialServer, str, list[str], list[Cached]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, token, _, current = served
    monkeypatch.setattr(endpoint, "MAX_WAITING", 8)
    before = threading.active_count()
    idle = [socket.create_connection((server.host, server.port), timeout=5) for _ in range(40)]
    try:
        time.sleep(0.2)
        assert threading.active_count() - before <= 8 + 2
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": token}
        started = time.monotonic()
        creds = no_wait_provider(env).load()
        assert creds is not None and creds.access_key == current[0].access_key_id
        assert time.monotonic() - started < 1.0
    finally:
        for conn in idle:
            conn.close()


def test_on_port_80_the_host_header_without_a_port_is_this_address(fake_clock: FakeClock) -> None:
    """urllib3 (botocore) leaves the default port out of `Host`."""
    token = new_token()
    try:
        server = CredentialServer(lambda: session(fake_clock, 1), token=token, log=lambda _: None, port=80)
    except AwsError:
        pytest.skip("port 80 cannot be listened on here")
    with server:
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": token}
        assert no_wait_provider(env).load() is not None


def test_the_export_lines_unset_what_would_outrank_the_endpoint(
    served: tuple[CredentialServer, str, list[str], list[Cached]], tmp_path: Path, fake_clock: FakeClock
) -> None:
    """botocore asks AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS, CodeBuild) before the full URI, and web
    identity before either: a shell that has them must not silently act as that other identity."""
    server, token, _, current = served
    first = Obtained(current[0], cached=True)
    running = Running(server, token, first)
    path = tokenfile.write(token, str(tmp_path / "cache"))
    app = App(state_file=str(tmp_path / "state.json"), clock=fake_clock)
    with click.Context(click.Command("serve"), obj=app):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            _print_exports(app, running, path, False)
    outranking = {
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/task",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "another-token",
        "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/other",
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "web-identity"),
        "AWS_PROFILE": "other",
    }
    dump = f'exec "{sys.executable}" -c "import json, os; print(json.dumps(dict(os.environ)))"'
    shell = subprocess.run(
        ["sh", "-c", f"{out.getvalue()}\n{dump}"],
        env={"PATH": os.environ["PATH"], **outranking},
        capture_output=True,
        text=True,
        check=True,
    )
    env = json.loads(shell.stdout)
    assert not set(outranking) & set(env), env
    creds = no_wait_provider(env).load()
    assert creds is not None and creds.access_key == current[0].access_key_id


def test_the_export_lines_hide_the_shared_files_and_give_the_region_they_gave(
    served: tuple[CredentialServer, str, list[str], list[Cached]],
    tmp_path: Path,
    fake_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every SDK reads the shared files before the endpoint, so a shell that sources the lines gets
    them as /dev/null, and the region its config gave (a profile with none of its own)."""
    server, token, _, current = served
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-central-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    running = Running(server, token, Obtained(current[0], cached=True))  # no region of its own
    app = App(state_file=str(tmp_path / "state.json"), clock=fake_clock)
    with click.Context(click.Command("serve"), obj=app):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exports = _print_exports(app, running, str(tmp_path / "token"), False)
    lines = out.getvalue().splitlines()
    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CREDENTIAL_PROFILES_FILE"):
        assert f"export {name}={os.devnull}" in lines
    assert "export AWS_REGION=eu-central-1" in lines and "export AWS_DEFAULT_REGION=eu-central-1" in lines
    undone = lines[-1].removeprefix("# to undo these lines: unset ").split()
    assert set(undone) == set(exports) - {"AWS_REGION", "AWS_DEFAULT_REGION"}


def test_a_huge_request_is_dropped_unanswered_and_logged(
    served: tuple[CredentialServer, str, list[str], list[Cached]],
) -> None:
    server, token, log, _ = served
    conn = socket.create_connection((server.host, server.port), timeout=5)
    with contextlib.suppress(OSError):
        conn.sendall(f"GET {PATH} HTTP/1.0\r\nAuthorization: {token}\r\nX: {'a' * 40_000}\r\n\r\n".encode())
    with contextlib.suppress(OSError):
        assert conn.recv(100) == b""
    conn.close()
    wait_for(lambda: server.refused == 1)
    assert server.served == 0 and "over" in log[0] and token not in log[0]


def test_a_session_just_over_the_renewal_margin_is_not_renewed_every_second(fake_clock: FakeClock) -> None:
    """DurationSeconds=961: renewed 16 minutes ahead, every second; at the SDK's 15, every minute."""
    renew = Renewer(fake_clock, lifetime=961.0)
    k, _ = keeper(fake_clock, renew, lifetime=961.0)
    for _ in range(120):
        fake_clock.advance(1)
        k.current()
        wait_for(lambda: k._renewal is None)
    assert renew.calls <= 2
    assert margins(1000.0).renew_below == margins(1020.0).renew_below == 900.0  # before the SDK refreshes


def test_a_stderr_that_blocks_does_not_hold_up_the_answers(fake_clock: FakeClock) -> None:
    """`serve -v 2>&1 | less`, paused: logging blocks; the SDK must still get its answer."""
    token, stuck = new_token(), threading.Event()
    with CredentialServer(
        lambda: session(fake_clock, 1), token=token, log=lambda _: stuck.wait(5), verbose=True
    ) as server:
        try:
            for headers, status in (({"Authorization": token}, 200), ({}, 401)):
                answered: list[int] = []
                t = threading.Thread(
                    target=lambda h=headers, got=answered: got.append(request(server, headers=h)[0])
                )
                t.start()
                t.join(1.5)
                assert answered == [status]
        finally:
            stuck.set()


def test_show_token_into_a_file_others_can_read_is_warned_about(
    served: tuple[CredentialServer, str, list[str], list[Cached]],
    tmp_path: Path,
    fake_clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`serve --show-token > ~/.prod-endpoint &` with umask 022: the token, readable by every user."""
    server, token, _, current = served
    running = Running(server, token, Obtained(current[0], cached=True))
    app = App(state_file=str(tmp_path / "state.json"), clock=fake_clock)
    exports = tmp_path / "endpoint"
    for mode, warned in ((0o644, True), (0o600, False)):
        exports.unlink(missing_ok=True)
        fd = os.open(exports, os.O_WRONLY | os.O_CREAT, mode)
        os.fchmod(fd, mode)
        with (
            open(fd, "w") as out,
            click.Context(click.Command("serve"), obj=app),
            contextlib.redirect_stdout(out),
        ):
            _print_exports(app, running, "/nonexistent/token", True)
        assert token in exports.read_text()
        assert ("others can read" in capsys.readouterr().err) is warned


def test_serve_stops_cleanly_on_ctrl_backslash_too() -> None:
    """SIGQUIT (Ctrl-\\) would end `serve` at once and leave its token file behind."""
    from sts_mfa.cli.commands.serve import _stopped_by_signals

    with _stopped_by_signals() as stop:
        os.kill(os.getpid(), signal.SIGQUIT)
        assert stop.wait(2)


def test_a_flood_of_refused_requests_is_not_a_flood_on_stderr(
    served: tuple[CredentialServer, str, list[str], list[Cached]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any local process can knock: its refusals are logged up to a rate, the rest counted and said once."""
    server, _, log, _ = served
    monkeypatch.setattr(endpoint, "REFUSAL_WINDOW_SECONDS", 0.5)
    for _ in range(60):
        request(server, headers={})
    assert server.refused == 60
    assert len(log) <= 21, len(log)
    time.sleep(0.6)
    request(server, headers={})
    wait_for(lambda: any("more requests were refused" in line for line in log))
