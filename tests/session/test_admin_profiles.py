"""MFA role profiles on the admin side: sts-mfa's own codes, ledger and caches, never botocore's prompt.

`--profile` (and AWS_PROFILE) for audit, setup and teardown, `setup --role-profile`,
`check-deny --policy-profile` and `audit --prove-with` name profiles that may assume a
role with MFA. botocore would ask for that code itself, with getpass: an EOFError
without a terminal, and with one a code spent outside the device's ledger, so the next
`assume PROFILE` in the same 30 s window sent it again and was refused (exit 5).

The identity is the one `sandbox serve --example-profiles` makes (alice, her device, roles
Admin and ReadOnly requiring MFA), on a strict Sandbox on the real clock; the commands
are the installed `sts-mfa` in processes of their own, each with a private home and
cache: with no terminal at all (a session of its own, stdin closed), and on a
pseudo-terminal where the test types the device's current code when asked. The example
profiles' `mfa_process` is a phone that logs each code it gives, so "no new code" is
counted by the phone; `typed` and `typed-ro` (roles Admin and ReadOnly) have none: a
person types their codes.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest

from sts_mfa.aws.endpoints import normalize
from sts_mfa.mfa.ledger import Entry, Ledger
from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.fixtures.examples import ExampleIdentity, create_identity
from tests.support.cli import ERROR_PREFIX, TRACEBACK
from tests.support.processes import STS_MFA
from tests.support.sandbox import phone_profiles

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

PROMPT = b"MFA code for"  # sts-mfa's prompt says so, and so did botocore's ("Enter MFA code for ...")
BOTOCORE = ("Enter MFA code", "GetPassWarning", "Password input may be echoed", "EOFError")


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox(sample_buckets=("reports",)) as sandbox:
        yield sandbox


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str  # on a terminal: everything it showed, which is stdout too

    @property
    def output(self) -> str:
        return self.stdout if self.stdout is self.stderr else self.stdout + self.stderr


@dataclass
class Alice:
    sb: Sandbox
    identity: ExampleIdentity
    env: dict[str, str]  # the profiles; no admin keys of the sandbox's
    admin_env: dict[str, str]  # and the sandbox admin's keys and endpoint, for a state file's setup
    phone_log: Path
    state: Path
    home: Path

    def codes_given(self) -> int:
        return len(self.phone_log.read_text().splitlines()) if self.phone_log.exists() else 0

    def code(self) -> str:
        return str(pyotp.TOTP(self.identity.seed).now())

    def ledger(self) -> Entry:
        cache = self.env["STS_MFA_CACHE_DIR"]
        return Ledger(cache, normalize(self.sb.endpoint), self.identity.serial).read()

    def sts_mfa(self, *args: str) -> list[str]:
        assert STS_MFA
        return [STS_MFA, "--state", str(self.state), *args]

    def cached_assume(self, profile: str, env: dict[str, str] | None = None) -> None:
        """`assume PROFILE` right after, with no terminal and no code: it must need none."""
        given = self.codes_given()
        ran = no_terminal(self.sts_mfa("assume", profile, "--format", "process"), env or self.env)
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout)["Version"] == 1
        assert self.codes_given() == given, "the MFA session was not reused: a new code was asked for"


@pytest.fixture
def alice(running: Sandbox, tmp_path: Path) -> Alice:
    running.reset()
    identity = create_identity(running)
    where = f"region = {running.region}\nendpoint_url = {running.endpoint}\n"
    typed = "".join(  # profiles with no mfa_process: a person types their codes
        f"\n[profile {name}]\nrole_arn = {identity.role_arns[role]}\n"
        f"source_profile = sandbox-alice\nmfa_serial = {identity.serial}\n{where}"
        for name, role in (("typed", "sandbox-admin"), ("typed-ro", "sandbox-readonly"))
    )
    profiles = phone_profiles(running, identity, tmp_path, typed)
    env, log, home = dict(profiles.env), profiles.phone_log, tmp_path / "home"
    env.pop("STS_MFA_NO_PROMPT")  # whether a person can be asked is the terminal's to say
    running.reset_log()
    return Alice(running, identity, env, {**env, **running.env(0)}, log, tmp_path / "state.json", home)


# --- runners ----------------------------------------------------------------------------------


def no_terminal(command: list[str], env: dict[str, str], timeout: float = 90) -> Ran:
    """`command` in a session of its own, stdin closed: no terminal, as under cron or CI."""
    child = subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        raise AssertionError(f"no end after {timeout} s: {err}") from None
    return Ran(child.returncode, out, err)


def on_terminal(
    command: list[str], env: dict[str, str], answer: Callable[[], str] | None, timeout: float = 90
) -> tuple[Ran, int]:
    """`command` on a pseudo-terminal; at each MFA prompt `answer()` is typed. (result, prompts seen)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout, stderr and controlling terminal
        try:
            os.execvpe(command[0], command, env)
        finally:
            os._exit(127)
    seen, answered = b"", 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if answer is not None and seen.count(PROMPT) > answered and seen.rstrip().endswith(b":"):
                os.write(fd, answer().encode() + b"\n")
                answered += 1
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child has closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        else:
            os.killpg(pid, signal.SIGKILL)  # pty.fork made the child a session leader
            raise AssertionError(f"no end after {timeout} s; the terminal showed: {seen[-2000:]!r}")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    text = seen.decode("utf-8", "replace").replace("\r\n", "\n")
    return Ran(os.waitstatus_to_exitcode(status), text, text), seen.count(PROMPT)


def never_botocore(ran: Ran) -> None:
    for words in (*BOTOCORE, TRACEBACK, "internal error"):
        assert words not in ran.output, ran.output


def one_error_line(ran: Ran) -> str:
    never_botocore(ran)
    lines = [line for line in ran.stderr.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(lines) == 1, ran.stderr
    assert ran.stderr.rstrip("\n").splitlines()[-1] == lines[0], ran.stderr
    return lines[0]


def setup_with_admin_keys(alice: Alice) -> None:
    """A finished software-token setup made with the sandbox admin's keys (no profile)."""
    done = no_terminal(alice.sts_mfa("setup", "--software-token"), alice.admin_env)
    assert done.returncode == 0, done.stderr
    alice.sb.reset_log()


def no_code_was_sent(alice: Alice) -> None:
    assert alice.sb.count("GetSessionToken") == 0
    assert alice.sb.count("AssumeRole") == 0
    assert alice.ledger() == Entry()


# --- no terminal and no code: one line, exit 2, nothing spent ----------------------------------

ADMIN_USES = {
    "audit": (["--profile", "typed", "audit"], False),
    "setup": (["--profile", "typed", "setup", "--software-token"], False),
    "setup-role-profile": (["setup", "--software-token", "--role-profile", "typed"], True),
    "teardown": (["--profile", "typed", "teardown"], True),
}


@pytest.mark.parametrize("use", ADMIN_USES, ids=list(ADMIN_USES))
def test_with_no_terminal_and_no_code_it_fails_at_once_naming_the_profile(alice: Alice, use: str) -> None:
    args, with_admin_keys = ADMIN_USES[use]
    if use == "teardown":
        setup_with_admin_keys(alice)
    before = alice.state.read_bytes() if alice.state.exists() else None
    started = time.monotonic()

    ran = no_terminal(alice.sts_mfa(*args), alice.admin_env if with_admin_keys else alice.env)

    assert ran.returncode == 2, ran.stderr
    line = one_error_line(ran)
    assert "profile typed" in line and "STS_MFA_CODE" in line and "sts-mfa assume typed" in line
    assert time.monotonic() - started < 20
    no_code_was_sent(alice)
    assert (alice.state.read_bytes() if alice.state.exists() else None) == before
    assert alice.sb.count("CreateUser") == alice.sb.count("DeleteUser") == 0


def test_policy_profile_with_no_terminal_and_no_code_is_one_line(alice: Alice) -> None:
    """check-deny PROFILE gets its own code from the phone; --policy-profile typed has none to get."""
    env = {**alice.env, "STS_MFA_NO_MFA_SESSION": "1"}  # so typed cannot ride on PROFILE's MFA session

    ran = no_terminal(alice.sts_mfa("check-deny", "sandbox-readonly", "--policy-profile", "typed"), env)

    assert ran.returncode == 2, ran.stderr
    line = one_error_line(ran)
    assert "profile typed" in line and "STS_MFA_CODE" in line
    assert alice.codes_given() == 1  # PROFILE's, and no other


def test_prove_with_an_mfa_role_profile_is_refused_before_any_code(alice: Alice) -> None:
    ran = no_terminal(alice.sts_mfa("audit", "--prove-with", "typed"), alice.admin_env)

    assert ran.returncode == 2, ran.stderr
    assert "--prove-with typed: its credentials are temporary" in one_error_line(ran)
    no_code_was_sent(alice)
    assert alice.sb.count("GetAccountAuthorizationDetails") == 0


# --- a code source: the command works, the code is in the ledger, the next assume needs none -----


def test_an_mfa_process_serves_the_admin_profile_and_its_session_serves_assume(alice: Alice) -> None:
    ran = no_terminal(alice.sts_mfa("-v", "--profile", "sandbox-admin", "audit", "--json"), alice.env)

    assert ran.returncode == 0, ran.stderr
    never_botocore(ran)
    assert {r["name"] for r in json.loads(ran.stdout)["roles"]} >= {"Admin", "ReadOnly"}
    assert alice.codes_given() == 1
    assert alice.ledger().last_step is not None
    assert "GetSessionToken 1" in ran.stderr  # -v counts the requests made for the profile too
    alice.cached_assume("sandbox-readonly")  # the same MFA session: no second code, no exit 5
    alice.cached_assume("sandbox-admin")
    assert alice.sb.count("GetSessionToken") == 1


def test_sts_mfa_code_serves_setup_and_teardown_with_an_admin_profile(alice: Alice) -> None:
    code = alice.code()
    env = {**alice.env, "STS_MFA_CODE": code}

    made = no_terminal(alice.sts_mfa("--profile", "typed", "setup", "--software-token"), env)

    assert made.returncode == 0, made.stderr
    never_botocore(made)
    assert alice.ledger().last_code == code
    alice.cached_assume("typed")  # the role session setup used, no code needed
    alice.cached_assume("typed-ro")  # another role, the same MFA session
    gone = no_terminal(alice.sts_mfa("--profile", "typed", "teardown"), alice.env)  # no code at all now
    assert gone.returncode == 0, gone.stderr
    assert not alice.state.exists()
    assert alice.sb.count("GetSessionToken") == 1


def test_a_default_profile_that_assumes_a_role_with_mfa_is_served_too(alice: Alice) -> None:
    """No --profile, no keys in the environment: botocore's `default` profile is the admin side."""
    config = Path(alice.env["AWS_CONFIG_FILE"])
    section = config.read_text().split("[profile sandbox-admin]\n", 1)[1].split("\n\n", 1)[0]
    config.write_text(config.read_text() + f"\n[default]\n{section}\n")

    ran = no_terminal(alice.sts_mfa("audit", "--json"), alice.env)

    assert ran.returncode == 0, ran.stderr
    never_botocore(ran)
    assert alice.codes_given() == 1
    alice.cached_assume("default")


# --- a person at a terminal: sts-mfa's prompt, once, and the code in the ledger ---------------------


@pytest.mark.parametrize("use", ADMIN_USES, ids=list(ADMIN_USES))
def test_at_a_terminal_the_code_is_asked_by_sts_mfa_and_recorded(alice: Alice, use: str) -> None:
    args, with_admin_keys = ADMIN_USES[use]
    if use == "teardown":
        setup_with_admin_keys(alice)
    typed: list[str] = []

    def person() -> str:
        typed.append(alice.code())
        return typed[-1]

    ran, prompts = on_terminal(
        alice.sts_mfa(*args), alice.admin_env if with_admin_keys else alice.env, person
    )

    assert ran.returncode == 0, ran.output
    never_botocore(ran)
    assert prompts == 1 and "(profile typed)" in ran.output
    assert alice.ledger().last_code == typed[0]
    alice.cached_assume("sandbox-readonly", alice.admin_env if with_admin_keys else alice.env)
    assert alice.codes_given() == 0  # the phone was never asked: the typed code's MFA session served


def test_at_a_terminal_the_policy_profile_rides_on_the_profiles_mfa_session(alice: Alice) -> None:
    """One prompt, for PROFILE (typed-ro); --policy-profile typed is on the same device: no second code."""
    ran, prompts = on_terminal(
        alice.sts_mfa("check-deny", "typed-ro", "--policy-profile", "typed", "--json"), alice.env, alice.code
    )

    assert ran.returncode == 0, ran.output
    never_botocore(ran)
    assert prompts == 1
    doc = json.loads(ran.output[ran.output.index("{") :])
    assert doc["trust_policy_read_with"] == "--policy-profile" and doc["proven"] is True
    alice.cached_assume("typed")
    assert alice.sb.count("GetSessionToken") == 1


def test_at_a_terminal_prove_with_an_mfa_role_profile_asks_nothing(alice: Alice) -> None:
    ran, prompts = on_terminal(alice.sts_mfa("audit", "--prove-with", "typed"), alice.admin_env, alice.code)

    assert ran.returncode == 2, ran.output
    assert prompts == 0
    never_botocore(ran)
    assert "--prove-with typed: its credentials are temporary" in ran.output
    no_code_was_sent(alice)


# --- chains botocore would prompt in ------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--profile", "chain", "audit"],
        ["--profile", "chain", "setup", "--software-token"],
        ["assume", "via-mfa"],
    ],
    ids=["audit", "setup", "assume"],
)
def test_a_profile_whose_source_assumes_a_role_with_mfa_is_refused_at_a_terminal(
    alice: Alice, args: list[str]
) -> None:
    """chain: a role whose source_profile is `typed` (MFA); via-mfa: an MFA role with that source."""
    config = Path(alice.env["AWS_CONFIG_FILE"])
    role = f"role_arn = {alice.identity.role_arns['sandbox-readonly']}\nsource_profile = typed\n"
    config.write_text(
        config.read_text()
        + f"\n[profile chain]\n{role}region = {alice.sb.region}\n"
        + f"\n[profile via-mfa]\n{role}mfa_serial = {alice.identity.serial}\n"
    )

    ran, prompts = on_terminal(alice.sts_mfa(*args), alice.env, alice.code)

    assert ran.returncode == 2, ran.output
    assert prompts == 0
    never_botocore(ran)
    assert "through profile typed, which assumes a role with MFA" in ran.output
    no_code_was_sent(alice)


# A session made by sts_mfa.aws.clients for an MFA role profile that nothing served: botocore's own prompt.
UNSERVED = """
from sts_mfa.aws.clients import Aws, AwsConfig
try:
    Aws(AwsConfig(profile="typed")).admin_sts().get_caller_identity()
except Exception as e:
    print(type(e).__name__, getattr(e, "exit_code", None), e)
"""


def test_botocore_never_prompts_in_a_session_sts_mfa_makes(alice: Alice) -> None:
    """The guarantee under the serving: were a path to forget it, botocore's prompt refuses (exit 2)."""
    ran = no_terminal([sys.executable, "-c", UNSERVED], alice.env)

    assert ran.stdout.startswith(
        f"UsageError 2 botocore would ask for an MFA code for {alice.identity.serial}: "
    ), ran.stdout + ran.stderr
    assert "GetPassWarning" not in ran.stderr and "Password input" not in ran.stderr, ran.stderr
    no_code_was_sent(alice)
