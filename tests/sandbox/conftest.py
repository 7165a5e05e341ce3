"""Fixtures for the sandbox's own tests.

One Sandbox runs per test module (starting one is cheap, but resetting is cheaper):
the `aws` fixture resets it before every test, so each test starts from two
accounts with an admin identity and two sample buckets each, no faults, an empty
request log, and the fake clock back at `START`. Helpers: `tests/support/aws.py`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sts_mfa.sandbox import Sandbox
from tests.support.aws import ACCOUNT_1, ACCOUNT_2, Aws, sandbox_aws
from tests.support.clock import START, FakeClock


@pytest.fixture(scope="module")
def sandbox_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="module")
def running_sandbox(sandbox_clock: FakeClock) -> Iterator[Sandbox]:
    with Sandbox(clock=sandbox_clock, accounts=(ACCOUNT_1, ACCOUNT_2)) as sandbox:
        yield sandbox


@pytest.fixture
def aws(running_sandbox: Sandbox, sandbox_clock: FakeClock) -> Aws:
    running_sandbox.reset()
    sandbox_clock.t = START
    return sandbox_aws(running_sandbox, sandbox_clock)


@pytest.fixture
def sb(aws: Aws) -> Sandbox:
    assert aws.sandbox is not None
    return aws.sandbox
