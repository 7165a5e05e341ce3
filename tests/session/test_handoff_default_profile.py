"""A new user's path: a `[default]` profile in ~/.aws, and the role's session handed to other programs.

Most people have a `[default]` profile, and every SDK reads the shared files before it
asks a container endpoint, so a session handed over by `serve`'s export lines would lose
to it. Here the user's private HOME has `~/.aws/credentials` with a `[default]` profile of
other valid keys (the sandbox's administrator: a wrong answer is another identity, not an
error) and `~/.aws/config` with the region; the state file's role is set up with them, as a
new user would. Then the real AWS CLI and a boto3 program must answer as the role's
assumed-role ARN through each way sts-mfa hands the session over: `serve`'s lines sourced
in a shell, `exec`, `exec --server` and `credential_process`. And sts-mfa itself must work
inside an `exec --server` child, whose AWS files are /dev/null.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sts_mfa.sandbox import Sandbox
from tests.support.cli import setup_behind
from tests.support.env import subprocess_env
from tests.support.processes import BIN, STS_MFA, run

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

AWS = str(Path(sys.executable).parent / "aws") if (Path(sys.executable).parent / "aws").exists() else "aws"
ACCOUNT = "111111111111"

# A boto3 program: who it is, and which credential provider said so.
WHO = (
    "import json, boto3\n"
    "session = boto3.Session()\n"
    "arn = session.client('sts').get_caller_identity()['Arn']\n"
    "print(json.dumps({'arn': arn, 'method': session.get_credentials().method}))\n"
)


@dataclass
class User:
    """A new user's shell: a private HOME with a [default] profile, a state file set up from it."""

    sb: Sandbox
    home: Path
    env: dict[str, str]
    state: Path
    role_name: str

    def sts_mfa(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        assert STS_MFA
        return run([STS_MFA, "--state", str(self.state), *args], env or self.env)

    def is_the_role(self, arn: str) -> bool:
        return arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.role_name}/")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def user(sb: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> User:
    home = tmp_path_factory.mktemp("new-user")
    admin = sb.env(0)
    aws = home / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        f"[default]\naws_access_key_id = {admin['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {admin['AWS_SECRET_ACCESS_KEY']}\n"
    )
    (aws / "config").write_text(f"[default]\nregion = {sb.region}\n")
    env = subprocess_env(home, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        env.pop(name)  # the files are where everyone's are: ~/.aws
    env["AWS_ENDPOINT_URL"] = sb.endpoint  # the sandbox stands in for AWS; no key or region in the env
    state = home / "sts-mfa-state.json"
    role_arn = setup_behind(state, env)["role_arn"]
    return User(sb, home, env, state, role_arn.rsplit("/", 1)[-1])


def aws_identity(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["Arn"])


def test_the_default_profile_is_who_the_shell_is_without_sts_mfa(user: User) -> None:
    """The premise: in this shell, the AWS CLI answers as the [default] profile's administrator."""
    arn = aws_identity(run([AWS, "sts", "get-caller-identity", "--output", "json"], user.env))
    assert not user.is_the_role(arn) and ":user/" in arn, arn


def test_serve_lines_sourced_beat_the_default_profile(user: User) -> None:
    assert STS_MFA
    proc = subprocess.Popen(
        [STS_MFA, "--state", str(user.state), "serve"],
        env=user.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = ""
        while "# to undo these lines: " not in lines and (line := proc.stdout.readline()):
            lines += line
        sourced = user.home / "endpoint.sh"
        sourced.write_text(lines)
        aws = f"{shlex.quote(AWS)} sts get-caller-identity --output json"
        cli = run(["sh", "-c", f". {shlex.quote(str(sourced))} && {aws}"], user.env)
        undo = lines.rsplit("# to undo these lines: ", 1)[1].strip()  # the shell has its files back
        undone = run(["sh", "-c", f". {shlex.quote(str(sourced))} && {undo} && {aws}"], user.env)
        sdk = run(
            ["sh", "-c", f'. {shlex.quote(str(sourced))} && exec "$0" -c "$1"', sys.executable, WHO], user.env
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert user.is_the_role(aws_identity(cli)), (lines, cli.stdout)
    seen = json.loads(sdk.stdout) if sdk.returncode == 0 else {"error": sdk.stderr}
    assert user.is_the_role(seen.get("arn", "")) and seen["method"] == "container-role", seen
    assert not user.is_the_role(aws_identity(undone))
    assert proc.returncode == 0, err
    assert undo in err  # said again when the server stops


@pytest.mark.parametrize("server", [False, True], ids=["exec", "exec-server"])
def test_exec_children_are_the_role(user: User, server: bool) -> None:
    flags = ["--server"] if server else []
    cli = user.sts_mfa("exec", *flags, "--", AWS, "sts", "get-caller-identity", "--output", "json")
    assert user.is_the_role(aws_identity(cli))
    sdk = user.sts_mfa("exec", *flags, "--", sys.executable, "-c", WHO)
    assert sdk.returncode == 0, sdk.stderr
    seen = json.loads(sdk.stdout)
    assert user.is_the_role(seen["arn"])
    assert seen["method"] == ("container-role" if server else "env")


def test_credential_process_profiles_are_the_role(user: User) -> None:
    config = user.home / ".aws" / "config"
    helper = f"{STS_MFA} --state {shlex.quote(str(user.state))} assume --format process"
    profile = f"[profile mfa-role]\ncredential_process = {helper}\nregion = {user.sb.region}\n"
    config.write_text(f"{config.read_text()}\n{profile}")
    cli = run([AWS, "--profile", "mfa-role", "sts", "get-caller-identity", "--output", "json"], user.env)
    assert user.is_the_role(aws_identity(cli))
    sdk = run([sys.executable, "-c", WHO], {**user.env, "AWS_PROFILE": "mfa-role"})
    assert sdk.returncode == 0, sdk.stderr
    assert user.is_the_role(json.loads(sdk.stdout)["arn"])


def test_sts_mfa_itself_works_inside_an_exec_server_child(user: User) -> None:
    """The child's AWS files are /dev/null: an empty config, not a file to refuse."""

    def inside(*args: str) -> subprocess.CompletedProcess[str]:
        return user.sts_mfa("exec", "--server", "--", "sts-mfa", *args)

    status = inside("--state", str(user.state), "status", "--offline", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["setup_complete"] is True
    text = inside("--state", str(user.state), "assume", "--format", "text")  # Click's path, not the fast one
    assert text.returncode == 0, text.stderr
    assert f"/{user.role_name}" in text.stdout
    profile = inside("assume", "some-profile", "--format", "process")
    assert profile.returncode == 6, profile.stderr  # no such profile in an empty config
    assert "The config profile (some-profile) could not be found" in profile.stderr
    for done in (status, text, profile):
        assert "/dev/null" not in done.stderr and "Traceback" not in done.stderr
