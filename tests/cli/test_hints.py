"""A command the tool suggests is one to paste: every profile name and path in it is shell-quoted.

Each test provokes a hint naming a profile called `a b;touch x` or a path with a space,
takes the suggested command out of what sts-mfa printed (stderr, a warning, the
credentials endpoint's 503 body) and pastes it into bash, with `sts-mfa` (and `chmod`)
replaced by a function that prints the words it was given: the words must be the
ones meant, and nothing of the name may run as a command of its own.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pyotp
import pytest

from sts_mfa.cli.app import App
from sts_mfa.sandbox import Faults, Sandbox
from sts_mfa.sandbox.fixtures.examples import create_identity
from sts_mfa.server.endpoint import PATH
from sts_mfa.server.serving import running_endpoint
from sts_mfa.session.model import Settings
from tests.support.cli import Cli, assert_one_error_line
from tests.support.clock import FakeClock
from tests.support.state import complete_state, signed, write_cached_state

PROFILE = "a b;touch x"
SPACED = "dir with space"

# Stand-ins for the commands a hint may name: each prints the words it was given, as JSON.
STUBS = "".join(
    f'{name}() {{ python3 -c "import json, sys; print(json.dumps(sys.argv[1:]))" {name} "$@"; }}\n'
    for name in ("sts-mfa", "chmod")
)


def pasted(command: str, tmp_path: Path) -> list[str]:
    """The words `command`, pasted into bash, hands to its program (its name first)."""
    where = tmp_path / "paste"
    where.mkdir(exist_ok=True)
    done = subprocess.run(
        ["bash", "-c", STUBS + command], cwd=where, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, (command, done.stderr)
    assert list(where.iterdir()) == [], f"pasting {command!r} ran something of the name"
    words: list[str] = json.loads(done.stdout)
    return words


def suggested(text: str, program: str = "sts-mfa") -> str:
    """The command between backticks that starts with `program`, in `text`."""
    found = re.findall(rf"`({re.escape(program)} [^`]*)`", text)
    assert len(found) == 1, text
    return str(found[0])


def write_role_profile(home: Path, *, role_arn: str, mfa_serial: str, source: str = "src") -> None:
    """An MFA role profile named PROFILE (its name quoted, as botocore needs a name with a space)."""
    config = home / "config"
    config.write_text(
        f"[profile {source}]\nregion = us-east-1\n\n"
        f'[profile "{PROFILE}"]\nrole_arn = {role_arn}\nsource_profile = {source}\n'
        f"mfa_serial = {mfa_serial}\n"
    )


@pytest.fixture
def home() -> Path:
    """The AWS config's directory the autouse environment points at."""
    return Path(os.environ["AWS_CONFIG_FILE"]).parent


def test_no_code_for_a_profile_suggests_its_name_quoted(run: Cli, home: Path, tmp_path: Path) -> None:
    write_role_profile(
        home, role_arn="arn:aws:iam::111111111111:role/Admin", mfa_serial="arn:aws:iam::111111111111:mfa/a"
    )
    (home / "credentials").write_text("[src]\naws_access_key_id = AKIASRC\naws_secret_access_key = s\n")

    line = assert_one_error_line(run("assume", PROFILE), 2)

    assert pasted(suggested(line), tmp_path) == ["sts-mfa", "assume", PROFILE]


@pytest.fixture
def spaced_state(tmp_path: Path, clock: FakeClock) -> Path:
    """A finished phone-mode setup (no session cached) in a directory whose name has a space."""
    state = tmp_path / SPACED / "state.json"
    state.parent.mkdir()
    fd = os.open(state, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signed(complete_state(clock.now())))
    return state


def test_no_code_for_the_state_file_suggests_its_path_quoted(
    spaced_state: Path, clock: FakeClock, tmp_path: Path
) -> None:
    line = assert_one_error_line(Cli(spaced_state, clock, {})("assume"), 2)

    words = pasted(suggested(line), tmp_path)
    assert words == ["sts-mfa", "--state", str(spaced_state), "assume", "--code", "CODE"]


def test_the_last_resort_warning_suggests_the_path_quoted(tmp_path: Path) -> None:
    state = tmp_path / SPACED / "state.json"
    state.parent.mkdir()
    write_cached_state(state, "ASIACACHED", "secret", "token", remaining=120)

    result = Cli(state, FakeClock(time.time()), {})("assume")  # 120 s left, no code to renew it

    assert result.exit_code == 0, result.output
    warning = next(line for line in result.stderr.splitlines() if "no MFA code to renew it" in line)
    assert pasted(suggested(warning), tmp_path)[:3] == ["sts-mfa", "--state", str(state)]


def test_the_endpoints_503_body_suggests_the_path_quoted(tmp_path: Path) -> None:
    """The credentials endpoint, unable to renew a phone device's session, says what to run."""

    state = tmp_path / SPACED / "state.json"
    state.parent.mkdir()
    write_cached_state(state, "ASIACACHED", "secret", "token", remaining=1000)
    clock = FakeClock(time.time())
    app = App(state_file=str(state), clock=clock)

    with running_endpoint(app, None, None, 300.0, Settings()) as running:
        clock.advance(1000 - 30)  # 30 s left: too little to hand out, and no code to renew it
        connection = http.client.HTTPConnection(running.server.host, running.server.port, timeout=10)
        connection.request("GET", PATH, headers={"Authorization": running.token})
        response = connection.getresponse()
        body = json.loads(response.read())
        connection.close()

    assert response.status == 503, body
    assert pasted(suggested(body["message"]), tmp_path)[:3] == ["sts-mfa", "--state", str(state)]


def test_a_state_file_open_to_others_suggests_chmod_with_the_path_quoted(
    spaced_state: Path, clock: FakeClock, tmp_path: Path
) -> None:
    spaced_state.chmod(0o644)

    line = assert_one_error_line(Cli(spaced_state, clock, {})("status", "--offline"), 4)

    command = line[line.index("(chmod ") + 1 : -1]
    assert pasted(command, tmp_path) == ["chmod", "600", str(spaced_state)]


def test_a_cache_directory_open_to_others_suggests_chmod_with_the_path_quoted(
    run: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / SPACED / "cache"
    cache.mkdir(parents=True, mode=0o700)
    cache.chmod(0o755)
    monkeypatch.setenv("STS_MFA_CACHE_DIR", str(cache))
    write_role_profile(
        home, role_arn="arn:aws:iam::111111111111:role/Admin", mfa_serial="arn:aws:iam::111111111111:mfa/a"
    )
    (home / "credentials").write_text("[src]\naws_access_key_id = AKIASRC\naws_secret_access_key = s\n")

    line = assert_one_error_line(run("assume", PROFILE, "--code", "123456"), 4)

    command = line[line.index("(chmod ") + 1 : -1]
    assert pasted(command, tmp_path) == ["chmod", "700", str(cache)]


@pytest.mark.sandbox
def test_a_refused_profile_role_suggests_check_deny_with_the_name_quoted(
    sb: Sandbox, shared_clock: FakeClock, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = create_identity(sb, clock=shared_clock)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    write_role_profile(
        home, role_arn=f"arn:aws:iam::{identity.account}:role/NotAlices", mfa_serial=identity.serial
    )
    (home / "config").write_text(
        (home / "config")
        .read_text()
        .replace("region = us-east-1", f"region = us-east-1\nendpoint_url = {sb.endpoint}")
    )
    (home / "credentials").write_text(
        f"[src]\naws_access_key_id = {identity.access_key_id}\n"
        f"aws_secret_access_key = {identity.secret_access_key}\n"
    )
    code = pyotp.TOTP(identity.seed).at(shared_clock.now())

    line = assert_one_error_line(
        Cli(tmp_path / "state.json", shared_clock, {})("assume", PROFILE, "--code", code), 1
    )

    assert pasted(suggested(line), tmp_path) == ["sts-mfa", "check-deny", PROFILE]


@pytest.mark.sandbox
def test_the_demos_kept_state_is_suggested_with_its_path_quoted(
    sb: Sandbox, shared_clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`demo --aws` whose teardown fails keeps its state where it runs, and says how to finish it."""
    where = tmp_path / SPACED
    where.mkdir()
    monkeypatch.chdir(where)
    sb.set_faults(Faults(fail={9: "before"}))  # the demo's setup makes 8 changes; teardown's first fails
    try:
        result = Cli(tmp_path / "state.json", shared_clock, {})("demo", "--aws")
    finally:
        sb.set_faults(Faults())

    assert result.exit_code == 1, result.output
    kept = where / "sts-mfa-demo-state.json"
    warning = next(line for line in result.stderr.splitlines() if "the state is kept in" in line)
    assert pasted(suggested(warning), tmp_path) == ["sts-mfa", "--state", str(kept), "teardown"]
