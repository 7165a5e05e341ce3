"""STS: the actions the sandbox serves, and AWS's rules for AssumeRole.

`STS_RULES` is both the list of STS actions served (any other is refused as
unsupported) and how each is authorized:

* GetCallerIdentity: always allowed, even under an explicit Deny (as on AWS).
* GetAccessKeyInfo: the caller's identity policies, on resource `*`.
* AssumeRole, in AWS's order:
  1. parameter constraints (`ValidationError`);
  2. MFA: SerialNumber and TokenCode together or neither; the device must be a
     virtual MFA device enabled for the calling user (a session has none), the code
     one of its current TOTP window and of a step not spent before (`totpwindow`;
     else `AccessDenied` "MultiFactorAuthentication failed ..."). A valid code is
     spent even if the call is refused afterwards;
  3. the role must exist and have propagated (`Faults.role_delay`);
  4. trust policy and identity policies, evaluated with this request's own MFA:
     an explicit Deny in either refuses; within one account a trust policy naming
     the caller's own ARN is enough on its own; otherwise (only the account
     trusted, or another account's role) the identity policies must allow
     sts:AssumeRole on the role too. Every refusal here is the same `AccessDenied`;
  5. DurationSeconds (default 3600) at most 1 hour when a session assumes a role
     (role chaining), and at most the role's MaxSessionDuration.
"""

from __future__ import annotations

from collections.abc import Callable

from moto.iam.models import Role

from sts_mfa.sandbox import awserrors, motoview
from sts_mfa.sandbox.authorization import MFA_KEYS, Call, request_context, require_identity
from sts_mfa.sandbox.bookkeeping import NOTHING, AfterSuccess
from sts_mfa.sandbox.callers import IssuedSession
from sts_mfa.sandbox.constraints import ASSUME_ROLE, validate
from sts_mfa.sandbox.policy import Decision, Request, TrustDecision, evaluate, evaluate_trust
from sts_mfa.sandbox.totpwindow import accepted_step

DEFAULT_SESSION_SECONDS = 3600
ROLE_CHAINING_LIMIT = 3600


def authorize(call: Call) -> AfterSuccess:
    return STS_RULES[call.request.action](call)


def _get_caller_identity(call: Call) -> AfterSuccess:
    return NOTHING  # always allowed, even under an explicit Deny


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
    session = IssuedSession(
        access_key_id="",
        account=role.account_id,
        role_arn=role.arn,
        session_name=call.param("RoleSessionName"),
        expires_at=call.now + duration,
        mfa_at=mfa_at,
    )
    return AfterSuccess(session=session)


def _verify_mfa(call: Call) -> float | None:
    """When this request's MFA code was accepted (None: the request carries no MFA)."""
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
    """The request context AssumeRole is evaluated with."""
    context = request_context(call.caller, call.request, call.now)
    for key in MFA_KEYS:
        context.pop(key, None)  # only this request's own MFA counts here
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
}
