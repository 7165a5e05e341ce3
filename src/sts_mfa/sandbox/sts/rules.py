"""STS: the actions the sandbox serves, and AWS's rules for AssumeRole and GetSessionToken.

`STS_RULES` is both the list of STS actions served (any other is refused as
unsupported) and how each is authorized:

* GetCallerIdentity: always allowed, even under an explicit Deny (as on AWS). For a
  GetSessionToken session (whose key moto does not know) the sandbox answers the
  user's identity itself.
* GetAccessKeyInfo: the caller's identity policies, on resource `*`.
* AssumeRole, in AWS's order:
  1. parameter constraints (`ValidationError`);
  2. MFA: SerialNumber and TokenCode together or neither; the device must be a
     virtual MFA device enabled for the calling user (a role session has none), the
     code one of its current TOTP window and of a step not spent before
     (`totpwindow`; else `AccessDenied` "MultiFactorAuthentication failed ..."). A
     valid code is spent even if the call is refused afterwards;
  3. the role must exist and have propagated (`Faults.role_delay`);
  4. trust policy and identity policies, evaluated with the caller's own MFA context
     (session credentials carry theirs: a session obtained with MFA counts as MFA,
     one obtained without has aws:MultiFactorAuthPresent "false") unless this
     request brings a code of its own (then "true", age 0): an explicit Deny in
     either refuses; within one account a trust policy naming the caller's own ARN
     is enough on its own; otherwise (only the account trusted, or another
     account's role) the identity policies must allow sts:AssumeRole on the role
     too. Every refusal here is the same `AccessDenied`;
  5. DurationSeconds (default 3600) at most 1 hour when session credentials assume a
     role (role chaining, and GetSessionToken's sessions alike), and at most the
     role's MaxSessionDuration.
  The new session carries MFA from this request's code, else the caller's (with
  the age since that original MFA).
* GetSessionToken: constraints (DurationSeconds 900..129600, default 43200); only
  an IAM user's long-term key ("Cannot call GetSessionToken with session
  credentials"); MFA checked and spent exactly as for AssumeRole (one last step per
  device for both). No policy governs it (AWS: "No permissions are required").

`Faults.session_seconds`, when set, is how long every new session lives, whatever
DurationSeconds asked (the response's Expiration says so); `Faults.mfa_session_seconds`,
when set, is how long GetSessionToken's sessions live instead.
"""

from __future__ import annotations

from collections.abc import Callable

from moto.iam.models import Role

from sts_mfa.sandbox.http import errors as awserrors
from sts_mfa.sandbox.rules.authorization import Call, request_context, require_identity
from sts_mfa.sandbox.rules.bookkeeping import NOTHING, AfterSuccess
from sts_mfa.sandbox.rules.callers import IssuedSession, UserCaller, UserSession, UserSessionCaller
from sts_mfa.sandbox.rules.constraints import ASSUME_ROLE, GET_SESSION_TOKEN, validate
from sts_mfa.sandbox.rules.policy import Decision, Request, TrustDecision, evaluate, evaluate_trust
from sts_mfa.sandbox.seam import motoview
from sts_mfa.sandbox.sts.totp_window import accepted_step

DEFAULT_SESSION_SECONDS = 3600
DEFAULT_USER_SESSION_SECONDS = 43200  # GetSessionToken's default
ROLE_CHAINING_LIMIT = 3600


def authorize(call: Call) -> AfterSuccess:
    return STS_RULES[call.request.action](call)


def _get_caller_identity(call: Call) -> AfterSuccess:
    # Always allowed, even under an explicit Deny. moto answers from the access key,
    # so for a key it does not know (a GetSessionToken session) the sandbox answers.
    caller = call.caller
    if isinstance(caller, UserSessionCaller):
        return AfterSuccess(identity=(str(caller.user.id), caller.account, caller.arn))
    return NOTHING


def _get_access_key_info(call: Call) -> AfterSuccess:
    require_identity(call, "*")
    return NOTHING


def _assume_role(call: Call) -> AfterSuccess:
    validate(call.request.params, ASSUME_ROLE)
    # MFA first: a valid code is consumed even if the call is refused afterwards,
    # which is why every retry needs a fresh 30-second window.
    mfa_at = _verify_mfa(call)
    role_arn = call.param("RoleArn")
    role = _role_to_assume(call, role_arn)
    _require_trust(call, role, mfa_at)
    duration = _duration(call, role)
    if mfa_at is None:
        mfa_at = call.caller.mfa_context[1]  # the caller's MFA carries into the new session
    session = IssuedSession(
        access_key_id="",
        account=role.account_id,
        role_arn=role.arn,
        session_name=call.param("RoleSessionName"),
        expires_at=_expiry(call, duration),
        mfa_at=mfa_at,
    )
    return AfterSuccess(session=session)


def _get_session_token(call: Call) -> AfterSuccess:
    validate(call.request.params, GET_SESSION_TOKEN)
    caller = call.caller
    if caller.session_credentials or not isinstance(caller, UserCaller):
        raise awserrors.session_credentials_refused("GetSessionToken")
    mfa_at = _verify_mfa(call)
    text = call.request.params.get("DurationSeconds")
    duration = int(text) if text else DEFAULT_USER_SESSION_SECONDS
    expires_at = _expiry(call, duration, call.faults.mfa_session_seconds)
    session = UserSession.issue(caller.user, caller.account, expires_at, mfa_at)
    return AfterSuccess(user_session=session)


def _expiry(call: Call, duration: int, lifetime: float | None = None) -> float:
    """When a session issued now expires: after `lifetime` if given, else after
    `Faults.session_seconds` if set, else after the duration asked."""
    if lifetime is None:
        lifetime = call.faults.session_seconds
    return call.now + (duration if lifetime is None else lifetime)


def _verify_mfa(call: Call) -> float | None:
    """When this request's MFA code was accepted (None: the request carries no MFA).

    Shared by AssumeRole and GetSessionToken: one last accepted step per device."""
    serial = call.request.params.get("SerialNumber")
    code = call.request.params.get("TokenCode")
    if (serial is None) != (code is None):
        raise awserrors.mfa_failed(awserrors.MFA_BOTH_REQUIRED)
    if serial is None or code is None:
        return None
    device = call.caller.mfa_device(serial)
    if device is None:
        raise awserrors.mfa_failed(awserrors.MFA_UNKNOWN_DEVICE)
    step = accepted_step(device.base32_string_seed, (code,), call.now, call.state.last_step.get(serial))
    if step is None:
        raise awserrors.mfa_failed(awserrors.MFA_INVALID_CODE)
    call.state.last_step[serial] = step  # spent now, whatever happens next
    return call.now


def _denied(call: Call, role_arn: str) -> awserrors.AwsFault:
    return awserrors.access_denied("sts", call.caller.arn, "sts:AssumeRole", role_arn)


def _role_to_assume(call: Call, role_arn: str) -> Role:
    role = motoview.role_by_arn(role_arn)
    if role is None:
        raise _denied(call, role_arn)
    created = call.state.role_created.get(role_arn)
    if created is not None and 0 <= call.now - created < call.faults.role_delay:
        raise _denied(call, role_arn)  # the new role has not propagated yet
    return role


def assume_role_context(call: Call, mfa_at: float | None) -> dict[str, str]:
    """The request context AssumeRole is evaluated with.

    The caller's own MFA context (session credentials carry one) counts, as on AWS;
    a code sent with this request makes it MFA just now."""
    context = request_context(call.caller, call.request, call.now)
    if mfa_at is not None:
        context["aws:MultiFactorAuthPresent"] = "true"
        context["aws:MultiFactorAuthAge"] = "0"
    if call.request.params.get("ExternalId") is not None:
        context["sts:ExternalId"] = call.request.params["ExternalId"]
    context["sts:RoleSessionName"] = call.param("RoleSessionName")
    return context


def _require_trust(call: Call, role: Role, mfa_at: float | None) -> None:
    role_arn = call.param("RoleArn")
    caller = call.caller
    question = Request("sts:AssumeRole", role_arn, assume_role_context(call, mfa_at), caller.principal)
    trust = evaluate_trust(motoview.role_trust_policy(role), question)
    identity = evaluate(caller.identity_policies(), question)
    if trust is TrustDecision.DENY or identity is Decision.DENY:
        raise _denied(call, role_arn)
    if role.account_id == caller.account and trust is TrustDecision.ALLOW_PRINCIPAL:
        return  # within one account, a trust policy naming the caller is enough
    trusted = trust in (TrustDecision.ALLOW_PRINCIPAL, TrustDecision.ALLOW_ACCOUNT)
    if not (trusted and identity is Decision.ALLOW):
        raise _denied(call, role_arn)


def _duration(call: Call, role: Role) -> int:
    text = call.request.params.get("DurationSeconds")
    duration = int(text) if text else DEFAULT_SESSION_SECONDS
    if call.caller.role_chaining and duration > ROLE_CHAINING_LIMIT:
        raise awserrors.validation_message(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles "
            "assumed by role chaining."
        )
    if duration > motoview.role_max_session(role):
        raise awserrors.validation_message(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        )
    return duration


# STS action -> how it is authorized. The sandbox serves these STS actions only.
STS_RULES: dict[str, Callable[[Call], AfterSuccess]] = {
    "AssumeRole": _assume_role,
    "GetCallerIdentity": _get_caller_identity,
    "GetAccessKeyInfo": _get_access_key_info,
    "GetSessionToken": _get_session_token,
}
