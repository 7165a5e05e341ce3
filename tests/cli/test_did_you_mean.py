"""A run that meant something else is told what it meant: a role profile in --profile, a mistyped command.

`--profile prod` and `AWS_PROFILE=prod` name the credentials setup and teardown use;
`sts-mfa --profile prod assume` therefore looks for the state file and finds none. When
the profile is an MFA role profile of the AWS config (role_arn and mfa_serial), the
error says the command that was meant. Click itself suggests nothing for a mistyped
command; sts-mfa offers the closest one. In-process, except the FIFO case, which runs
the console script so that a hang is a timeout, not a stuck test.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import Cli, assert_one_error_line
from tests.support.env import subprocess_env
from tests.support.processes import sts_mfa

ROLE = (
    "role_arn = arn:aws:iam::222222222222:role/Admin\nsource_profile = keys\n"
    "mfa_serial = arn:aws:iam::111111111111:mfa/alice\n"
)


@pytest.fixture
def config() -> Path:
    """The AWS config the autouse environment names: a key profile and two MFA role profiles."""
    path = Path(os.environ["AWS_CONFIG_FILE"])
    path.write_text(f'[profile keys]\nregion = us-east-1\n\n[profile prod]\n{ROLE}\n[profile "a b"]\n{ROLE}')
    return path


@pytest.mark.parametrize(
    ("args", "meant"),
    [
        (["--profile", "prod", "assume"], "sts-mfa assume prod"),
        (["--profile", "prod", "assume", "--format", "process"], "sts-mfa assume prod"),
        (["--profile", "prod", "list-buckets"], "sts-mfa list-buckets prod"),
        (["--profile", "prod", "check-deny"], "sts-mfa check-deny prod"),
        (["--profile", "prod", "console", "--print"], "sts-mfa console prod"),
        (["--profile", "prod", "exec", "--", "aws", "s3", "ls"], "sts-mfa exec prod -- aws s3 ls"),
        (["--profile", "a b", "assume"], "sts-mfa assume 'a b'"),
    ],
    ids=["assume", "assume-process", "list-buckets", "check-deny", "console", "exec", "quoted"],
)
def test_a_role_profile_in_profile_is_answered_with_the_command_meant(
    run: Cli, config: Path, args: list[str], meant: str
) -> None:
    line = assert_one_error_line(run(*args), 4)
    assert "no state file at" in line
    assert f"did you mean `{meant}`" in line


def test_a_role_profile_in_aws_profile_is_answered_the_same_way(run: Cli, config: Path) -> None:
    line = assert_one_error_line(run("assume", env={"AWS_PROFILE": "prod"}), 4)
    assert "did you mean `sts-mfa assume prod`" in line


@pytest.mark.parametrize(
    "args",
    [
        ["--profile", "keys", "assume"],  # a profile of keys: the admin side, as --profile is meant
        ["--profile", "nope", "assume"],  # no such profile
        ["assume"],  # no profile at all
    ],
    ids=["keys-profile", "unknown-profile", "no-profile"],
)
def test_otherwise_the_missing_state_file_is_said_as_before(run: Cli, config: Path, args: list[str]) -> None:
    line = assert_one_error_line(run(*args), 4)
    assert "no state file at" in line and "did you mean" not in line
    assert "run `sts-mfa setup` first" in line


def test_a_command_that_takes_no_profile_suggests_none(run: Cli, config: Path) -> None:
    """teardown has no PROFILE: --profile prod is its admin side, whatever that profile is."""
    result = run("--profile", "prod", "teardown")
    assert result.exit_code == 0, result.output
    assert "did you mean" not in result.output


def test_a_hostile_config_file_only_loses_the_hint(tmp_path: Path) -> None:
    """A FIFO as the AWS config: the no-state error is said at once, without the hint."""
    fifo = tmp_path / "config"
    os.mkfifo(fifo)
    env = subprocess_env(tmp_path, AWS_CONFIG_FILE=str(fifo), AWS_PROFILE="prod")
    started = time.monotonic()
    try:
        done = sts_mfa(env, "--state", str(tmp_path / "state.json"), "assume", timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("sts-mfa hung opening a FIFO named by AWS_CONFIG_FILE")
    assert done.returncode == 4, done.stderr
    assert "no state file at" in done.stderr and "did you mean" not in done.stderr
    assert time.monotonic() - started < 20


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("asume", "assume"), ("chek-deny", "check-deny"), ("teardwn", "teardown"), ("stauts", "status")],
)
def test_a_mistyped_command_suggests_the_closest(run: Cli, typed: str, meant: str) -> None:
    result = run(typed)
    assert result.exit_code == 2, result.output
    assert f"Error: No such command '{typed}'. Did you mean '{meant}'?" in result.stderr


def test_a_command_like_none_suggests_nothing(run: Cli) -> None:
    result = run("frobnicate")
    assert result.exit_code == 2, result.output
    assert "Error: No such command 'frobnicate'." in result.stderr
    assert "Did you mean" not in result.stderr
