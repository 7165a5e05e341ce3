"""Authentication: every request must be signed by a live key with its real secret.

AWS refuses an unknown, deleted or inactive key, a wrong secret, a session key
without (or with someone else's) session token, and an expired session, each with
its own code; S3 words each of them differently from IAM/STS.
"""

from __future__ import annotations

import json

import pytest
from botocore import UNSIGNED
from botocore.config import Config

from tests.support.aws import (
    ACCOUNT_1,
    ACCOUNT_2,
    Aws,
    Creds,
    assume,
    create_mfa_user,
    create_role,
    http,
    refused,
    trust_policy,
)

pytestmark = pytest.mark.sandbox

INVALID_TOKEN = ("InvalidClientTokenId", "The security token included in the request is invalid.")
S3_INVALID_KEY = (
    "InvalidAccessKeyId",
    "The AWS Access Key Id you provided does not exist in our records.",
)


def _code_message(error: dict[str, str]) -> tuple[str, str]:
    return error["Code"], error["Message"]


def test_an_unknown_access_key_is_refused(aws: Aws) -> None:
    stranger = Creds("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    assert _code_message(refused(aws.client("sts", stranger).get_caller_identity)) == INVALID_TOKEN
    assert _code_message(refused(aws.client("iam", stranger).list_users)) == INVALID_TOKEN
    assert _code_message(refused(aws.client("s3", stranger).list_buckets)) == S3_INVALID_KEY


def test_a_wrong_secret_does_not_match_the_signature(aws: Aws) -> None:
    forged = Creds(aws.admins[0].access_key_id, "not-the-secret")

    error = refused(aws.client("sts", forged).get_caller_identity)
    assert _code_message(error) == (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details.",
    )
    assert error["HTTPStatusCode"] == "403"
    error = refused(aws.client("s3", forged).list_buckets)
    assert _code_message(error) == (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    )


def test_a_deleted_key_stops_working(aws: Aws) -> None:
    user = create_mfa_user(aws)
    sts = aws.client("sts", user.creds)
    assert sts.get_caller_identity()["Arn"] == user.arn

    aws.iam().delete_access_key(UserName=user.name, AccessKeyId=user.creds.access_key_id)

    assert _code_message(refused(sts.get_caller_identity)) == INVALID_TOKEN


def test_an_inactive_key_is_refused_until_reactivated(aws: Aws) -> None:
    user = create_mfa_user(aws)
    key_id = user.creds.access_key_id
    aws.iam().update_access_key(UserName=user.name, AccessKeyId=key_id, Status="Inactive")

    assert _code_message(refused(aws.client("sts", user.creds).get_caller_identity)) == INVALID_TOKEN
    assert _code_message(refused(aws.client("s3", user.creds).list_buckets)) == S3_INVALID_KEY

    aws.iam().update_access_key(UserName=user.name, AccessKeyId=key_id, Status="Active")
    assert aws.client("sts", user.creds).get_caller_identity()["Arn"] == user.arn


def test_a_long_term_key_with_a_session_token_is_refused(aws: Aws) -> None:
    admin = aws.admins[0]
    with_token = Creds(admin.access_key_id, admin.secret_access_key, "FQoGZXIvYXdzEBogus")

    assert _code_message(refused(aws.client("sts", with_token).get_caller_identity)) == INVALID_TOKEN
    error = refused(aws.client("s3", with_token).list_buckets)
    assert _code_message(error) == (
        "InvalidToken",
        "The provided token is malformed or otherwise invalid.",
    )


def _session(aws: Aws) -> Creds:
    user = create_mfa_user(aws)
    role = create_role(aws, "mfa-only", trust_policy(user.arn))
    aws.advance(30)
    return Creds.of_session(assume(aws, user, role, mfa=True)["Credentials"])


def test_session_keys_need_their_own_session_token(aws: Aws) -> None:
    session = _session(aws)
    without = Creds(session.access_key_id, session.secret_access_key)
    other = Creds(session.access_key_id, session.secret_access_key, "FQoGZXIvYXdzEBother")

    assert _code_message(refused(aws.client("sts", without).get_caller_identity)) == INVALID_TOKEN
    assert _code_message(refused(aws.client("sts", other).get_caller_identity)) == INVALID_TOKEN
    assert refused(aws.client("s3", other).list_buckets)["Code"] == "InvalidToken"
    assert aws.client("sts", session).get_caller_identity()["Arn"].endswith("/mfa-only/demo")


def test_session_keys_need_their_secret(aws: Aws) -> None:
    session = _session(aws)
    forged = Creds(session.access_key_id, "not-the-secret", session.session_token)

    assert refused(aws.client("sts", forged).get_caller_identity)["Code"] == "SignatureDoesNotMatch"


def test_unsigned_requests_are_refused(aws: Aws) -> None:
    unsigned = Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1})

    error = refused(aws.client("sts", config=unsigned).get_caller_identity)
    assert _code_message(error) == (
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
    )
    error = refused(aws.client("s3", config=unsigned).list_buckets)
    assert _code_message(error) == ("AccessDenied", "Access Denied")


def test_each_key_acts_in_its_own_account(aws: Aws) -> None:
    """The account is the one whose IAM holds the key; nothing else decides it."""
    assert aws.client("sts", aws.admins[1]).get_caller_identity()["Account"] == ACCOUNT_2
    aws.iam(1).create_user(UserName="only-in-two")

    names_in_one = [u["UserName"] for u in aws.iam(0).list_users()["Users"]]
    names_in_two = [u["UserName"] for u in aws.iam(1).list_users()["Users"]]
    assert "only-in-two" not in names_in_one
    assert "only-in-two" in names_in_two


def test_moto_account_header_cannot_choose_the_account(aws: Aws) -> None:
    iam = aws.iam(0)

    def pick_account_two(request: object, **_: object) -> None:
        request.headers["x-moto-account-id"] = ACCOUNT_2  # type: ignore[attr-defined]

    iam.meta.events.register("before-sign.iam.CreateUser", pick_account_two)
    created = iam.create_user(UserName="header-trick")["User"]

    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_1}:user/header-trick"


def test_unsupported_services_and_actions_are_refused(aws: Aws) -> None:
    error = refused(lambda: aws.client("sts").get_federation_token(Name="federated"))
    assert error["Code"] == "InvalidAction"
    assert "GetFederationToken" in error["Message"]
    assert refused(aws.client("ec2").describe_regions)["Code"] == "InvalidAction"


@pytest.mark.parametrize("path", ["/moto-api/data.json", "/moto-api/reset"])
def test_moto_control_paths_are_not_reachable(aws: Aws, path: str) -> None:
    """moto's dashboard would show every MFA seed and let anyone reset state."""
    status, _, body = http(aws.endpoint, "POST", path, b"")

    assert status == 404
    assert "not available" in json.loads(body)["error"]
