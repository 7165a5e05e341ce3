"""`sts-mfa sandbox serve --background --example-profiles DIR`, as a person would use it.

The server runs as a subprocess on the real clock (it is what a person starts), with
an environment holding none of this machine's AWS settings, and is killed through
the exported STS_MFA_SANDBOX_PID. Then the real AWS CLI and boto3 use the files it
wrote: alice's own profile, and the role profiles whose trust needs MFA, with the
code from their `mfa_process` command.

Plain moto has no MFA to speak of: there, AssumeRole on those roles succeeds
without any code (`test_plain_moto_would_let_the_role_in_without_mfa`).
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.env import subprocess_env

BIN = Path(sys.executable).parent
ACCOUNT = "111111111111"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})

pytestmark = [pytest.mark.sandbox, pytest.mark.e2e]


# --- small local helpers ------------------------------------------------------------------------


def exports_of(stdout: str) -> dict[str, str]:
    values = {}
    for line in stdout.splitlines():
        if line.startswith("export "):
            name, _, value = shlex.split(line)[1].partition("=")
            values[name] = value
    return values


def stop(pid: int) -> None:
    """SIGTERM the background server, then wait until it is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


@dataclass
class Served:
    directory: Path
    exports: dict[str, str]
    stderr: str
    home: Path

    @property
    def env(self) -> dict[str, str]:
        """What `eval "$(sts-mfa sandbox serve ...)"` leaves a shell with."""
        return subprocess_env(self.home, **self.exports)

    def profile(self, name: str) -> dict[str, str]:
        parser = configparser.RawConfigParser()
        parser.read(self.directory / "config")
        return dict(parser.items(f"profile {name}"))

    def keys(self, name: str) -> dict[str, str]:
        parser = configparser.RawConfigParser()
        parser.read(self.directory / "credentials")
        return dict(parser.items(name))

    def client(self, service: str, key: str, secret: str, token: str | None = None) -> Any:
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.exports["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=NO_RETRIES,
        )

    def alice(self, service: str) -> Any:
        keys = self.keys("sandbox-alice")
        return self.client(service, keys["aws_access_key_id"], keys["aws_secret_access_key"])


def serve(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sts_mfa", "sandbox", "serve", "--background", *args],
        env=subprocess_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Starts `serve --background --example-profiles DIR ...`; kills every server it started."""
    pids: list[int] = []
    home = tmp_path / "home"
    home.mkdir()

    def started(directory: Path, *args: str) -> Served:
        result = serve(home, "--example-profiles", str(directory), *args)
        assert result.returncode == 0, result.stderr
        exports = exports_of(result.stdout)
        pids.append(int(exports["STS_MFA_SANDBOX_PID"]))
        return Served(directory, exports, result.stderr, home)

    yield started
    for pid in pids:
        stop(pid)


def aws_cli(served: Served, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real AWS CLI in the exported environment; no terminal, so an MFA prompt reads stdin."""
    return subprocess.run(
        [str(BIN / "aws"), *args, "--output", "json"],
        env=served.env,
        input=stdin or "",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,  # no controlling terminal: getpass falls back to stdin
    )


def mfa_code(served: Served, profile: str) -> str:
    result = subprocess.run(
        shlex.split(served.profile(profile)["mfa_process"]),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the files ---------------------------------------------------------------------------------------


def test_the_files_their_modes_and_the_exports(start: Callable[..., Served], tmp_path: Path) -> None:
    directory = tmp_path / "new" / "aws"
    served = start(directory, "--session-seconds", "120")

    assert served.exports["AWS_CONFIG_FILE"] == str(directory / "config")
    assert served.exports["AWS_SHARED_CREDENTIALS_FILE"] == str(directory / "credentials")
    assert mode(directory) == 0o700
    for name in ("config", "credentials", "alice.seed"):
        assert mode(directory / name) == 0o600, name
    endpoint = served.exports["AWS_ENDPOINT_URL"]
    assert served.profile("sandbox-alice") == {"region": "us-east-1", "endpoint_url": endpoint}
    for profile, role in (("sandbox-admin", "Admin"), ("sandbox-readonly", "ReadOnly")):
        values = served.profile(profile)
        assert values["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/{role}"
        assert values["source_profile"] == "sandbox-alice"
        assert values["mfa_serial"] == f"arn:aws:iam::{ACCOUNT}:mfa/alice"
        assert values["region"] == "us-east-1"
        assert shlex.split(values["mfa_process"]) == [
            sys.executable,
            "-m",
            "sts_mfa.sandbox.totp_code",
            str(directory / "alice.seed"),
        ]
    assert set(served.keys("sandbox-alice")) == {"aws_access_key_id", "aws_secret_access_key"}
    assert "aws --profile sandbox-readonly sts get-caller-identity" in served.stderr
    assert "sts-mfa assume sandbox-readonly" in served.stderr
    # --session-seconds reached the server (its control API says so)
    with urllib.request.urlopen(f"{endpoint}/_sandbox/faults", timeout=10) as answer:  # noqa: S310
        assert json.loads(answer.read())["session_seconds"] == 120


def test_the_aws_cli_is_alice_with_her_profile(start: Callable[..., Served], tmp_path: Path) -> None:
    served = start(tmp_path / "aws")

    result = aws_cli(served, "--profile", "sandbox-alice", "sts", "get-caller-identity")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Arn"] == ALICE


def test_the_role_needs_mfa_and_the_mfa_process_code_gets_in(
    start: Callable[..., Served], tmp_path: Path
) -> None:
    served = start(tmp_path / "aws")
    sts = served.alice("sts")
    readonly = served.profile("sandbox-readonly")

    with pytest.raises(ClientError) as refused:
        sts.assume_role(RoleArn=readonly["role_arn"], RoleSessionName="no-mfa")
    code = mfa_code(served, "sandbox-readonly")
    credentials = sts.assume_role(
        RoleArn=readonly["role_arn"],
        RoleSessionName="with-mfa",
        SerialNumber=readonly["mfa_serial"],
        TokenCode=code,
    )["Credentials"]

    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert len(code) == 6 and code.isdigit()
    s3 = served.client(
        "s3", credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )
    assert s3.list_buckets()["Buckets"]  # ReadOnly may list buckets
    with pytest.raises(ClientError):
        s3.create_bucket(Bucket="not-allowed")  # and nothing more
    with pytest.raises(ClientError) as replayed:  # the code is spent
        sts.assume_role(
            RoleArn=served.profile("sandbox-admin")["role_arn"],
            RoleSessionName="again",
            SerialNumber=readonly["mfa_serial"],
            TokenCode=code,
        )
    assert "invalid MFA one time pass code" in replayed.value.response["Error"]["Message"]


def test_the_aws_cli_assumes_the_role_with_the_code_it_asks_for(
    start: Callable[..., Served], tmp_path: Path
) -> None:
    served = start(tmp_path / "aws")

    result = aws_cli(
        served,
        "--profile",
        "sandbox-admin",
        "sts",
        "get-caller-identity",
        stdin=mfa_code(served, "sandbox-admin"),
    )

    assert result.returncode == 0, result.stderr
    assert ":assumed-role/Admin/" in json.loads(result.stdout)["Arn"]


def test_sts_mfa_assume_uses_the_role_profile_and_its_mfa_process(
    start: Callable[..., Served], tmp_path: Path
) -> None:
    """The hint's other half: the tool reads the profile, runs mfa_process, gets the role."""
    served = start(tmp_path / "aws")

    result = subprocess.run(
        [sys.executable, "-m", "sts_mfa", "assume", "sandbox-readonly", "--format", "json"],
        env=served.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    credentials = json.loads(result.stdout)
    s3 = served.client(
        "s3", credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )
    assert s3.list_buckets()["Buckets"]


def test_alice_may_get_a_session_token_and_assume_with_it(
    start: Callable[..., Served], tmp_path: Path
) -> None:
    served = start(tmp_path / "aws")
    readonly = served.profile("sandbox-readonly")
    token = served.alice("sts").get_session_token(
        SerialNumber=readonly["mfa_serial"], TokenCode=mfa_code(served, "sandbox-readonly")
    )["Credentials"]
    sts = served.client("sts", token["AccessKeyId"], token["SecretAccessKey"], token["SessionToken"])

    assert sts.get_caller_identity()["Arn"] == ALICE
    assert sts.assume_role(RoleArn=readonly["role_arn"], RoleSessionName="no-code-needed")["Credentials"]


# --- never overwrite; merge keeps every other byte ---------------------------------------------------


@pytest.mark.parametrize("existing", ["config", "credentials", "alice.seed"])
def test_an_existing_file_is_refused_without_merge(tmp_path: Path, existing: str) -> None:
    home, directory = tmp_path / "home", tmp_path / "aws"
    home.mkdir()
    directory.mkdir(mode=0o700)
    (directory / existing).write_text("[default]\nregion = eu-west-1\n")
    (directory / existing).chmod(0o600)
    before = (directory / existing).read_bytes()

    result = serve(home, "--example-profiles", str(directory))

    assert result.returncode == 2, result.stderr
    assert "already exists" in result.stderr and "--merge" in result.stderr
    assert "STS_MFA_SANDBOX_PID" not in result.stdout  # nothing was started
    assert (directory / existing).read_bytes() == before
    assert sorted(p.name for p in directory.iterdir()) == [existing]


def test_merge_keeps_every_other_byte(start: Callable[..., Served], tmp_path: Path) -> None:
    directory = tmp_path / "aws"
    directory.mkdir(mode=0o755)
    config = (
        "# my settings\n[default]\nregion = eu-west-1\n\n[profile prod]  ; careful\nregion=eu-central-1\n"
    )
    credentials = "[default]\naws_access_key_id = AKIAMINE\naws_secret_access_key = mine\n"
    (directory / "config").write_text(config)
    (directory / "credentials").write_text(credentials)
    for name in ("config", "credentials"):
        (directory / name).chmod(0o600)

    first = start(directory, "--merge")
    merged = (directory / "config").read_text()
    assert merged.startswith(config) and "[profile sandbox-readonly]" in merged
    assert (directory / "credentials").read_text().startswith(credentials)
    assert first.profile("prod") == {"region": "eu-central-1"}
    assert mode(directory) == 0o755  # an existing DIR is left as it is

    # A user adds a profile after the sandbox's; a second merge replaces the sandbox's in place.
    (directory / "config").write_text(merged + "\n[profile later]\nregion = ap-south-1\n")
    second = start(directory, "--merge")
    again = (directory / "config").read_text()
    assert again.startswith(config) and again.endswith("\n[profile later]\nregion = ap-south-1\n")
    assert second.profile("sandbox-alice")["endpoint_url"] == second.exports["AWS_ENDPOINT_URL"]
    assert again.count("[profile sandbox-alice]") == 1
    assert mode(directory / "config") == 0o600


# --- the seed file and its command ---------------------------------------------------------------------


def _totp_code(seed_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sts_mfa.sandbox.totp_code", str(seed_file)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_code_command_refuses_a_seed_file_that_is_not_private(tmp_path: Path) -> None:
    seed = tmp_path / "alice.seed"
    seed.write_text("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n")
    seed.chmod(0o600)
    link = tmp_path / "link.seed"
    link.symlink_to(seed)

    ok = _totp_code(seed)
    seed.chmod(0o644)
    shared = _totp_code(seed)
    linked = _totp_code(link)
    missing = _totp_code(tmp_path / "none.seed")

    assert ok.returncode == 0 and len(ok.stdout.strip()) == 6 and ok.stdout.strip().isdigit()
    assert shared.returncode == 1 and "accessible by other users" in shared.stderr
    assert linked.returncode == 1 and "symbolic link" in linked.stderr
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    assert "" == shared.stdout == linked.stdout == missing.stdout


# --- for contrast: plain moto ----------------------------------------------------------------------------


def test_plain_moto_would_let_the_role_in_without_mfa() -> None:
    """The same roles in plain moto (mock_aws): AssumeRole without a code succeeds."""
    from moto import mock_aws

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ],
    }
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="ReadOnly", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        sts = boto3.client("sts", region_name="us-east-1")
        assert sts.assume_role(RoleArn=role, RoleSessionName="no-mfa")["Credentials"]
