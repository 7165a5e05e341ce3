"""`check-deny`: AssumeRole with the user's long-term key and no MFA, then the trust policy analysed.

A refusal proves the point only together with `sts_mfa.trust.analysis`'s verdict that every
way into the role requires MFA (see docs/trust-analysis.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from sts_mfa.aws.errors import error_code, error_message, translate
from sts_mfa.aws.waits import NotReady
from sts_mfa.errors import RoleExposed, StateError
from sts_mfa.mfa.refusals import PROPAGATING_KEY
from sts_mfa.scenario.context import Context, gone, require_setup, stale_key_error, user_keys
from sts_mfa.state.model import State
from sts_mfa.trust import analysis as trust
from sts_mfa.trust.analysis import Analysis


@dataclass
class CheckDenyResult:
    """What check-deny found, for the state file's role or a profile's (one type, one renderer).

    `caller_arn` is who tried without MFA: the state file's user, or the profile's source.
    For a profile, `profile` is its name and `assumed_role_arn` the session AWS gave WITH MFA;
    `analysis` is None when no credentials could read the trust policy (`unread_because`).
    """

    role_arn: str
    caller_arn: str | None
    denied: bool
    error_code: str | None
    message: str
    analysis: Analysis | None
    trust_policy: Any  # the document as read (None: unreadable)
    profile: str | None = None
    assumed_role_arn: str | None = None
    read_with: str | None = None  # which credentials could read the trust policy
    unread_because: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what getting the MFA session found

    @property
    def findings(self) -> list[str]:
        """Every way in without MFA, and everything the analysis could not decide, one line each."""
        return [str(f) for f in self.analysis.findings] if self.analysis is not None else []

    @property
    def proven(self) -> bool:
        """Refused without MFA, and a trust policy read that requires MFA on every way in
        (for a profile, also accepted with MFA: `check_deny_profile` raises otherwise)."""
        return self.denied and self.analysis is not None and self.analysis.requires_mfa

    def to_json(self) -> dict[str, Any]:
        analysis = self.analysis
        verdict: dict[str, Any] = {
            "trust_policy_requires_mfa": analysis.requires_mfa if analysis else None,
            "trust_policy_verdict": analysis.verdict if analysis else None,
            # each: kind, statement, sid, action, principal, reason, message, and for an open
            # way the witness (the request that gets in), as in `audit --json`
            "findings": [f.to_json() for f in analysis.findings] if analysis else [],
            "ways_in": analysis.to_json()["ways_in"] if analysis else [],
            "proven": self.proven,
        }
        tried = {"denied": self.denied, "error_code": self.error_code, "message": self.message}
        if self.profile is None:
            return {"role_arn": self.role_arn, "user_arn": self.caller_arn, **tried, **verdict}
        return {
            "profile": self.profile,
            "role_arn": self.role_arn,
            "source_arn": self.caller_arn,
            **tried,
            "accepted_with_mfa": self.assumed_role_arn is not None,
            "assumed_role_arn": self.assumed_role_arn,
            "trust_policy": "read" if analysis is not None else "unreadable",
            "trust_policy_read_with": self.read_with,
            **verdict,
        }

    def raise_unless_proven(self) -> None:
        """Exit 3 (RoleExposed) unless proven, saying why: exposed, unread, undecided, or open."""
        role_arn, analysis = self.role_arn, self.analysis
        if not self.denied:
            who = self.caller_arn or self.profile
            raise RoleExposed(f"EXPOSED: {role_arn} can be assumed WITHOUT MFA by {who}")
        if analysis is None:
            readers = f"a profile of account {role_arn.split(':')[4]} allowed iam:GetRole"
            raise RoleExposed(
                f"not proven: the trust policy of {role_arn} could not be read "
                f"({'; '.join(self.unread_because)}), so other ways in were not checked",
                hint=f"read it with --policy-profile NAME, {readers}",
            )
        if analysis.verdict == "undecided":
            raise RoleExposed(
                f"not proven: the analysis cannot decide whether every way into {role_arn} "
                f"requires MFA ({analysis.findings[0]})"
            )
        if not analysis.requires_mfa:
            first = str(analysis.findings[0])
            raise RoleExposed(
                f"the refusal is not proof: the trust policy of {role_arn} lets principals in "
                f"without MFA ({len(analysis.findings)} finding(s); first: {first})"
            )


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
            if code in PROPAGATING_KEY:
                if ctx.young(key_created):
                    raise NotReady(error_message(e)) from None
                raise stale_key_error(state, code) from None
            raise translate(e, "check-deny: AssumeRole without MFA") from e
        # Credentials came back: drop them on the floor, unused.
        return False, None, "AssumeRole without MFA returned credentials"

    outcome = ctx.poll(attempt, "the new access key to work at STS")
    denied, code, message = outcome.value
    try:
        role = ctx.role_side.iam().get_role(RoleName=state.role.name)["Role"]
    except ClientError as e:
        if not denied:  # exposed: that is the finding, whether the policy can be read or not
            document: Any = None
        elif gone(e):
            raise StateError(
                f"the role {state.role.name} recorded in the state file does not exist "
                f"(deleted outside sts-mfa, or these credentials are not for account {state.role_account})",
                hint="run `sts-mfa teardown`, then `sts-mfa setup`",
            ) from None
        else:
            raise translate(e, "check-deny: reading the role's trust policy") from e
    else:
        if role.get("Arn") != role_arn:  # GetRole takes a name: another account answers with its own
            raise StateError(
                f"reading the trust policy of {role_arn} answered with another role, "
                f"{role.get('Arn')}: these credentials are not for account {state.role_account}",
                hint="use the admin profile of the role's account (--profile, or setup's --role-profile)",
            )
        document = role.get("AssumeRolePolicyDocument", {})
    return CheckDenyResult(
        role_arn=role_arn,
        caller_arn=state.user.arn,
        denied=denied,
        error_code=code,
        message=message,
        analysis=trust.analyse(document, home_account=state.role_account, callers=(state.user.arn,)),
        trust_policy=document,
    )
