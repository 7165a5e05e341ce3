"""How assume retries AssumeRole while a new role propagates, with AWS's answers scripted.

The sandbox spends a code on any refused AssumeRole, so it cannot show what a
tool does when AWS keeps answering a plain AccessDenied: here a botocore
Stubber plays AWS, and the test counts the calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sts_mfa.aws import Aws, AwsConfig
from sts_mfa.errors import PropagationTimeout
from sts_mfa.report import RecordingReporter
from sts_mfa.scenario import Context, assume
from sts_mfa.state import AccessKey, InlinePolicy, MfaDevice, Resource, State, transaction, write_atomic
from tests.conftest import FakeClock

ROLE = "arn:aws:iam::111111111111:role/sts-mfa/sts-mfa-0a1b2c3d-role"


def fresh_state(now: float) -> State:
    """A complete setup made a moment ago (so a refusal may be propagation), phone mode."""
    return State(
        prefix="sts-mfa-0a1b2c3d",
        iam_path="/sts-mfa/",
        mode="phone",
        account="111111111111",
        role_account="111111111111",
        user=Resource("u", "arn:aws:iam::111111111111:user/sts-mfa/u", now),
        mfa_device=MfaDevice("d", "arn:aws:iam::111111111111:mfa/sts-mfa/d", True, now),
        access_key=AccessKey("AKIAEXAMPLE", "secret", now),
        policy=Resource("p", "arn:aws:iam::111111111111:policy/sts-mfa/p", now),
        role=Resource("r", ROLE, now),
        policy_attached=True,
        user_policy=InlinePolicy("i", True, now),
    )


def test_a_typed_code_is_retried_once_not_in_a_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    path = tmp_path / "state.json"
    from sts_mfa.state import dump

    write_atomic(path, dump(fresh_state(clock.now())))
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    stubber = Stubber(sts)
    for _ in range(5):  # more refusals than the tool may ever use
        stubber.add_client_error(
            "assume_role",
            service_error_code="AccessDenied",
            service_message=f"User: u is not authorized to perform: sts:AssumeRole on resource: {ROLE}",
            http_status_code=403,
        )
    aws = Aws(AwsConfig(region="us-east-1"), now=clock.now)

    def scripted(*_: Any, **__: Any) -> Any:
        return sts

    monkeypatch.setattr(aws, "sts_with", scripted)
    ctx = Context(aws=aws, clock=clock, report=RecordingReporter())
    with stubber, transaction(path) as txn, pytest.raises(PropagationTimeout, match="new role"):
        assume(ctx, txn, ask_code=lambda: "123456")
    assert len(stubber._queue) == 5 - 2  # the code was sent twice, then the tool gave up
