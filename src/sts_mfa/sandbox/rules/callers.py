"""Who is calling: the three kinds of principal an access key can authenticate as.

A long-term access key belongs to an IAM user (`UserCaller`); a temporary key issued
by AssumeRole belongs to an assumed-role session (`SessionCaller`); a temporary key
issued by GetSessionToken belongs to a session of an IAM user (`UserSessionCaller`),
which acts as that user. What differs between them, the rules ask the caller
itself: which ARN names it in a policy, which identity policies apply to it,
whether it can present an MFA device, whether its credentials are session
credentials (AssumeRole with them is role chaining: at most 1 hour), what MFA
context they carry, and what such a session may not do at all (`refusal`).

moto keeps the keys of the sessions AssumeRole issues, but not those of
GetSessionToken (moto answers every GetSessionToken with the same example keys, kept
nowhere): the sandbox issues those itself (`UserSession.issue`) and remembers them.
"""

from __future__ import annotations

import base64
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from moto.iam.models import User, VirtualMfaDevice

from sts_mfa.sandbox.http import errors as awserrors
from sts_mfa.sandbox.http.errors import AwsFault
from sts_mfa.sandbox.http.wire import WireRequest
from sts_mfa.sandbox.rules.policy import Principal
from sts_mfa.sandbox.seam import motoview

_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # what AWS access key ids are made of
# What a GetSessionToken session may call at STS (GetSessionToken itself is refused by
# its own rule, with AWS's "Cannot call GetSessionToken with session credentials").
_USER_SESSION_STS = frozenset({"AssumeRole", "GetCallerIdentity", "GetSessionToken"})


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


@dataclass
class UserSession:
    """A session GetSessionToken issued to an IAM user: its credentials are the sandbox's.

    The user is remembered by name and unique ID (a user deleted and created again
    under the same name is someone else); `mfa_at` is when the MFA code that
    obtained the session was accepted (None: no MFA).
    """

    access_key_id: str
    secret_access_key: str
    session_token: str
    account: str
    user_name: str
    user_id: str
    expires_at: float
    mfa_at: float | None

    @classmethod
    def issue(cls, user: User, account: str, expires_at: float, mfa_at: float | None) -> UserSession:
        """New random credentials shaped like AWS's (ASIA... key id, 40-character secret)."""
        key_id = "ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
        secret = base64.b64encode(secrets.token_bytes(30)).decode()
        token = base64.b64encode(secrets.token_bytes(264)).decode()
        return cls(key_id, secret, token, account, str(user.name), str(user.id), expires_at, mfa_at)


@dataclass(frozen=True)
class Caller(ABC):
    """An authenticated principal: its account, its ARN and the key it signed with."""

    account: str
    arn: str
    access_key_id: str

    # AssumeRole with this caller's credentials is role chaining (1-hour limit).
    role_chaining: ClassVar[bool]
    # Temporary credentials (AWS's "session credentials"), which GetSessionToken refuses.
    session_credentials: ClassVar[bool]

    @property
    def mfa_context(self) -> tuple[bool, float | None]:
        """(whether the credentials carry MFA context at all, when MFA was accepted).

        A long-term key carries none; session credentials carry whether MFA was used
        to obtain them (aws:MultiFactorAuthPresent "true"/"false") and, with MFA, since
        when (aws:MultiFactorAuthAge).
        """
        return False, None

    def refusal(self, request: WireRequest) -> AwsFault | None:
        """What AWS refuses these credentials outright, whatever the policies say."""
        return None

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
    session_credentials: ClassVar[bool] = False

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
    session_credentials: ClassVar[bool] = True

    @property
    def mfa_context(self) -> tuple[bool, float | None]:
        return True, self.session.mfa_at

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


@dataclass(frozen=True)
class UserSessionCaller(UserCaller):
    """An IAM user, signing with the temporary key GetSessionToken issued it.

    It acts as the user (the user's ARN, identity policies and MFA devices) with the
    limits AWS puts on such credentials: at STS only AssumeRole and GetCallerIdentity;
    at IAM nothing unless the session was obtained with MFA (else the token is
    "invalid", as AWS says); an AssumeRole with them is limited to 1 hour, like role
    chaining. moto does not know its key (the sandbox issued it), so requests made
    with it are presented to moto as the user's (`enforcer._present_to_moto`).
    """

    session: UserSession
    role_chaining: ClassVar[bool] = True
    session_credentials: ClassVar[bool] = True

    @property
    def mfa_context(self) -> tuple[bool, float | None]:
        return True, self.session.mfa_at

    def refusal(self, request: WireRequest) -> AwsFault | None:
        if request.service == "sts" and request.action not in _USER_SESSION_STS:
            return awserrors.access_denied("sts", self.arn, request.iam_action, "*")
        if request.service == "iam" and self.session.mfa_at is None:
            return awserrors.invalid_access_key("iam")
        return None
