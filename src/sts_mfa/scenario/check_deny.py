"""`check-deny`: AssumeRole with the user's long-term key and no MFA, then the trust policy analysed.

A refusal proves the point only together with `sts_mfa.trust.analysis`'s verdict that every
way into the role requires MFA (see docs/trust-analysis.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sts_mfa.aws.errors import error_code, error_message, translate
from sts_mfa.aws.waits import NotReady, poll
from sts_mfa.errors import StateError
from sts_mfa.mfa.refusals import PROPAGATING_KEY
from sts_mfa.scenario.context import Context, gone, require_setup, stale_key_error, user_keys
from sts_mfa.state.model import State
from sts_mfa.trust import analysis as trust
from sts_mfa.trust.analysis import Analysis


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
        user_arn=state.user.arn,
        denied=denied,
        error_code=code,
        message=message,
        analysis=trust.analyse(document),
        trust_policy=document,
    )
