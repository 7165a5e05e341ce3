"""The gap, precisely: what plain moto lets through and the sandbox (like AWS) refuses.

Every scenario here runs twice, against plain moto (`ThreadedMotoServer`, moto's
IAM checks off) and against the Sandbox. On plain moto each unsafe thing SUCCEEDS;
on the Sandbox it is refused with AWS's error. A tool tested only against moto
would pass all of these while being wrong on AWS; that is why the sandbox exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.seam import motoview
from tests.support.aws import (
    ACCOUNT_1,
    ACCOUNT_2,
    SUCCEEDED,
    Aws,
    Creds,
    allow_assume,
    assume,
    create_mfa_user,
    create_role,
    identity_policy,
    outcome,
    plain_moto_server,
    sandbox_aws,
    trust_policy,
)
from tests.support.clock import START, FakeClock

pytestmark = pytest.mark.sandbox


def expect(target: Aws, result: str | tuple[str, str], refusal: tuple[str, str]) -> None:
    """Plain moto lets it through; the sandbox refuses exactly as AWS does."""
    assert result == (refusal if target.strict else SUCCEEDED)


def not_authorized(caller: str, role: str) -> tuple[str, str]:
    return (
        "AccessDenied",
        f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role}",
    )


INVALID_CODE = ("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")


# --- one endpoint per kind, fresh state per test ---------------------------------------------


def _plain_moto_state() -> list[Creds]:
    """What the Sandbox bootstraps, created the same way (through moto's backends)."""
    motoview.reset_everything()
    admins = []
    for account in (ACCOUNT_1, ACCOUNT_2):
        key_id, secret, _ = motoview.create_admin(account, "us-east-1", "sandbox-admin", "/sandbox/")
        admins.append(Creds(key_id, secret))
        for name in ("reports", "logs"):
            motoview.create_bucket(account, f"{name}-{account}", "us-east-1")
    return admins


@pytest.fixture(scope="module", params=["plain moto", "sandbox"])
def fresh_target(request: pytest.FixtureRequest) -> Iterator[Callable[[], Aws]]:
    clock = FakeClock(START)
    if request.param == "plain moto":
        with plain_moto_server() as endpoint:

            def fresh_moto() -> Aws:
                clock.t = START
                return Aws(
                    endpoint=endpoint,
                    region="us-east-1",
                    admins=_plain_moto_state(),
                    account_ids=[ACCOUNT_1, ACCOUNT_2],
                    clock=clock,
                    strict=False,
                )

            yield fresh_moto
    else:
        with Sandbox(clock=clock) as sandbox:

            def fresh_sandbox() -> Aws:
                sandbox.reset()
                clock.t = START
                return sandbox_aws(sandbox, clock)

            yield fresh_sandbox


@pytest.fixture
def target(fresh_target: Callable[[], Aws]) -> Aws:
    return fresh_target()


# --- AssumeRole and MFA --------------------------------------------------------------------------


def test_assume_role_without_mfa(target: Aws) -> None:
    user = create_mfa_user(target)
    role = create_role(target, "mfa-only", trust_policy(user.arn))

    result = outcome(assume, aws=target, user=user, role_arn=role)

    expect(target, result, not_authorized(user.arn, role))


def test_assume_role_with_a_wrong_code(target: Aws) -> None:
    user = create_mfa_user(target)
    role = create_role(target, "mfa-only", trust_policy(user.arn))
    target.advance(30)

    result = outcome(
        assume, aws=target, user=user, role_arn=role, SerialNumber=user.serial, TokenCode="000000"
    )

    expect(target, result, INVALID_CODE)


def test_assume_role_reusing_a_code(target: Aws) -> None:
    user = create_mfa_user(target)
    role = create_role(target, "mfa-only", trust_policy(user.arn))
    target.advance(30)
    code = target.code(user.seed)
    assume(target, user, role, SerialNumber=user.serial, TokenCode=code)

    result = outcome(assume, aws=target, user=user, role_arn=role, SerialNumber=user.serial, TokenCode=code)

    expect(target, result, INVALID_CODE)


def test_assume_role_with_someone_elses_device(target: Aws) -> None:
    alice = create_mfa_user(target)
    bob = create_mfa_user(target, "bob")
    role = create_role(target, "mfa-only", trust_policy(alice.arn))
    target.advance(30)

    result = outcome(
        assume,
        aws=target,
        user=alice,
        role_arn=role,
        SerialNumber=bob.serial,
        TokenCode=target.code(bob.seed),
    )

    expect(
        target,
        result,
        (
            "AccessDenied",
            "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your "
            "MFA serial number is valid and associated with this user.",
        ),
    )


def test_assume_a_role_that_does_not_exist(target: Aws) -> None:
    user = create_mfa_user(target)
    target.advance(30)
    missing = f"arn:aws:iam::{ACCOUNT_1}:role/nobody-made-me"

    result = outcome(assume, aws=target, user=user, role_arn=missing, mfa=True)

    expect(target, result, not_authorized(user.arn, missing))


def test_assume_a_role_that_trusts_another_user(target: Aws) -> None:
    alice = create_mfa_user(target)
    bob = create_mfa_user(target, "bob")
    role = create_role(target, "bobs-role", trust_policy(bob.arn))
    allow_assume(target, alice, role)
    target.advance(30)

    result = outcome(assume, aws=target, user=alice, role_arn=role, mfa=True)

    expect(target, result, not_authorized(alice.arn, role))


def test_account_root_trust_without_an_identity_policy(target: Aws) -> None:
    user = create_mfa_user(target)
    role = create_role(target, "account-trust", trust_policy(f"arn:aws:iam::{ACCOUNT_1}:root"))
    target.advance(30)

    result = outcome(assume, aws=target, user=user, role_arn=role, mfa=True)

    expect(target, result, not_authorized(user.arn, role))


def test_cross_account_without_an_identity_policy(target: Aws) -> None:
    user = create_mfa_user(target)
    role = create_role(target, "cross", trust_policy(user.arn), account=1)
    target.advance(30)

    result = outcome(assume, aws=target, user=user, role_arn=role, mfa=True)

    expect(target, result, not_authorized(user.arn, role))


def test_trust_policy_naming_a_path_ful_user_without_its_path(target: Aws) -> None:
    """AWS: that ARN names nobody, so the role cannot even be created."""
    user = create_mfa_user(target, path="/sts-mfa/")
    pathless = f"arn:aws:iam::{ACCOUNT_1}:user/{user.name}"

    result = outcome(target.iam().create_role, RoleName="r", AssumeRolePolicyDocument=trust_policy(pathless))

    expect(target, result, ("MalformedPolicyDocument", f'Invalid principal in policy: "AWS":"{pathless}"'))


def test_an_expired_session_keeps_working(target: Aws) -> None:
    user = create_mfa_user(target)
    role = create_role(target, "mfa-only", trust_policy(user.arn))
    target.advance(30)
    session = Creds.of_session(assume(target, user, role, mfa=True, DurationSeconds=900)["Credentials"])
    target.advance(901)

    result = outcome(target.client("sts", session).get_caller_identity)

    expect(target, result, ("ExpiredToken", "The security token included in the request is expired"))


def test_a_made_up_access_key(target: Aws) -> None:
    stranger = Creds("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    result = outcome(target.client("iam", stranger).create_user, UserName="intruder")

    expect(target, result, ("InvalidClientTokenId", "The security token included in the request is invalid."))


# --- MFA device enabling -------------------------------------------------------------------------


def test_enable_mfa_device_with_made_up_codes(target: Aws) -> None:
    iam = target.iam()
    iam.create_user(UserName="alice")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]

    result = outcome(
        iam.enable_mfa_device,
        UserName="alice",
        SerialNumber=serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )

    expect(target, result, ("InvalidAuthenticationCode", "Authentication code for device is not valid."))


def test_enable_mfa_device_that_does_not_exist(target: Aws) -> None:
    iam = target.iam()
    iam.create_user(UserName="alice")
    serial = f"arn:aws:iam::{ACCOUNT_1}:mfa/imaginary"

    result = outcome(
        iam.enable_mfa_device,
        UserName="alice",
        SerialNumber=serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )

    expect(target, result, ("NoSuchEntity", f"VirtualMFADevice with serial number {serial} doesn't exist."))


# --- deletion order --------------------------------------------------------------------------------


def test_delete_user_with_an_access_key(target: Aws) -> None:
    iam = target.iam()
    iam.create_user(UserName="u")
    iam.create_access_key(UserName="u")

    result = outcome(iam.delete_user, UserName="u")

    expect(target, result, ("DeleteConflict", "Cannot delete entity, must delete access keys first."))


def test_delete_user_with_an_mfa_device(target: Aws) -> None:
    user = create_mfa_user(target)
    iam = target.iam()
    iam.delete_access_key(UserName=user.name, AccessKeyId=user.creds.access_key_id)

    result = outcome(iam.delete_user, UserName=user.name)

    expect(target, result, ("DeleteConflict", "Cannot delete entity, must delete MFA device first."))


def test_delete_an_mfa_device_still_assigned(target: Aws) -> None:
    user = create_mfa_user(target)

    result = outcome(target.iam().delete_virtual_mfa_device, SerialNumber=user.serial)

    expect(target, result, ("DeleteConflict", "MFA Device is still in use"))


def test_delete_a_policy_still_attached(target: Aws) -> None:
    iam = target.iam()
    iam.create_user(UserName="u")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=identity_policy("s3:*", "*"))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="u", PolicyArn=arn)

    result = outcome(iam.delete_policy, PolicyArn=arn)

    expect(target, result, ("DeleteConflict", "Cannot delete a policy attached to entities."))


def test_delete_user_still_in_a_group(target: Aws) -> None:
    iam = target.iam()
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="u")

    result = outcome(iam.delete_user, UserName="u")

    expect(target, result, ("DeleteConflict", "Cannot delete entity, must remove users from group first."))


def test_delete_user_with_a_login_profile(target: Aws) -> None:
    iam = target.iam()
    iam.create_user(UserName="u")
    iam.create_login_profile(UserName="u", Password="Sandbox-Passw0rd!")

    result = outcome(iam.delete_user, UserName="u")

    expect(target, result, ("DeleteConflict", "Cannot delete entity, must delete login profile first."))


# --- trust-policy conditions and explicit Deny -------------------------------------------------------


def _trust(*statements: dict[str, Any]) -> str:
    import json

    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_an_explicit_deny_in_the_trust_policy_wins(target: Aws) -> None:
    user = create_mfa_user(target)
    allow = {"Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole"}
    deny = {"Effect": "Deny", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole"}
    role = create_role(target, "denied", _trust(allow, deny))
    target.advance(30)

    result = outcome(assume, aws=target, user=user, role_arn=role, mfa=True)

    expect(target, result, not_authorized(user.arn, role))


def test_mfa_age_exists_only_when_mfa_was_used(target: Aws) -> None:
    """NumericLessThan on aws:MultiFactorAuthAge: without MFA the key is absent, so no match."""
    user = create_mfa_user(target)
    condition = {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}
    role = create_role(target, "recent-mfa", trust_policy(user.arn, condition=condition))

    result = outcome(assume, aws=target, user=user, role_arn=role)

    expect(target, result, not_authorized(user.arn, role))


def test_a_wrong_external_id(target: Aws) -> None:
    user = create_mfa_user(target)
    condition = {"StringEquals": {"sts:ExternalId": "expected"}}
    role = create_role(target, "external", trust_policy(user.arn, condition=condition))

    result = outcome(assume, aws=target, user=user, role_arn=role, ExternalId="something-else")

    expect(target, result, not_authorized(user.arn, role))


def test_an_operator_the_sandbox_does_not_know_fails_closed(target: Aws) -> None:
    """AWS would evaluate DateGreaterThan; the sandbox never grants on what it cannot evaluate."""
    user = create_mfa_user(target)
    condition = {"DateGreaterThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"}}
    role = create_role(target, "dated", trust_policy(user.arn, condition=condition))

    result = outcome(assume, aws=target, user=user, role_arn=role)

    expect(target, result, not_authorized(user.arn, role))


def test_for_any_value_over_a_missing_key_is_false_whatever_the_suffix(target: Aws) -> None:
    """IAM's set operators decide first: ForAnyValue over a key the request lacks is false,
    IfExists or not, so long-term keys (no MFA key at all) do not meet this condition."""
    user = create_mfa_user(target)
    condition = {"ForAnyValue:BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}
    role = create_role(target, "any-value", trust_policy(user.arn, condition=condition))

    result = outcome(assume, aws=target, user=user, role_arn=role)

    expect(target, result, not_authorized(user.arn, role))


def test_a_code_two_windows_old(target: Aws) -> None:
    """One 30 s step of clock drift either side is accepted; two steps back is not."""
    user = create_mfa_user(target)
    role = create_role(target, "mfa-only", trust_policy(user.arn))
    target.advance(90)
    stale = target.code(user.seed, -2)

    result = outcome(assume, aws=target, user=user, role_arn=role, SerialNumber=user.serial, TokenCode=stale)

    expect(target, result, INVALID_CODE)


# --- permissions -------------------------------------------------------------------------------------


def test_the_users_own_key_cannot_list_buckets(target: Aws) -> None:
    user = create_mfa_user(target)

    result = outcome(target.client("s3", user.creds).list_buckets)

    expect(target, result, ("AccessDenied", "Access Denied"))


def test_a_role_session_cannot_do_what_the_role_does_not_allow(target: Aws) -> None:
    user = create_mfa_user(target)
    role = create_role(target, "mfa-only", trust_policy(user.arn))
    target.advance(30)
    session = Creds.of_session(assume(target, user, role, mfa=True)["Credentials"])

    result = outcome(target.client("iam", session).create_user, UserName="escalation")

    caller = f"arn:aws:sts::{ACCOUNT_1}:assumed-role/mfa-only/demo"
    target_arn = f"arn:aws:iam::{ACCOUNT_1}:user/escalation"
    expect(
        target,
        result,
        (
            "AccessDenied",
            f"User: {caller} is not authorized to perform: iam:CreateUser on resource: {target_arn}",
        ),
    )
