"""GetSessionToken, and what its sessions may do: plain moto next to the sandbox.

Every test runs twice, against plain moto (`ThreadedMotoServer`, its IAM checks
off) and against the Sandbox (the `running` fixture, on the shared fake clock). moto
answers every GetSessionToken with the same example keys (`AKIAIOSFODNN7EXAMPLE`),
checks no MFA code, no duration and no caller, and serves requests made with them
for ever, in its default account (123456789012) as "user/moto"; the sandbox does
what AWS documents:

* the code is checked against the device and spent (one last step per device, shared
  with AssumeRole); SerialNumber and TokenCode go together; DurationSeconds is
  900..129600 (default 43200); only an IAM user's long-term key may call it;
* the session acts as the user: its identity policies, its ARN in GetCallerIdentity;
  at STS only AssumeRole and GetCallerIdentity; IAM only with MFA context;
* its MFA context carries into AssumeRole (a trust policy requiring MFA lets it in
  without a code), with the age since the original MFA; AssumeRole with it is
  limited to 1 hour, like role chaining; it expires on the sandbox clock;
* `Faults.session_seconds` cuts every new session short.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pyotp
import pytest
from botocore.config import Config

from sts_mfa.sandbox import Faults, Sandbox
from sts_mfa.sandbox.seam import motoview
from tests.support.aws import NO_RETRIES, SUCCEEDED, Creds, outcome, plain_moto_server

pytestmark = pytest.mark.sandbox

ACCOUNT = "111111111111"
MOTO_EXAMPLE_KEY = "AKIAIOSFODNN7EXAMPLE"
MFA_ONLY = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
INVALID_CODE = ("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
BOTH_REQUIRED = (
    "AccessDenied",
    "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.",
)
INVALID_TOKEN = ("InvalidClientTokenId", "The security token included in the request is invalid.")
SESSION_CREDENTIALS = ("AccessDenied", "Cannot call GetSessionToken with session credentials")
EXPIRED = ("ExpiredToken", "The security token included in the request is expired")
CHAINING = (
    "ValidationError",
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
)


# --- small local helpers ------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    arn: str
    creds: Creds
    serial: str
    seed: str


@dataclass
class Target:
    """One endpoint: plain moto (strict=False) or the sandbox (strict=True)."""

    endpoint: str
    admin: Creds
    clock: Any  # the shared fake clock: .advance(s), () -> now
    strict: bool
    sandbox: Sandbox | None = None

    def client(self, service: str, creds: Creds | None = None, config: Config = NO_RETRIES) -> Any:
        creds = creds or self.admin
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            aws_session_token=creds.session_token,
            config=config,
        )

    def code(self, seed: str) -> str:
        return str(pyotp.TOTP(seed).at(self.clock()))

    def next_window(self) -> None:
        self.clock.advance(30)


def expect(
    target: Target, result: str | tuple[str, str], refusal: tuple[str, str], moto: object = SUCCEEDED
) -> None:
    """Plain moto lets it through (or answers `moto`); the sandbox refuses as AWS does."""
    assert result == (refusal if target.strict else moto)


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **s} for s in statements]})


def create_user(target: Target, name: str = "alice", *, allow: tuple[str, ...] = ("sts:AssumeRole",)) -> User:
    """A user (path /team/) with a key, an MFA device enabled with two real codes (the
    current window is spent: `next_window()` before using a code) and a policy."""
    iam = target.client("iam")
    arn = iam.create_user(UserName=name, Path="/team/")["User"]["Arn"]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    serial, seed = device["SerialNumber"], device["Base32StringSeed"].decode()
    totp = pyotp.TOTP(seed)
    now = target.clock()
    iam.enable_mfa_device(
        UserName=name,
        SerialNumber=serial,
        AuthenticationCode1=totp.at(now - 30),
        AuthenticationCode2=totp.at(now),
    )
    document = policy({"Action": list(allow), "Resource": "*"})
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return User(arn, Creds(key["AccessKeyId"], key["SecretAccessKey"]), serial, seed)


def create_role(
    target: Target, name: str, principal: str, condition: dict[str, Any] | None = MFA_ONLY
) -> str:
    statement: dict[str, Any] = {"Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    iam = target.client("iam")
    role = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=policy(statement), MaxSessionDuration=43200
    )
    iam.put_role_policy(
        RoleName=name, PolicyName="p", PolicyDocument=policy({"Action": "sts:AssumeRole", "Resource": "*"})
    )
    return str(role["Role"]["Arn"])


def session_token(target: Target, user: User, *, mfa: bool = True, **kwargs: Any) -> dict[str, Any]:
    if mfa:
        kwargs.update(SerialNumber=user.serial, TokenCode=target.code(user.seed))
    response: dict[str, Any] = target.client("sts", user.creds).get_session_token(**kwargs)
    return response


# --- plain moto, then the sandbox ---------------------------------------------------------------


@pytest.fixture(scope="module", params=["plain moto", "sandbox"])
def fresh_target(request: pytest.FixtureRequest, shared_clock: Any) -> Iterator[Callable[[], Target]]:
    start = shared_clock()
    if request.param == "plain moto":
        with plain_moto_server() as endpoint:

            def fresh_moto() -> Target:
                motoview.reset_everything()
                key, secret, _ = motoview.create_admin(ACCOUNT, "us-east-1", "sandbox-admin", "/sandbox/")
                shared_clock.advance(start - shared_clock())  # back to the start
                return Target(endpoint, Creds(key, secret), shared_clock, strict=False)

            yield fresh_moto
    else:
        sandbox: Sandbox = request.getfixturevalue("running")

        def fresh_sandbox() -> Target:
            sandbox.reset()
            shared_clock.advance(start - shared_clock())  # back to the start
            admin = sandbox.accounts[0]
            creds = Creds(admin.access_key_id, admin.secret_access_key)
            return Target(sandbox.endpoint, creds, shared_clock, strict=True, sandbox=sandbox)

        yield fresh_sandbox


@pytest.fixture
def target(fresh_target: Callable[[], Target]) -> Target:
    return fresh_target()


@pytest.fixture
def alice(target: Target) -> User:
    user = create_user(target)
    target.next_window()  # enabling spent the current window
    return user


# --- GetSessionToken itself ---------------------------------------------------------------------


def test_with_mfa_the_session_is_the_users_own(target: Target, alice: User) -> None:
    """moto hands everyone the same example keys and says they are "user/moto"."""
    first = Creds.of(session_token(target, alice))
    target.next_window()
    second = Creds.of(session_token(target, alice))

    arn = target.client("sts", first).get_caller_identity()["Arn"]

    if target.strict:
        assert first.access_key_id.startswith("ASIA") and first.access_key_id != second.access_key_id
        assert arn == f"arn:aws:iam::{ACCOUNT}:user/team/alice" == alice.arn
    else:
        assert first.access_key_id == second.access_key_id == MOTO_EXAMPLE_KEY
        assert arn == "arn:aws:sts::123456789012:user/moto"


def test_without_mfa_a_session_is_issued_too(target: Target, alice: User) -> None:
    session = Creds.of(session_token(target, alice, mfa=False))

    assert target.client("sts", session).get_caller_identity()["Arn"].endswith("/alice") == target.strict


def test_a_wrong_code(target: Target, alice: User) -> None:
    result = outcome(
        target.client("sts", alice.creds).get_session_token, SerialNumber=alice.serial, TokenCode="000000"
    )

    expect(target, result, INVALID_CODE)


@pytest.mark.parametrize("given", ["SerialNumber", "TokenCode"])
def test_serial_and_code_go_together(target: Target, alice: User, given: str) -> None:
    both = {"SerialNumber": alice.serial, "TokenCode": target.code(alice.seed)}

    result = outcome(target.client("sts", alice.creds).get_session_token, **{given: both[given]})

    expect(target, result, BOTH_REQUIRED)


def test_a_code_is_spent_once(target: Target, alice: User) -> None:
    code = target.code(alice.seed)
    session_token(target, alice)

    result = outcome(
        target.client("sts", alice.creds).get_session_token, SerialNumber=alice.serial, TokenCode=code
    )

    expect(target, result, INVALID_CODE)


@pytest.mark.parametrize("first", ["GetSessionToken", "AssumeRole"])
def test_one_last_step_per_device_for_both_actions(target: Target, alice: User, first: str) -> None:
    role = create_role(target, "mfa-only", alice.arn)
    sts = target.client("sts", alice.creds)
    mfa = {"SerialNumber": alice.serial, "TokenCode": target.code(alice.seed)}
    assume = {"RoleArn": role, "RoleSessionName": "demo", **mfa}
    calls = [(sts.get_session_token, mfa), (sts.assume_role, assume)]
    if first == "AssumeRole":
        calls.reverse()
    (call, kwargs), (replay, replay_kwargs) = calls
    call(**kwargs)

    expect(target, outcome(replay, **replay_kwargs), INVALID_CODE)


@pytest.mark.parametrize(
    ("duration", "why"),
    [
        (899, "Member must have value greater than or equal to 900"),
        (129601, "Member must have value less than or equal to 129600"),
    ],
)
def test_duration_limits(target: Target, alice: User, duration: int, why: str) -> None:
    unchecked = Config(retries={"mode": "standard", "total_max_attempts": 1}, parameter_validation=False)
    sts = target.client("sts", alice.creds, config=unchecked)

    result = outcome(sts.get_session_token, DurationSeconds=duration)

    message = (
        f"1 validation error detected: Value '{duration}' at 'durationSeconds' "
        f"failed to satisfy constraint: {why}"
    )
    expect(target, result, ("ValidationError", message))


@pytest.mark.parametrize("duration", [None, 900, 129600])
def test_the_session_lasts_as_asked_by_default_12_hours(
    target: Target, alice: User, duration: int | None
) -> None:
    asked = {} if duration is None else {"DurationSeconds": duration}
    expiration = session_token(target, alice, mfa=False, **asked)["Credentials"]["Expiration"]

    lifetime = expiration.timestamp() - target.clock()
    if target.strict:
        assert lifetime == (duration or 43200)
    else:  # moto's expiry is on the real clock, which the fake one only approximates
        assert abs(lifetime - (duration or 43200)) < 600


@pytest.mark.parametrize("kind", ["GetSessionToken", "AssumeRole"])
def test_session_credentials_cannot_get_a_session_token(target: Target, alice: User, kind: str) -> None:
    if kind == "GetSessionToken":
        session = Creds.of(session_token(target, alice))
    else:
        role = create_role(target, "open", alice.arn, condition=None)
        session = Creds.of(
            target.client("sts", alice.creds).assume_role(RoleArn=role, RoleSessionName="demo")
        )

    expect(target, outcome(target.client("sts", session).get_session_token), SESSION_CREDENTIALS)


# --- what the session may do ----------------------------------------------------------------------


def test_iam_refuses_a_session_without_mfa(target: Target) -> None:
    user = create_user(target, allow=("iam:GetUser",))
    session = Creds.of(session_token(target, user, mfa=False))

    result = outcome(target.client("iam", session).get_user, UserName="alice")

    # moto does not know its own example key: it looks in its default account, where
    # there is no alice. Never the refusal AWS gives.
    in_moto_default_account = ("NoSuchEntity", "The user with name alice cannot be found.")
    expect(target, result, INVALID_TOKEN, moto=in_moto_default_account)


def test_iam_evaluates_a_session_with_mfa_as_the_user(target: Target) -> None:
    """moto, not knowing the session, thinks the calling user is "default_user"."""
    user = create_user(target, allow=("iam:GetUser",))
    target.next_window()
    iam = target.client("iam", Creds.of(session_token(target, user)))

    me = iam.get_user()["User"]["UserName"]
    refused = outcome(iam.list_users)

    assert me == ("alice" if target.strict else "default_user")
    resource = f"arn:aws:iam::{ACCOUNT}:user/"
    not_allowed = f"User: {user.arn} is not authorized to perform: iam:ListUsers on resource: {resource}"
    expect(target, refused, ("AccessDenied", not_allowed))


def test_s3_evaluates_the_users_identity_policies(target: Target) -> None:
    user = create_user(target, allow=("s3:ListAllMyBuckets",))
    denied = create_user(target, "bob")
    allowed = target.client("s3", Creds.of(session_token(target, user, mfa=False)))
    refused = target.client("s3", Creds.of(session_token(target, denied, mfa=False)))

    assert "Buckets" in allowed.list_buckets()
    expect(target, outcome(refused.list_buckets), ("AccessDenied", "Access Denied"))


def test_other_sts_actions_are_refused(target: Target, alice: User) -> None:
    sts = target.client("sts", Creds.of(session_token(target, alice)))

    result = outcome(sts.get_access_key_info, AccessKeyId=alice.creds.access_key_id)

    not_allowed = f"User: {alice.arn} is not authorized to perform: sts:GetAccessKeyInfo on resource: *"
    expect(target, result, ("AccessDenied", not_allowed))


def test_the_session_expires_on_the_sandbox_clock(target: Target, alice: User) -> None:
    sts = target.client("sts", Creds.of(session_token(target, alice, DurationSeconds=900)))
    assert sts.get_caller_identity()
    target.clock.advance(900)

    expect(target, outcome(sts.get_caller_identity), EXPIRED)


# --- AssumeRole with it -----------------------------------------------------------------------------


def test_an_mfa_session_assumes_an_mfa_role_without_a_code(target: Target, alice: User) -> None:
    """What aws-vault relies on: one code for GetSessionToken, none for the roles after."""
    role = create_role(target, "mfa-only", alice.arn)
    sts = target.client("sts", Creds.of(session_token(target, alice)))

    assumed = sts.assume_role(RoleArn=role, RoleSessionName="demo")["AssumedRoleUser"]["Arn"]

    assert assumed == f"arn:aws:sts::{ACCOUNT}:assumed-role/mfa-only/demo"


def test_a_session_without_mfa_is_refused_by_an_mfa_role(target: Target, alice: User) -> None:
    role = create_role(target, "mfa-only", alice.arn)
    sts = target.client("sts", Creds.of(session_token(target, alice, mfa=False)))

    result = outcome(sts.assume_role, RoleArn=role, RoleSessionName="demo")

    not_allowed = f"User: {alice.arn} is not authorized to perform: sts:AssumeRole on resource: {role}"
    expect(target, result, ("AccessDenied", not_allowed))


def test_a_code_of_its_own_still_counts(target: Target, alice: User) -> None:
    role = create_role(target, "mfa-only", alice.arn)
    sts = target.client("sts", Creds.of(session_token(target, alice, mfa=False)))
    target.next_window()

    response = sts.assume_role(
        RoleArn=role, RoleSessionName="demo", SerialNumber=alice.serial, TokenCode=target.code(alice.seed)
    )

    assert response["AssumedRoleUser"]["Arn"].endswith("/mfa-only/demo")


def test_assume_role_with_a_session_token_is_limited_to_one_hour(target: Target, alice: User) -> None:
    role = create_role(target, "mfa-only", alice.arn)  # MaxSessionDuration 12 h
    sts = target.client("sts", Creds.of(session_token(target, alice)))

    result = outcome(sts.assume_role, RoleArn=role, RoleSessionName="demo", DurationSeconds=3601)

    expect(target, result, CHAINING)
    assert sts.assume_role(RoleArn=role, RoleSessionName="demo", DurationSeconds=3600)


def _recent_mfa_role(target: Target, principal: str) -> str:
    """A role trusting `principal` with MFA, allowed to list buckets only within 600 s of MFA."""
    role = create_role(target, "recent-mfa", principal)
    recent = {
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
        "NumericLessThan": {"aws:MultiFactorAuthAge": "600"},
    }
    document = policy({"Action": "s3:ListAllMyBuckets", "Resource": "*", "Condition": recent})
    target.client("iam").put_role_policy(RoleName="recent-mfa", PolicyName="recent", PolicyDocument=document)
    return role


def test_the_role_session_keeps_the_age_of_the_original_mfa(target: Target, alice: User) -> None:
    role = _recent_mfa_role(target, alice.arn)
    sts = target.client("sts", Creds.of(session_token(target, alice)))
    target.clock.advance(300)  # MFA 300 s ago
    s3 = target.client("s3", Creds.of(sts.assume_role(RoleArn=role, RoleSessionName="demo")))

    assert "Buckets" in s3.list_buckets()
    target.clock.advance(301)  # 601 s since the code, 301 s since AssumeRole

    expect(target, outcome(s3.list_buckets), ("AccessDenied", "Access Denied"))


def test_a_role_session_with_mfa_chains_into_an_mfa_role(target: Target, alice: User) -> None:
    """AWS carries aws:MultiFactorAuthPresent through role chaining, and its age."""
    first = create_role(target, "first", alice.arn)
    second = _recent_mfa_role(target, f"arn:aws:iam::{ACCOUNT}:role/first")
    mfa = {"SerialNumber": alice.serial, "TokenCode": target.code(alice.seed)}
    hop = Creds.of(target.client("sts", alice.creds).assume_role(RoleArn=first, RoleSessionName="hop", **mfa))
    target.clock.advance(300)

    chained = target.client("sts", hop).assume_role(RoleArn=second, RoleSessionName="chained")
    s3 = target.client("s3", Creds.of(chained))

    assert "Buckets" in s3.list_buckets()
    target.clock.advance(301)  # 601 s since the code, 301 s since the chained AssumeRole
    expect(target, outcome(s3.list_buckets), ("AccessDenied", "Access Denied"))


# --- the session_seconds control -------------------------------------------------------------------


def test_session_seconds_cuts_every_new_session_short(target: Target, alice: User) -> None:
    """moto has no such control: its sessions last as asked (and never expire anyway)."""
    role = create_role(target, "mfa-only", alice.arn)
    if target.sandbox is not None:
        target.sandbox.set_faults(Faults(session_seconds=60))
    user_session = session_token(target, alice, DurationSeconds=3600)
    role_session = target.client("sts", Creds.of(user_session)).assume_role(
        RoleArn=role, RoleSessionName="demo", DurationSeconds=3600
    )
    for response in (user_session, role_session):
        lifetime = response["Credentials"]["Expiration"].timestamp() - target.clock()
        assert (lifetime == 60) if target.strict else abs(lifetime - 3600) < 600
    target.clock.advance(60)

    for response in (user_session, role_session):
        expect(target, outcome(target.client("sts", Creds.of(response)).get_caller_identity), EXPIRED)


def test_session_seconds_is_set_over_the_control_api(target: Target) -> None:
    """The sandbox's `/_sandbox/faults`; moto has no such thing (an error, or not JSON)."""
    body = json.dumps({"session_seconds": 30}).encode()
    url = f"{target.endpoint}/_sandbox/faults"
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - the local endpoint
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the local endpoint
            status, text = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()

    if target.sandbox is None:
        assert status != 200 or b"session_seconds" not in text
    else:
        assert (status, json.loads(text)["session_seconds"]) == (200, 30)
        assert target.sandbox.faults.session_seconds == 30
        with pytest.raises(ValueError, match="session_seconds"):
            Faults(session_seconds=-1)
