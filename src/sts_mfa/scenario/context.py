"""What every step is given (clients, clock, reporter) and the small rules they share.

The tool's marks and the "is this ours" rule are in `sts_mfa.state.marks`; the state
model is in `sts_mfa.state.document`. Here: the `Context` a step runs in, the ARNs the
steps build, the keys they sign with, and the checks several steps make.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from botocore.exceptions import ClientError

from sts_mfa.aws.clients import Aws, Keys
from sts_mfa.aws.errors import error_code
from sts_mfa.aws.waits import DEFAULT_TIMEOUT, Outcome, poll
from sts_mfa.clock import Clock, sleep_until
from sts_mfa.errors import StateError
from sts_mfa.mfa.ledger import Entry
from sts_mfa.progress import Reporter
from sts_mfa.state.marks import PREFIX_TAG_KEY, TAG_KEY, TAG_VALUE
from sts_mfa.state.model import State

T = TypeVar("T")

if TYPE_CHECKING:
    from mypy_boto3_iam.type_defs import TagTypeDef

    from sts_mfa.state.model import AnySession

DEFAULT_DURATION = 3600  # seconds: AWS's default session length, and a role's default maximum


@dataclass
class Context:
    """The clients, clock and reporter one run of a step uses."""

    aws: Aws  # the identity side: user, MFA device, access key, user policy
    clock: Clock
    report: Reporter
    wait_timeout: float = DEFAULT_TIMEOUT
    role_aws: Aws | None = None  # the resource side, when the role lives in another account
    # The per-device ledger of TOTP steps shared with every other state file and profile
    # (see sts_mfa.mfa.ledger); without one, only the state file's own record counts.
    ledger: Callable[[str], AbstractContextManager[Entry]] | None = None

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, both accounts together."""
        return self.aws.total_requests + (self.role_aws.total_requests if self.role_aws else 0)

    @property
    def role_side(self) -> Aws:
        """Clients for the role and its policy (the identity side's unless cross-account)."""
        return self.role_aws or self.aws

    def young(self, *created: float | None) -> bool:
        """Was any of these created recently enough that IAM may still be propagating it?"""
        now = self.clock.now()
        return any(t is not None and now - t < self.wait_timeout for t in created)

    @contextmanager
    def device_ledger(self, serial: str) -> Iterator[Entry]:
        """The device's ledger entry, held; a throwaway one when there is no shared ledger."""
        if self.ledger is None:
            yield Entry()
            return
        with self.ledger(serial) as entry:
            yield entry

    def poll(self, probe: Callable[[], T], what: str) -> Outcome[T]:
        """`probe` until AWS is ready (`sts_mfa.aws.waits.poll`), the wait shown, then cleared."""
        try:
            return poll(
                probe, what=what, clock=self.clock, timeout=self.wait_timeout, on_wait=self.report.waiting
            )
        finally:
            self.report.done_waiting()

    def sleep_with_countdown(self, seconds: float, what: str) -> None:
        sleep_until(
            self.clock, self.clock.now() + seconds, lambda remaining: self.report.countdown(what, remaining)
        )
        self.report.done_waiting()


def tags(state: State) -> list[TagTypeDef]:
    return [{"Key": TAG_KEY, "Value": TAG_VALUE}, {"Key": PREFIX_TAG_KEY, "Value": state.prefix}]


def account_of(arn: str) -> str:
    return arn.split(":")[4]


def mfa_serial(account: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:mfa{path}{name}"


def policy_arn(account: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:policy{path}{name}"


def user_keys(state: State) -> Keys:
    if state.access_key is None:
        raise StateError("the state file has no access key for the demo user", hint="run `sts-mfa setup`")
    return Keys(state.access_key.access_key_id, state.access_key.secret_access_key)


def session_keys(session: AnySession) -> Keys:
    return Keys(session.access_key_id, session.secret_access_key, session.session_token)


def gone(e: ClientError) -> bool:
    return error_code(e) == "NoSuchEntity"


def stale_key_error(state: State, code: str | None) -> StateError:
    key = state.access_key.access_key_id if state.access_key else "?"
    return StateError(
        f"AWS no longer accepts the demo user's access key {key} recorded in the state file ({code}); "
        "it was deleted or deactivated outside sts-mfa",
        hint="run `sts-mfa teardown`, then `sts-mfa setup`",
    )


def require_setup(state: State) -> None:
    if not state.setup_complete():
        missing = (
            "the MFA device is not enabled" if state.mfa_device and not state.mfa_device.enabled else None
        )
        raise StateError(
            f"setup is incomplete{': ' + missing if missing else ''}",
            hint="run `sts-mfa setup` again to finish it",
        )


def check_account(aws: Aws, expected: str | None, owner: str) -> None:
    """Refuse to act with credentials for another account: its NoSuchEntity would lie."""
    if expected is None:
        return
    actual = aws.account()
    if actual != expected:
        raise StateError(
            f"{owner} recorded in the state file is in account {expected}, "
            f"but the credentials for it are for account {actual}",
            hint="use the credentials (--profile / the role profile) that ran setup",
        )
