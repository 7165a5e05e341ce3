"""Shared fixtures: a fake clock, a clean AWS environment, and a CLI runner.

Every test runs with fake AWS credentials and no profile, config file or
endpoint from the machine, so nothing can reach a real account.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sts_mfa.cli import cli
from sts_mfa.cli.app import App
from sts_mfa.state import AccessKey, InlinePolicy, MfaDevice, Resource, Session, State

pytest_plugins = ["tests.sandbox_fixtures"]

# A moment 5 s into a 30 s TOTP window, near the real time (moto stamps session
# expirations from the real clock, so a fake clock far from it would see them expired).
T0 = (time.time() // 30) * 30 + 5.0


class FakeClock:
    """A clock tests move by hand; `sleep` advances it instantly."""

    def __init__(self, start: float = T0) -> None:
        self.t = start
        self.slept = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.t += seconds
            self.slept += seconds

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def __call__(self) -> float:  # usable where a plain `() -> float` is wanted
        return self.t


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fake credentials set before any client exists; nothing from the machine leaks in."""
    home = tmp_path_factory.mktemp("home")
    for var in list(os.environ):
        if var.startswith(("AWS_", "STS_MFA_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "dumb")


@dataclass
class Cli:
    """Runs `sts-mfa` in-process with an injected App (clock, endpoint, keys)."""

    state: Path
    clock: FakeClock
    app_kwargs: dict[str, Any]

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        app = App(clock=self.clock, **self.app_kwargs)
        runner = CliRunner()
        return runner.invoke(
            cli,
            ["--state", str(self.state), *args],
            obj=app,
            input=input,
            env=env,
            catch_exceptions=False,
        )

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def run(tmp_path: Path, clock: FakeClock) -> Cli:
    return Cli(state=tmp_path / "state.json", clock=clock, app_kwargs={})


def isolated_env(home: Path | None = None, **extra: str) -> dict[str, str]:
    """This machine's environment minus every AWS/sts-mfa setting, for a subprocess.

    With `home`, no real AWS config or credentials file can be read either.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STS_MFA_", "_STS_MFA_"))}
    if home is not None:
        env.update(
            HOME=str(home),
            AWS_CONFIG_FILE=str(home / "no-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "no-credentials"),
            AWS_EC2_METADATA_DISABLED="true",
        )
    env.update(NO_COLOR="1", **extra)
    return env


def complete_state(
    now: float,
    *,
    prefix: str = "sts-mfa-0a1b2c3d",
    account: str = "111111111111",
    session: Session | None = None,
) -> State:
    """A finished phone-mode setup made at `now` (with `session` cached, if given).

    Phone mode: with no software token, nothing can be renewed silently, so a
    test that gets credentials from it proves they came from the cache.
    """
    arn = f"arn:aws:iam::{account}"
    return State(
        prefix=prefix,
        iam_path="/sts-mfa/",
        mode="phone",
        region="us-east-1",
        account=account,
        role_account=account,
        created_at=now,
        user=Resource(f"{prefix}-user", f"{arn}:user/sts-mfa/{prefix}-user", now),
        mfa_device=MfaDevice(f"{prefix}-device", f"{arn}:mfa/sts-mfa/{prefix}-device", True, now),
        access_key=AccessKey("AKIAEXAMPLEUSERKEY", "user-secret", now),
        policy=Resource(f"{prefix}-list-buckets", f"{arn}:policy/sts-mfa/{prefix}-list-buckets", now),
        role=Resource(f"{prefix}-role", role_arn(prefix, account), now),
        policy_attached=True,
        user_policy=InlinePolicy(f"{prefix}-assume-role", True, now),
        session=session,
    )


def role_arn(prefix: str = "sts-mfa-0a1b2c3d", account: str = "111111111111") -> str:
    return f"arn:aws:iam::{account}:role/sts-mfa/{prefix}-role"


def no_traceback(result: Result) -> bool:
    return "Traceback" not in result.output and "Traceback" not in (result.stderr or "")


def make_run(state: Path, clock: FakeClock, **app_kwargs: Any) -> Cli:
    return Cli(state=state, clock=clock, app_kwargs=app_kwargs)


Factory = Callable[..., Cli]


@pytest.fixture
def fresh_runner() -> Iterator[Factory]:
    yield make_run
