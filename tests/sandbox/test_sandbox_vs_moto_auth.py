"""Why not just switch on moto's own IAM checks? Because they fail the other way.

With `INITIAL_NO_AUTH_ACTION_COUNT` set to 0 moto evaluates identity policies and
the trust policy's Principal, but (moto 5.2.x, `iam/access_control.py`):

* only `StringEquals` conditions are evaluated; `Bool aws:MultiFactorAuthPresent`
  counts as satisfied, so a role that requires MFA is assumable without it;
* the caller's ARN is built without the user's path, so the correct, path-ful
  principal is refused;
* an account-root principal is refused even with an identity policy.

The sandbox therefore keeps moto's checks off and applies its own (see the other
modules for each of these getting AWS's answer).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from moto.core.authorization import ActionAuthenticatorMixin
from moto.server import ThreadedMotoServer

from sts_mfa.sandbox.seam import motoview
from tests.support.aws import (
    ACCOUNT_1,
    Aws,
    Creds,
    allow_assume,
    assume,
    create_mfa_user,
    create_role,
    trust_policy,
)
from tests.support.clock import START, FakeClock

pytestmark = pytest.mark.sandbox


@pytest.fixture
def moto_with_checks() -> Iterator[Aws]:
    motoview.reset_everything()
    key_id, secret, _ = motoview.create_admin(ACCOUNT_1, "us-east-1", "sandbox-admin", "/sandbox/")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    before = motoview.moto_auth_count()
    motoview.set_moto_auth_count(0)
    ActionAuthenticatorMixin.request_count = 0
    try:
        yield Aws(
            endpoint=f"http://{host}:{port}",
            region="us-east-1",
            admins=[Creds(key_id, secret)],
            account_ids=[ACCOUNT_1],
            clock=FakeClock(START),
            strict=False,
        )
    finally:
        motoview.set_moto_auth_count(before)
        server.stop()
        motoview.reset_everything()


def test_moto_ignores_the_mfa_condition(moto_with_checks: Aws) -> None:
    aws = moto_with_checks
    user = create_mfa_user(aws, path="/")  # no path, so moto's principal matching works
    role = create_role(aws, "mfa-only", trust_policy(user.arn))
    allow_assume(aws, user, role)

    credentials = assume(aws, user, role)["Credentials"]  # no MFA at all

    assert credentials["AccessKeyId"].startswith("ASIA")


def test_moto_refuses_the_exact_principal_of_a_user_with_a_path(moto_with_checks: Aws) -> None:
    aws = moto_with_checks
    user = create_mfa_user(aws, path="/sts-mfa/")
    role = create_role(aws, "mfa-only", trust_policy(user.arn))
    allow_assume(aws, user, role)
    aws.advance(30)

    with pytest.raises(ClientError) as info:
        assume(aws, user, role, mfa=True)

    assert info.value.response["Error"]["Code"] == "AccessDenied"


def test_moto_refuses_an_account_root_principal_even_with_identity_policy(
    moto_with_checks: Aws,
) -> None:
    aws = moto_with_checks
    user = create_mfa_user(aws, path="/")
    role = create_role(aws, "account-trust", trust_policy(f"arn:aws:iam::{ACCOUNT_1}:root"))
    allow_assume(aws, user, role)
    aws.advance(30)

    with pytest.raises(ClientError) as info:
        assume(aws, user, role, mfa=True)

    assert info.value.response["Error"]["Code"] == "AccessDenied"
