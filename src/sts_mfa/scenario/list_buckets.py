"""`list-buckets`: use the role session (never the user's own key, which may not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from sts_mfa.aws.errors import CREDENTIAL_ERROR_CODES, error_code, error_message, translate
from sts_mfa.aws.waits import NotReady
from sts_mfa.errors import CredentialsError
from sts_mfa.scenario.context import Context, session_keys
from sts_mfa.state.model import State

if TYPE_CHECKING:
    from sts_mfa.state.model import AnySession


@dataclass
class Bucket:
    name: str
    created: float | None


def list_buckets(ctx: Context, state: State | None, session: AnySession) -> list[Bucket]:
    """ListBuckets with the role session's keys (retrying a new role policy's propagation).

    The session belongs to the role's account, so S3 is reached the way that account is.
    With no state (a profile's role), nothing is new enough to be still propagating.
    """
    s3 = ctx.role_side.s3_with(session_keys(session))
    young = (
        state.role.created_at if state and state.role else None,
        state.policy.created_at if state and state.policy else None,
    )

    def call() -> list[Bucket]:
        try:
            response = s3.list_buckets()
        except ClientError as e:
            err = error_code(e)
            if err == "AccessDenied" and ctx.young(*young):
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

    outcome = ctx.poll(call, "the role's policy to allow s3:ListAllMyBuckets")
    return outcome.value
