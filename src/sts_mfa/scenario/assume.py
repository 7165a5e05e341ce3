"""`assume`: AssumeRole with an MFA code, the session cached in the state file.

Runs under the state lock: the cache is re-checked inside it (so N processes
asking at once make one AssumeRole), and the TOTP step is chosen inside it (so
two processes never send the same step). Each attempt is planned (which code,
which step), recorded as sent before AWS can see it, sent, and a refusal is
handed to `refusals.decide`, which says whether to send again, wait for the next
window, or give up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from botocore.exceptions import ClientError

from sts_mfa.aws.errors import error_code, error_message, translate
from sts_mfa.errors import AwsError, CodeRefused, CredentialsError, PropagationTimeout, UsageError
from sts_mfa.mfa import totp
from sts_mfa.mfa.refusals import Decision, Failure, Next, Refusal, decide
from sts_mfa.mfa.spending import spend
from sts_mfa.scenario.context import DEFAULT_DURATION, Context, require_setup, stale_key_error, user_keys
from sts_mfa.state.cached import DEFAULT_REFRESH_MARGIN
from sts_mfa.state.document import Transaction
from sts_mfa.state.model import Session, State, TotpRecord, cached_session


@dataclass
class AssumeResult:
    session: Session
    cached: bool
    step: int | None = None
    waited: float = 0.0
    source: str = "cache"
    code: str | None = None  # the one-time code spent (worthless once used), for narration


@dataclass(frozen=True)
class Attempt:
    code: str
    step: int | None  # its time-step, when known (the software token, or a typed code matched to the seed)


def assume(
    ctx: Context,
    txn: Transaction,
    *,
    ask_code: Callable[[], str] | None,
    duration: int | None = None,
    force: bool = False,
    margin: float = DEFAULT_REFRESH_MARGIN,
) -> AssumeResult:
    """AssumeRole with MFA and cache the session; reuse a cached one unless `force`."""
    state = txn.require()
    require_setup(state)
    assert state.role and state.role.arn and state.mfa_device and state.mfa_device.serial
    if not force and (session := cached_session(state, ctx.clock.now(), margin)) is not None:
        return AssumeResult(session=session, cached=True)
    duration = _duration(state, duration)
    record = state.totp_record(state.mfa_device.serial)
    typed = _typed_code(ctx, state, record, ask_code)
    run = _Run(ctx, txn, state, record, typed, duration)
    response, attempt = run.until_accepted()
    session = _cache(ctx, txn, state, response)
    source = "typed code" if typed is not None else "software token"
    ctx.report.step(f"Assumed {state.role.arn} with MFA ({source}); the session lasts {duration} s")
    return AssumeResult(
        session=session,
        cached=False,
        step=record.last_step,
        waited=run.waited,
        source=source,
        code=attempt.code,
    )


def _duration(state: State, asked: int | None) -> int:
    duration = asked or min(DEFAULT_DURATION, state.max_session_duration)
    if duration > state.max_session_duration:
        raise UsageError(
            f"--duration {duration} is longer than the role allows ({state.max_session_duration} s)"
        )
    return duration


def _typed_code(
    ctx: Context, state: State, record: TotpRecord, ask_code: Callable[[], str] | None
) -> str | None:
    """The code a person gave (refused locally if already used), or None for the software token."""
    if ask_code is None:
        if state.mode != "software" or not state.seed:
            raise CredentialsError(
                "an MFA code is needed and this setup has no software token",
                hint="pass --code CODE, --code - (stdin) or set STS_MFA_CODE",
            )
        return None
    typed = ask_code()
    totp.check_typed_code(typed, record.last_code, record.last_used_at, ctx.clock.now())
    if state.seed is not None:
        step = totp.step_of_code(state.seed, typed, ctx.clock.now())
        if step is not None and record.last_step is not None and step <= record.last_step:
            raise CodeRefused(
                f"code {typed} is for time-step {step}, which was already used; AWS accepts each code once",
                hint="wait for the next code, or leave --code out to let the software token wait",
            )
    return typed


class _Run:
    """The attempts of one `assume`: plan, record, send, and act on what a refusal means."""

    def __init__(
        self,
        ctx: Context,
        txn: Transaction,
        state: State,
        record: TotpRecord,
        typed: str | None,
        duration: int,
    ) -> None:
        assert state.role and state.role.arn
        self.ctx, self.txn, self.state, self.record = ctx, txn, state, record
        self.typed, self.duration = typed, duration
        self.role_arn = state.role.arn
        self.sts = ctx.aws.sts_with(user_keys(state), spends_mfa_code=True)
        self.started = ctx.clock.now()
        self.waited = 0.0
        self.denials = 0
        self.young = (
            state.role.created_at,
            state.user_policy.created_at if state.user_policy else None,
            state.access_key.created_at if state.access_key else None,
        )

    def until_accepted(self) -> tuple[Any, Attempt]:
        again: Attempt | None = None  # a code AWS refused before reading it
        while True:
            attempt = again or self._reserve()
            self._record_sent(attempt)
            try:
                response = self._send(attempt)
            except ClientError as e:
                decision = decide(self._refusal(e))
                self._note(decision)
                if decision.next is Next.SEND_AGAIN:
                    self.ctx.clock.sleep(decision.pause)
                    again = attempt
                elif decision.next is Next.NEXT_WINDOW:
                    again = None
                else:
                    self._give_up(decision, e)
            except Exception as e:
                raise translate(e, "AssumeRole with MFA") from e
            else:
                self.ctx.report.done_waiting()
                return response, attempt

    def _reserve(self) -> Attempt:
        """Plan the next code under the device's shared ledger, and record its step there.

        Another state file or profile on the same device then never sends this step: it
        waits for the ledger's lock, and the step it plans comes after this one.
        """
        serial = self.state.mfa_device.serial if self.state.mfa_device else None
        assert serial is not None
        with self.ctx.device_ledger(serial) as shared:
            self.record.last_step = _later(self.record.last_step, shared.last_step)
            attempt = self._plan()
            spend(shared, attempt.code, self.ctx.clock.now(), step=attempt.step, typed=self.typed is not None)
        return attempt

    def _plan(self) -> Attempt:
        """The next code to send: the typed one, or the software token's for a fresh window."""
        state, record, now = self.state, self.record, self.ctx.clock.now()
        if self.typed is not None:
            # With the seed at hand (software token), a typed code's step is known:
            # recording it keeps the token from resending that step later.
            known = totp.step_of_code(state.seed, self.typed, now) if state.seed else None
            return Attempt(self.typed, known)
        assert state.seed is not None
        honoured, future = totp.sane_last_step(record.last_step, now)
        if future and record.last_step is not None:
            self.ctx.report.warn(totp.future_step_warning(record.last_step, now))
            record.last_step = honoured
        if record.last_step is not None and totp.step_at(now) <= record.last_step:
            self.ctx.report.info(
                f"TOTP codes are single-use: time-step {record.last_step} was already sent, "
                "so the software token waits for the next 30 s window"
            )
        planned = totp.next_software_code(
            state.seed,
            record.last_step,
            self.ctx.clock,
            on_wait=lambda remaining: self.ctx.report.countdown("the next TOTP window", remaining),
        )
        self.ctx.report.done_waiting()
        self.waited += planned.waited
        return Attempt(planned.code, planned.step)

    def _record_sent(self, attempt: Attempt) -> None:
        """Saved before AWS can see the code: no other run may send this step again."""
        if attempt.step is not None:
            self.record.last_step = max(attempt.step, self.record.last_step or attempt.step)
        if self.typed is not None:
            self.record.last_code, self.record.last_used_at = attempt.code, self.ctx.clock.now()
        self.txn.save()

    def _send(self, attempt: Attempt) -> Any:
        assert self.state.mfa_device and self.state.mfa_device.serial
        return self.sts.assume_role(
            RoleArn=self.role_arn,
            RoleSessionName=f"{self.state.prefix}-{int(self.ctx.clock.now())}",
            DurationSeconds=self.duration,
            SerialNumber=self.state.mfa_device.serial,
            TokenCode=attempt.code,
        )

    def _refusal(self, e: ClientError) -> Refusal:
        ctx = self.ctx
        can_wait = ctx.clock.now() < self.started + ctx.wait_timeout and ctx.young(*self.young)
        return Refusal(error_code(e), error_message(e), self.typed is not None, can_wait, self.denials)

    def _note(self, decision: Decision) -> None:
        if decision.propagation:
            self.denials += 1
        if decision.waiting_for:
            self.ctx.report.waiting(decision.waiting_for, 0.0)

    def _give_up(self, decision: Decision, e: ClientError) -> NoReturn:
        message, err = error_message(e), error_code(e)
        if decision.failure is Failure.CODE_REFUSED:
            if self.denials:
                message += " (the first attempt, refused while the new role propagated, spent the code)"
            raise CodeRefused(
                f"AWS refused the MFA code: {message}", hint=self.ctx.aws.skew_warning()
            ) from None
        if decision.failure is Failure.PROPAGATION:
            raise PropagationTimeout(
                f"gave up after {self.ctx.clock.now() - self.started:.0f} s waiting for the new role "
                f"{self.role_arn} to become assumable: {message}",
                hint="IAM changes can take a while to propagate; run assume again",
            ) from None
        if decision.failure is Failure.DENIED:
            raise AwsError(
                f"AssumeRole was refused: {message}",
                code=err,
                hint="if the role or the user's policy changed, `check-deny` and `status` tell more",
            ) from None
        if decision.failure is Failure.STALE_KEY:
            raise stale_key_error(self.state, err) from None
        raise translate(e, "AssumeRole with MFA") from e


def _later(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _cache(ctx: Context, txn: Transaction, state: State, response: Any) -> Session:
    assert state.role and state.role.arn
    creds = response["Credentials"]
    session = Session(
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
        expiration=creds["Expiration"].timestamp(),
        role_arn=state.role.arn,
        assumed_role_arn=response.get("AssumedRoleUser", {}).get("Arn"),
        obtained_at=ctx.clock.now(),
    )
    state.session = session
    txn.save()
    return session
