"""An IAM user managing its own access keys, as `sts-mfa keys rotate` does: what AWS enforces.

- The policy AWS documents for "MFA-authenticated IAM users manage their own credentials"
  (`docs/keys-policy.json`, the one the README shows): a `Deny` of everything but setting
  up MFA unless `aws:MultiFactorAuthPresent`, `BoolIfExists` "false". A long-term key
  (no MFA context) is refused CreateAccessKey; its MFA session (GetSessionToken with a
  code) is allowed. Plain moto evaluates no `BoolIfExists` and creates the key.
- At most two access keys per user (`LimitExceeded`, "Cannot exceed quota for
  AccessKeysPerUser: 2"): moto keeps this one, and the sandbox passes it on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sts_mfa.sandbox.seam import motoview
from tests.support.aws import (
    ACCOUNT_1,
    SUCCEEDED,
    Aws,
    Creds,
    MfaUser,
    create_mfa_user,
    outcome,
    plain_moto_server,
)
from tests.support.clock import START, FakeClock

pytestmark = pytest.mark.sandbox

POLICY = (Path(__file__).resolve().parents[2] / "docs" / "keys-policy.json").read_text()


@pytest.fixture
def plain_moto() -> Iterator[Aws]:
    with plain_moto_server() as endpoint:
        motoview.reset_everything()
        key, secret, _ = motoview.create_admin(ACCOUNT_1, "us-east-1", "sandbox-admin", "/sandbox/")
        yield Aws(endpoint, "us-east-1", [Creds(key, secret)], [ACCOUNT_1], FakeClock(START), strict=False)


def managing_own_keys_with_mfa(aws: Aws) -> MfaUser:
    user = create_mfa_user(aws, path="/")
    aws.iam().put_user_policy(UserName=user.name, PolicyName="own-keys", PolicyDocument=POLICY)
    aws.advance(30)  # enabling the device spent the current window
    return user


def test_plain_moto_lets_a_long_term_key_create_a_key_the_mfa_policy_denies(plain_moto: Aws) -> None:
    user = managing_own_keys_with_mfa(plain_moto)
    iam = plain_moto.client("iam", user.creds)
    assert outcome(iam.create_access_key, UserName=user.name) == SUCCEEDED


def test_the_sandbox_refuses_the_long_term_key_and_allows_the_mfa_session(aws: Aws) -> None:
    user = managing_own_keys_with_mfa(aws)
    refused = outcome(aws.client("iam", user.creds).create_access_key, UserName=user.name)
    assert refused == (
        "AccessDenied",
        f"User: {user.arn} is not authorized to perform: iam:CreateAccessKey on resource: {user.arn}",
    )
    answer = aws.client("sts", user.creds).get_session_token(
        SerialNumber=user.serial, TokenCode=aws.code(user.seed)
    )
    session = Creds.of(answer)
    iam = aws.client("iam", session)
    made = iam.create_access_key(UserName=user.name)["AccessKey"]
    listed = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=user.name)["AccessKeyMetadata"]}
    assert listed == {user.creds.access_key_id, made["AccessKeyId"]}
    iam.delete_access_key(UserName=user.name, AccessKeyId=user.creds.access_key_id)
    fresh = Creds(made["AccessKeyId"], made["SecretAccessKey"])
    assert aws.client("sts", fresh).get_caller_identity()["Arn"] == user.arn


def test_a_third_key_is_refused(aws: Aws) -> None:
    user = create_mfa_user(aws, path="/")
    aws.iam().create_access_key(UserName=user.name)
    third = outcome(aws.iam().create_access_key, UserName=user.name)
    assert third == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")


def test_the_policy_file_is_what_the_readme_shows() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert json.loads(POLICY)["Statement"][2]["Sid"] == "DenyAllExceptListedIfNoMFA"
    assert "docs/keys-policy.json" in readme
