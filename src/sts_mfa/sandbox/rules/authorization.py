"""The authorization context: what AWS knows about a request when it authorizes it.

`Call` is one authenticated request as the service rules (`iam_rules`, `sts_rules`,
`s3_rules`) see it. `request_context` builds the condition keys AWS supplies for
it (the global keys of the IAM policy reference that this scenario needs):

* every caller: aws:PrincipalArn (a session's is its role's ARN), aws:PrincipalAccount,
  aws:PrincipalType, aws:CurrentTime, aws:EpochTime, aws:SecureTransport (the
  sandbox serves plain HTTP: "false") and aws:RequestedRegion;
* an IAM user: aws:username and aws:userid (its GetSessionToken sessions too: they
  act as the user);
* session credentials (an assumed-role session, a GetSessionToken session):
  aws:MultiFactorAuthPresent ("true" if MFA was used to obtain the session, "false"
  if not) and, with MFA, aws:MultiFactorAuthAge (seconds since the code was
  accepted). A long-term key carries neither, as on AWS.

`require_identity` is the identity-policy half of authorization, which every action
but GetCallerIdentity needs; `require_allowed_caller` is what AWS refuses some
credentials whatever the policies say (`Caller.refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

from sts_mfa.sandbox.http import errors as awserrors
from sts_mfa.sandbox.http.wire import WireRequest
from sts_mfa.sandbox.rules.bookkeeping import EnforcerState, iso8601
from sts_mfa.sandbox.rules.callers import Caller, SessionCaller, UserCaller
from sts_mfa.sandbox.rules.faults import Faults
from sts_mfa.sandbox.rules.policy import Decision, Request, evaluate


@dataclass(frozen=True)
class Call:
    """One authenticated request, with what the rules may consult to decide it."""

    request: WireRequest
    caller: Caller
    now: float  # the sandbox clock when it arrived
    state: EnforcerState
    faults: Faults
    accounts: tuple[str, ...]  # the sandbox's own accounts (moto may know more)

    @property
    def account(self) -> str:
        return self.caller.account

    def param(self, name: str) -> str:
        """A request parameter, "" when absent."""
        return self.request.params.get(name, "")


def request_context(caller: Caller, request: WireRequest, now: float) -> dict[str, str]:
    """The request context keys AWS supplies for this caller."""
    return {
        "aws:PrincipalArn": caller.principal_arn,
        "aws:PrincipalAccount": caller.account,
        "aws:CurrentTime": iso8601(now),
        "aws:EpochTime": str(int(now)),
        "aws:SecureTransport": "false",
        "aws:RequestedRegion": request.region,
        **_principal_keys(caller, now),
    }


def mfa_keys(caller: Caller, now: float) -> dict[str, str]:
    """The MFA context the caller's credentials carry (none for a long-term key)."""
    carried, mfa_at = caller.mfa_context
    if not carried:
        return {}
    if mfa_at is None:
        return {"aws:MultiFactorAuthPresent": "false"}
    return {"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": str(max(0, int(now - mfa_at)))}


@singledispatch
def _principal_keys(caller: Caller, now: float) -> dict[str, str]:
    raise TypeError(f"no request context for {type(caller).__name__}")


@_principal_keys.register
def _user_keys(caller: UserCaller, now: float) -> dict[str, str]:
    # A GetSessionToken session (a UserCaller too) adds the MFA context it carries.
    user_keys = {"aws:PrincipalType": "User", "aws:username": caller.user.name, "aws:userid": caller.user.id}
    return {**user_keys, **mfa_keys(caller, now)}


@_principal_keys.register
def _session_keys(caller: SessionCaller, now: float) -> dict[str, str]:
    # Session credentials carry whether MFA was used to get them.
    return {"aws:PrincipalType": "AssumedRole", **mfa_keys(caller, now)}


def require_allowed_caller(call: Call) -> None:
    """Refuse what AWS never lets these credentials do (a GetSessionToken session's limits)."""
    refusal = call.caller.refusal(call.request)
    if refusal is not None:
        raise refusal


def require_identity(call: Call, resource: str) -> None:
    """Refuse unless the caller's identity policies allow the request on `resource`."""
    request, caller = call.request, call.caller
    question = Request(request.iam_action, resource, request_context(caller, request, call.now))
    if evaluate(caller.identity_policies(), question) is not Decision.ALLOW:
        raise awserrors.access_denied(request.service, caller.arn, request.iam_action, resource)
