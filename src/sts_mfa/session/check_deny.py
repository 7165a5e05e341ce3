"""`check-deny PROFILE`: prove by contrast that a profile's role needs MFA.

1. AssumeRole WITHOUT MFA with the source profile's own credentials (never an MFA
   session, whose MFA context would let it in): AWS must refuse. Credentials it hands
   out are discarded unused.
2. The role assumed WITH MFA for the same identity (a cached session, or a new one
   through the profile's usual code sources): AWS must accept.
3. The trust policy read and analysed: every way in must require MFA. A reading is
   GetRole answered with exactly `role_arn` (account, path and name): GetRole takes a
   name only, so credentials of another account answer with *their* role of that name,
   which proves nothing about this one. The readers tried: `--policy-profile`, the MFA
   role session itself (always of the role's account), the source credentials. If none
   reads it, nothing is proven: other ways in (web identity, SAML, services, other
   principals) were not checked, and the check is undecided.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sts_mfa.aws.clients import Aws, Keys
from sts_mfa.aws.errors import error_code, error_message, translate
from sts_mfa.errors import UsageError
from sts_mfa.scenario.check_deny import CheckDenyResult
from sts_mfa.trust import analysis as trust

if TYPE_CHECKING:
    from sts_mfa.mfa.sources import Codes
    from sts_mfa.session.model import Want
    from sts_mfa.session.profile import ProfileSessions
    from sts_mfa.state.model import AnySession


def check_deny_profile(
    sessions: ProfileSessions, want: Want, codes: Codes, policy_aws: Aws | None
) -> CheckDenyResult:
    profile = sessions.profile
    if profile.is_user:
        raise UsageError(
            f"profile {profile.name} is a user profile (no role_arn): check-deny proves that a role needs "
            "MFA; name a role profile"
        )
    keys = sessions.source_keys()
    source_sts = sessions.source.sts_with(keys)
    result = CheckDenyResult(
        role_arn=profile.role_arn,
        caller_arn=_caller(source_sts),
        **_without_mfa(source_sts, sessions),
        analysis=None,
        trust_policy=None,
        profile=profile.name,
    )
    got = sessions.get(want, codes)  # with MFA: raises (exit 1/5/6) if AWS refuses that too
    result.assumed_role_arn = got.session.assumed_role_arn
    result.warnings = got.warnings  # the clock's skew, as every other command says it
    _read_trust(result, sessions, keys, got.session, policy_aws)
    return result


def _caller(sts: Any) -> str | None:
    try:
        return str(sts.get_caller_identity()["Arn"])
    except ClientError:
        return None


def _without_mfa(sts: Any, sessions: ProfileSessions) -> dict[str, Any]:
    try:
        kwargs: dict[str, Any] = {
            "RoleArn": sessions.profile.role_arn,
            "RoleSessionName": "sts-mfa-check-deny",
            "DurationSeconds": 900,
        }
        if sessions.profile.external_id:
            kwargs["ExternalId"] = sessions.profile.external_id
        sts.assume_role(**kwargs)
    except ClientError as e:
        code = error_code(e)
        if code == "AccessDenied":
            return {"denied": True, "error_code": code, "message": error_message(e)}
        raise translate(e, f"check-deny {sessions.profile.name}: AssumeRole without MFA") from e
    # Credentials came back: dropped on the floor, unused.
    return {"denied": False, "error_code": None, "message": "AssumeRole without MFA returned credentials"}


def _read_trust(
    result: CheckDenyResult,
    sessions: ProfileSessions,
    keys: Keys,
    session: AnySession,
    policy_aws: Aws | None,
) -> None:
    """Read the role's trust policy with the first credentials that may; analyse it."""
    role_arn = sessions.profile.role_arn
    role_name = role_arn.rsplit("/", 1)[-1]
    # Each client is made only if the one before could not read the policy (usually the first can).
    candidates: list[tuple[str, Callable[[], Any]]] = []
    if policy_aws is not None:
        candidates.append(("--policy-profile", policy_aws.iam))
    role_keys = Keys(session.access_key_id, session.secret_access_key, session.session_token)
    candidates.append(("the MFA role session", lambda: sessions.source.iam_with(role_keys)))
    candidates.append(("the source profile", lambda: sessions.source.iam_with(keys)))
    for label, iam in candidates:
        try:
            role = iam().get_role(RoleName=role_name)["Role"]
        except ClientError as e:
            result.unread_because.append(f"{label}: {error_code(e)}")
            continue
        if role.get("Arn") != role_arn:  # another account's (or path's) role of the same name
            result.unread_because.append(f"{label}: answered with {role.get('Arn')}, not {role_arn}")
            continue
        result.trust_policy = role.get("AssumeRolePolicyDocument")
        account = role_arn.split(":")[4]
        callers = (result.caller_arn,) if result.caller_arn else ()
        result.analysis = trust.analyse(result.trust_policy, home_account=account, callers=callers)
        result.read_with = label
        return
