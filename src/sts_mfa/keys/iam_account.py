"""An IAM user's access keys, as the rotation asks for them: listed, created, deleted, waited for.

The IAM calls go with the credentials the caller chose (the profile's MFA session, where the
user's policy wants MFA for IAM; else its long-term key), always naming the user. A new key
is waited for with GetCallerIdentity (which needs no permission) until STS accepts it,
bounded (`sts_mfa.aws.waits.poll`), so it works the moment the rotation returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sts_mfa.aws.clients import Aws, Keys
from sts_mfa.aws.errors import error_code, error_message, translate
from sts_mfa.aws.waits import NotReady, poll
from sts_mfa.errors import AwsError
from sts_mfa.keys.rotation import AccessKey

if TYPE_CHECKING:
    from sts_mfa.clock import Clock
    from sts_mfa.progress import Reporter

NOT_YET = ("InvalidClientTokenId", "InvalidAccessKeyId")  # a new key STS does not know yet


class IamAccount:
    def __init__(
        self,
        aws: Aws,
        iam_keys: Keys,
        user: str,
        *,
        mfa: bool,
        clock: Clock,
        timeout: float,
        report: Reporter,
    ) -> None:
        self.aws, self.user, self.mfa = aws, user, mfa
        self.iam = aws.iam_with(iam_keys)
        self.clock, self.timeout, self.report = clock, timeout, report

    def keys(self) -> list[AccessKey]:
        answer = self._call("ListAccessKeys", self.iam.list_access_keys, UserName=self.user)
        return [
            AccessKey(str(k["AccessKeyId"]), k["CreateDate"].timestamp(), str(k.get("Status", "")))
            for k in answer.get("AccessKeyMetadata", [])
        ]

    def create(self) -> Keys:
        made = self._call("CreateAccessKey", self.iam.create_access_key, UserName=self.user)["AccessKey"]
        return Keys(str(made["AccessKeyId"]), str(made["SecretAccessKey"]))

    def delete(self, key_id: str) -> None:
        try:
            self._call("DeleteAccessKey", self.iam.delete_access_key, UserName=self.user, AccessKeyId=key_id)
        except AwsError as e:
            if e.code != "NoSuchEntity":  # already gone: what was wanted
                raise

    def wait_accepted(self, keys: Keys) -> None:
        sts = self.aws.sts_with(keys)

        def probe() -> None:
            try:
                sts.get_caller_identity()
            except ClientError as e:
                if error_code(e) in NOT_YET:
                    raise NotReady(error_message(e)) from None
                raise translate(e, "GetCallerIdentity with the new key") from None

        try:
            poll(
                probe,
                what=f"STS to accept the new key {keys.access_key_id}",
                clock=self.clock,
                timeout=self.timeout,
                on_wait=self.report.waiting,
            )
        finally:
            self.report.done_waiting()

    def _call(self, operation: str, call: Any, **kwargs: Any) -> Any:
        try:
            return call(**kwargs)
        except ClientError as e:
            error = translate(e, operation)
            if error_code(e) == "AccessDenied" and not self.mfa:
                error.hint = (
                    "if the user's policy allows managing its keys only with MFA (the common force-MFA "
                    "policy), give the profile an mfa_serial: `keys rotate` then uses its MFA session"
                )
            raise error from None
        except Exception as e:
            raise translate(e, operation) from e
