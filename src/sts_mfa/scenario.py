"""The five steps as plain functions over an `Aws` and the state.

Nothing here prints or imports click: progress goes to a `Reporter`, failures
are `StsMfaError`s, time comes from a `Clock`. The CLI, the demo and the tests
all drive these same functions.

Crash safety: every create is preceded by a save of the intended name and
followed by a save of the ARN, so whatever point a run dies at, `teardown`
knows enough to find what may exist. `setup` resumes a partial setup instead
of starting over; every create tolerates "already exists" for its own
(uniquely prefixed) name, which is what a lost answer looks like on retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from sts_mfa import policies, totp, trust
from sts_mfa.aws import (
    CREDENTIAL_ERROR_CODES,
    Aws,
    Keys,
    error_code,
    error_message,
    translate,
    translate_errors,
)
from sts_mfa.clock import Clock, sleep_until
from sts_mfa.credentials import DEFAULT_REFRESH_MARGIN, cached_session
from sts_mfa.errors import (
    AwsError,
    CodeRefused,
    CredentialsError,
    PropagationTimeout,
    StateError,
    UsageError,
)
from sts_mfa.marks import (
    IAM_PATH,
    PREFIX_TAG_KEY,
    TAG_KEY,
    TAG_VALUE,
    Names,
    is_ours,
    missing_marks,
    new_prefix,
    split_arn,
)
from sts_mfa.report import Reporter
from sts_mfa.state import (
    AccessKey,
    InlinePolicy,
    MfaDevice,
    MfaMode,
    Resource,
    Session,
    State,
    Transaction,
)
from sts_mfa.waits import DEFAULT_TIMEOUT, NotReady, poll

if TYPE_CHECKING:
    from mypy_boto3_iam.type_defs import TagTypeDef

    from sts_mfa.credentials import AnySession
    from sts_mfa.trust import Analysis

DEFAULT_DURATION = 3600
MIN_DURATION = 900
MAX_DURATION = 43200


@dataclass
class Context:
    aws: Aws  # the identity side: user, MFA device, access key, user policy
    clock: Clock
    report: Reporter
    wait_timeout: float = DEFAULT_TIMEOUT
    role_aws: Aws | None = None  # the resource side, when the role lives in another account

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, both accounts together."""
        return self.aws.total_requests + (self.role_aws.total_requests if self.role_aws else 0)

    @property
    def roles(self) -> Aws:
        """Clients for the role and its policy (the identity side's unless cross-account)."""
        return self.role_aws or self.aws


def tags(state: State) -> list[TagTypeDef]:
    return [{"Key": TAG_KEY, "Value": TAG_VALUE}, {"Key": PREFIX_TAG_KEY, "Value": state.prefix}]


def account_of(arn: str) -> str:
    return arn.split(":")[4]


def mfa_serial(account: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:mfa{path}{name}"


def policy_arn(account: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:policy{path}{name}"


def user_keys(state: State) -> Keys:
    if state.access_key is None:
        raise StateError("the state file has no access key for the demo user", hint="run `sts-mfa setup`")
    return Keys(state.access_key.access_key_id, state.access_key.secret_access_key)


def session_keys(session: AnySession) -> Keys:
    return Keys(session.access_key_id, session.secret_access_key, session.session_token)


def stale_key_error(state: State, code: str | None) -> StateError:
    key = state.access_key.access_key_id if state.access_key else "?"
    return StateError(
        f"AWS no longer accepts the demo user's access key {key} recorded in the state file ({code}); "
        "it was deleted or deactivated outside sts-mfa",
        hint="run `sts-mfa teardown`, then `sts-mfa setup`",
    )


def require_setup(state: State) -> None:
    if not state.setup_complete():
        missing = (
            "the MFA device is not enabled" if state.mfa_device and not state.mfa_device.enabled else None
        )
        raise StateError(
            f"setup is incomplete{': ' + missing if missing else ''}",
            hint="run `sts-mfa setup` again to finish it",
        )


# ======================================================================= setup


class PhoneUI(Protocol):
    """How phone mode shows the QR code and gets two codes (the CLI decides how)."""

    def show(self, uri: str, serial: str) -> None: ...

    def codes(self) -> tuple[str, str]: ...

    def done(self) -> None:
        """The device is enabled: remove anything holding the seed (the PNG)."""


@dataclass
class SetupResult:
    state: State
    created: list[str] = field(default_factory=list)
    resumed: bool = False


def setup(
    ctx: Context,
    txn: Transaction,
    *,
    mode: MfaMode,
    phone: PhoneUI | None,
    endpoint: str | None,
    max_session_duration: int = DEFAULT_DURATION,
    role_profile: str | None = None,
    role_endpoint: str | None = None,
) -> SetupResult:
    """Create (or finish creating) everything; see the module docstring for crash safety."""
    if mode == "phone" and phone is None:
        raise UsageError("phone mode needs a way to show the QR code and read two codes")
    now = ctx.clock.now()
    state = txn.state
    resumed = state is not None
    if state is None:
        # Ask who we are before writing anything: an unreachable endpoint or missing
        # credentials then leave no state file behind, and the account is known.
        with translate_errors("setup"):
            account = str(ctx.aws.admin_sts().get_caller_identity()["Account"])
            # The role side too: a mistyped --role-profile must fail here, before anything
            # exists that only a teardown with that profile could remove.
            role_account = _role_account(ctx, account)
        state = State(
            prefix=new_prefix(),
            iam_path=IAM_PATH,
            mode=mode,
            region=ctx.aws.region,
            endpoint=endpoint,
            created_at=now,
            max_session_duration=max_session_duration,
            role_profile=role_profile,
            role_endpoint=role_endpoint,
            account=account,
            role_account=role_account,
        )
        txn.state = state
        txn.save()
    else:
        if state.setup_complete():
            raise StateError(
                f"setup is already complete for {state.prefix} in {txn.path}",
                hint="run `sts-mfa teardown` first, or use another --state",
            )
        if state.mode != mode:
            raise UsageError(
                f"the unfinished setup in {txn.path} uses {state.mode} mode; "
                f"run setup again {'with' if state.mode == 'software' else 'without'} --software-token"
            )
        if (state.role_profile, state.role_endpoint) != (role_profile, role_endpoint):
            raise UsageError(
                f"the unfinished setup in {txn.path} was started with "
                f"--role-profile {state.role_profile or '(none)'}; run setup again with the same options"
            )
        with translate_errors("setup"):
            _check_account(ctx.aws, state.account, "the unfinished setup")
            if ctx.role_aws is not None:
                _check_account(ctx.roles, state.role_account, "the role of the unfinished setup")
        ctx.report.info(f"Resuming the unfinished setup {state.prefix}")
    result = SetupResult(state=state, resumed=resumed)
    names = Names.for_prefix(state.prefix)
    with translate_errors("setup"):
        _ensure_user(ctx, txn, state, names, result)
        if state.role_account is None:
            state.role_account = _role_account(ctx, state.account)
            txn.save()
        _ensure_access_key(ctx, txn, state, result)
        _ensure_device(ctx, txn, state, names, phone, result)
        _ensure_policy(ctx, txn, state, names, result)
        _ensure_role(ctx, txn, state, names, result)
        _ensure_attached(ctx, txn, state)
        _ensure_user_policy(ctx, txn, state, names, result)
        _wait_for_key(ctx, state)
    return result


def _ensure_user(ctx: Context, txn: Transaction, state: State, names: Names, result: SetupResult) -> None:
    if state.user is not None and state.user.confirmed:
        return
    iam = ctx.aws.iam()
    state.user = Resource(state.user.name if state.user else names.user)
    txn.save()  # the intention first: a crash from here on leaves the name to clean up
    try:
        user = iam.create_user(Path=state.iam_path, UserName=state.user.name, Tags=tags(state))["User"]
    except ClientError as e:
        if error_code(e) != "EntityAlreadyExists":
            raise
        user = iam.get_user(UserName=state.user.name)["User"]  # our own name: a lost answer
        if user.get("Path") != state.iam_path:
            raise StateError(f"a user named {state.user.name} exists outside {state.iam_path}") from None
    state.user.arn = user["Arn"]
    state.user.created_at = ctx.clock.now()
    state.account = account_of(user["Arn"])
    txn.save()
    ctx.report.step(f"Created IAM user {user['Arn']} (no permissions yet)")
    result.created.append(user["Arn"])


def _role_account(ctx: Context, identity_account: str | None) -> str | None:
    """The account the role goes to: the identity account, or the role profile's."""
    if ctx.role_aws is None:
        return identity_account
    account = str(ctx.role_aws.admin_sts().get_caller_identity()["Account"])
    if account == identity_account:
        ctx.report.info(f"--role-profile is for the same account {account}: a same-account setup")
    return account


def _ensure_access_key(ctx: Context, txn: Transaction, state: State, result: SetupResult) -> None:
    if state.access_key is not None:
        return
    assert state.user is not None
    iam = ctx.aws.iam()
    if result.resumed:
        # A key created by a call whose answer was lost has a secret nobody knows: remove it.
        for key in iam.list_access_keys(UserName=state.user.name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=state.user.name, AccessKeyId=key["AccessKeyId"])
            ctx.report.info(f"Deleted access key {key['AccessKeyId']} left by an interrupted setup")
    new = iam.create_access_key(UserName=state.user.name)["AccessKey"]
    state.access_key = AccessKey(new["AccessKeyId"], new["SecretAccessKey"], ctx.clock.now())
    txn.save()
    ctx.report.step(f"Created access key {new['AccessKeyId']} for the user")
    result.created.append(new["AccessKeyId"])


def _ensure_device(
    ctx: Context,
    txn: Transaction,
    state: State,
    names: Names,
    phone: PhoneUI | None,
    result: SetupResult,
) -> None:
    assert state.user is not None and state.account is not None
    iam = ctx.aws.iam()
    device = state.mfa_device
    if device is None or device.serial is None:
        name = device.name if device else names.device
        state.mfa_device = device = MfaDevice(name)
        txn.save()
        kwargs: dict[str, Any] = {
            "Path": state.iam_path,
            "VirtualMFADeviceName": name,
            "Tags": tags(state),
        }
        try:
            created = iam.create_virtual_mfa_device(**kwargs)["VirtualMFADevice"]
        except ClientError as e:
            if error_code(e) != "EntityAlreadyExists":
                raise
            # Created by a call whose answer (and seed) was lost: it was never enabled,
            # because enabling needs the serial we had not recorded. Replace it.
            iam.delete_virtual_mfa_device(SerialNumber=mfa_serial(state.account, state.iam_path, name))
            created = iam.create_virtual_mfa_device(**kwargs)["VirtualMFADevice"]
        seed = created["Base32StringSeed"]
        state.seed = seed.decode("ascii") if isinstance(seed, bytes) else str(seed)
        device.serial = created["SerialNumber"]
        device.created_at = ctx.clock.now()
        txn.save()
        ctx.report.step(f"Created virtual MFA device {device.serial}")
        result.created.append(device.serial)
    if device.enabled:
        return
    assert device.serial is not None
    record = state.totp_record(device.serial)
    if state.mode == "software":
        if state.seed is None:
            raise StateError("the state file lost the software token's seed")
        wait = totp.seconds_until_usable(
            None if record.last_step is None else record.last_step + 1, ctx.clock.now()
        )
        if wait > 0:  # both codes must be newer than anything sent before
            _sleep_with_countdown(ctx, wait, "a fresh pair of TOTP windows")
        code1, code2, step = totp.enable_codes(state.seed, ctx.clock.now())
        ctx.report.info(f"Software token: codes for time-steps {step - 1} and {step}")
    else:
        assert phone is not None
        if state.seed is None:
            raise StateError("the state file lost the seed of the device waiting to be enabled")
        from sts_mfa.qr import otpauth_uri

        phone.show(otpauth_uri(state.seed, f"{state.user.name}@{state.account}"), device.serial)
        txn.save()  # show() may have recorded a QR code PNG to remove later
        code1, code2 = phone.codes()
        step = None
    try:
        ctx.aws.iam_for_mfa().enable_mfa_device(
            UserName=state.user.name,
            SerialNumber=device.serial,
            AuthenticationCode1=code1,
            AuthenticationCode2=code2,
        )
    except ClientError as e:
        code = error_code(e)
        if code == "EntityAlreadyExists":
            ctx.report.info("The device was already enabled by an interrupted setup")
            step = totp.step_at(ctx.clock.now()) if step is None else step
        elif (
            code in ("InvalidAuthenticationCode", "AccessDenied")
            and "authentication code" in error_message(e).lower()
        ):
            if state.mode == "software":
                raise CodeRefused(
                    f"AWS refused the software token's two codes: {error_message(e)}",
                    hint=ctx.aws.skew_warning()
                    or "TOTP codes depend on the time: check this machine's clock, then run setup again",
                ) from None
            raise CodeRefused(
                f"AWS refused the two codes: {error_message(e)}",
                hint="they must be two consecutive codes from the app; run `sts-mfa setup` again",
            ) from None
        else:
            raise
    now = ctx.clock.now()
    if step is not None:
        record.last_step = max(step, record.last_step or step)
    else:
        record.last_code, record.last_used_at = code2, now
        record.last_step = totp.step_at(now)
    device.enabled = True
    if state.mode == "phone":
        state.seed = None  # the phone holds it now; nothing on disk does
        if phone is not None:
            phone.done()
    txn.save()
    ctx.report.step(f"Enabled the MFA device for {state.user.name} with two consecutive codes")


def _ensure_policy(ctx: Context, txn: Transaction, state: State, names: Names, result: SetupResult) -> None:
    if state.policy is not None and state.policy.confirmed:
        return
    assert state.role_account is not None
    state.policy = Resource(state.policy.name if state.policy else names.policy)
    txn.save()
    try:
        arn = ctx.roles.iam().create_policy(
            PolicyName=state.policy.name,
            Path=state.iam_path,
            PolicyDocument=policies.dumps(policies.list_buckets_policy()),
            Description="sts-mfa: what the MFA-protected role may do (list S3 buckets)",
            Tags=tags(state),
        )["Policy"]["Arn"]
    except ClientError as e:
        if error_code(e) != "EntityAlreadyExists":
            raise
        arn = policy_arn(state.role_account, state.iam_path, state.policy.name)
    state.policy.arn = arn
    state.policy.created_at = ctx.clock.now()
    txn.save()
    ctx.report.step(f"Created policy {arn} (s3:ListAllMyBuckets)")
    result.created.append(arn)


def _ensure_role(ctx: Context, txn: Transaction, state: State, names: Names, result: SetupResult) -> None:
    if state.role is not None and state.role.confirmed:
        return
    assert state.user is not None and state.user.arn is not None
    iam = ctx.roles.iam()
    state.role = Resource(state.role.name if state.role else names.role)
    txn.save()
    role_name = state.role.name
    user_arn = state.user.arn

    def create() -> dict[str, Any]:
        try:
            role: dict[str, Any] = dict(
                iam.create_role(
                    Path=state.iam_path,
                    RoleName=role_name,
                    AssumeRolePolicyDocument=policies.dumps(policies.trust_policy(user_arn)),
                    Description="sts-mfa: assumable only by the demo user, only with MFA",
                    MaxSessionDuration=state.max_session_duration,
                    Tags=tags(state),
                )["Role"]
            )
            return role
        except ClientError as e:
            code = error_code(e)
            if code == "MalformedPolicyDocument" and "principal" in error_message(e).lower():
                raise NotReady(error_message(e)) from None
            if code == "EntityAlreadyExists":
                existing: dict[str, Any] = dict(iam.get_role(RoleName=role_name)["Role"])
                return existing
            raise

    outcome = poll(
        create,
        what=f"IAM to accept the new user {user_arn} as a trust-policy principal",
        clock=ctx.clock,
        timeout=ctx.wait_timeout,
        on_wait=ctx.report.waiting,
    )
    ctx.report.done_waiting()
    role = outcome.value
    state.role.arn = role["Arn"]
    state.role.created_at = ctx.clock.now()
    txn.save()
    waited = f" after {outcome.waited:.1f} s of propagation" if outcome.attempts > 1 else ""
    ctx.report.step(f"Created role {role['Arn']}: only {state.user.name}, only with MFA{waited}")
    result.created.append(role["Arn"])


def _ensure_attached(ctx: Context, txn: Transaction, state: State) -> None:
    if state.policy_attached:
        return
    assert state.role is not None and state.policy is not None and state.policy.arn is not None
    ctx.roles.iam().attach_role_policy(RoleName=state.role.name, PolicyArn=state.policy.arn)
    state.policy_attached = True
    txn.save()
    ctx.report.step(f"Attached {state.policy.name} to {state.role.name}")


def _ensure_user_policy(
    ctx: Context, txn: Transaction, state: State, names: Names, result: SetupResult
) -> None:
    if state.user_policy is not None and state.user_policy.created:
        return
    assert state.user is not None and state.role is not None and state.role.arn is not None
    state.user_policy = InlinePolicy(state.user_policy.name if state.user_policy else names.user_policy)
    txn.save()
    ctx.aws.iam().put_user_policy(
        UserName=state.user.name,
        PolicyName=state.user_policy.name,
        PolicyDocument=policies.dumps(policies.assume_role_policy(state.role.arn)),
    )
    state.user_policy.created = True
    state.user_policy.created_at = ctx.clock.now()
    txn.save()
    ctx.report.step(f"Allowed {state.user.name} to call sts:AssumeRole on {state.role.name} (inline policy)")
    result.created.append(f"{state.user.name}/{state.user_policy.name}")


def _wait_for_key(ctx: Context, state: State) -> str:
    """Poll GetCallerIdentity with the new key until STS accepts it; return the user's ARN."""
    sts = ctx.aws.sts_with(user_keys(state))

    def probe() -> str:
        try:
            return str(sts.get_caller_identity()["Arn"])
        except ClientError as e:
            if error_code(e) in ("InvalidClientTokenId", "InvalidAccessKeyId"):
                raise NotReady(error_message(e)) from None
            raise

    outcome = poll(
        probe,
        what="the new access key to work at STS",
        clock=ctx.clock,
        timeout=ctx.wait_timeout,
        on_wait=ctx.report.waiting,
    )
    ctx.report.done_waiting()
    waited = f" (after {outcome.waited:.1f} s)" if outcome.attempts > 1 else ""
    ctx.report.step(f"The access key works: STS sees {outcome.value}{waited}")
    return outcome.value


def _sleep_with_countdown(ctx: Context, seconds: float, what: str) -> None:
    sleep_until(ctx.clock, ctx.clock.now() + seconds, lambda remaining: ctx.report.countdown(what, remaining))
    ctx.report.done_waiting()


# ================================================================== check-deny


@dataclass
class CheckDenyResult:
    role_arn: str
    user_arn: str
    denied: bool
    error_code: str | None
    message: str
    analysis: Analysis
    trust_policy: Any

    @property
    def findings(self) -> list[str]:
        """Every way in without MFA, and everything the analysis could not decide, one line each."""
        return [str(f) for f in self.analysis.findings]

    @property
    def proven(self) -> bool:
        """The denial is proof only if the trust policy requires MFA on every way in."""
        return self.denied and self.analysis.requires_mfa


def _young(ctx: Context, *created: float | None) -> bool:
    """Was any of these created recently enough that IAM may still be propagating it?"""
    now = ctx.clock.now()
    return any(t is not None and now - t < ctx.wait_timeout for t in created)


def check_deny(ctx: Context, state: State) -> CheckDenyResult:
    """AssumeRole with the user's long-term key and no MFA, then read the trust policy."""
    require_setup(state)
    assert state.role and state.role.arn and state.user and state.user.arn and state.access_key
    sts = ctx.aws.sts_with(user_keys(state))
    role_arn = state.role.arn
    key_created = state.access_key.created_at

    def attempt() -> tuple[bool, str | None, str]:
        try:
            sts.assume_role(
                RoleArn=role_arn, RoleSessionName=f"{state.prefix}-check-deny", DurationSeconds=900
            )
        except ClientError as e:
            code = error_code(e)
            if code == "AccessDenied":
                return True, code, error_message(e)
            if code in ("InvalidClientTokenId", "InvalidAccessKeyId"):
                if _young(ctx, key_created):
                    raise NotReady(error_message(e)) from None
                raise stale_key_error(state, code) from None
            raise translate(e, "check-deny: AssumeRole without MFA") from e
        # Credentials came back: drop them on the floor, unused.
        return False, None, "AssumeRole without MFA returned credentials"

    outcome = poll(
        attempt,
        what="the new access key to work at STS",
        clock=ctx.clock,
        timeout=ctx.wait_timeout,
        on_wait=ctx.report.waiting,
    )
    ctx.report.done_waiting()
    denied, code, message = outcome.value
    try:
        role = ctx.roles.iam().get_role(RoleName=state.role.name)["Role"]
    except ClientError as e:
        if _gone(e):
            raise StateError(
                f"the role {state.role.name} recorded in the state file does not exist "
                f"(deleted outside sts-mfa, or these credentials are not for account {state.role_account})",
                hint="run `sts-mfa teardown`, then `sts-mfa setup`",
            ) from None
        raise translate(e, "check-deny: reading the role's trust policy") from e
    document: Any = role.get("AssumeRolePolicyDocument", {})
    return CheckDenyResult(
        role_arn=role_arn,
        user_arn=state.user.arn,
        denied=denied,
        error_code=code,
        message=message,
        analysis=trust.analyse(document),
        trust_policy=document,
    )


# ====================================================================== assume


@dataclass
class AssumeResult:
    session: Session
    cached: bool
    step: int | None = None
    waited: float = 0.0
    source: str = "cache"
    code: str | None = None  # the one-time code spent (worthless once used), for narration


def assume(
    ctx: Context,
    txn: Transaction,
    *,
    ask_code: Callable[[], str] | None,
    duration: int | None = None,
    force: bool = False,
    margin: float = DEFAULT_REFRESH_MARGIN,
) -> AssumeResult:
    """AssumeRole with MFA and cache the session; reuse a cached one unless `force`.

    Runs under the state lock: the cache is re-checked inside it (so N processes
    asking at once make one AssumeRole), and the TOTP step is chosen inside it
    (so two processes never send the same step).
    """
    state = txn.require()
    require_setup(state)
    assert state.role and state.role.arn and state.mfa_device and state.mfa_device.serial
    if not force and (session := cached_session(state, ctx.clock.now(), margin)) is not None:
        return AssumeResult(session=session, cached=True)
    duration = duration or min(DEFAULT_DURATION, state.max_session_duration)
    if duration > state.max_session_duration:
        raise UsageError(
            f"--duration {duration} is longer than the role allows ({state.max_session_duration} s)"
        )
    serial = state.mfa_device.serial
    record = state.totp_record(serial)
    typed: str | None = None
    if ask_code is not None:
        typed = ask_code()
    elif state.mode != "software" or not state.seed:
        raise CredentialsError(
            "an MFA code is needed and this setup has no software token",
            hint="pass --code CODE, --code - (stdin) or set STS_MFA_CODE",
        )
    if typed is not None:
        totp.check_typed_code(typed, record.last_code, record.last_used_at, ctx.clock.now())
        if state.seed is not None:
            typed_step = totp.step_of_code(state.seed, typed, ctx.clock.now())
            if typed_step is not None and record.last_step is not None and typed_step <= record.last_step:
                raise CodeRefused(
                    f"code {typed} is for time-step {typed_step}, which was already used; "
                    "AWS accepts each code once",
                    hint="wait for the next code, or leave --code out to let the software token wait",
                )
    sts = ctx.aws.sts_with(user_keys(state), spends_mfa_code=True)
    role_arn = state.role.arn
    young = (
        state.role.created_at,
        state.user_policy.created_at if state.user_policy else None,
        state.access_key.created_at if state.access_key else None,
    )
    started = ctx.clock.now()
    deadline = started + ctx.wait_timeout
    waited = 0.0
    propagation_denials = 0
    resend: tuple[str, int | None] | None = None  # a code AWS refused before reading it
    while True:
        if resend is not None:
            (code, step), resend = resend, None
        elif typed is not None:
            # With the seed at hand (software token), a typed code's step is known:
            # recording it keeps the token from resending that step later.
            known = totp.step_of_code(state.seed, typed, ctx.clock.now()) if state.seed else None
            code, step = typed, known
        else:
            assert state.seed is not None
            if record.last_step is not None and totp.step_at(ctx.clock.now()) <= record.last_step:
                ctx.report.info(
                    f"TOTP codes are single-use: time-step {record.last_step} was already sent, "
                    "so the software token waits for the next 30 s window"
                )
            planned = totp.next_software_code(
                state.seed,
                record.last_step,
                ctx.clock,
                on_wait=lambda remaining: ctx.report.countdown("the next TOTP window", remaining),
            )
            ctx.report.done_waiting()
            waited += planned.waited
            code, step = planned.code, planned.step
        # Record the step as sent before AWS can see it: no other run may send it again.
        if step is not None:
            record.last_step = max(step, record.last_step or step)
        if typed is not None:
            record.last_code, record.last_used_at = code, ctx.clock.now()
        txn.save()
        try:
            response = sts.assume_role(
                RoleArn=role_arn,
                RoleSessionName=f"{state.prefix}-{int(ctx.clock.now())}",
                DurationSeconds=duration,
                SerialNumber=serial,
                TokenCode=code,
            )
            break
        except ClientError as e:
            err, message = error_code(e), error_message(e)
            retry = ctx.clock.now() < deadline and _young(ctx, *young)
            if err == "AccessDenied" and "multifactorauthentication" in message.lower():
                if typed is None and propagation_denials and retry:
                    continue  # spent by an attempt the role was not ready for: next window
                if propagation_denials:
                    message += " (the first attempt, refused while the new role propagated, spent the code)"
                raise CodeRefused(
                    f"AWS refused the MFA code: {message}", hint=ctx.aws.skew_warning()
                ) from None
            if err == "AccessDenied" and retry:
                # IAM has not propagated the new role or policy. The refused attempt may
                # have spent the code: the software token moves to the next window (one
                # code per window, never more); a typed code is tried once more.
                propagation_denials += 1
                ctx.report.waiting("the new role to become assumable", 0.0)
                if typed is None:
                    continue  # next_software_code waits for the next window
                if propagation_denials == 1:
                    ctx.clock.sleep(1.0)
                    resend = (code, step)
                    continue
                # A typed code gets one more try, never a loop: fall through and give up.
            if err == "AccessDenied" and propagation_denials:
                raise PropagationTimeout(
                    f"gave up after {ctx.clock.now() - started:.0f} s waiting for the new role {role_arn} "
                    f"to become assumable: {message}",
                    hint="IAM changes can take a while to propagate; run assume again",
                ) from None
            if err == "AccessDenied":
                raise AwsError(
                    f"AssumeRole was refused: {message}",
                    code=err,
                    hint="if the role or the user's policy changed, `check-deny` and `status` tell more",
                ) from None
            if err in ("InvalidClientTokenId", "InvalidAccessKeyId"):
                if retry:
                    # A new key STS does not know yet: refused before the code was read.
                    ctx.report.waiting("the new access key to work at STS", 0.0)
                    ctx.clock.sleep(1.0)
                    resend = (code, step)
                    continue
                raise stale_key_error(state, err) from None
            raise translate(e, "AssumeRole with MFA") from e
        except Exception as e:
            raise translate(e, "AssumeRole with MFA") from e
    ctx.report.done_waiting()
    creds = response["Credentials"]
    session = Session(
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
        expiration=creds["Expiration"].timestamp(),
        role_arn=role_arn,
        assumed_role_arn=response.get("AssumedRoleUser", {}).get("Arn"),
        obtained_at=ctx.clock.now(),
    )
    state.session = session
    txn.save()
    source = "typed code" if typed is not None else "software token"
    ctx.report.step(f"Assumed {role_arn} with MFA ({source}); the session lasts {duration} s")
    return AssumeResult(
        session=session, cached=False, step=record.last_step, waited=waited, source=source, code=code
    )


# ================================================================ list-buckets


@dataclass
class Bucket:
    name: str
    created: float | None


def list_buckets(ctx: Context, state: State, session: AnySession) -> list[Bucket]:
    """ListBuckets with the role session's keys (retrying a new role policy's propagation).

    The session belongs to the role's account, so S3 is reached the way that account is.
    """
    s3 = ctx.roles.s3_with(session_keys(session))
    young = (
        state.role.created_at if state.role else None,
        state.policy.created_at if state.policy else None,
    )

    def call() -> list[Bucket]:
        try:
            response = s3.list_buckets()
        except ClientError as e:
            err = error_code(e)
            if err == "AccessDenied" and _young(ctx, *young):
                raise NotReady(error_message(e)) from None
            if err in CREDENTIAL_ERROR_CODES:
                raise CredentialsError(
                    f"the role session was rejected by S3 ({err})",
                    hint="run `sts-mfa assume --force` for a new session",
                ) from None
            raise translate(e, "ListBuckets with the role session") from e
        return [
            Bucket(b["Name"], b["CreationDate"].timestamp() if b.get("CreationDate") else None)
            for b in response.get("Buckets", [])
        ]

    outcome = poll(
        call,
        what="the role's policy to allow s3:ListAllMyBuckets",
        clock=ctx.clock,
        timeout=ctx.wait_timeout,
        on_wait=ctx.report.waiting,
    )
    ctx.report.done_waiting()
    return outcome.value


# ==================================================================== teardown


@dataclass
class TeardownResult:
    deleted: list[str] = field(default_factory=list)
    nothing_to_do: bool = False
    qr_png: str | None = None  # what happened to a QR code PNG left by an unfinished setup


def _gone(e: ClientError) -> bool:
    return error_code(e) == "NoSuchEntity"


def teardown(ctx: Context, txn: Transaction) -> TeardownResult:
    """Delete everything the state records, in AWS's order, asking AWS what is attached.

    A state file is input: before anything is deleted, every recorded resource that
    exists is checked for the tool's three marks (path, name prefix, tag), and the
    whole teardown is refused if one lacks any (exit 4, naming it).
    """
    result = TeardownResult()
    state = txn.state
    if state is None:
        result.nothing_to_do = True
        return result
    identity_side = any((state.user, state.mfa_device, state.access_key, state.user_policy))
    # The role side is reached only when something is recorded there: a state whose
    # --role-profile was mistyped (so nothing was made there) clears without it.
    role_side = state.role is not None or state.policy is not None
    with translate_errors("teardown"):
        if identity_side:
            _check_account(ctx.aws, state.account, "the user")
        if role_side and ctx.role_aws is not None:
            _check_account(ctx.roles, state.role_account, "the role")
        _refuse_what_is_not_ours(ctx, state, identity_side=identity_side, role_side=role_side)
        iam = ctx.aws.iam() if identity_side else None
        if state.user is not None and iam is not None:
            serial = state.mfa_device.serial if state.mfa_device else None
            if serial is None and state.mfa_device and state.account:
                serial = mfa_serial(state.account, state.iam_path, state.mfa_device.name)
            delete_user_tree(iam, state.user.name, ctx.report, result.deleted, extra_serial=serial)
            state.user = state.access_key = state.mfa_device = state.user_policy = None
            state.seed = None
            state.totp = {}
            state.session = None
            txn.save()
        elif state.mfa_device is not None and state.mfa_device.serial and iam is not None:
            delete_virtual_device(iam, state.mfa_device.serial, ctx.report, result.deleted)
            state.mfa_device = None
            txn.save()
        if role_side:
            role_iam = ctx.roles.iam()
            if state.role is not None:
                delete_role(role_iam, state.role.name, ctx.report, result.deleted)
                state.role = None
                state.policy_attached = False
                state.session = None
                txn.save()
            if state.policy is not None:
                arn = state.policy.arn
                if arn is None and state.role_account:
                    arn = policy_arn(state.role_account, state.iam_path, state.policy.name)
                if arn is not None:
                    delete_policy(role_iam, arn, ctx.report, result.deleted)
                state.policy = None
                txn.save()
    if state.qr_png:  # a QR code PNG from an unfinished phone setup: it holds the seed
        from sts_mfa.qr import remove_if_ours

        result.qr_png = remove_if_ours(state.qr_png, state.qr_png_sha256)
        ctx.report.info(result.qr_png)
    txn.delete()
    return result


def _marks_problem(
    kind: str, label: str, describe: Callable[[], tuple[str, str, Any]], prefix: str
) -> str | None:
    """Why the existing resource is not the tool's, or None (also None when it is gone).

    `describe()` asks AWS for the resource's (name, path, tags).
    """
    try:
        name, path, tag_list = describe()
    except ClientError as e:
        if _gone(e):
            return None
        raise
    missing = missing_marks(name, path, tag_list, prefix=prefix)
    return f"{kind} {label}: {'; '.join(missing)}" if missing else None


def _refuse_what_is_not_ours(ctx: Context, state: State, *, identity_side: bool, role_side: bool) -> None:
    """Raise StateError, before anything is deleted, if a recorded resource lacks the tool's marks."""
    checks: list[tuple[str, str, Callable[[], tuple[str, str, Any]]]] = []
    if identity_side and state.user is not None:
        iam, user = ctx.aws.iam(), state.user.name

        # GetUser, GetRole and GetPolicy return the tags too (AWS omits `Tags` when there are none).
        def user_marks() -> tuple[str, str, Any]:
            found = iam.get_user(UserName=user)["User"]
            return found["UserName"], found["Path"], found.get("Tags", [])

        checks.append(("user", user, user_marks))
    if role_side:
        role_iam = ctx.roles.iam()
        if state.role is not None:
            role = state.role.name

            def role_marks() -> tuple[str, str, Any]:
                found = role_iam.get_role(RoleName=role)["Role"]
                return found["RoleName"], found["Path"], found.get("Tags", [])

            checks.append(("role", role, role_marks))
        arn = state.policy.arn if state.policy is not None else None
        if arn is not None:
            policy = arn

            def policy_marks() -> tuple[str, str, Any]:
                found = role_iam.get_policy(PolicyArn=policy)["Policy"]
                return found["PolicyName"], found["Path"], found.get("Tags", [])

            checks.append(("policy", arn, policy_marks))
    problems = [
        p for kind, label, describe in checks if (p := _marks_problem(kind, label, describe, state.prefix))
    ]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StateError(
            f"teardown refused, nothing was deleted: the state file names {problems[0]}{more}",
            hint="sts-mfa deletes only what carries all its marks: the path /sts-mfa/, its name prefix "
            "and the tag created-by=sts-mfa",
        )


def _check_account(aws: Aws, expected: str | None, owner: str) -> None:
    """Refuse to tear down with credentials for another account: its NoSuchEntity would lie."""
    if expected is None:
        return
    actual = aws.admin_sts().get_caller_identity()["Account"]
    if actual != expected:
        raise StateError(
            f"{owner} recorded in the state file is in account {expected}, "
            f"but the credentials for it are for account {actual}",
            hint="use the credentials (--profile / the role profile) that ran setup",
        )


def delete_virtual_device(iam: Any, serial: str, report: Reporter, deleted: list[str]) -> None:
    try:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    except ClientError as e:
        if not _gone(e):
            raise
        return
    deleted.append(serial)
    report.step(f"Deleted virtual MFA device {serial}")


def delete_user_tree(
    iam: Any, user: str, report: Reporter, deleted: list[str], *, extra_serial: str | None = None
) -> None:
    """Remove what AWS requires before DeleteUser, then the user (tolerating what is gone)."""
    try:
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    except ClientError as e:
        if not _gone(e):
            raise
        if extra_serial:  # a device whose user never existed or is gone
            delete_virtual_device(iam, extra_serial, report, deleted)
        return
    for key in keys:
        _tolerate_gone(iam.delete_access_key, UserName=user, AccessKeyId=key["AccessKeyId"])
        deleted.append(key["AccessKeyId"])
        report.step(f"Deleted access key {key['AccessKeyId']}")
    serials = [d["SerialNumber"] for d in iam.list_mfa_devices(UserName=user)["MFADevices"]]
    for serial in serials:
        _tolerate_gone(iam.deactivate_mfa_device, UserName=user, SerialNumber=serial)
        report.step(f"Deactivated MFA device {serial}")
        parts = split_arn(serial)
        # A virtual device is deleted only if it is the tool's too (path and prefix; a
        # hardware or someone else's device is deactivated from this user, nothing more).
        if parts is not None and is_ours(parts[3], parts[2], None, tags_known=False):
            delete_virtual_device(iam, serial, report, deleted)
    if extra_serial and extra_serial not in serials:
        delete_virtual_device(iam, extra_serial, report, deleted)
    for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
        _tolerate_gone(iam.delete_user_policy, UserName=user, PolicyName=name)
        report.step(f"Deleted inline policy {name} of {user}")
    try:
        iam.delete_user(UserName=user)
    except ClientError as e:
        if _gone(e):
            return
        if error_code(e) != "DeleteConflict":
            raise
        problems = _clear_user_extras(iam, user, report)
        try:
            iam.delete_user(UserName=user)
        except ClientError as again:
            if problems and error_code(again) == "DeleteConflict":
                raise AwsError(
                    f"cannot delete user {user}: {error_message(again)} "
                    f"(could not clear: {'; '.join(problems)})"
                ) from again
            raise
    deleted.append(user)
    report.step(f"Deleted IAM user {user}")


def _clear_user_extras(iam: Any, user: str, report: Reporter) -> list[str]:
    """What the tool never creates but someone may have added: cleared on DeleteConflict.

    Each kind is cleared on its own, and a kind that cannot be listed or
    removed is noted rather than fatal: DeleteUser, tried again afterwards,
    is the judge of whether anything that matters is left.
    """
    problems: list[str] = []

    def each(kind: str, listing: Callable[[], list[Any]], remove: Callable[[Any], None]) -> None:
        try:
            for item in listing():
                remove(item)
        except ClientError as e:
            problems.append(f"{kind}: {error_code(e)}")

    def detach(p: Any) -> None:
        _tolerate_gone(iam.detach_user_policy, UserName=user, PolicyArn=p["PolicyArn"])
        report.step(f"Detached {p['PolicyArn']} from {user}")

    def leave(g: Any) -> None:
        _tolerate_gone(iam.remove_user_from_group, UserName=user, GroupName=g["GroupName"])
        report.step(f"Removed {user} from group {g['GroupName']}")

    each(
        "attached policies",
        lambda: iam.list_attached_user_policies(UserName=user)["AttachedPolicies"],
        detach,
    )
    each("groups", lambda: iam.list_groups_for_user(UserName=user)["Groups"], leave)
    each("login profile", lambda: [None], lambda _: _tolerate_gone(iam.delete_login_profile, UserName=user))
    each(
        "signing certificates",
        lambda: iam.list_signing_certificates(UserName=user)["Certificates"],
        lambda c: _tolerate_gone(
            iam.delete_signing_certificate, UserName=user, CertificateId=c["CertificateId"]
        ),
    )
    each(
        "SSH keys",
        lambda: iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"],
        lambda k: _tolerate_gone(
            iam.delete_ssh_public_key, UserName=user, SSHPublicKeyId=k["SSHPublicKeyId"]
        ),
    )
    each(
        "service-specific credentials",
        lambda: iam.list_service_specific_credentials(UserName=user).get("ServiceSpecificCredentials", []),
        lambda c: _tolerate_gone(
            iam.delete_service_specific_credential,
            UserName=user,
            ServiceSpecificCredentialId=c["ServiceSpecificCredentialId"],
        ),
    )
    each(
        "access keys",
        lambda: iam.list_access_keys(UserName=user)["AccessKeyMetadata"],
        lambda k: _tolerate_gone(iam.delete_access_key, UserName=user, AccessKeyId=k["AccessKeyId"]),
    )
    each(
        "inline policies",
        lambda: iam.list_user_policies(UserName=user)["PolicyNames"],
        lambda n: _tolerate_gone(iam.delete_user_policy, UserName=user, PolicyName=n),
    )
    return problems


def delete_role(iam: Any, role: str, report: Reporter, deleted: list[str]) -> None:
    try:
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    except ClientError as e:
        if _gone(e):
            return
        raise
    for p in attached:
        _tolerate_gone(iam.detach_role_policy, RoleName=role, PolicyArn=p["PolicyArn"])
        report.step(f"Detached {p['PolicyName']} from {role}")
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        _tolerate_gone(iam.delete_role_policy, RoleName=role, PolicyName=name)
        report.step(f"Deleted inline policy {name} of {role}")
    try:
        iam.delete_role(RoleName=role)
    except ClientError as e:
        if _gone(e):
            return
        if error_code(e) != "DeleteConflict":
            raise
        for profile in iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]:
            _tolerate_gone(
                iam.remove_role_from_instance_profile,
                RoleName=role,
                InstanceProfileName=profile["InstanceProfileName"],
            )
            report.step(f"Removed {role} from instance profile {profile['InstanceProfileName']}")
        iam.delete_role(RoleName=role)
    deleted.append(role)
    report.step(f"Deleted role {role}")


def delete_policy(iam: Any, arn: str, report: Reporter, deleted: list[str]) -> None:
    try:
        iam.delete_policy(PolicyArn=arn)
    except ClientError as e:
        if _gone(e):
            return
        if error_code(e) != "DeleteConflict":
            raise
        entities = iam.list_entities_for_policy(PolicyArn=arn)
        for r in entities.get("PolicyRoles", []):
            _tolerate_gone(iam.detach_role_policy, RoleName=r["RoleName"], PolicyArn=arn)
        for u in entities.get("PolicyUsers", []):
            _tolerate_gone(iam.detach_user_policy, UserName=u["UserName"], PolicyArn=arn)
        for g in entities.get("PolicyGroups", []):
            _tolerate_gone(iam.detach_group_policy, GroupName=g["GroupName"], PolicyArn=arn)
        for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not v["IsDefaultVersion"]:
                _tolerate_gone(iam.delete_policy_version, PolicyArn=arn, VersionId=v["VersionId"])
        iam.delete_policy(PolicyArn=arn)
    deleted.append(arn)
    report.step(f"Deleted policy {arn}")


def _tolerate_gone(call: Callable[..., Any], **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as e:
        if not _gone(e):
            raise


# ====================================================================== status


def inspect(ctx: Context, state: State) -> dict[str, bool | None]:
    """Which of the state's resources exist in AWS (None: could not tell).

    Raises StateError first if the credentials are for another account than the
    state's: every resource would look deleted, which would be a lie.
    """
    with translate_errors("status"):
        _check_account(ctx.aws, state.account, "the user")
        if ctx.role_aws is not None:
            _check_account(ctx.roles, state.role_account, "the role")
    iam = ctx.aws.iam()
    found: dict[str, bool | None] = {}

    def exists(name: str, call: Callable[[], Any]) -> Any:
        try:
            value = call()
        except ClientError as e:
            found[name] = False if _gone(e) else None
            return None
        found[name] = True
        return value

    with translate_errors("status"):
        user, role, policy = state.user, state.role, state.policy
        if user:
            exists("user", lambda: iam.get_user(UserName=user.name))
            if found["user"]:
                keys = iam.list_access_keys(UserName=user.name)["AccessKeyMetadata"]
                if state.access_key:
                    key_id = state.access_key.access_key_id
                    found["access_key"] = any(k["AccessKeyId"] == key_id for k in keys)
                if state.mfa_device and state.mfa_device.serial:
                    devices = iam.list_mfa_devices(UserName=user.name)["MFADevices"]
                    found["mfa_device"] = any(d["SerialNumber"] == state.mfa_device.serial for d in devices)
                if state.user_policy:
                    names = iam.list_user_policies(UserName=user.name)["PolicyNames"]
                    found["user_policy"] = state.user_policy.name in names
            else:
                for name in ("access_key", "mfa_device", "user_policy"):
                    found[name] = False if found["user"] is False else None
        role_iam = ctx.roles.iam()
        if role:
            exists("role", lambda: role_iam.get_role(RoleName=role.name))
        if policy and policy.arn:
            arn = policy.arn
            exists("policy", lambda: role_iam.get_policy(PolicyArn=arn))
    return found


# ======================================================================= sweep


@dataclass
class Leftover:
    kind: str  # "user" | "mfa_device" | "role" | "policy"
    name: str
    arn: str


@dataclass
class SweepResult:
    found: list[Leftover] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def _tags(call: Callable[..., Any], **kwargs: str) -> list[dict[str, str]]:
    try:
        return list(call(**kwargs).get("Tags", []))
    except ClientError as e:
        if _gone(e):
            return []
        raise


def find_leftovers(aws: Aws) -> list[Leftover]:
    """Everything in the account that carries all of the tool's marks (path, prefix, tag)."""
    iam: Any = aws.iam()  # paginated pages are plain dicts here
    found: list[Leftover] = []

    def pages(operation: str, **kwargs: str) -> Iterator[dict[str, Any]]:
        yield from iam.get_paginator(operation).paginate(**kwargs)

    with translate_errors("sweep: listing the tool's resources"):
        for page in pages("list_users", PathPrefix=IAM_PATH):
            for user in page["Users"]:
                tag_list = _tags(iam.list_user_tags, UserName=user["UserName"])
                if is_ours(user["UserName"], user["Path"], tag_list):
                    found.append(Leftover("user", user["UserName"], user["Arn"]))
        our_users = {u.arn for u in found}
        for page in pages("list_virtual_mfa_devices", AssignmentStatus="Any"):
            for device in page["VirtualMFADevices"]:
                serial = device["SerialNumber"]
                path, _, name = serial.partition(":mfa")[2].rpartition("/")
                owner = device.get("User", {}).get("Arn")
                # MFA devices carry tags on AWS but not on every emulator: path and prefix
                # decide, and a device enabled for someone else's user is never ours.
                ours = is_ours(name, path + "/", None, tags_known=False)
                if ours and (owner is None or owner in our_users):
                    found.append(Leftover("mfa_device", name, serial))
        for page in pages("list_roles", PathPrefix=IAM_PATH):
            for role in page["Roles"]:
                tag_list = _tags(iam.list_role_tags, RoleName=role["RoleName"])
                if is_ours(role["RoleName"], role["Path"], tag_list):
                    found.append(Leftover("role", role["RoleName"], role["Arn"]))
        for page in pages("list_policies", Scope="Local", PathPrefix=IAM_PATH):
            for policy in page["Policies"]:
                tag_list = _tags(iam.list_policy_tags, PolicyArn=policy["Arn"])
                if is_ours(policy["PolicyName"], policy["Path"], tag_list):
                    found.append(Leftover("policy", policy["PolicyName"], policy["Arn"]))
    return found


def sweep(ctx: Context, aws: Aws | None = None, *, dry_run: bool = False) -> SweepResult:
    """Find the tool's leftovers in `aws`'s account (default: the identity side) and remove them.

    No state file is needed. Users go first (with their keys and devices), then
    unassigned devices, roles, and policies: the order AWS requires.
    """
    aws = aws or ctx.aws
    result = SweepResult(found=find_leftovers(aws))
    if dry_run:
        return result
    iam = aws.iam()
    with translate_errors("sweep"):
        for item in result.found:
            if item.kind == "user":
                delete_user_tree(iam, item.name, ctx.report, result.deleted)
        for item in result.found:
            if item.kind == "mfa_device" and item.arn not in result.deleted:
                delete_virtual_device(iam, item.arn, ctx.report, result.deleted)
        for item in result.found:
            if item.kind == "role":
                delete_role(iam, item.name, ctx.report, result.deleted)
        for item in result.found:
            if item.kind == "policy":
                delete_policy(iam, item.arn, ctx.report, result.deleted)
    return result
