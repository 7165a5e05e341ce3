"""The CLI's tests against the strict sandbox: the fixture family, and what the tool left there.

A pytest plugin (`pytest_plugins` in tests/conftest.py), so every test can ask for:

- `shared_clock` (module): the one FakeClock of the sandbox and of the CLI under test. The
  sandbox checks TOTP codes against it and the tool computes them from it, so a test
  moves time instead of waiting for a 30 s window;
- `running` (module): a Sandbox on that clock, with the sample buckets `reports` and `logs`;
- `sb`: that sandbox, reset, with the clock back at T0 and its admin identity in the environment;
- `srun`: a `Cli` on that clock with a state file of the test's own;
- `software`: `srun` after a successful `setup --software-token`.

(tests/sandbox/ has fixtures of its own for the sandbox's own tests: see its conftest.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pyotp
import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.fixtures.examples import ExampleFiles, ExampleIdentity, write_files
from sts_mfa.state.document import load
from tests.support.cli import Cli
from tests.support.clock import T0, FakeClock

# What `setup --software-token` changes in IAM, in order: one fault point before and
# one after each. A change here must be a deliberate one (the fault matrix follows it).
SETUP_MUTATIONS = [
    "CreateUser",
    "CreateAccessKey",
    "CreateVirtualMFADevice",
    "EnableMFADevice",
    "CreatePolicy",
    "CreateRole",
    "AttachRolePolicy",
    "PutUserPolicy",
]


@pytest.fixture(scope="module")
def shared_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def running(shared_clock: FakeClock) -> Iterator[Sandbox]:
    with Sandbox(clock=shared_clock, sample_buckets=("reports", "logs")) as sandbox:
        yield sandbox


@pytest.fixture
def sb(running: Sandbox, shared_clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A fresh sandbox (reset, clock back at T0) whose admin identity is in the environment."""
    running.reset()
    shared_clock.t = T0
    for name, value in running.env(0).items():
        monkeypatch.setenv(name, value)
    return running


@pytest.fixture
def srun(sb: Sandbox, shared_clock: FakeClock, tmp_path: Path) -> Cli:
    return Cli(state=tmp_path / "state.json", clock=shared_clock, app_kwargs={})


@pytest.fixture
def software(srun: Cli) -> Cli:
    result = srun("setup", "--software-token")
    assert result.exit_code == 0, result.output
    return srun


def admin(sb: Sandbox, service: str, index: int = 0) -> Any:
    """A boto3 client as the admin of the sandbox's account `index`."""
    env = sb.env(index)
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=sb.endpoint,
        region_name=sb.region,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def leftovers(sb: Sandbox, index: int = 0) -> dict[str, list[str]]:
    """Everything under the tool's IAM path, by kind: empty lists mean nothing leaked."""
    iam = admin(sb, "iam", index)
    return {
        "users": [u["UserName"] for u in iam.list_users(PathPrefix="/sts-mfa/")["Users"]],
        "roles": [r["RoleName"] for r in iam.list_roles(PathPrefix="/sts-mfa/")["Roles"]],
        "policies": [
            p["PolicyName"] for p in iam.list_policies(Scope="Local", PathPrefix="/sts-mfa/")["Policies"]
        ],
        "mfa_devices": [
            d["SerialNumber"]
            for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]
            if ":mfa/sts-mfa/" in d["SerialNumber"]
        ],
    }


NOTHING: dict[str, list[str]] = {"users": [], "roles": [], "policies": [], "mfa_devices": []}


def residue(sb: Sandbox, index: int = 0) -> dict[str, list[str]]:
    """What the tool may have leaked: `leftovers` plus keys and MFA devices of any tool-named user.

    Empty lists everywhere mean nothing is left; an access key or MFA device
    still attached to an `sts-mfa-*` user anywhere (any path) counts too.
    """
    iam = admin(sb, "iam", index)
    found = leftovers(sb, index)
    keys: list[str] = []
    devices: list[str] = []
    for user in iam.list_users()["Users"]:
        name = user["UserName"]
        if not name.startswith("sts-mfa-"):
            continue
        keys += [k["AccessKeyId"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]]
        devices += [d["SerialNumber"] for d in iam.list_mfa_devices(UserName=name)["MFADevices"]]
    for device in iam.list_virtual_mfa_devices()["VirtualMFADevices"]:
        serial = device["SerialNumber"]
        if serial.rpartition("/")[2].startswith("sts-mfa-") and serial not in found["mfa_devices"]:
            devices.append(serial)
    return {**found, "access_keys": keys, "user_mfa_devices": devices}


def is_clean(found: dict[str, list[str]]) -> bool:
    return not any(found.values())


def sandbox_names(found: dict[str, list[str]]) -> set[str]:
    """The resource names in what `leftovers` (or `residue`) found."""
    names = set(found["users"]) | set(found["roles"]) | set(found["policies"])
    return names | {serial.rpartition("/")[2] for serial in found["mfa_devices"]}


def mutations(sb: Sandbox) -> list[str]:
    """The mutating calls the sandbox answered, in order (by its own definition, `RequestRecord.mutating`)."""
    return [r.action for r in sb.requests if r.mutating]


def phone_codes(sb: Sandbox, cli: Cli) -> tuple[str, str]:
    """The two codes `setup --codes` wants for the device of `cli`'s unfinished phone setup.

    The sandbox hands out the device's seed (in-process only), standing in for the phone
    that scanned the QR code: the previous window's code and the current one.
    """
    state = load(cli.state)
    assert state and state.mfa_device and state.mfa_device.serial
    totp = pyotp.TOTP(sb.mfa_seed(state.mfa_device.serial))
    now = cli.clock.now()
    return totp.at(now - 30), totp.at(now)


def logging_phone(tmp_path: Path, seed: Path) -> tuple[Path, Path]:
    """An `mfa_process` that prints the device's current code and logs each use: (script, log).

    Tests count the lines of the log to know how many codes a run asked the "phone" for.
    """
    import shlex
    import sys

    log = tmp_path / "phone.log"
    phone = tmp_path / "phone.sh"
    phone.write_text(
        "#!/bin/sh\n"
        f"echo code >> {shlex.quote(str(log))}\n"
        f"exec {shlex.quote(sys.executable)} -m sts_mfa.sandbox.totp_code {shlex.quote(str(seed))}\n"
    )
    phone.chmod(0o700)
    return phone, log


@dataclass(frozen=True)
class PhoneProfiles:
    """`sandbox serve --example-profiles`' files for an identity, its `mfa_process` a logging phone."""

    files: ExampleFiles
    env: dict[str, str]  # for the installed sts-mfa: these files, a private home and cache, nothing else
    phone_log: Path  # a line per code the phone gave

    def codes_given(self) -> int:
        return len(self.phone_log.read_text().splitlines()) if self.phone_log.exists() else 0


def phone_profiles(
    sb: Sandbox, identity: ExampleIdentity, tmp: Path, extra_config: str = ""
) -> PhoneProfiles:
    """The example profiles of `identity` in `tmp/aws` (plus `extra_config`), with `logging_phone` codes."""
    import os
    import sys

    from tests.support.env import subprocess_env
    from tests.support.processes import BIN

    files = ExampleFiles.in_directory(tmp / "aws")
    write_files(files, identity, endpoint=sb.endpoint, region=sb.region, merge=False)
    phone, log = logging_phone(tmp, files.seed)
    printing = f"mfa_process = {sys.executable} -m sts_mfa.sandbox.totp_code {files.seed}"
    text = files.config.read_text()
    assert text.count(printing) == 2, text
    files.config.write_text(text.replace(printing, f"mfa_process = {phone}") + extra_config)
    home = tmp / "home"
    home.mkdir()
    env = subprocess_env(
        home,
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        AWS_CONFIG_FILE=str(files.config),
        AWS_SHARED_CREDENTIALS_FILE=str(files.credentials),
    )
    return PhoneProfiles(files, env, log)
