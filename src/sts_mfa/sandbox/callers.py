"""Who is calling: the two kinds of principal an access key can authenticate as.

A long-term access key belongs to an IAM user (`UserCaller`); a temporary key issued
by AssumeRole belongs to an assumed-role session (`SessionCaller`). What differs
between them, the rules ask the caller itself: which ARN names it in a policy, which
identity policies apply to it, whether it can present an MFA device, and whether
an AssumeRole made with its credentials is role chaining.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from moto.iam.models import User, VirtualMfaDevice

from sts_mfa.sandbox import motoview
from sts_mfa.sandbox.policy import Principal


@dataclass
class IssuedSession:
    """What the sandbox remembers about a session it issued (moto keeps the keys).

    `access_key_id` is filled in once moto has answered the AssumeRole; `mfa_at` is
    when the MFA code that obtained the session was accepted (None: no MFA).
    """

    access_key_id: str
    account: str
    role_arn: str
    session_name: str
    expires_at: float
    mfa_at: float | None


@dataclass(frozen=True)
class Caller(ABC):
    """An authenticated principal: its account, its ARN and the key it signed with."""

    account: str
    arn: str
    access_key_id: str

    # AssumeRole with this caller's credentials is role chaining (1-hour limit).
    role_chaining: ClassVar[bool]

    @property
    @abstractmethod
    def principal_arn(self) -> str:
        """aws:PrincipalArn: the user's ARN, or the role's for a session."""

    @property
    @abstractmethod
    def aliases(self) -> tuple[str, ...]:
        """Other ARNs that name this caller exactly in a policy."""

    @property
    def principal(self) -> Principal:
        """The caller as a trust policy sees it."""
        return Principal(arn=self.arn, account=self.account, aliases=self.aliases)

    @abstractmethod
    def identity_policies(self) -> list[str]:
        """The identity-policy documents that apply to this caller."""

    @abstractmethod
    def mfa_device(self, serial: str) -> VirtualMfaDevice | None:
        """The virtual MFA device `serial`, if it is enabled for this caller."""

    @property
    @abstractmethod
    def user_arn(self) -> str | None:
        """The IAM user the caller is, for actions that default to the calling user."""


@dataclass(frozen=True)
class UserCaller(Caller):
    """An IAM user, signing with one of its long-term access keys."""

    user: User
    role_chaining: ClassVar[bool] = False

    @property
    def principal_arn(self) -> str:
        return self.arn

    @property
    def aliases(self) -> tuple[str, ...]:
        return ()

    def identity_policies(self) -> list[str]:
        return motoview.user_policy_documents(self.account, self.user)

    def mfa_device(self, serial: str) -> VirtualMfaDevice | None:
        device = motoview.mfa_device(self.account, serial)
        if device is None or not motoview.device_enabled_for(device, self.user):
            return None
        return device

    @property
    def user_arn(self) -> str | None:
        return str(self.user.arn)


@dataclass(frozen=True)
class SessionCaller(Caller):
    """An assumed-role session, signing with the temporary key AssumeRole issued."""

    session: IssuedSession
    role_chaining: ClassVar[bool] = True

    @property
    def principal_arn(self) -> str:
        return self.session.role_arn

    @property
    def aliases(self) -> tuple[str, ...]:
        return (self.session.role_arn,)  # a session is also named by its role's ARN

    def identity_policies(self) -> list[str]:
        role = motoview.role_by_arn(self.session.role_arn)
        return motoview.role_policy_documents(role) if role is not None else []

    def mfa_device(self, serial: str) -> VirtualMfaDevice | None:
        return None  # MFA devices belong to users; a session has none to present

    @property
    def user_arn(self) -> str | None:
        return None
