"""Self-test: is the sandbox still standing on the moto it was built against?

* `structural_problems()` (`sts_mfa.sandbox.seam.structure`): moto is the pinned version
  and every attribute the middleware reads exists and means what it did;
* `scenario_problems()`: the scenario end to end through a started Sandbox: a user
  with an MFA device enabled with real codes, a role trusting the user only with
  `Bool aws:MultiFactorAuthPresent`, then AssumeRole without MFA (refused), with a
  wrong code (refused) and with the right code (credentials).

`run()` returns the problems (empty means fine); `main()` prints them and exits 1 if
there are any: `python -m sts_mfa.sandbox.selftest`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, cast

from sts_mfa.sandbox.seam.structure import PINNED_MOTO, structural_problems

__all__ = ["PINNED_MOTO", "run", "scenario_problems", "structural_problems"]


class _StepClock:
    """The self-test's own clock: a phone that can wait 30 s without waiting."""

    def __init__(self) -> None:
        self.now = 58_333_333 * 30 + 5.0  # 5 s into a TOTP window

    def __call__(self) -> float:
        return self.now


Client = Callable[..., Any]  # (service, key id, secret, token=None) -> a boto3 client


def scenario_problems() -> list[str]:
    """Run the MFA scenario through a real Sandbox over HTTP with boto3."""
    from sts_mfa.sandbox.server import Sandbox

    clock = _StepClock()
    with Sandbox(clock=clock, sample_buckets=()) as sb:
        client = _client_factory(sb.endpoint, sb.region)
        admin = sb.accounts[0]
        iam = client("iam", admin.access_key_id, admin.secret_access_key)
        serial, seed, role_arn, key = _create_mfa_user_and_role(iam, clock)
        sts = client("sts", key["AccessKeyId"], key["SecretAccessKey"])
        problems = _assume_role_problems(client, sts, clock, serial, seed, role_arn)
        clock.now += 30  # the right code spent that window
        return problems + _session_token_problems(client, sts, clock, serial, seed, role_arn)


def _client_factory(endpoint: str, region: str) -> Client:
    import boto3
    from botocore.config import Config

    make_client = cast(Any, boto3.session.Session().client)
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})

    def client(service: str, key: str, secret: str, token: str | None = None) -> Any:
        return make_client(
            service,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=config,
        )

    return client


def _create_mfa_user_and_role(iam: Any, clock: _StepClock) -> tuple[str, str, str, dict[str, Any]]:
    """A user with an MFA device enabled with real codes, a role trusting it only with
    MFA, and an access key for the user: (serial, seed, role ARN, access key)."""
    import pyotp

    user = iam.create_user(UserName="selftest", Path="/sts-mfa/")["User"]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="selftest")
    serial = device["VirtualMFADevice"]["SerialNumber"]
    seed = device["VirtualMFADevice"]["Base32StringSeed"].decode()
    totp = pyotp.TOTP(seed)
    iam.enable_mfa_device(
        UserName="selftest",
        SerialNumber=serial,
        AuthenticationCode1=totp.at(clock.now - 30),
        AuthenticationCode2=totp.at(clock.now),
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": user["Arn"]},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ],
    }
    role = iam.create_role(RoleName="selftest", AssumeRolePolicyDocument=json.dumps(trust))
    key = iam.create_access_key(UserName="selftest")["AccessKey"]
    return serial, seed, role["Role"]["Arn"], key


def _assume_role_problems(
    client: Client, sts: Any, clock: _StepClock, serial: str, seed: str, role_arn: str
) -> list[str]:
    """AssumeRole without MFA and with a wrong code (refused), then with the right code."""
    import pyotp
    from botocore.exceptions import ClientError

    problems: list[str] = []
    totp = pyotp.TOTP(seed)

    def refused(label: str, expected: str, **kwargs: str) -> None:
        try:
            sts.assume_role(RoleArn=role_arn, RoleSessionName="selftest", **kwargs)
        except ClientError as exc:
            message = exc.response["Error"]["Message"]
            if exc.response["Error"]["Code"] != "AccessDenied" or expected not in message:
                problems.append(f"{label}: refused with an unexpected error: {message}")
        else:
            problems.append(f"{label}: AssumeRole SUCCEEDED; the sandbox must refuse it")

    refused("AssumeRole without MFA", "is not authorized to perform: sts:AssumeRole")
    clock.now += 30  # the enabling codes used this window; wait for the next
    wrong = f"{(int(totp.at(clock.now)) + 1) % 1_000_000:06d}"
    refused(
        "AssumeRole with a wrong code",
        "invalid MFA one time pass code",
        SerialNumber=serial,
        TokenCode=wrong,
    )
    try:
        credentials = sts.assume_role(
            RoleArn=role_arn,
            RoleSessionName="selftest",
            SerialNumber=serial,
            TokenCode=totp.at(clock.now),
        )["Credentials"]
    except ClientError as exc:
        problems.append(f"AssumeRole with the right code was refused: {exc}")
    else:
        assumed = client(
            "sts",
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
        ).get_caller_identity()
        if ":assumed-role/selftest/selftest" not in assumed["Arn"]:
            problems.append(f"the session is not the role's: {assumed['Arn']}")
    return problems


def _session_token_problems(
    client: Client, sts: Any, clock: _StepClock, serial: str, seed: str, role_arn: str
) -> list[str]:
    """GetSessionToken with MFA: the sandbox's own credentials, acting as the user, whose
    MFA lets AssumeRole in without a code of its own."""
    import pyotp
    from botocore.exceptions import ClientError

    try:
        credentials = sts.get_session_token(SerialNumber=serial, TokenCode=pyotp.TOTP(seed).at(clock.now))[
            "Credentials"
        ]
        session = client(
            "sts", credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
        )
        arn = session.get_caller_identity()["Arn"]
        session.assume_role(RoleArn=role_arn, RoleSessionName="selftest")
    except ClientError as exc:
        return [f"GetSessionToken with MFA, then AssumeRole with its credentials, failed: {exc}"]
    if not arn.endswith(":user/sts-mfa/selftest"):
        return [f"a GetSessionToken session is not its user: {arn}"]
    return []


def run() -> list[str]:
    """All checks; an empty list means the sandbox can be trusted on this moto."""
    problems = structural_problems()
    if problems:
        return problems
    try:
        return scenario_problems()
    except Exception as exc:  # report, do not crash: this is a diagnostic
        return [f"the scenario could not run: {type(exc).__name__}: {exc}"]


def main() -> None:
    problems = run()
    for problem in problems:
        print(f"sandbox self-test: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"sandbox self-test: OK (moto {PINNED_MOTO})")


if __name__ == "__main__":
    main()
