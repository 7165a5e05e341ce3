"""`audit --prove-with PROFILE`: ask AWS, for each role the analysis says refuses a caller without MFA.

For each role whose verdict is `requires-mfa`, AssumeRole is called with the
profile's credentials and no MFA. AWS refusing (AccessDenied) agrees with the
analysis, though it proves only that *this* caller is refused (its identity policy
may be what refuses it). AWS handing out credentials disagrees: the credentials
are dropped unused and the role becomes `open`, with a finding saying so; that is
a bug in the analysis, or in AWS's reading of the policy, and worth knowing
either way. Any other answer is noted and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sts_mfa.audit.classify import RoleResult
from sts_mfa.trust.analysis import ASSUME_ROLE, Finding

SESSION_NAME = "sts-mfa-audit-proof"


@dataclass(frozen=True)
class Proof:
    arn: str
    outcome: str  # "refused", "DISAGREES" or "not tried: <why>"
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"arn": self.arn, "outcome": self.outcome, "detail": self.detail}


def prove(
    results: list[RoleResult], sts: Any, who: str, progress: Callable[[int, int], None] | None = None
) -> tuple[list[RoleResult], list[Proof]]:
    """The results with AWS's disagreements applied, and one Proof per role tried."""
    from botocore.exceptions import BotoCoreError, ClientError

    from sts_mfa.aws.errors import error_code, error_message

    wanted = [r for r in results if r.verdict == "requires-mfa"]
    proofs: dict[str, Proof] = {}
    for number, result in enumerate(wanted, 1):
        try:
            sts.assume_role(RoleArn=result.arn, RoleSessionName=SESSION_NAME, DurationSeconds=900)
        except ClientError as e:
            code = error_code(e) or "error"
            outcome = "refused" if code == "AccessDenied" else f"not tried: {code}"
            proofs[result.arn] = Proof(result.arn, outcome, error_message(e)[:300])
        except BotoCoreError as e:
            proofs[result.arn] = Proof(result.arn, f"not tried: {type(e).__name__}", str(e)[:300])
        else:  # credentials: dropped on the floor, unused
            proofs[result.arn] = Proof(result.arn, "DISAGREES", f"AWS let {who} in without MFA")
        if progress is not None:
            progress(number, len(wanted))
    return [_applied(r, proofs.get(r.arn), who) for r in results], list(proofs.values())


def _applied(result: RoleResult, proof: Proof | None, who: str) -> RoleResult:
    if proof is None or proof.outcome != "DISAGREES":
        return result
    finding = Finding(
        "open",
        None,
        None,
        ASSUME_ROLE,
        who,
        "AWS handed out credentials WITHOUT MFA although the analysis says the trust policy "
        "requires MFA (--prove-with): the analysis or AWS's reading of the policy is wrong",
    )
    return replace(
        result, verdict="open", findings=(finding, *result.findings), note="AWS disagrees with the analysis"
    )
