"""AssumeRole: who may assume a role, with which MFA code, for how long.

Each test states one rule AWS applies and shows the sandbox applying it, with the
error code and message AWS sends. The scenario is the tool's: a user with a virtual
MFA device, and a role whose trust policy allows the user only with
`{"Bool": {"aws:MultiFactorAuthPresent": "true"}}`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from botocore.config import Config

from sts_mfa.sandbox import Sandbox
from tests.support.aws import (
    ACCOUNT_1,
    MFA_CONDITION,
    Aws,
    Creds,
    MfaUser,
    allow_assume,
    assume,
    create_mfa_user,
    create_role,
    identity_policy,
    refused,
    trust_policy,
)

pytestmark = pytest.mark.sandbox

NOT_AUTHORIZED = "User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role}"
INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA "
    "serial number is valid and associated with this user."
)
BOTH_REQUIRED = (
    "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
)


def _setup(aws: Aws) -> tuple[MfaUser, str]:
    """alice with an enabled MFA device; role `mfa-only` trusting her with MFA only."""
    user = create_mfa_user(aws)
    role = create_role(aws, "mfa-only", trust_policy(user.arn))
    aws.advance(30)  # the enabling codes used up the current window
    return user, role


# --- the MFA condition ------------------------------------------------------------------


def test_without_mfa_the_trust_policy_refuses(aws: Aws) -> None:
    user = create_mfa_user(aws)
    role = create_role(aws, "mfa-only", trust_policy(user.arn))

    error = refused(aws.client("sts", user.creds).assume_role, RoleArn=role, RoleSessionName="demo")

    assert error["Code"] == "AccessDenied"
    assert error["Message"] == NOT_AUTHORIZED.format(caller=user.arn, role=role)
    assert error["HTTPStatusCode"] == "403"


def test_with_the_current_code_it_returns_working_credentials(aws: Aws) -> None:
    user = create_mfa_user(aws)
    role = create_role(aws, "mfa-only", trust_policy(user.arn))
    aws.advance(30)

    session = Creds.of_session(assume(aws, user, role, mfa=True)["Credentials"])

    who = aws.client("sts", session).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT_1}:assumed-role/mfa-only/demo"
    assert who["Account"] == ACCOUNT_1
    buckets = [b["Name"] for b in aws.client("s3", session).list_buckets()["Buckets"]]
    assert sorted(buckets) == [f"logs-{ACCOUNT_1}", f"reports-{ACCOUNT_1}"]


def test_the_session_expiry_comes_from_the_sandbox_clock(aws: Aws) -> None:
    user = create_mfa_user(aws)
    role = create_role(aws, "mfa-only", trust_policy(user.arn))
    aws.advance(30)

    credentials = assume(aws, user, role, mfa=True)["Credentials"]

    expected = datetime.fromtimestamp(int(aws.clock()) + 3600, tz=timezone.utc)
    assert credentials["Expiration"] == expected


def test_bool_if_exists_lets_long_term_keys_in_without_mfa(aws: Aws) -> None:
    """The AWS pitfall the docs warn about: `BoolIfExists ... true` is satisfied when
    the key is absent, and it is absent for requests signed with access keys."""
    user = create_mfa_user(aws)
    loose = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}
    role = create_role(aws, "loose", trust_policy(user.arn, condition=loose))

    assert assume(aws, user, role)["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_mfa_age_is_zero_at_assume_time(aws: Aws) -> None:
    user = create_mfa_user(aws)
    fresh = {"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}}
    role = create_role(aws, "fresh-mfa", trust_policy(user.arn, condition=fresh))
    aws.advance(30)

    refused(aws.client("sts", user.creds).assume_role, RoleArn=role, RoleSessionName="demo")
    assert assume(aws, user, role, mfa=True)["AssumedRoleUser"]["Arn"].endswith("/demo")


def test_mfa_is_carried_by_the_session_and_ages_on_the_clock(aws: Aws) -> None:
    """Requests made with the session see aws:MultiFactorAuthPresent=true and an
    aws:MultiFactorAuthAge that grows with time."""
    user = create_mfa_user(aws)
    role = create_role(aws, "mfa-only", trust_policy(user.arn), list_buckets=False)
    recent_mfa = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:ListAllMyBuckets",
                "Resource": "*",
                "Condition": {
                    "Bool": {"aws:MultiFactorAuthPresent": "true"},
                    "NumericLessThan": {"aws:MultiFactorAuthAge": "600"},
                },
            }
        ],
    }
    aws.iam().put_role_policy(
        RoleName="mfa-only", PolicyName="recent-mfa", PolicyDocument=json.dumps(recent_mfa)
    )
    aws.advance(30)
    s3 = aws.client("s3", Creds.of_session(assume(aws, user, role, mfa=True)["Credentials"]))

    assert s3.list_buckets()["Buckets"]
    aws.advance(601)
    assert refused(s3.list_buckets)["Code"] == "AccessDenied"


def test_external_id_is_a_condition_key(aws: Aws) -> None:
    user = create_mfa_user(aws)
    external = {"StringEquals": {"sts:ExternalId": "expected-id"}}
    role = create_role(aws, "external", trust_policy(user.arn, condition=external))

    error = refused(assume, aws=aws, user=user, role_arn=role, ExternalId="other-id")
    assert error["Code"] == "AccessDenied"
    assert assume(aws, user, role, ExternalId="expected-id")["Credentials"]


# --- TOTP codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
def test_codes_one_window_either_side_are_accepted(aws: Aws, steps: int, accepted: bool) -> None:
    """RFC 6238 tolerance: the windows before and after the sandbox clock's, no further."""
    user, role = _setup(aws)
    aws.advance(90)  # keep steps-2 after the window used to enable the device
    code = aws.code(user.seed, steps)

    if accepted:
        assert assume(aws, user, role, SerialNumber=user.serial, TokenCode=code)
    else:
        error = refused(assume, aws=aws, user=user, role_arn=role, SerialNumber=user.serial, TokenCode=code)
        assert (error["Code"], error["Message"]) == ("AccessDenied", INVALID_CODE)


def test_a_wrong_code_is_refused_and_does_not_use_up_the_window(aws: Aws, sb: Sandbox) -> None:
    user, role = _setup(aws)
    step_before = sb.last_accepted_step(user.serial)
    right = aws.code(user.seed)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    error = refused(assume, aws=aws, user=user, role_arn=role, SerialNumber=user.serial, TokenCode=wrong)

    assert (error["Code"], error["Message"], error["HTTPStatusCode"]) == (
        "AccessDenied",
        INVALID_CODE,
        "403",
    )
    assert sb.last_accepted_step(user.serial) == step_before
    assert assume(aws, user, role, SerialNumber=user.serial, TokenCode=right)


def test_a_code_is_good_once(aws: Aws, sb: Sandbox) -> None:
    """Replay: the same window's code is refused the second time, like a wrong code."""
    user, role = _setup(aws)
    code = aws.code(user.seed)
    assume(aws, user, role, SerialNumber=user.serial, TokenCode=code)
    step = int(aws.clock() // 30)
    assert sb.last_accepted_step(user.serial) == step

    error = refused(assume, aws=aws, user=user, role_arn=role, SerialNumber=user.serial, TokenCode=code)

    assert error["Message"] == INVALID_CODE
    aws.advance(30)
    assert assume(aws, user, role, mfa=True)


def test_an_older_code_is_refused_after_a_newer_one(aws: Aws) -> None:
    user, role = _setup(aws)
    assume(aws, user, role, SerialNumber=user.serial, TokenCode=aws.code(user.seed, 1))

    error = refused(assume, aws=aws, user=user, role_arn=role, mfa=True)
    assert error["Message"] == INVALID_CODE


def test_the_enabling_codes_cannot_be_reused_to_assume(aws: Aws) -> None:
    user = create_mfa_user(aws)
    role = create_role(aws, "mfa-only", trust_policy(user.arn))

    error = refused(assume, aws=aws, user=user, role_arn=role, mfa=True)
    assert error["Message"] == INVALID_CODE


@pytest.mark.parametrize("given", ["SerialNumber", "TokenCode"])
def test_serial_and_code_go_together(aws: Aws, given: str) -> None:
    user, role = _setup(aws)
    value = {"SerialNumber": user.serial, "TokenCode": aws.code(user.seed)}[given]

    error = refused(assume, aws=aws, user=user, role_arn=role, **{given: value})
    assert (error["Code"], error["Message"]) == ("AccessDenied", BOTH_REQUIRED)


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("12345a", "Member must satisfy regular expression pattern: [\\d]*"),
        ("1234567", "Member must have length less than or equal to 6"),
    ],
)
def test_a_token_code_is_six_digits(aws: Aws, code: str, why: str) -> None:
    user, role = _setup(aws)

    error = refused(assume, aws=aws, user=user, role_arn=role, SerialNumber=user.serial, TokenCode=code)

    assert error["Code"] == "ValidationError"
    assert error["Message"] == (
        f"1 validation error detected: Value '{code}' at 'tokenCode' failed to satisfy constraint: {why}"
    )


def test_the_serial_must_be_a_device_enabled_for_this_user(aws: Aws) -> None:
    alice, role = _setup(aws)
    bob = create_mfa_user(aws, "bob")
    spare = aws.iam().create_virtual_mfa_device(VirtualMFADeviceName="spare")["VirtualMFADevice"]
    aws.advance(30)
    unknown = f"arn:aws:iam::{ACCOUNT_1}:mfa/nobody"

    for serial, seed in [
        (unknown, alice.seed),
        (spare["SerialNumber"], spare["Base32StringSeed"].decode()),  # never enabled
        (bob.serial, bob.seed),  # someone else's
    ]:
        error = refused(
            assume, aws=aws, user=alice, role_arn=role, SerialNumber=serial, TokenCode=aws.code(seed)
        )
        assert (error["Code"], error["Message"]) == ("AccessDenied", UNKNOWN_DEVICE)


# --- who may assume -------------------------------------------------------------------------


def test_a_role_that_does_not_exist_is_refused_like_a_trust_refusal(aws: Aws) -> None:
    user = create_mfa_user(aws)
    aws.advance(30)
    missing = f"arn:aws:iam::{ACCOUNT_1}:role/does-not-exist"

    error = refused(assume, aws=aws, user=user, role_arn=missing, mfa=True)
    assert error["Message"] == NOT_AUTHORIZED.format(caller=user.arn, role=missing)


def test_naming_the_user_in_the_trust_policy_is_enough_on_its_own(aws: Aws) -> None:
    user, role = _setup(aws)  # no identity policy at all
    assert assume(aws, user, role, mfa=True)


def test_trusting_a_different_user_refuses_this_one(aws: Aws) -> None:
    alice = create_mfa_user(aws)
    bob = create_mfa_user(aws, "bob")
    role = create_role(aws, "bobs", trust_policy(bob.arn))
    allow_assume(aws, alice, role)
    aws.advance(30)

    error = refused(assume, aws=aws, user=alice, role_arn=role, mfa=True)
    assert error["Message"] == NOT_AUTHORIZED.format(caller=alice.arn, role=role)


@pytest.mark.parametrize("principal", [f"arn:aws:iam::{ACCOUNT_1}:root", ACCOUNT_1, "*"])
def test_trusting_the_account_also_needs_the_identity_policy(aws: Aws, principal: str) -> None:
    user = create_mfa_user(aws)
    role = create_role(aws, "account-trust", trust_policy(principal))
    aws.advance(30)

    error = refused(assume, aws=aws, user=user, role_arn=role, mfa=True)
    assert error["Message"] == NOT_AUTHORIZED.format(caller=user.arn, role=role)

    allow_assume(aws, user, role)
    aws.advance(30)
    assert assume(aws, user, role, mfa=True)


def test_the_identity_policy_must_name_this_role(aws: Aws) -> None:
    user = create_mfa_user(aws)
    role = create_role(aws, "account-trust", trust_policy(f"arn:aws:iam::{ACCOUNT_1}:root"))
    allow_assume(aws, user, f"arn:aws:iam::{ACCOUNT_1}:role/some-other-role")
    aws.advance(30)

    assert refused(assume, aws=aws, user=user, role_arn=role, mfa=True)["Code"] == "AccessDenied"


def test_an_explicit_deny_in_the_identity_policy_wins_over_the_trust_policy(aws: Aws) -> None:
    user, role = _setup(aws)
    aws.iam().put_user_policy(
        UserName="alice",
        PolicyName="no-roles",
        PolicyDocument=identity_policy("sts:AssumeRole", "*", effect="Deny"),
    )

    assert refused(assume, aws=aws, user=user, role_arn=role, mfa=True)["Code"] == "AccessDenied"


def test_an_explicit_deny_in_the_trust_policy_wins(aws: Aws) -> None:
    user = create_mfa_user(aws)
    trust = json.loads(trust_policy(user.arn))
    trust["Statement"].append({"Effect": "Deny", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole"})
    role = create_role(aws, "denied", json.dumps(trust))
    aws.advance(30)

    assert refused(assume, aws=aws, user=user, role_arn=role, mfa=True)["Code"] == "AccessDenied"


def test_a_user_created_with_a_path_is_matched_with_its_path(aws: Aws) -> None:
    """The principal ARN must be exact, path included (moto drops the path)."""
    user = create_mfa_user(aws, path="/teams/platform/")
    assert user.arn == f"arn:aws:iam::{ACCOUNT_1}:user/teams/platform/alice"
    role = create_role(aws, "mfa-only", trust_policy(user.arn))
    aws.advance(30)

    assert assume(aws, user, role, mfa=True)


# --- session duration and name ----------------------------------------------------------------


def test_duration_above_the_role_maximum_is_refused(aws: Aws) -> None:
    user, role = _setup(aws)

    error = refused(assume, aws=aws, user=user, role_arn=role, mfa=True, DurationSeconds=7200)

    assert (error["Code"], error["Message"]) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )


def test_duration_up_to_the_role_maximum_is_granted(aws: Aws) -> None:
    user = create_mfa_user(aws)
    role = create_role(aws, "long", trust_policy(user.arn), MaxSessionDuration=7200)
    aws.advance(30)

    credentials = assume(aws, user, role, mfa=True, DurationSeconds=7200)["Credentials"]

    assert credentials["Expiration"].timestamp() == int(aws.clock()) + 7200


@pytest.mark.parametrize(
    ("seconds", "why"),
    [
        (899, "Member must have value greater than or equal to 900"),
        (43201, "Member must have value less than or equal to 43200"),
    ],
)
def test_duration_is_900_to_43200_seconds(aws: Aws, seconds: int, why: str) -> None:
    user, role = _setup(aws)
    sts = aws.client("sts", user.creds, config=Config(parameter_validation=False))

    error = refused(sts.assume_role, RoleArn=role, RoleSessionName="demo", DurationSeconds=seconds)

    assert error["Message"] == (
        f"1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to "
        f"satisfy constraint: {why}"
    )


@pytest.mark.parametrize(
    ("name", "problems"),
    [
        ("has space", ["Member must satisfy regular expression pattern: [\\w+=,.@-]*"]),
        ("x", ["Member must have length greater than or equal to 2"]),
        ("n" * 65, ["Member must have length less than or equal to 64"]),
    ],
)
def test_role_session_name_constraints(aws: Aws, name: str, problems: list[str]) -> None:
    user, role = _setup(aws)
    sts = aws.client("sts", user.creds, config=Config(parameter_validation=False))

    error = refused(sts.assume_role, RoleArn=role, RoleSessionName=name)

    assert error["Code"] == "ValidationError"
    assert error["Message"] == (
        f"1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy "
        f"constraint: {problems[0]}"
    )


def test_an_expired_session_is_refused_everywhere(aws: Aws) -> None:
    user, role = _setup(aws)
    session = Creds.of_session(assume(aws, user, role, mfa=True, DurationSeconds=900)["Credentials"])
    aws.advance(899)
    assert aws.client("sts", session).get_caller_identity()

    aws.advance(1)

    error = refused(aws.client("sts", session).get_caller_identity)
    assert (error["Code"], error["Message"], error["HTTPStatusCode"]) == (
        "ExpiredToken",
        "The security token included in the request is expired",
        "403",
    )
    error = refused(aws.client("s3", session).list_buckets)
    assert (error["Code"], error["Message"]) == ("ExpiredToken", "The provided token has expired.")


def test_role_chaining_is_limited_to_one_hour(aws: Aws) -> None:
    user, role = _setup(aws)
    aws.iam().put_role_policy(
        RoleName="mfa-only",
        PolicyName="chain",
        PolicyDocument=identity_policy("sts:AssumeRole", "*"),
    )
    second = create_role(aws, "second", trust_policy(role, condition=None), MaxSessionDuration=7200)
    session = Creds.of_session(assume(aws, user, role, mfa=True)["Credentials"])
    sts = aws.client("sts", session)

    error = refused(sts.assume_role, RoleArn=second, RoleSessionName="chained", DurationSeconds=7200)
    assert error["Message"] == (
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
    )
    chained = sts.assume_role(RoleArn=second, RoleSessionName="chained")["AssumedRoleUser"]
    assert chained["Arn"] == f"arn:aws:sts::{ACCOUNT_1}:assumed-role/second/chained"


def test_account_trust_narrowed_by_principal_arn(aws: Aws) -> None:
    """A common pattern: trust the account root, but only for one principal ARN
    (aws:PrincipalArn), plus the MFA condition; the identity policy still has to allow."""
    alice = create_mfa_user(aws)
    bob = create_mfa_user(aws, "bob")
    condition = {"ArnEquals": {"aws:PrincipalArn": alice.arn}, **MFA_CONDITION}
    role = create_role(aws, "narrow", trust_policy(f"arn:aws:iam::{ACCOUNT_1}:root", condition=condition))
    allow_assume(aws, alice, role)
    allow_assume(aws, bob, role)
    aws.advance(30)

    assert assume(aws, alice, role, mfa=True)
    assert refused(assume, aws=aws, user=bob, role_arn=role, mfa=True)["Message"] == (
        NOT_AUTHORIZED.format(caller=bob.arn, role=role)
    )
