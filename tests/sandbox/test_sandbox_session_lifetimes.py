"""Two lifetimes, as on AWS: role sessions expire and are renewed while the MFA session lasts.

On AWS a role assumed with an MFA session (GetSessionToken) lasts at most an hour, while
the MFA session lasts up to 36 hours (STS API reference: GetSessionToken, AssumeRole), so
a credentials endpoint renews role sessions many times on one MFA code. To watch that in
seconds, the sandbox's `Faults.session_seconds` shortens every new session, and
`Faults.mfa_session_seconds` gives GetSessionToken's sessions a lifetime of their own.

Every test runs against plain moto (`ThreadedMotoServer`) and the Sandbox, both on a fake
clock: moto has no such control (its sessions last as asked and never expire); the
sandbox expires each kind when its own lifetime is over.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sts_mfa.sandbox import Faults, Sandbox
from sts_mfa.sandbox.seam import motoview
from tests.support.aws import (
    ACCOUNT_1,
    SUCCEEDED,
    Aws,
    Creds,
    MfaUser,
    allow_assume,
    create_mfa_user,
    create_role,
    http,
    outcome,
    plain_moto_server,
    sandbox_aws,
    trust_policy,
)
from tests.support.clock import START, FakeClock
from tests.support.env import subprocess_env
from tests.support.processes import parse_exports, sts_mfa

pytestmark = pytest.mark.sandbox

EXPIRED = ("ExpiredToken", "The security token included in the request is expired")


@pytest.fixture(scope="module", params=["plain moto", "sandbox"])
def fresh_target(request: pytest.FixtureRequest) -> Iterator[Callable[[], Aws]]:
    clock = FakeClock(START)
    if request.param == "plain moto":
        with plain_moto_server() as endpoint:

            def fresh_moto() -> Aws:
                motoview.reset_everything()
                key, secret, _ = motoview.create_admin(ACCOUNT_1, "us-east-1", "sandbox-admin", "/sandbox/")
                clock.t = START
                return Aws(endpoint, "us-east-1", [Creds(key, secret)], [ACCOUNT_1], clock, False)

            yield fresh_moto
    else:
        with Sandbox(clock=clock, accounts=(ACCOUNT_1,)) as sandbox:

            def fresh_sandbox() -> Aws:
                sandbox.reset()
                clock.t = START
                return sandbox_aws(sandbox, clock)

            yield fresh_sandbox


@pytest.fixture
def target(fresh_target: Callable[[], Aws]) -> Aws:
    return fresh_target()


def mfa_session(target: Aws, user: MfaUser) -> Creds:
    target.advance(30)  # the enable codes spent the current window
    sts = target.client("sts", user.creds)
    answer = sts.get_session_token(SerialNumber=user.serial, TokenCode=target.code(user.seed))
    return Creds.of_session(answer["Credentials"])


def lifetime(target: Aws, credentials: dict[str, object]) -> float:
    expiration = credentials["Expiration"]
    assert hasattr(expiration, "timestamp")
    return float(expiration.timestamp()) - target.clock()


def test_role_sessions_expire_while_the_mfa_session_that_renews_them_lasts(target: Aws) -> None:
    user = create_mfa_user(target)
    role = create_role(target, "mfa-only", trust_policy(user.arn))
    allow_assume(target, user, role)
    if target.sandbox is not None:
        target.sandbox.set_faults(Faults(session_seconds=5, mfa_session_seconds=60))
    session = mfa_session(target, user)
    sts = target.client("sts", session)

    renewed = []
    for _ in range(3):  # three role sessions, one after the other, on the one MFA session
        answer = sts.assume_role(RoleArn=role, RoleSessionName="renewed")["Credentials"]
        assert lifetime(target, answer) == 5 if target.strict else lifetime(target, answer) > 600
        role_sts = target.client("sts", Creds.of_session(answer))
        assert outcome(role_sts.get_caller_identity) == SUCCEEDED
        target.advance(6)
        renewed.append(outcome(role_sts.get_caller_identity))

    assert renewed == [EXPIRED if target.strict else SUCCEEDED] * 3
    assert outcome(sts.get_caller_identity) == SUCCEEDED  # 18 s in: the MFA session lasts
    target.advance(60 - 18)
    assert outcome(sts.get_caller_identity) == (EXPIRED if target.strict else SUCCEEDED)


def test_without_it_session_seconds_sets_both(target: Aws) -> None:
    """`mfa_session_seconds` unset: MFA sessions are cut short by `session_seconds` as before."""
    user = create_mfa_user(target)
    if target.sandbox is not None:
        target.sandbox.set_faults(Faults(session_seconds=5))
    target.advance(30)
    answer = target.client("sts", user.creds).get_session_token(
        SerialNumber=user.serial, TokenCode=target.code(user.seed)
    )["Credentials"]

    assert lifetime(target, answer) == 5 if target.strict else lifetime(target, answer) > 3600


def test_it_is_set_and_checked_over_the_control_api(target: Aws) -> None:
    body = json.dumps({"mfa_session_seconds": 600, "session_seconds": 4}).encode()

    status, _, text = http(target.endpoint, "POST", "/_sandbox/faults", body)
    bad, _, why = http(target.endpoint, "POST", "/_sandbox/faults", b'{"mfa_session_seconds": -1}')

    if target.sandbox is None:
        assert status != 200 or b"mfa_session_seconds" not in text
        return
    assert (status, json.loads(text)["mfa_session_seconds"]) == (200, 600)
    assert (bad, "mfa_session_seconds" in json.loads(why)["error"]) == (400, True)
    assert target.sandbox.faults.mfa_session_seconds == 600
    for wrong in (-1, float("inf"), True, "60"):
        with pytest.raises(ValueError, match="mfa_session_seconds"):
            Faults(mfa_session_seconds=wrong)  # type: ignore[arg-type]


@pytest.mark.e2e
def test_sandbox_serve_passes_it_to_the_server(tmp_path: Path) -> None:
    """`sandbox serve --background --mfa-session-seconds N` reaches the running sandbox."""
    env = subprocess_env(tmp_path)
    served = sts_mfa(
        env, "sandbox", "serve", "--background", "--session-seconds", "4", "--mfa-session-seconds", "90"
    )
    assert served.returncode == 0, served.stderr
    exports = parse_exports(served.stdout.splitlines())
    try:
        status, _, text = http(exports["AWS_ENDPOINT_URL"], "GET", "/_sandbox/faults")
        assert status == 200
        assert json.loads(text)["mfa_session_seconds"] == 90
        assert json.loads(text)["session_seconds"] == 4
    finally:
        os.kill(int(exports["STS_MFA_SANDBOX_PID"]), signal.SIGTERM)
