"""EnableMFADevice: two consecutive codes from the device's real seed.

AWS checks that the codes belong to two consecutive 30 s windows, the second one
within a window of its clock, and later than any code already accepted for the
device. Anything else is `InvalidAuthenticationCode`. A phone is simulated by
computing codes from the seed CreateVirtualMFADevice returned.
"""

from __future__ import annotations

from typing import Any

import pytest

from sts_mfa.sandbox import Sandbox
from tests.support.aws import ACCOUNT_1, Aws, refused

pytestmark = pytest.mark.sandbox

INVALID = ("InvalidAuthenticationCode", "Authentication code for device is not valid.")


def _device(aws: Aws, name: str = "alice") -> tuple[Any, str, str]:
    iam = aws.iam()
    iam.create_user(UserName=name)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    return iam, device["SerialNumber"], device["Base32StringSeed"].decode()


def _enable(iam: Any, serial: str, code1: str, code2: str, user: str = "alice") -> Any:
    return iam.enable_mfa_device(
        UserName=user, SerialNumber=serial, AuthenticationCode1=code1, AuthenticationCode2=code2
    )


@pytest.mark.parametrize("second", [-1, 0, 1], ids=["previous+now", "now", "next"])
def test_consecutive_codes_are_accepted(aws: Aws, sb: Sandbox, second: int) -> None:
    """The second code may be from the window before, of, or after the sandbox clock."""
    iam, serial, seed = _device(aws)

    _enable(iam, serial, aws.code(seed, second - 1), aws.code(seed, second))

    devices = iam.list_mfa_devices(UserName="alice")["MFADevices"]
    assert [d["SerialNumber"] for d in devices] == [serial]
    assert sb.last_accepted_step(serial) == int(aws.clock() // 30) + second


@pytest.mark.parametrize(
    ("first", "second"),
    [(0, 0), (0, -1), (-3, -2), (1, 3), (2, 3)],
    ids=["same-code-twice", "wrong-order", "too-old", "not-consecutive", "too-new"],
)
def test_other_code_pairs_are_refused(aws: Aws, sb: Sandbox, first: int, second: int) -> None:
    iam, serial, seed = _device(aws)

    error = refused(
        _enable, iam=iam, serial=serial, code1=aws.code(seed, first), code2=aws.code(seed, second)
    )

    assert (error["Code"], error["Message"], error["HTTPStatusCode"]) == (*INVALID, "403")
    assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []
    assert sb.last_accepted_step(serial) is None


def test_codes_from_another_seed_are_refused(aws: Aws) -> None:
    iam, serial, _ = _device(aws)
    _, _, other_seed = _device(aws, "bob")

    error = refused(
        _enable,
        iam=iam,
        serial=serial,
        code1=aws.code(other_seed, -1),
        code2=aws.code(other_seed),
    )
    assert (error["Code"], error["Message"]) == INVALID


def test_re_enabling_needs_codes_newer_than_the_last_accepted(aws: Aws) -> None:
    iam, serial, seed = _device(aws)
    _enable(iam, serial, aws.code(seed, -1), aws.code(seed))
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)

    error = refused(_enable, iam=iam, serial=serial, code1=aws.code(seed, -1), code2=aws.code(seed))
    assert (error["Code"], error["Message"]) == INVALID

    aws.advance(30)  # the first code of the next pair would be the one already spent
    error = refused(_enable, iam=iam, serial=serial, code1=aws.code(seed, -1), code2=aws.code(seed))
    assert (error["Code"], error["Message"]) == INVALID

    aws.advance(30)  # both codes new
    _enable(iam, serial, aws.code(seed, -1), aws.code(seed))


def test_an_unknown_serial_does_not_exist(aws: Aws) -> None:
    iam, _, seed = _device(aws)
    serial = f"arn:aws:iam::{ACCOUNT_1}:mfa/nothing-here"

    error = refused(_enable, iam=iam, serial=serial, code1=aws.code(seed, -1), code2=aws.code(seed))

    assert error["Code"] == "NoSuchEntity"
    assert error["HTTPStatusCode"] == "404"


def test_a_device_already_enabled_cannot_be_enabled_again(aws: Aws) -> None:
    iam, serial, seed = _device(aws)
    iam.create_user(UserName="bob")
    _enable(iam, serial, aws.code(seed, -1), aws.code(seed))
    aws.advance(60)

    for user in ("alice", "bob"):
        error = refused(
            _enable,
            iam=iam,
            serial=serial,
            code1=aws.code(seed, -1),
            code2=aws.code(seed),
            user=user,
        )
        assert error["Code"] == "EntityAlreadyExists"
        assert error["HTTPStatusCode"] == "409"


def test_codes_must_be_six_digits(aws: Aws) -> None:
    iam, serial, _ = _device(aws)

    error = refused(_enable, iam=iam, serial=serial, code1="12345a", code2="123456")

    assert error["Code"] == "ValidationError"
    assert error["Message"] == (
        "1 validation error detected: Value '12345a' at 'authenticationCode1' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [\\d]+"
    )
