"""What the sandbox shows: its clock (the Date header), its request log, its control
API, and the environment it hands to other programs. None of it exposes a secret."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree

import boto3
import pytest

from sts_mfa.sandbox import RequestRecord, Sandbox
from tests.support.aws import (
    ACCOUNT_1,
    FORM,
    Aws,
    assume,
    create_mfa_user,
    create_role,
    http,
    refused,
    trust_policy,
)
from tests.support.clock import START

pytestmark = pytest.mark.sandbox


def _date_header(aws: Aws) -> float:
    dates: list[str] = []
    sts = aws.client("sts")
    sts.meta.events.register(
        "after-call.sts.GetCallerIdentity",
        lambda http_response, **_: dates.append(http_response.headers["Date"]),
    )
    sts.get_caller_identity()
    assert len(dates) == 1
    assert dates[0].endswith(" GMT")
    return parsedate_to_datetime(dates[0]).timestamp()


def test_the_date_header_is_the_sandbox_clock(aws: Aws) -> None:
    """A client can compare it with its own clock to detect skew before TOTP fails."""
    assert _date_header(aws) == int(START)
    aws.advance(3600)
    assert _date_header(aws) == int(START) + 3600


def test_error_responses_carry_the_date_too(aws: Aws) -> None:
    status, headers, _ = http(aws.endpoint, "POST", "/", b"Action=GetCallerIdentity", FORM)
    assert status == 403
    assert parsedate_to_datetime(headers["Date"]).timestamp() == int(START)


def test_every_request_is_recorded(aws: Aws, sb: Sandbox) -> None:
    user = create_mfa_user(aws)
    role = create_role(aws, "mfa-only", trust_policy(user.arn))
    sb.reset_log()
    aws.advance(30)

    refused(assume, aws=aws, user=user, role_arn=role)
    assume(aws, user, role, mfa=True)

    assert sb.requests == [
        RequestRecord(
            time=START + 30,
            account=ACCOUNT_1,
            service="sts",
            action="AssumeRole",
            caller_arn=user.arn,
            status=403,
            error_code="AccessDenied",
        ),
        RequestRecord(
            time=START + 30,
            account=ACCOUNT_1,
            service="sts",
            action="AssumeRole",
            caller_arn=user.arn,
            status=200,
            error_code=None,
        ),
    ]
    assert sb.count("AssumeRole") == 2
    assert sb.count("AssumeRole", status=403) == 1
    assert sb.count("AssumeRole", status=200) == 1


def test_moto_errors_are_recorded_with_their_code(aws: Aws, sb: Sandbox) -> None:
    refused(aws.iam().get_user, UserName="nobody")

    last = sb.requests[-1]
    assert (last.action, last.status, last.error_code) == ("GetUser", 404, "NoSuchEntity")


def test_unauthenticated_requests_are_recorded_without_a_caller(aws: Aws, sb: Sandbox) -> None:
    http(aws.endpoint, "POST", "/", b"Action=GetCallerIdentity", FORM)

    last = sb.requests[-1]
    assert (last.caller_arn, last.account, last.error_code) == (
        None,
        None,
        "MissingAuthenticationToken",
    )


def test_the_log_can_be_cleared(aws: Aws, sb: Sandbox) -> None:
    aws.client("sts").get_caller_identity()
    assert sb.count("GetCallerIdentity") == 1

    sb.reset_log()

    assert sb.requests == []


def test_the_log_is_readable_over_http(aws: Aws, sb: Sandbox) -> None:
    aws.client("s3").list_buckets()

    status, headers, body = http(aws.endpoint, "GET", "/_sandbox/requests")

    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == [
        {
            "time": START,
            "account": ACCOUNT_1,
            "service": "s3",
            "action": "ListBuckets",
            "caller_arn": sb.accounts[0].arn,
            "status": 200,
            "error_code": None,
        }
    ]
    assert http(aws.endpoint, "DELETE", "/_sandbox/requests")[0] == 200
    assert sb.requests == []


def test_faults_are_readable_over_http(aws: Aws) -> None:
    status, _, body = http(aws.endpoint, "GET", "/_sandbox/faults")
    assert status == 200
    assert json.loads(body)["throttle_rate"] == 0.0


@pytest.mark.parametrize("path", ["/_sandbox/mfa-seed", "/_sandbox/mfa-seed?serial=x"])
def test_mfa_seeds_are_never_served_over_http(aws: Aws, path: str) -> None:
    user = create_mfa_user(aws)

    status, _, body = http(aws.endpoint, "GET", path.replace("x", user.serial))

    assert status == 403
    assert user.seed not in body.decode()


def test_no_response_ever_contains_a_seed(aws: Aws, sb: Sandbox) -> None:
    user = create_mfa_user(aws)
    sb.reset_log()
    for path in ("/_sandbox/requests", "/_sandbox/faults", "/_sandbox/nothing"):
        assert user.seed.encode() not in http(aws.endpoint, "GET", path)[2]


def test_the_seed_is_available_in_process_for_tests(aws: Aws, sb: Sandbox) -> None:
    user = create_mfa_user(aws)

    assert sb.mfa_seed(user.serial) == user.seed
    with pytest.raises(KeyError):
        sb.mfa_seed(f"arn:aws:iam::{ACCOUNT_1}:mfa/none")


def test_env_hands_the_admin_identity_to_another_program(
    aws: Aws, sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = sb.env(1)
    assert set(env) == {
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    }
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    who = boto3.session.Session().client("sts").get_caller_identity()

    assert who["Arn"] == sb.accounts[1].arn
    assert who["Arn"] == "arn:aws:iam::222222222222:user/sandbox/sandbox-admin"


def test_query_protocol_errors_have_aws_shape(aws: Aws) -> None:
    status, headers, body = http(aws.endpoint, "POST", "/", b"Action=GetCallerIdentity", FORM)

    assert status == 403
    assert headers["Content-Type"] == "text/xml"
    root = ElementTree.fromstring(body)  # noqa: S314 - our own local server
    ns = "{https://sts.amazonaws.com/doc/2011-06-15/}"
    assert root.tag == f"{ns}ErrorResponse"
    assert root.findtext(f"{ns}Error/{ns}Type") == "Sender"
    assert root.findtext(f"{ns}Error/{ns}Code") == "MissingAuthenticationToken"
    assert root.findtext(f"{ns}Error/{ns}Message") == "Request is missing Authentication Token"
    assert root.findtext(f"{ns}RequestId") == headers["x-amzn-RequestId"]


def test_s3_errors_have_aws_shape(aws: Aws) -> None:
    status, headers, body = http(aws.endpoint, "GET", "/")

    assert status == 403
    root = ElementTree.fromstring(body)  # noqa: S314 - our own local server
    assert root.tag == "Error"
    assert (root.findtext("Code"), root.findtext("Message")) == ("AccessDenied", "Access Denied")
    assert root.findtext("RequestId") == headers["x-amz-request-id"]
