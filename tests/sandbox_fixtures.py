"""A Sandbox per test module, sharing one fake clock with the CLI under test.

The sandbox checks TOTP codes against that clock and the tool computes them
from it, so a test moves time instead of waiting for a 30 s window.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sts_mfa.sandbox import Sandbox
from tests.conftest import T0, Cli, FakeClock


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


def admin(sb: Sandbox, service: str, index: int = 0) -> Any:
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


NOTHING = {"users": [], "roles": [], "policies": [], "mfa_devices": []}
