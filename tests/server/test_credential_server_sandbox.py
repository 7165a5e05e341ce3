"""`exec --server` and `serve` with real clients, while the sandbox expires sessions every few seconds.

A strict Sandbox on the real clock holds the identity `sandbox serve --example-profiles`
makes (alice, her MFA device, roles Admin and ReadOnly that need MFA), with role sessions
of `LIFETIME` seconds renewed from one MFA session of ten minutes
(`Faults.session_seconds`, `Faults.mfa_session_seconds`). The clients are a boto3
program and the AWS CLI, as children of the installed `sts-mfa`; they get no keys, only
the endpoint. The device's codes come from the example's `mfa_process` behind a wrapper
that logs each call, so codes are counted by the "phone"; renewals are counted by the
sandbox (its request log), not by sts-mfa.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest

from sts_mfa.sandbox import Faults, Sandbox
from sts_mfa.sandbox.fixtures.examples import ExampleFiles, ExampleIdentity, create_identity, write_files
from tests.support.aws import http
from tests.support.env import subprocess_env
from tests.support.processes import BIN, STS_MFA, run
from tests.support.sandbox import logging_phone

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

AWS = shutil.which("aws") or str(Path(sys.executable).parent / "aws")
LIFETIME = 2.0  # seconds a role session lives in these tests
TYPED = "sandbox-typed"  # a role profile with no mfa_process: only a person can give its code
STATIC = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_SECURITY_TOKEN",
)

# The boto3 program: calls STS for SECONDS, never stopping on a failure; prints what it saw.
LOOP = """
import json, os, sys, time
import boto3
seconds, pause, status = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
session = boto3.Session()
sts = session.client("sts")
calls, failures, keys, errors = 0, 0, [], []
until = time.monotonic() + seconds
while time.monotonic() < until:
    try:
        arn = sts.get_caller_identity()["Arn"]
        calls += 1
        key = session.get_credentials().get_frozen_credentials().access_key
        if key not in keys:
            keys.append(key)
    except Exception as e:
        failures += 1
        errors.append(repr(e)[:300])
    time.sleep(pause)
print(json.dumps({
    "calls": calls, "failures": failures, "errors": errors[:3], "keys": keys, "arn": arn if calls else None,
    "method": session.get_credentials().method,
    "static": [k for k in STATIC_NAMES if k in os.environ],
    "files": [os.environ.get("AWS_SHARED_CREDENTIALS_FILE"), os.environ.get("AWS_CONFIG_FILE")],
    "token": os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
}), flush=True)
sys.exit(status)
""".replace("STATIC_NAMES", repr(STATIC))


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@dataclass
class Alice:
    sb: Sandbox
    identity: ExampleIdentity
    env: dict[str, str]
    phone_log: Path
    tmp: Path

    def codes_given(self) -> int:
        return len(self.phone_log.read_text().splitlines()) if self.phone_log.exists() else 0

    def secrets(self) -> list[str]:
        found = [self.identity.secret_access_key, self.identity.seed]
        for path in Path(self.env["STS_MFA_CACHE_DIR"]).glob("*.json"):
            session = json.loads(path.read_text()).get("session")
            if session:
                found += [session["secret_access_key"], session["session_token"]]
        return found

    def loop(self, seconds: float, pause: float = 0.05, status: int = 0) -> list[str]:
        return [sys.executable, str(self.tmp / "loop.py"), str(seconds), str(pause), str(status)]


@pytest.fixture
def alice(running: Sandbox, tmp_path: Path) -> Iterator[Alice]:
    """The example identity and its profiles; the caller's shell also holds alice's own keys."""
    running.reset()
    identity = create_identity(running)
    files = ExampleFiles.in_directory(tmp_path / "aws")
    write_files(files, identity, endpoint=running.endpoint, region=running.region, merge=False)
    phone, log = logging_phone(tmp_path, files.seed)
    text, count = re.subn(r"(?m)^mfa_process = .*$", f"mfa_process = {phone}", files.config.read_text())
    assert count == 2, text
    text += (
        f"\n[profile {TYPED}]\nrole_arn = {identity.role_arns['sandbox-admin']}\n"
        f"source_profile = sandbox-alice\nmfa_serial = {identity.serial}\n"
        f"region = {running.region}\nendpoint_url = {running.endpoint}\n"
    )
    files.config.write_text(text)
    env = subprocess_env(
        tmp_path,
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        AWS_CONFIG_FILE=str(files.config),
        AWS_SHARED_CREDENTIALS_FILE=str(files.credentials),
        # What the child must not see: a profile of the caller's and static keys.
        AWS_PROFILE="sandbox-alice",
        AWS_ACCESS_KEY_ID=identity.access_key_id,
        AWS_SECRET_ACCESS_KEY=identity.secret_access_key,
    )
    (tmp_path / "loop.py").write_text(LOOP)
    running.set_faults(Faults(session_seconds=LIFETIME, mfa_session_seconds=600))
    running.reset_log()
    yield Alice(running, identity, env, log, tmp_path)
    running.set_faults(Faults())


def sts_mfa(alice: Alice, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    assert STS_MFA
    return run([STS_MFA, *args], alice.env, timeout=timeout)


def failed_requests(sb: Sandbox) -> list[tuple[str, str | None]]:
    return [(r.action, r.error_code) for r in sb.requests if r.status != 200]


# --- the acceptance: a boto3 loop across three expiries, one code -----------------------------


@pytest.mark.slow
def test_a_boto3_loop_under_exec_server_outlives_three_sessions_on_one_code(alice: Alice) -> None:
    seconds = 3.5 * LIFETIME  # at least three expiries
    done = sts_mfa(alice, "exec", "--server", "sandbox-admin", "--", *alice.loop(seconds, status=7))

    assert done.returncode == 7, done.stderr  # the child's exit code passes through
    seen = json.loads(done.stdout)
    assert (seen["failures"], seen["errors"]) == (0, [])
    assert seen["calls"] >= 20
    assert "assumed-role/Admin/" in seen["arn"]
    assert seen["method"] == "container-role"
    assert len(seen["keys"]) >= 4  # the first session and three renewals, at least
    assert seen["static"] == [] and seen["files"] == [os.devnull, os.devnull]
    # The sandbox renewed the role session on the one MFA session; nothing it refused.
    assert alice.sb.count("GetSessionToken", 200) == 1
    assert alice.sb.count("AssumeRole", 200) >= 4
    assert failed_requests(alice.sb) == []
    assert alice.codes_given() == 1
    for secret in [*alice.secrets(), seen["token"]]:
        assert secret not in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_aws_cli_as_the_child_across_expiries(alice: Alice) -> None:
    """Each `aws` is a new process that fetches from the endpoint; sessions expire in between
    (each call waits out a whole session lifetime first, so each needs a session the one before
    did not have, whatever the machine's speed)."""
    call = f"{shlex.quote(AWS)} sts get-caller-identity --output json"
    script = f"for i in 1 2 3; do {call} || exit 9; sleep {LIFETIME + 0.2}; done"
    done = sts_mfa(alice, "exec", "--server", "sandbox-readonly", "--", "sh", "-c", script)

    assert done.returncode == 0, done.stderr
    arns = [json.loads(chunk)["Arn"] for chunk in re.findall(r"\{[^{}]*\}", done.stdout)]
    assert len(arns) == 3 and all("assumed-role/ReadOnly/" in arn for arn in arns)
    assert alice.sb.count("AssumeRole", 200) >= 3  # the first session, and renewed while the CLI ran
    assert failed_requests(alice.sb) == []
    assert alice.codes_given() == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_exec_server_reaches_the_command_and_its_status_comes_back(
    alice: Alice, signum: int
) -> None:
    """Sent to sts-mfa (a supervisor, `timeout`, no terminal): passed on; the command ends as it chooses."""
    seen = alice.tmp / "seen"
    script = (
        "import signal, sys, time\n"
        "def got(n, f):\n"
        f"    open({str(seen)!r}, 'w').write(str(n)); sys.exit(40 + n)\n"
        "signal.signal(signal.SIGTERM, got); signal.signal(signal.SIGINT, got)\n"
        "print('ready', flush=True); time.sleep(30)\n"
    )
    assert STS_MFA
    proc = subprocess.Popen(
        [STS_MFA, "exec", "--server", "sandbox-readonly", "--", sys.executable, "-c", script],
        env=alice.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=20)

    assert proc.returncode == 40 + signum, err
    assert seen.read_text() == str(signum)
    assert "Traceback" not in err


def test_ctrl_c_at_the_terminal_reaches_the_command_once(alice: Alice) -> None:
    """In a terminal, Ctrl-C goes to sts-mfa and the command both: sts-mfa must not send it again."""
    import fcntl
    import pty
    import termios

    seen = alice.tmp / "interrupts"
    script = (
        "import signal, sys, time\n"
        "count = []\n"
        "def got(n, f):\n"
        "    count.append(n)\n"
        "signal.signal(signal.SIGINT, got)\n"
        "print('ready', flush=True)\n"
        "while not count: time.sleep(0.05)\n"
        "time.sleep(0.5)\n"  # a second, forwarded SIGINT would arrive meanwhile
        f"open({str(seen)!r}, 'w').write(str(len(count))); sys.exit(130)\n"
    )
    controller, terminal = pty.openpty()

    def take_the_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    assert STS_MFA
    proc = subprocess.Popen(
        [STS_MFA, "exec", "--server", "sandbox-readonly", "--", sys.executable, "-c", script],
        env=alice.env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        preexec_fn=take_the_terminal,  # noqa: PLW1509 - a controlling terminal for the session
    )
    os.close(terminal)
    try:
        output = b""
        deadline = time.monotonic() + 30
        while b"ready" not in output and time.monotonic() < deadline:
            output += os.read(controller, 1024)
        os.write(controller, b"\x03")  # Ctrl-C, as the person types it
        assert proc.wait(20) == 130
    finally:
        os.close(controller)
    assert seen.read_text() == "1"


# --- serve: ten children on one endpoint -----------------------------------------------------------


class Served:
    """`sts-mfa serve PROFILE` as a process: its export lines, stopped on request."""

    def __init__(self, alice: Alice, *args: str) -> None:
        assert STS_MFA
        self.proc = subprocess.Popen(
            [STS_MFA, "serve", *args],
            env=alice.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.lines: list[str] = []
        while line := self.proc.stdout.readline():
            self.lines.append(line)
            if line.startswith("export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="):
                break
        self.exports = dict(
            line.removeprefix("export ").strip().split("=", 1)
            for line in self.lines
            if line.startswith("export ")
        )
        assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in self.exports, (self.lines, self.stop())

    def env(self, alice: Alice) -> dict[str, str]:
        """A shell that sourced the export lines (they unset the caller's keys and profile)."""
        env = {k: v for k, v in alice.env.items() if k not in STATIC}
        env.update({k: shlex.split(v)[0] for k, v in self.exports.items()})
        return env

    def stop(self, how: int = signal.SIGTERM) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(how)
        _, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, err


@pytest.mark.slow
def test_ten_children_on_one_server_make_one_renewal_per_expiry(alice: Alice) -> None:
    served = Served(alice, "sandbox-admin")
    try:
        path = Path(shlex.split(served.exports["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])[0])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "AWS_CONTAINER_AUTHORIZATION_TOKEN" not in served.exports  # not printed unless asked
        seconds = 2.5 * LIFETIME
        before = alice.sb.count("AssumeRole", 200)
        started = time.monotonic()
        children = [
            subprocess.Popen(
                alice.loop(seconds, pause=0.2),
                env=served.env(alice),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(10)
        ]
        answers = [child.communicate(timeout=60) for child in children]
        assert all(out for out, _ in answers), (
            [c.returncode for c in children],
            [err[-600:] for _, err in answers],
        )
        outputs = [json.loads(out) for out, _ in answers]
        elapsed = time.monotonic() - started
        renewals = alice.sb.count("AssumeRole", 200) - before
    finally:
        status, err = served.stop()

    assert [o["failures"] for o in outputs] == [0] * 10, [o["errors"] for o in outputs]
    assert sum(o["calls"] for o in outputs) >= 100
    # The keeper renews at half a short session's life: one renewal per LIFETIME / 2 at most,
    # for all ten children together (ten times that if each child caused its own).
    assert 2 <= renewals <= elapsed / (LIFETIME / 2) + 2, (renewals, elapsed)
    assert alice.sb.count("GetSessionToken", 200) == 1 and alice.codes_given() == 1
    assert failed_requests(alice.sb) == []
    assert status == 0, err
    assert not path.exists()  # the token file went with the server
    for secret in alice.secrets():
        assert secret not in err and secret not in "".join(served.lines)


def test_serve_stops_on_ctrl_c_and_refuses_requests_without_its_token(alice: Alice) -> None:
    served = Served(alice, "sandbox-readonly")
    try:
        url = urlsplit(shlex.split(served.exports["AWS_CONTAINER_CREDENTIALS_FULL_URI"])[0])
        endpoint = f"{url.scheme}://{url.netloc}"
        token = Path(shlex.split(served.exports["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])[0]).read_text()
        statuses = [
            http(endpoint, method, path, headers=headers)[0]
            for method, path, headers in (
                ("GET", url.path, {}),
                ("GET", url.path, {"Authorization": "not-it"}),
                ("GET", url.path + "x", {"Authorization": token}),
                ("POST", url.path, {"Authorization": token}),
            )
        ]
        status, _, body = http(endpoint, "GET", url.path, headers={"Authorization": token})
    finally:
        stopped, err = served.stop(signal.SIGINT)

    assert statuses == [401, 403, 404, 405]
    assert status == 200 and set(json.loads(body)) == {
        "AccessKeyId",
        "SecretAccessKey",
        "Token",
        "Expiration",
        "AccountId",
    }
    assert json.loads(body)["AccountId"] == alice.identity.role_arns["sandbox-readonly"].split(":")[4]
    assert stopped == 0, err
    assert err.count("refused ") == 4 and token not in err
    assert "Traceback" not in err


SQUATTERS_CREDENTIALS = {
    "AccessKeyId": "ASIASQUATTER",
    "SecretAccessKey": "s",
    "Token": "t",
    "Expiration": "2099-01-01T00:00:00Z",
}


class Squatter:
    """A local process that binds a port once it is free, and keeps whatever requests it receives."""

    def __init__(self, port: int) -> None:
        self.received = b""
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    self.received += conn.recv(65536)
                    body = json.dumps(SQUATTERS_CREDENTIALS).encode()
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.sock.close()


def test_after_serve_is_killed_its_token_is_gone_and_no_sdk_sends_it_to_a_squatter(alice: Alice) -> None:
    """kill -9: no clean-up runs. The token path stops resolving with the process, so an SDK that still
    has the sourced variables fails before sending anything to whoever binds the freed port; and a token
    file a killed server left (on systems without memory files) is swept by the next server's start."""
    cache = Path(alice.env["STS_MFA_CACHE_DIR"])
    cache.mkdir(mode=0o700, exist_ok=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = cache / f"endpoint-{gone.pid}-0123456789abcdef.token"
    stale.write_text("a token of a server that was killed")
    stale.chmod(0o600)
    served = Served(alice, "sandbox-readonly")
    path = shlex.split(served.exports["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])[0]
    token = Path(path).read_text()
    assert not stale.exists()  # swept by this server's start
    sdk = [sys.executable, "-c", "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"]
    before = run(sdk, served.env(alice))
    assert before.returncode == 0 and "assumed-role/ReadOnly/" in before.stdout, before.stderr

    served.proc.kill()
    served.proc.communicate(timeout=20)
    assert not os.path.exists(path)
    squatter = Squatter(
        urlsplit(shlex.split(served.exports["AWS_CONTAINER_CREDENTIALS_FULL_URI"])[0]).port or 0
    )
    try:
        after = run(sdk, served.env(alice))
    finally:
        squatter.close()

    assert token.encode() not in squatter.received
    assert squatter.connections == 0, squatter.received[:200]
    assert after.returncode != 0 and "ASIASQUATTER" not in after.stdout, after.stdout


def test_a_non_loopback_address_or_a_taken_port_is_refused_before_a_code_is_spent(alice: Alice) -> None:
    for host in ("0.0.0.0", "192.0.2.1", "localhost"):  # noqa: S104 - to be refused
        done = sts_mfa(alice, "serve", "sandbox-readonly", "--host", host, timeout=30)
        assert done.returncode == 2, done.stderr
        assert "loopback" in done.stderr and done.stdout == ""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = sts_mfa(alice, "serve", "sandbox-readonly", "--port", str(taken.getsockname()[1]), timeout=30)
    assert done.returncode == 1, done.stderr
    assert "cannot listen on 127.0.0.1" in done.stderr and done.stdout == ""
    assert alice.sb.count("AssumeRole") == 0 and alice.codes_given() == 0  # no code spent


# --- when renewal is impossible ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_renewal_that_needs_a_person_fails_clearly_and_quickly(alice: Alice) -> None:
    """A device with no mfa_process and no terminal: once the session is gone, the SDK is told what to run."""
    alice.sb.set_faults(Faults(session_seconds=1, mfa_session_seconds=1))
    code = pyotp.TOTP(alice.identity.seed).now()  # the person types the first code

    script = (
        "import time, boto3, botocore\n"
        "time.sleep(1.5)\n"  # the role session and the MFA session are gone
        "started = time.monotonic()\n"
        "try:\n"
        "    boto3.client('sts').get_caller_identity()\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, '|', e, '|', round(time.monotonic() - started, 1))\n"
    )
    done = sts_mfa(alice, "exec", "--server", TYPED, "--code", code, "--", sys.executable, "-c", script)

    assert done.returncode == 0, done.stderr
    kind, message, took = (part.strip() for part in done.stdout.split("|"))
    assert kind == "CredentialRetrievalError"
    assert f"sts-mfa assume {TYPED}" in message  # what to run, as botocore reports it
    assert float(took) < 3 * 2 + 3  # botocore's three tries of 2 s, with a second between: no longer
    assert f"sts-mfa assume {TYPED}" in done.stderr  # and on our stderr
    assert "Traceback" not in done.stderr
