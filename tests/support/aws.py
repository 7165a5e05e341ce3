"""Raw AWS calls for the sandbox's own tests (tests/sandbox/): clients and scenario building blocks.

`Aws` wraps an endpoint (the Sandbox, or plain moto for contrast) so the same scenario
code runs against both; its clock is a `FakeClock` the test moves (TOTP windows are
30 s, and no test waits for one). The building blocks make what a scenario needs: a
user with an enabled MFA device, a role, the policies between them, an AssumeRole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlsplit

import boto3
import pyotp
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sts_mfa.sandbox import Sandbox
from tests.support.clock import FakeClock

ACCOUNT_1 = "111111111111"  # identity account: where the user lives
ACCOUNT_2 = "222222222222"  # resource account: where a cross-account role lives

_BOTO = boto3.session.Session()


SUCCEEDED = "succeeded"


def outcome(call: Callable[..., Any], **kwargs: Any) -> str | tuple[str, str]:
    """'succeeded', or the (Code, Message) of the refusal."""
    try:
        call(**kwargs)
    except ClientError as exc:
        return exc.response["Error"]["Code"], exc.response["Error"]["Message"]
    return SUCCEEDED


@contextmanager
def plain_moto_server() -> Iterator[str]:
    """moto's own server on a free port, nothing in front of it (the contrast to the sandbox):
    its endpoint URL. moto's in-process models are reset when it stops."""
    from moto.server import ThreadedMotoServer

    from sts_mfa.sandbox.seam import motoview

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        motoview.reset_everything()


NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@dataclass(frozen=True)
class Creds:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    @classmethod
    def of_session(cls, credentials: dict[str, Any]) -> Creds:
        return cls(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])

    @classmethod
    def of(cls, response: dict[str, Any]) -> Creds:
        """The credentials of an AssumeRole or GetSessionToken response."""
        return cls.of_session(response["Credentials"])


@dataclass
class Aws:
    """An endpoint to run a scenario against: the Sandbox, or plain moto for contrast."""

    endpoint: str
    region: str
    admins: list[Creds]
    account_ids: list[str]
    clock: Callable[[], float]
    strict: bool
    sandbox: Sandbox | None = None

    def client(self, service: str, creds: Creds | None = None, **config: Any) -> Any:
        creds = creds or self.admins[0]
        return _BOTO.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            aws_session_token=creds.session_token,
            config=config.get("config", NO_RETRIES),
        )

    def iam(self, account: int = 0) -> Any:
        return self.client("iam", self.admins[account])

    def advance(self, seconds: float) -> None:
        if isinstance(self.clock, FakeClock):
            self.clock.advance(seconds)

    def code(self, seed: str, steps: int = 0) -> str:
        """The code a phone shows now (or `steps` windows away)."""
        return str(pyotp.TOTP(seed).at(self.clock() + 30 * steps))


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def http(
    endpoint: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """A raw HTTP request to the endpoint (control API, unsigned probes)."""
    parts = urlsplit(endpoint)
    connection = HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def refused(call: Callable[..., Any], **kwargs: Any) -> dict[str, str]:
    """Make the call, which must fail; return botocore's parsed Error (Code, Message)."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    error: dict[str, str] = info.value.response["Error"]
    error["HTTPStatusCode"] = str(info.value.response["ResponseMetadata"]["HTTPStatusCode"])
    return error


# --- scenario building blocks -------------------------------------------------------------

MFA_CONDITION = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def trust_policy(*principals: str, condition: dict[str, Any] | None = MFA_CONDITION) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": list(principals) if len(principals) > 1 else principals[0]},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def identity_policy(action: str, resource: str, effect: str = "Allow") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Action": action, "Resource": resource}],
        }
    )


@dataclass(frozen=True)
class MfaUser:
    name: str
    arn: str
    account_id: str
    creds: Creds
    serial: str
    seed: str


def create_mfa_user(aws: Aws, name: str = "alice", *, path: str = "/sts-mfa/", account: int = 0) -> MfaUser:
    """A user with an access key and a virtual MFA device enabled with two real codes
    (the previous and the current window, as automation does). Afterwards the current
    window's code is used up: AssumeRole needs the next one (`aws.advance(30)`)."""
    iam = aws.iam(account)
    user = iam.create_user(UserName=name, Path=path)["User"]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, Path=path)
    serial = device["VirtualMFADevice"]["SerialNumber"]
    seed = device["VirtualMFADevice"]["Base32StringSeed"].decode()
    iam.enable_mfa_device(
        UserName=name,
        SerialNumber=serial,
        AuthenticationCode1=aws.code(seed, -1),
        AuthenticationCode2=aws.code(seed),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    creds = Creds(key["AccessKeyId"], key["SecretAccessKey"])
    return MfaUser(name, user["Arn"], aws.account_ids[account], creds, serial, seed)


def create_role(
    aws: Aws, name: str, trust: str, *, account: int = 0, list_buckets: bool = True, **extra: Any
) -> str:
    iam = aws.iam(account)
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, **extra)["Role"]["Arn"]
    if list_buckets:
        iam.put_role_policy(
            RoleName=name,
            PolicyName="list-buckets",
            PolicyDocument=identity_policy("s3:ListAllMyBuckets", "*"),
        )
    return arn


def allow_assume(aws: Aws, user: MfaUser, role_arn: str, *, account: int = 0) -> None:
    aws.iam(account).put_user_policy(
        UserName=user.name,
        PolicyName="assume-role",
        PolicyDocument=identity_policy("sts:AssumeRole", role_arn),
    )


def assume(aws: Aws, user: MfaUser, role_arn: str, **kwargs: Any) -> dict[str, Any]:
    """AssumeRole as `user`; pass SerialNumber/TokenCode (or `mfa=True` for the current code)."""
    if kwargs.pop("mfa", False):
        kwargs.update(SerialNumber=user.serial, TokenCode=aws.code(user.seed))
    sts = aws.client("sts", user.creds)
    response: dict[str, Any] = sts.assume_role(RoleArn=role_arn, RoleSessionName="demo", **kwargs)
    return response


def sandbox_aws(sandbox: Sandbox, clock: FakeClock) -> Aws:
    return Aws(
        endpoint=sandbox.endpoint,
        region=sandbox.region,
        admins=[Creds(a.access_key_id, a.secret_access_key) for a in sandbox.accounts],
        account_ids=[a.account_id for a in sandbox.accounts],
        clock=clock,
        strict=True,
        sandbox=sandbox,
    )
