"""Authentication: which principal signed a request, as AWS's front door decides it.

An access key is looked up in every account moto knows (the key's account is the
account whose IAM backend holds it). A long-term key authenticates its IAM user
(`UserCaller`) and must come without a session token; a temporary key authenticates
the assumed-role session AssumeRole issued with it (`SessionCaller`) and must come
with that session's token, before the session expires. A key the sandbox issued
for GetSessionToken (moto keeps none) authenticates that session of its IAM user
(`UserSessionCaller`) the same way, while the user still exists. Either way the
SigV4 signature must be the one the key's secret gives (`signing.signature_matches`).

An unknown, inactive or deleted key, and a key created less than
`Faults.key_delay` ago (not propagated yet), is refused as an invalid key.
"""

from __future__ import annotations

from moto.iam.models import AccessKey

from sts_mfa.sandbox.http import errors as awserrors
from sts_mfa.sandbox.http.signing import secrets_equal, signature_matches
from sts_mfa.sandbox.http.wire import WireRequest
from sts_mfa.sandbox.rules.bookkeeping import EnforcerState
from sts_mfa.sandbox.rules.callers import Caller, SessionCaller, UserCaller, UserSession, UserSessionCaller
from sts_mfa.sandbox.rules.faults import Faults
from sts_mfa.sandbox.seam import motoview


def authenticate(request: WireRequest, now: float, state: EnforcerState, faults: Faults) -> Caller:
    if request.auth is None:
        raise awserrors.missing_authentication(request.service)
    key_id = request.auth.access_key_id
    user_session = state.user_sessions.get(key_id)
    if user_session is not None:
        return _user_session(request, user_session, now)
    account, key = _usable_key(request, key_id, now, state, faults)
    if key.role_arn is None:
        return _user(request, account, key_id, key)
    return _session(request, account, key_id, now, state)


def _usable_key(
    request: WireRequest, key_id: str, now: float, state: EnforcerState, faults: Faults
) -> tuple[str, AccessKey]:
    found = motoview.find_access_key(key_id)
    if found is None or found[1].status != "Active":
        raise awserrors.invalid_access_key(request.service)
    created = state.key_created.get(key_id)
    if created is not None and 0 <= now - created < faults.key_delay:
        raise awserrors.invalid_access_key(request.service)  # not propagated yet
    return found


def _user(request: WireRequest, account: str, key_id: str, key: AccessKey) -> UserCaller:
    service = request.service
    user = motoview.key_owner(account, key)
    if user is None:
        raise awserrors.invalid_access_key(service)
    if request.header("x-amz-security-token") is not None:
        raise awserrors.invalid_session_token(service)
    if not signature_matches(request, key.secret_access_key, None):
        raise awserrors.signature_mismatch(service)
    return UserCaller(account, user.arn, key_id, user=user)


def _session(
    request: WireRequest, account: str, key_id: str, now: float, state: EnforcerState
) -> SessionCaller:
    service = request.service
    token = request.header("x-amz-security-token")
    moto_session = motoview.assumed_role(account, key_id)
    session = state.sessions.get(key_id)
    if moto_session is None or session is None or token is None:
        raise awserrors.invalid_access_key(service)
    if not secrets_equal(token, moto_session.session_token):
        raise awserrors.invalid_session_token(service)
    if not signature_matches(request, moto_session.secret_access_key, token):
        raise awserrors.signature_mismatch(service)
    if now >= session.expires_at:
        raise awserrors.expired_token(service)
    role_name = session.role_arn.rsplit("/", 1)[-1]
    arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session.session_name}"
    return SessionCaller(account, arn, key_id, session=session)


def _user_session(request: WireRequest, session: UserSession, now: float) -> UserSessionCaller:
    service = request.service
    token = request.header("x-amz-security-token")
    user = motoview.user_by_name(session.account, session.user_name)
    if token is None or user is None or user.id != session.user_id:
        raise awserrors.invalid_access_key(service)  # no token, or the user is gone
    if not secrets_equal(token, session.session_token):
        raise awserrors.invalid_session_token(service)
    if not signature_matches(request, session.secret_access_key, token):
        raise awserrors.signature_mismatch(service)
    if now >= session.expires_at:
        raise awserrors.expired_token(service)
    return UserSessionCaller(session.account, user.arn, session.access_key_id, user=user, session=session)
