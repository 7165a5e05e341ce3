"""The state file's model: what setup made (or meant to), the TOTP replay guard, the cached session.

Plain dataclasses and the rules that derive from them (which resources exist, is setup
complete, is the cached session usable); reading, validating and writing the file are
`sts_mfa.state.document`'s and `sts_mfa.state.schema`'s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeAlias

from sts_mfa import TOOL_NAME
from sts_mfa.state.cached import Cached, usable
from sts_mfa.state.version import SCHEMA_VERSION

MfaMode = Literal["phone", "software"]


@dataclass
class Resource:
    """An AWS resource the tool meant to create (`name`) and, once created, its `arn`."""

    name: str
    arn: str | None = None
    created_at: float | None = None  # local epoch seconds when AWS confirmed it

    @property
    def confirmed(self) -> bool:
        return self.arn is not None


@dataclass
class MfaDevice:
    name: str
    serial: str | None = None  # the device ARN, known once created
    enabled: bool = False
    created_at: float | None = None


@dataclass
class AccessKey:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    created_at: float | None = None


@dataclass
class InlinePolicy:
    name: str
    created: bool = False
    created_at: float | None = None


@dataclass
class TotpRecord:
    """The replay guard for one device: TOTP codes are single-use.

    `last_step` is the last 30 s time-step the tool sent (software token, or
    the enable codes); `last_code`/`last_used_at` remember a typed code so the
    same code is refused locally instead of by AWS.
    """

    last_step: int | None = None
    last_code: str | None = None
    last_used_at: float | None = None


@dataclass
class Session:
    """A cached role session (the temporary credentials from AssumeRole)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: float  # epoch seconds
    role_arn: str
    assumed_role_arn: str | None = None
    obtained_at: float | None = None

    def remaining(self, now: float) -> float:
        return self.expiration - now


Side = Literal["identity", "role"]
RESOURCE_KINDS = ("user", "access_key", "mfa_device", "role", "policy", "user_policy")


@dataclass(frozen=True)
class Recorded:
    """One resource the state records: its kind, name, ARN (or serial), side, and whether it is done."""

    kind: str  # one of RESOURCE_KINDS
    name: str  # the access key's ID for an access key
    arn: str | None
    side: Side  # the identity account (user, key, device, inline policy) or the role's (role, policy)
    done: bool  # created and confirmed (a device: enabled; the policy: attached too)


@dataclass
class State:
    prefix: str
    iam_path: str
    mode: MfaMode
    region: str | None = None
    endpoint: str | None = None
    account: str | None = None  # the identity account: user, MFA device, access key, inline policy
    # The resource account: role and managed policy. The same as `account` unless
    # setup ran with --role-profile, whose profile and endpoint are kept to reach it.
    role_account: str | None = None
    role_profile: str | None = None
    role_endpoint: str | None = None
    created_at: float | None = None
    max_session_duration: int = 3600
    user: Resource | None = None
    mfa_device: MfaDevice | None = None
    access_key: AccessKey | None = None
    policy: Resource | None = None
    role: Resource | None = None
    policy_attached: bool = False
    user_policy: InlinePolicy | None = None
    seed: str | None = field(
        default=None, repr=False
    )  # software-token mode; phone mode only until the device is enabled
    # A QR code PNG written by setup (absolute path, and the SHA-256 of what was written):
    # removed once the device is enabled, but only if it is still exactly that file.
    qr_png: str | None = None
    qr_png_sha256: str | None = None
    totp: dict[str, TotpRecord] = field(default_factory=dict)
    session: Session | None = None
    version: int = SCHEMA_VERSION
    tool: str = TOOL_NAME

    # -- derived views -------------------------------------------------------

    def totp_record(self, serial: str) -> TotpRecord:
        return self.totp.setdefault(serial, TotpRecord())

    def resources(self) -> list[Recorded]:
        """Everything the tool may have created, as the state records it (the one list)."""
        found: list[Recorded] = []
        if self.user is not None:
            found.append(Recorded("user", self.user.name, self.user.arn, "identity", self.user.confirmed))
        if self.access_key is not None:
            found.append(Recorded("access_key", self.access_key.access_key_id, None, "identity", True))
        if self.mfa_device is not None:
            device = self.mfa_device
            found.append(Recorded("mfa_device", device.name, device.serial, "identity", device.enabled))
        if self.role is not None:
            found.append(Recorded("role", self.role.name, self.role.arn, "role", self.role.confirmed))
        if self.policy is not None:
            done = self.policy.confirmed and self.policy_attached
            found.append(Recorded("policy", self.policy.name, self.policy.arn, "role", done))
        if self.user_policy is not None:
            policy = self.user_policy
            found.append(Recorded("user_policy", policy.name, None, "identity", policy.created))
        return found

    def has_resources(self) -> bool:
        """True while anything the tool may have created is still recorded."""
        return bool(self.resources())

    def on_side(self, side: Side) -> bool:
        """Is anything recorded on this side (the identity account, or the role's)?"""
        return any(r.side == side for r in self.resources())

    def setup_complete(self) -> bool:
        recorded = self.resources()
        return {r.kind for r in recorded} == set(RESOURCE_KINDS) and all(r.done for r in recorded)

    def usable_session(self, now: float, margin: float) -> Session | None:
        """The cached session, if it belongs to the current role and has more than `margin` s left."""
        if self.session is None or self.role is None:
            return None
        if not usable(self.session.role_arn, self.session.expiration, self.role.arn, now, margin):
            return None
        return self.session

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        # Put the version first: it is what a reader checks before anything else.
        return {"version": data.pop("version"), "tool": data.pop("tool"), **data}


# A session as any path holds it: the model's, or one the light path read straight from a file.
AnySession: TypeAlias = Session | Cached


def cached_session(state: State | None, now: float, margin: float) -> Session | None:
    """From a loaded State: the session if it belongs to the current role and has > `margin` s left."""
    return None if state is None else state.usable_session(now, margin)
