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

from sts_mfa.aws.clients import Aws, AwsConfig
from sts_mfa.errors import PropagationTimeout
from sts_mfa.progress import RecordingReporter
from sts_mfa.scenario import Context, assume
from sts_mfa.state.document import transaction
from tests.support.clock import FakeClock
from tests.support.state import complete_state, role_arn, write_state


def test_a_typed_code_is_retried_once_not_in_a_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    path = tmp_path / "state.json"
    write_state(path, complete_state(clock.now()))  # just made: a refusal may be propagation
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    stubber = Stubber(sts)
    for _ in range(5):  # more refusals than the tool may ever use
        stubber.add_client_error(
            "assume_role",
            service_error_code="AccessDenied",
            service_message=f"User: u is not authorized to perform: sts:AssumeRole on resource: {role_arn()}",
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
