"""`setup`: create (or finish creating) the user, MFA device, key, role and policies.

Crash safety: every create is preceded by a save of the intended name and
followed by a save of the ARN, so whatever point a run dies at, `teardown`
knows enough to find what may exist. `setup` resumes a partial setup instead
of starting over; every create tolerates "already exists" for its own
(uniquely prefixed) name, which is what a lost answer looks like on retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from sts_mfa.aws.errors import error_code, error_message, translate_errors
from sts_mfa.aws.waits import NotReady
from sts_mfa.errors import StateError, UsageError
from sts_mfa.scenario import policies
from sts_mfa.scenario.context import (
    DEFAULT_DURATION,
    Context,
    account_of,
    check_account,
    policy_arn,
    tags,
    user_keys,
)
from sts_mfa.scenario.mfa_device import PhoneUI, ensure_device
from sts_mfa.state.document import Transaction
from sts_mfa.state.marks import IAM_PATH, Names, new_prefix
from sts_mfa.state.model import AccessKey, InlinePolicy, MfaMode, Resource, State


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
    options = SetupOptions(mode, endpoint, max_session_duration, role_profile, role_endpoint)
    resumed = txn.state is not None
    if txn.state is None:
        state = _start(ctx, txn, options)
    else:
        state = txn.state
        _check_resumable(ctx, txn, state, options)
        ctx.report.info(f"Resuming the unfinished setup {state.prefix}")
    result = SetupResult(state=state, resumed=resumed)
    names = Names.for_prefix(state.prefix)
    with translate_errors("setup"):
        _ensure_user(ctx, txn, state, names, result)
        if state.role_account is None:
            state.role_account = _role_account(ctx, state.account)
            txn.save()
        _ensure_access_key(ctx, txn, state, result)
        result.created += ensure_device(ctx, txn, state, names, phone)
        _ensure_policy(ctx, txn, state, names, result)
        _ensure_role(ctx, txn, state, names, result)
        _ensure_attached(ctx, txn, state)
        _ensure_user_policy(ctx, txn, state, names, result)
        _wait_for_key(ctx, state)
    return result


@dataclass(frozen=True)
class SetupOptions:
    mode: MfaMode
    endpoint: str | None
    max_session_duration: int
    role_profile: str | None
    role_endpoint: str | None


def _start(ctx: Context, txn: Transaction, options: SetupOptions) -> State:
    """A new state, saved only once AWS has said who we are (on both sides)."""
    # An unreachable endpoint or missing credentials then leave no state file behind. The
    # role side too: a mistyped --role-profile must fail here, before anything exists that
    # only a teardown with that profile could remove.
    with translate_errors("setup"):
        account = ctx.aws.account()
        role_account = _role_account(ctx, account)
    state = State(
        prefix=new_prefix(),
        iam_path=IAM_PATH,
        mode=options.mode,
        region=ctx.aws.region,
        endpoint=options.endpoint,
        created_at=ctx.clock.now(),
        max_session_duration=options.max_session_duration,
        role_profile=options.role_profile,
        role_endpoint=options.role_endpoint,
        account=account,
        role_account=role_account,
    )
    txn.state = state
    txn.save()
    return state


def _check_resumable(ctx: Context, txn: Transaction, state: State, options: SetupOptions) -> None:
    """An unfinished setup is resumed only with the options and the accounts it was started with."""
    if state.setup_complete():
        raise StateError(
            f"setup is already complete for {state.prefix} in {txn.path}",
            hint="run `sts-mfa teardown` first, or use another --state",
        )
    if state.mode != options.mode:
        raise UsageError(
            f"the unfinished setup in {txn.path} uses {state.mode} mode; "
            f"run setup again {'with' if state.mode == 'software' else 'without'} --software-token"
        )
    if (state.role_profile, state.role_endpoint) != (options.role_profile, options.role_endpoint):
        raise UsageError(
            f"the unfinished setup in {txn.path} was started with "
            f"--role-profile {state.role_profile or '(none)'}; run setup again with the same options"
        )
    with translate_errors("setup"):
        check_account(ctx.aws, state.account, "the unfinished setup")
        if ctx.role_aws is not None:
            check_account(ctx.role_side, state.role_account, "the role of the unfinished setup")


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
    account = ctx.role_aws.account()
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


def _ensure_policy(ctx: Context, txn: Transaction, state: State, names: Names, result: SetupResult) -> None:
    if state.policy is not None and state.policy.confirmed:
        return
    assert state.role_account is not None
    state.policy = Resource(state.policy.name if state.policy else names.policy)
    txn.save()
    try:
        arn = ctx.role_side.iam().create_policy(
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
    iam = ctx.role_side.iam()
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

    outcome = ctx.poll(create, f"IAM to accept the new user {user_arn} as a trust-policy principal")
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
    ctx.role_side.iam().attach_role_policy(RoleName=state.role.name, PolicyArn=state.policy.arn)
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

    outcome = ctx.poll(probe, "the new access key to work at STS")
    waited = f" (after {outcome.waited:.1f} s)" if outcome.attempts > 1 else ""
    ctx.report.step(f"The access key works: STS sees {outcome.value}{waited}")
    return outcome.value
