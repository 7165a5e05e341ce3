"""Fixtures every test can use: a fake clock, a clean AWS environment, and a CLI runner.

Every test runs with fake AWS credentials and no profile, config file or
endpoint from the machine, so nothing can reach a real account. The sandbox
fixtures (`shared_clock`, `running`, `sb`, `srun`, `software`) come from the
`tests.support.sandbox` plugin; `tests.support.user_cache` fails any test that touches the real
user's sts-mfa cache. Helpers live in tests/support/ (see its README.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import Cli
from tests.support.clock import FakeClock
from tests.support.env import fake_credentials, scrub_environ

pytest_plugins = ["tests.support.sandbox", "tests.support.user_cache"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fake credentials set before any client exists; nothing from the machine leaks in."""
    scrub_environ(monkeypatch, fake_credentials(tmp_path_factory.mktemp("home")))


@pytest.fixture
def run(tmp_path: Path, clock: FakeClock) -> Cli:
    return Cli(state=tmp_path / "state.json", clock=clock, app_kwargs={})
