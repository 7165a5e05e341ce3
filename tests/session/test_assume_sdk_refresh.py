"""`assume --format process` hands out sessions an SDK that refreshes them can use.

botocore (`RefreshableCredentials`) fetches process credentials again when they have less
than 15 minutes left, calling the process on every API call meanwhile, and must at 10
minutes (a failed fetch then fails the call). So a cached session goes to
`credential_process` only with more than 10 minutes and a margin left, and inside the 15
minutes it is renewed when a fresh one would end outside them. On the sandbox's fake clock
(a software-token setup, or a phone setup that cannot renew); `--refresh-margin` keeps its
meaning for the other formats.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sts_mfa.cli import cached_answer
from sts_mfa.sandbox import Sandbox
from sts_mfa.session.handoff import SDK_ADVISORY_SECONDS, SDK_FLOOR_SECONDS
from sts_mfa.state.document import write_atomic
from sts_mfa.state.model import Session
from tests.support.cli import Cli
from tests.support.clock import FakeClock
from tests.support.state import complete_state, role_arn, signed

pytestmark = [pytest.mark.sandbox]

ACCOUNT = "111111111111"


def process(cli: Cli, *args: str) -> dict[str, str]:
    result = cli("assume", "--format", "process", *args)
    assert result.exit_code == 0, result.output
    doc: dict[str, str] = json.loads(result.stdout)
    return doc


def left(cli: Cli, doc: dict[str, str]) -> float:
    from datetime import datetime

    return datetime.fromisoformat(doc["Expiration"].replace("Z", "+00:00")).timestamp() - cli.clock.now()


def to_left(cli: Cli, doc: dict[str, str], seconds: float) -> None:
    """Move the clock on until the session `doc` has `seconds` left."""
    cli.clock.advance(left(cli, doc) - seconds)


def test_an_hour_session_is_served_until_the_sdk_window_then_renewed(software: Cli, sb: Sandbox) -> None:
    first = process(software)
    assert first["AccountId"] == ACCOUNT  # the assumed role's account, as botocore reads it
    to_left(software, first, SDK_ADVISORY_SECONDS + 1)
    before = sb.count("AssumeRole", 200)
    assert process(software)["AccessKeyId"] == first["AccessKeyId"]
    software.clock.advance(2)  # inside the SDK's 15 minutes: a fresh session would be outside them
    json_doc = json.loads(software("assume", "--format", "json").stdout)
    assert json_doc["AccessKeyId"] == first["AccessKeyId"]  # --refresh-margin (300 s) for the others
    renewed = process(software)
    assert renewed["AccessKeyId"] != first["AccessKeyId"]
    assert sb.count("AssumeRole", 200) == before + 1
    assert left(software, renewed) > 3000


def test_a_1000_second_session_is_served_while_fresh_and_renewed_inside_the_window(software: Cli) -> None:
    first = process(software, "--force", "--duration", "1000")
    software.clock.advance(50)
    assert process(software)["AccessKeyId"] == first["AccessKeyId"]
    software.clock.advance(60)  # 890 s left
    assert process(software)["AccessKeyId"] != first["AccessKeyId"]


def test_a_900_second_session_is_not_renewed_on_every_call_nor_handed_out_near_its_end(
    software: Cli, sb: Sandbox
) -> None:
    """A fresh one would be inside the SDK's window at once: renewing it there buys nothing."""
    first = process(software, "--force", "--duration", "900")
    before = sb.count("AssumeRole", 200)
    for _ in range(5):
        software.clock.advance(40)
        assert process(software)["AccessKeyId"] == first["AccessKeyId"]
    to_left(software, first, SDK_FLOOR_SECONDS + 1)
    assert process(software)["AccessKeyId"] == first["AccessKeyId"]
    assert sb.count("AssumeRole", 200) == before
    software.clock.advance(2)  # 10 minutes and the margin: botocore must refresh it at every call
    assert process(software)["AccessKeyId"] != first["AccessKeyId"]


@pytest.fixture
def phone(tmp_path: Path, clock: FakeClock) -> Cli:
    """A phone setup: no code to be had, so nothing can be renewed."""
    return Cli(state=tmp_path / "state.json", clock=clock, app_kwargs={})


def cache_session(state: Path, now: float, remaining: float, lifetime: float = 3600.0) -> None:
    """Cache a session of `lifetime` seconds that has `remaining` left at `now`."""
    session = Session(
        access_key_id="ASIACACHEDPHONE",
        secret_access_key="cached-secret",
        session_token="cached-token",
        expiration=now + remaining,
        role_arn=role_arn(),
        assumed_role_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s",
        obtained_at=now + remaining - lifetime,
    )
    write_atomic(state, signed(complete_state(now, session=session)))


def test_without_a_code_the_advisory_renewal_serves_the_cached_session_with_a_warning(phone: Cli) -> None:
    cache_session(phone.state, phone.clock.now(), remaining=800)
    result = phone("assume", "--format", "process")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["AccessKeyId"] == "ASIACACHEDPHONE"
    assert "there is no MFA code to renew it" in result.stderr and "assume --code CODE" in result.stderr


def test_a_session_botocore_would_refresh_at_every_call_is_never_handed_out(phone: Cli) -> None:
    """Within 10 minutes and the margin of its end, with no code to renew it: the error, as today."""
    cache_session(phone.state, phone.clock.now(), remaining=SDK_FLOOR_SECONDS - 10)
    result = phone("assume", "--format", "process")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "assume --code CODE" in result.stderr
    env = phone("assume", "--format", "env")  # the last resort of the other formats is unchanged
    assert env.exit_code == 0 and "ASIACACHEDPHONE" in env.stdout


def _cache_env() -> dict[str, str]:
    """The fast path finds the signing key where this test's sts-mfa keeps it (never the real cache)."""
    return {"STS_MFA_CACHE_DIR": os.environ["STS_MFA_CACHE_DIR"]}


@pytest.mark.parametrize(
    ("remaining", "lifetime", "answered"),
    [
        (SDK_ADVISORY_SECONDS + 5, 3600.0, True),
        (SDK_ADVISORY_SECONDS - 5, 3600.0, False),  # the Click path renews it
        (SDK_ADVISORY_SECONDS - 5, 900.0, True),  # a fresh one would be no better
        (SDK_FLOOR_SECONDS - 5, 900.0, False),
    ],
)
def test_the_fast_path_follows_the_same_rule(
    tmp_path: Path, remaining: float, lifetime: float, answered: bool
) -> None:
    """`cached_answer` reads the real clock: the session is placed around it."""
    state = tmp_path / "state.json"
    cache_session(state, time.time(), remaining=remaining, lifetime=lifetime)
    answer = cached_answer(["--state", str(state), "assume", "--format", "process"], _cache_env())
    assert (answer is not None) is answered
    if answer is not None:
        assert json.loads(answer)["AccountId"] == ACCOUNT
    json_answer = cached_answer(["--state", str(state), "assume", "--format", "json"], _cache_env())
    assert json_answer is not None  # --refresh-margin alone for the other formats
