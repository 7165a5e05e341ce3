"""Fault injection: AWS on a bad day, on demand and repeatable.

Propagation delays (new keys, roles, principals), throttling, and a crash at the
n-th mutating call, before or after it took effect. All off by default; tests flip
them between steps, and delays run on the sandbox clock.
"""

from __future__ import annotations

import json

import pytest

from sts_mfa.sandbox import Faults, Sandbox
from tests.support.aws import (
    ACCOUNT_1,
    Aws,
    Creds,
    allow_assume,
    assume,
    create_mfa_user,
    create_role,
    http,
    refused,
    trust_policy,
)

pytestmark = pytest.mark.sandbox


def test_everything_is_off_by_default(sb: Sandbox) -> None:
    assert sb.faults == Faults()


def test_a_new_access_key_is_refused_until_it_has_propagated(aws: Aws, sb: Sandbox) -> None:
    sb.set_faults(Faults(key_delay=10))
    user = create_mfa_user(aws)  # creates the key now

    error = refused(aws.client("sts", user.creds).get_caller_identity)
    assert (error["Code"], error["Message"]) == (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )
    assert refused(aws.client("s3", user.creds).list_buckets)["Code"] == "InvalidAccessKeyId"
    assert aws.client("sts").get_caller_identity()  # the admin's old key is fine

    aws.advance(10)
    assert aws.client("sts", user.creds).get_caller_identity()["Arn"] == user.arn


def test_a_new_role_refuses_assume_role_until_propagated(aws: Aws, sb: Sandbox) -> None:
    """Refused exactly like a trust refusal; and the MFA code that went with the
    refused call is used up, so the retry needs the next window."""
    sb.set_faults(Faults(role_delay=45))
    user = create_mfa_user(aws)
    role = create_role(aws, "mfa-only", trust_policy(user.arn))
    aws.advance(30)

    error = refused(assume, aws=aws, user=user, role_arn=role, mfa=True)
    assert error["Message"] == (
        f"User: {user.arn} is not authorized to perform: sts:AssumeRole on resource: {role}"
    )

    aws.advance(15)  # propagated now, but still the same TOTP window
    assert refused(assume, aws=aws, user=user, role_arn=role, mfa=True)["Message"] == (
        "MultiFactorAuthentication failed with invalid MFA one time pass code."
    )
    aws.advance(30)
    assert assume(aws, user, role, mfa=True)["Credentials"]


def test_a_new_user_is_an_invalid_principal_until_propagated(aws: Aws, sb: Sandbox) -> None:
    sb.set_faults(Faults(principal_delay=20))
    user = create_mfa_user(aws)
    iam = aws.iam()

    error = refused(iam.create_role, RoleName="r", AssumeRolePolicyDocument=trust_policy(user.arn))
    assert (error["Code"], error["Message"]) == (
        "MalformedPolicyDocument",
        f'Invalid principal in policy: "AWS":"{user.arn}"',
    )

    aws.advance(20)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust_policy(user.arn))


def test_faults_can_be_changed_on_the_live_object(aws: Aws, sb: Sandbox) -> None:
    sb.faults.key_delay = 5
    user = create_mfa_user(aws)

    assert refused(aws.client("sts", user.creds).get_caller_identity)["Code"] == ("InvalidClientTokenId")
    sb.faults.key_delay = 0
    assert aws.client("sts", user.creds).get_caller_identity()


def test_full_throttling_answers_before_reaching_moto(aws: Aws, sb: Sandbox) -> None:
    sb.set_faults(Faults(throttle_rate=1.0))

    error = refused(aws.iam().create_user, UserName="never")
    assert (error["Code"], error["Message"], error["HTTPStatusCode"]) == (
        "Throttling",
        "Rate exceeded",
        "400",
    )
    error = refused(aws.client("s3").list_buckets)
    assert (error["Code"], error["HTTPStatusCode"]) == ("SlowDown", "503")

    sb.set_faults(Faults())
    assert "never" not in [u["UserName"] for u in aws.iam().list_users()["Users"]]


def _throttle_pattern(aws: Aws, sb: Sandbox, faults: Faults, calls: int) -> list[bool]:
    sb.set_faults(faults)
    sts = aws.client("sts")
    pattern = []
    for _ in range(calls):
        try:
            sts.get_caller_identity()
            pattern.append(False)
        except Exception:
            pattern.append(True)
    return pattern


def test_partial_throttling_is_repeatable_with_a_seed(aws: Aws, sb: Sandbox) -> None:
    first = _throttle_pattern(aws, sb, Faults(throttle_rate=0.5, seed=7), 40)
    again = _throttle_pattern(aws, sb, Faults(throttle_rate=0.5, seed=7), 40)
    other = _throttle_pattern(aws, sb, Faults(throttle_rate=0.5, seed=8), 40)

    assert first == again
    assert first != other
    assert 8 <= sum(first) <= 32
    assert sb.count("GetCallerIdentity", status=400) == sum(first) + sum(again) + sum(other)


def test_failing_before_a_call_means_it_never_happened(aws: Aws, sb: Sandbox) -> None:
    sb.set_faults(Faults(fail={2: "before"}))
    iam = aws.iam()
    iam.create_user(UserName="first")  # mutating call 1
    iam.list_users()  # reads are not counted

    error = refused(iam.create_user, UserName="second")  # mutating call 2

    assert (error["Code"], error["HTTPStatusCode"]) == ("InjectedFault", "400")
    assert "CreateUser" in error["Message"]
    assert "before" in error["Message"]
    names = [u["UserName"] for u in iam.list_users()["Users"]]
    assert "first" in names
    assert "second" not in names
    iam.create_user(UserName="third")  # call 3 is fine


def test_failing_after_a_call_leaves_its_effect_behind(aws: Aws, sb: Sandbox) -> None:
    """The case a crash-safe tool must handle: the resource exists, the caller
    never heard so."""
    sb.set_faults(Faults(fail={1: "after"}))
    iam = aws.iam()

    error = refused(iam.create_role, RoleName="r", AssumeRolePolicyDocument=trust_policy(ACCOUNT_1))

    assert error["Code"] == "InjectedFault"
    assert "after" in error["Message"]
    assert "CreateRole" in error["Message"]
    assert iam.get_role(RoleName="r")["Role"]["RoleName"] == "r"


def test_s3_writes_count_as_mutating_calls_and_sts_does_not(aws: Aws, sb: Sandbox) -> None:
    user = create_mfa_user(aws)
    role = create_role(aws, "mfa-only", trust_policy(user.arn))
    allow_assume(aws, user, role)
    aws.advance(30)
    sb.set_faults(Faults(fail={1: "after"}))
    session = Creds.of_session(assume(aws, user, role, mfa=True)["Credentials"])  # not counted
    assert aws.client("sts", session).get_caller_identity()

    error = refused(aws.client("s3").create_bucket, Bucket="crash-bucket")

    assert error["Code"] == "InjectedFault"
    names = [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]
    assert "crash-bucket" in names


def test_installing_faults_restarts_the_count(aws: Aws, sb: Sandbox) -> None:
    iam = aws.iam()
    iam.create_user(UserName="a")
    iam.create_user(UserName="b")

    sb.set_faults(Faults(fail={1: "before"}))

    assert refused(iam.create_user, UserName="c")["Code"] == "InjectedFault"


@pytest.mark.parametrize(
    "bad",
    [
        {"throttle_rate": 1.5},
        {"key_delay": -1},
        {"fail": {"0": "before"}},
        {"fail": {"1": "during"}},
        {"no_such_fault": 1},
    ],
)
def test_nonsense_faults_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Faults.from_json(bad)


def test_faults_round_trip_through_json() -> None:
    faults = Faults(key_delay=3, throttle_rate=0.25, seed=4, fail={2: "after"})
    assert Faults.from_json(json.loads(json.dumps(faults.to_json()))) == faults


def test_faults_can_be_installed_over_http(aws: Aws, sb: Sandbox) -> None:
    body = json.dumps({"throttle_rate": 1.0}).encode()

    status, _, answer = http(aws.endpoint, "POST", "/_sandbox/faults", body)

    assert status == 200
    assert json.loads(answer)["throttle_rate"] == 1.0
    assert sb.faults.throttle_rate == 1.0
    assert refused(aws.client("sts").get_caller_identity)["Code"] == "Throttling"
    status, _, answer = http(aws.endpoint, "POST", "/_sandbox/faults", b'{"bogus": 1}')
    assert status == 400
    assert "bogus" in json.loads(answer)["error"]


def test_latency_is_a_round_trip_that_requests_in_flight_share(aws: Aws, sb: Sandbox) -> None:
    import threading
    import time

    sts = aws.client("sts")
    sts.get_caller_identity()  # the client's own first-call costs, before anything is timed
    sb.set_faults(Faults(latency=0.3))
    started = time.monotonic()
    sts.get_caller_identity()
    one = time.monotonic() - started

    started = time.monotonic()
    calls = [threading.Thread(target=sts.get_caller_identity) for _ in range(6)]
    for call in calls:
        call.start()
    for call in calls:
        call.join()
    six = time.monotonic() - started

    assert one >= 0.3
    assert six < 2 * 0.3  # outside the lock: six round trips at once, not one after the other
    assert sb.count("GetCallerIdentity") == 8
