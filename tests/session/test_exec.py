"""`sts-mfa exec -- CMD`: run a program as the role, and only as the role.

Against a strict `Sandbox` on the real clock, the installed console script runs
`exec`. The caller's environment carries the admin side on purpose (a profile
name and admin keys, as an administrator's shell does): the child must see none
of it, only the role session. The first exec assumes the role; the rest reuse
the cached session.

The software-token setup runs in-process (the same `cli`, through Click's runner,
in that same administrator's environment) on a clock 28 s behind real time, so
the codes that enable the device belong to the previous 30 s TOTP window (the
sandbox, like AWS, accepts one step of drift either side) and the first exec,
on the real clock, can use the current window at once instead of waiting for
the next one. (In the last 2 s of a window the enable codes are the current
window's, and the first exec waits for the next, less than 2 s away.)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sts_mfa.sandbox import Sandbox
from tests.support.cli import setup_behind
from tests.support.env import subprocess_env
from tests.support.processes import BIN, sts_mfa

pytestmark = [pytest.mark.e2e]

AWS = shutil.which("aws")
ACCOUNT = "111111111111"

# Prints the child's environment as JSON: what `exec` handed over.
PRINT_ENV = "import json, os; print(json.dumps(dict(os.environ)))"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(sample_buckets=("reports", "logs")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exec")


@pytest.fixture(scope="module")
def admin_env(sb: Sandbox, home: Path) -> dict[str, str]:
    """An administrator's shell: admin keys in the environment, an admin profile selected."""
    env = subprocess_env(home)
    admin = sb.env(0)
    credentials = home / "credentials"
    credentials.write_text(
        "[admin]\n"
        f"aws_access_key_id = {admin['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {admin['AWS_SECRET_ACCESS_KEY']}\n"
    )
    credentials.chmod(0o600)
    config = home / "config"
    config.write_text("[profile admin]\nregion = us-east-1\n")
    env.update(
        admin,
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        AWS_PROFILE="admin",
        AWS_DEFAULT_PROFILE="admin",
        STS_MFA_STATE=str(home / "state.json"),
    )
    return env


@pytest.fixture(scope="module")
def role_arn(admin_env: dict[str, str]) -> str:
    """`sts-mfa setup --software-token --json`, once for the module, in-process on a clock behind real time.

    The environment is exactly the administrator's (`admin_env`): every AWS/sts-mfa
    variable of this process is removed for the run and those of `admin_env` set.
    """
    state = Path(admin_env["STS_MFA_STATE"])
    out = setup_behind(state, admin_env)
    assert json.loads(state.read_text())["session"] is None
    return str(out["role_arn"])


@pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed (pip install awscli)")
def test_the_aws_cli_under_exec_is_the_assumed_role(
    sb: Sandbox, admin_env: dict[str, str], role_arn: str
) -> None:
    """`sts-mfa exec -- aws sts get-caller-identity` prints the role session's identity, not the admin's.

    The first run assumes the role (the cache is empty after setup); a second run
    reuses the cached session: one AssumeRole for both.
    """
    before = sb.count("AssumeRole", status=200)
    role_name = role_arn.rsplit("/", 1)[-1]
    for _ in range(2):
        result = sts_mfa(admin_env, "exec", "--", "aws", "sts", "get-caller-identity")
        assert result.returncode == 0, result.stderr
        arn = json.loads(result.stdout)["Arn"]
        assert arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/"), arn
    assert sb.count("AssumeRole", status=200) == before + 1


def test_the_child_sees_the_session_and_nothing_of_the_admin_side(
    admin_env: dict[str, str], role_arn: str
) -> None:
    """No AWS_PROFILE/AWS_DEFAULT_PROFILE, no admin keys: only the session, its endpoint and region.

    Secrets are compared, never printed.
    """
    result = sts_mfa(admin_env, "exec", "--", sys.executable, "-c", PRINT_ENV)
    assert result.returncode == 0, result.stderr
    child = json.loads(result.stdout)
    assert "AWS_PROFILE" not in child
    assert "AWS_DEFAULT_PROFILE" not in child
    assert child["AWS_ACCESS_KEY_ID"].startswith("ASIA"), "a role session key, not a long-term one"
    assert child["AWS_ACCESS_KEY_ID"] != admin_env["AWS_ACCESS_KEY_ID"]
    admin_secret_leaked = admin_env["AWS_SECRET_ACCESS_KEY"] in child.values()
    assert not admin_secret_leaked, "the admin secret key reached the child"
    user_secret = json.loads(Path(admin_env["STS_MFA_STATE"]).read_text())["access_key"]["secret_access_key"]
    user_secret_leaked = user_secret in child.values()
    assert not user_secret_leaked, "the MFA user's long-term secret reached the child"
    assert child["AWS_SESSION_TOKEN"], "a role session has a token"
    assert child["AWS_CREDENTIAL_EXPIRATION"].endswith("Z")
    assert child["AWS_ENDPOINT_URL"] == admin_env["AWS_ENDPOINT_URL"], (
        "the session only works where it was made"
    )
    assert child["AWS_REGION"] == "us-east-1"
    assert child["PATH"] == admin_env["PATH"], "the rest of the environment is passed on untouched"


def test_the_child_environment_matches_env_export_lines(admin_env: dict[str, str], role_arn: str) -> None:
    """`exec` hands over the same session that `assume --format env` exports (one cache, one session)."""
    exported = sts_mfa(admin_env, "assume", "--format", "env")
    assert exported.returncode == 0, exported.stderr
    keys = dict(line.removeprefix("export ").split("=", 1) for line in exported.stdout.splitlines())
    child = json.loads(sts_mfa(admin_env, "exec", "--", sys.executable, "-c", PRINT_ENV).stdout)
    assert keys["AWS_ACCESS_KEY_ID"] == child["AWS_ACCESS_KEY_ID"]
    same_token = keys["AWS_SESSION_TOKEN"].strip("'") == child["AWS_SESSION_TOKEN"]
    assert same_token, "exec and assume --format env disagree on the session token"


def test_the_exit_code_of_the_command_passes_through(admin_env: dict[str, str], role_arn: str) -> None:
    """`exec -- sh -c 'exit 7'` exits 7; a successful command exits 0."""
    result = sts_mfa(admin_env, "exec", "--", "sh", "-c", "exit 7")
    assert result.returncode == 7, result.stderr
    assert sts_mfa(admin_env, "exec", "--", "true").returncode == 0


def test_stdin_and_stdout_belong_to_the_command(admin_env: dict[str, str], role_arn: str) -> None:
    """The command reads our stdin and writes our stdout directly (exec replaces the process)."""
    result = sts_mfa(admin_env, "exec", "--", "cat", input="piped through\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "piped through\n"


def test_options_after_the_command_belong_to_the_command(admin_env: dict[str, str], role_arn: str) -> None:
    """`exec -- sh -c 'echo "$@"' x --help --json` runs sh with those options; sts-mfa does not read them."""
    result = sts_mfa(admin_env, "exec", "--", "sh", "-c", 'echo "$@"', "x", "--help", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "--help --json\n"


def test_a_missing_command_exits_127_with_one_line(admin_env: dict[str, str], role_arn: str) -> None:
    """A command that cannot be found: exit 127 (as a shell does) and one line on stderr, no traceback."""
    result = sts_mfa(admin_env, "exec", "--", "no-such-command-sts-mfa-test", "arg")
    assert result.returncode == 127, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "no-such-command-sts-mfa-test" in lines[0]
    assert result.stdout == ""


def test_a_command_that_is_not_executable_exits_126(
    admin_env: dict[str, str], role_arn: str, tmp_path: Path
) -> None:
    """A file that exists but may not be executed: 126 (as a shell does), one line."""
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\necho ran\n")
    script.chmod(0o644)
    result = sts_mfa(admin_env, "exec", "--", str(script))
    assert result.returncode == 126, result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr


def test_exec_without_a_command_is_a_usage_error(admin_env: dict[str, str], role_arn: str) -> None:
    """`sts-mfa exec` alone is Click's usage error (exit 2), before any AWS work."""
    result = sts_mfa(admin_env, "exec")
    assert result.returncode == 2, result.stderr
    assert "Usage:" in result.stderr


def test_credential_sources_that_are_not_aws_variables_are_removed_too(
    admin_env: dict[str, str], role_arn: str
) -> None:
    """Old tools' credential files, boto's config and Java system properties in the JVM's option
    variables would each let the command act as someone else: removed; the JVM's other options kept."""
    env = {
        **admin_env,
        "AWS_CREDENTIAL_FILE": "/elsewhere/aws-credential-file",
        "AWS_CREDENTIAL_PROFILES_FILE": "/elsewhere/java-v1-credentials",
        "BOTO_CONFIG": "/elsewhere/boto.cfg",
        "BOTO_PATH": "/elsewhere/boto-path.cfg",
        "JAVA_TOOL_OPTIONS": "-Xmx1g -Daws.accessKeyId=AKIAOTHER -Dapp.title='a b' -Daws.secretKey=s3cr3t",
        "JDK_JAVA_OPTIONS": '-Daws.profile=admin -Daws.region=eu-west-1 "-Daws.sessionToken=t k"',
        "_JAVA_OPTIONS": "-Daws.secretAccessKey=s3cr3t -Daws.containerCredentialsFullUri=http://127.0.0.1:9/",
    }
    result = sts_mfa(env, "exec", "--", sys.executable, "-c", PRINT_ENV)
    assert result.returncode == 0, result.stderr
    child = json.loads(result.stdout)
    gone = {"AWS_CREDENTIAL_FILE", "AWS_CREDENTIAL_PROFILES_FILE", "BOTO_CONFIG", "BOTO_PATH"}
    assert not (gone | {"_JAVA_OPTIONS"}) & set(child), sorted(child)
    assert child["JAVA_TOOL_OPTIONS"] == "-Xmx1g -Dapp.title='a b'"
    assert child["JDK_JAVA_OPTIONS"] == "-Daws.region=eu-west-1"
