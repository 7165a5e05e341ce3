"""setup's MFA device: create the virtual device, then enable it with two consecutive codes.

Split in the steps a reader follows: create the device (or replace one whose
creation answer, and seed, was lost); plan the two codes (the software token's,
or a phone's through `PhoneUI`); send them; and decide what a refusal means in
`enable_refusal`, a pure function tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from botocore.exceptions import ClientError

from sts_mfa.aws.errors import error_code, error_message
from sts_mfa.errors import CodeRefused, StateError
from sts_mfa.mfa import totp
from sts_mfa.scenario.context import Context, mfa_serial, tags
from sts_mfa.state.document import Transaction
from sts_mfa.state.marks import Names
from sts_mfa.state.model import MfaDevice, MfaMode, State


class PhoneUI(Protocol):
    """How phone mode shows the QR code and gets two codes (the CLI decides how)."""

    def show(self, uri: str, serial: str) -> None: ...

    def codes(self) -> tuple[str, str]: ...

    def done(self) -> None:
        """The device is enabled: remove anything holding the seed (the PNG)."""


@dataclass(frozen=True)
class EnableCodes:
    first: str
    second: str
    step: int | None  # the second code's time-step, when known (the software token)


EnableOutcome = Literal["enabled", "already-enabled", "codes-refused", "other"]


def enable_refusal(code: str | None, message: str) -> EnableOutcome:
    """What an EnableMFADevice error means: the device was enabled already, the codes were bad, or else."""
    if code == "EntityAlreadyExists":
        return "already-enabled"  # enabled by a run whose answer was lost
    if code in ("InvalidAuthenticationCode", "AccessDenied") and "authentication code" in message.lower():
        return "codes-refused"
    return "other"


def ensure_device(
    ctx: Context, txn: Transaction, state: State, names: Names, phone: PhoneUI | None
) -> list[str]:
    """Create and enable the device as needed; return what was created."""
    missing = state.mfa_device is None or not state.mfa_device.serial
    created = _create(ctx, txn, state, names) if missing else []
    device = state.mfa_device
    assert device is not None and device.serial is not None
    if not device.enabled:
        _enable(ctx, txn, state, device, phone)
    return created


def _create(ctx: Context, txn: Transaction, state: State, names: Names) -> list[str]:
    assert state.account is not None
    iam = ctx.aws.iam()
    name = state.mfa_device.name if state.mfa_device else names.device
    state.mfa_device = device = MfaDevice(name)
    txn.save()  # the intention first
    kwargs: dict[str, Any] = {"Path": state.iam_path, "VirtualMFADeviceName": name, "Tags": tags(state)}
    try:
        answer = iam.create_virtual_mfa_device(**kwargs)["VirtualMFADevice"]
    except ClientError as e:
        if error_code(e) != "EntityAlreadyExists":
            raise
        # Created by a call whose answer (and seed) was lost: it was never enabled,
        # because enabling needs the serial we had not recorded. Replace it.
        iam.delete_virtual_mfa_device(SerialNumber=mfa_serial(state.account, state.iam_path, name))
        answer = iam.create_virtual_mfa_device(**kwargs)["VirtualMFADevice"]
    seed = answer["Base32StringSeed"]
    state.seed = seed.decode("ascii") if isinstance(seed, bytes) else str(seed)
    device.serial = answer["SerialNumber"]
    device.created_at = ctx.clock.now()
    txn.save()
    ctx.report.step(f"Created virtual MFA device {device.serial}")
    return [device.serial]


def _plan_codes(
    ctx: Context, txn: Transaction, state: State, serial: str, phone: PhoneUI | None
) -> EnableCodes:
    """The two consecutive codes to enable the device with."""
    if state.seed is None:
        if state.mode == "software":
            raise StateError("the state file lost the software token's seed")
        raise StateError("the state file lost the seed of the device waiting to be enabled")
    if state.mode == "software":
        record = state.totp_record(serial)
        honoured, future = totp.sane_last_step(record.last_step, ctx.clock.now())
        if future and record.last_step is not None:
            ctx.report.warn(totp.future_step_warning(record.last_step, ctx.clock.now()))
            record.last_step = honoured
        last = record.last_step
        wait = totp.seconds_until_usable(None if last is None else last + 1, ctx.clock.now())
        if wait > 0:  # both codes must be newer than anything sent before
            ctx.sleep_with_countdown(wait, "a fresh pair of TOTP windows")
        first, second, step = totp.enable_codes(state.seed, ctx.clock.now())
        ctx.report.info(f"Software token: codes for time-steps {step - 1} and {step}")
        return EnableCodes(first, second, step)
    assert phone is not None and state.user is not None
    from sts_mfa.mfa.qr import label, otpauth_uri

    phone.show(otpauth_uri(state.seed, label(state.user.name, state.account)), serial)
    txn.save()  # show() may have recorded a QR code PNG to remove later
    first, second = phone.codes()
    return EnableCodes(first, second, None)


def _enable(ctx: Context, txn: Transaction, state: State, device: MfaDevice, phone: PhoneUI | None) -> None:
    assert state.user is not None and device.serial is not None
    with ctx.device_ledger(device.serial) as shared:  # the steps these codes spend, for every caller
        record = state.totp_record(device.serial)
        if shared.last_step is not None:
            record.last_step = max(shared.last_step, record.last_step or shared.last_step)
        codes = _plan_codes(ctx, txn, state, device.serial, phone)
        if codes.step is not None:
            shared.note_step(codes.step)
        else:
            shared.note_typed(codes.second, ctx.clock.now())
    step = codes.step
    try:
        ctx.aws.iam_for_mfa().enable_mfa_device(
            UserName=state.user.name,
            SerialNumber=device.serial,
            AuthenticationCode1=codes.first,
            AuthenticationCode2=codes.second,
        )
    except ClientError as e:
        outcome = enable_refusal(error_code(e), error_message(e))
        if outcome == "already-enabled":
            ctx.report.info("The device was already enabled by an interrupted setup")
            step = totp.step_at(ctx.clock.now()) if step is None else step
        elif outcome == "codes-refused":
            raise _codes_refused(ctx, state.mode, error_message(e)) from None
        else:
            raise
    _record_enabled(ctx, state, device, codes.second, step)
    if state.mode == "phone":
        if phone is not None:
            phone.done()  # while the seed is known: the PNG removed must be this device's QR code
        state.seed = None  # the phone holds it now; nothing on disk does
    txn.save()
    ctx.report.step(f"Enabled the MFA device for {state.user.name} with two consecutive codes")


def _codes_refused(ctx: Context, mode: MfaMode, message: str) -> CodeRefused:
    if mode == "software":
        return CodeRefused(
            f"AWS refused the software token's two codes: {message}",
            hint=ctx.aws.skew_warning()
            or "TOTP codes depend on the time: check this machine's clock, then run setup again",
        )
    return CodeRefused(
        f"AWS refused the two codes: {message}",
        hint="they must be two consecutive codes from the app; run `sts-mfa setup` again",
    )


def _record_enabled(ctx: Context, state: State, device: MfaDevice, second: str, step: int | None) -> None:
    """The device is enabled: the steps its codes used are spent."""
    assert device.serial is not None
    record = state.totp_record(device.serial)
    now = ctx.clock.now()
    if step is not None:
        record.last_step = max(step, record.last_step or step)
    else:
        record.last_code, record.last_used_at = second, now
        record.last_step = totp.step_at(now)
    device.enabled = True
