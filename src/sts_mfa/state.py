"""The shared state file: model, validation, migration, atomic write, lock.

One JSON document records what `setup` created (written *before* each create
with the intended name, and again after with the ARN), the TOTP replay guard,
and the cached role session. Every step reads it; so do scripts.

Guarantees:

- **Atomic**: a write goes to a temporary file in the same directory, is
  fsynced, then renamed over the old one (and the directory fsynced). A reader
  sees the old document or the new one, never a torn one; readers therefore
  take no lock.
- **Private**: created with mode 0600 whatever the umask (fchmod after open),
  and a file that is group- or world-accessible is refused on load, as ssh
  refuses a private key.
- **Serialized**: read-modify-write happens under a `filelock` lock on
  `<state>.lock`, with a re-read inside the lock so no update is lost.
- **Validated**: a document that is not what this version wrote is refused
  with a message naming the field and what is wrong; a newer schema version
  is refused; older ones are migrated.

This module imports neither boto3 nor rich: the cached-credentials path
(`assume --format process`) reads the state on every call another program makes.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from sts_mfa import TOOL_NAME
from sts_mfa.errors import StateError
from sts_mfa.marks import IAM_PATH, PREFIX_PATTERN, Names, split_arn

# The file I/O lives in storage (light, for the cached-credentials path).
from sts_mfa.storage import (
    SCHEMA_VERSION,
    check_path,
    os_problem,
    read_text,
    remove_stale_temp_files,
    write_atomic,
)

__all__ = ["SCHEMA_VERSION", "remove_stale_temp_files", "write_atomic"]

# assume may hold the lock through a TOTP window and a propagation wait, setup
# through a person typing two codes: wait long before calling it stuck.
LOCK_TIMEOUT_SECONDS = 600.0

MfaMode = Literal["phone", "software"]


# --------------------------------------------------------------------------- model


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

    def has_resources(self) -> bool:
        """True while anything the tool may have created is still recorded."""
        return any(
            (
                self.user,
                self.mfa_device,
                self.access_key,
                self.policy,
                self.role,
                self.user_policy,
            )
        )

    def setup_complete(self) -> bool:
        return bool(
            self.user
            and self.user.confirmed
            and self.mfa_device
            and self.mfa_device.enabled
            and self.access_key
            and self.policy
            and self.policy.confirmed
            and self.role
            and self.role.confirmed
            and self.policy_attached
            and self.user_policy
            and self.user_policy.created
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        # Put the version first: it is what a reader checks before anything else.
        return {"version": data.pop("version"), "tool": data.pop("tool"), **data}


# ------------------------------------------------------------------ validation


class _Invalid(Exception):
    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")


def _type_name(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _expect(value: object, kind: type | tuple[type, ...], where: str, what: str) -> None:
    ok = isinstance(value, kind)
    # bool is an int in Python, never in our schema.
    if ok and isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        ok = False
    if not ok:
        raise _Invalid(where, f"expected {what}, got {_type_name(value)}")


_FIELD_KINDS: dict[str, tuple[tuple[type, ...], str]] = {
    "str": ((str,), "a string"),
    "str | None": ((str, type(None)), "a string or null"),
    "float | None": ((int, float, type(None)), "a number or null"),
    "float": ((int, float), "a number"),
    "int": ((int,), "an integer"),
    "int | None": ((int, type(None)), "an integer or null"),
    "bool": ((bool,), "true or false"),
}


# Times (epoch seconds), time-steps and durations all fit well inside this; anything
# bigger is a damaged file, and would overflow datetime or the TOTP counter later.
NUMBER_LIMIT = 253402300799  # 9999-12-31T23:59:59Z, the last second datetime can show


def _in_range(value: object, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise _Invalid(where, f"expected a finite number, got {'NaN' if math.isnan(value) else value}")
    if not -NUMBER_LIMIT <= value <= NUMBER_LIMIT:
        raise _Invalid(where, "number out of range")


def _build(cls: type[Any], data: object, where: str) -> Any:
    """Build a flat dataclass from a JSON object, checking every field's type."""
    _expect(data, dict, where, "an object")
    assert isinstance(data, dict)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise _Invalid(f"{where}.{unknown[0]}", "unknown field")
    kwargs: dict[str, Any] = {}
    for name, f in known.items():
        if name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise _Invalid(f"{where}.{name}", "missing")
            continue
        kinds, what = _FIELD_KINDS[str(f.type)]
        value = data[name]
        _expect(value, kinds, f"{where}.{name}", what)
        _in_range(value, f"{where}.{name}")
        kwargs[name] = value
    return cls(**kwargs)


def _optional(cls: type[Any], data: dict[str, Any], key: str) -> Any:
    value = data.get(key)
    return None if value is None else _build(cls, value, key)


def _validate(data: object) -> State:
    _expect(data, dict, "document", "a JSON object")
    assert isinstance(data, dict)
    allowed = {f.name for f in fields(State)}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _Invalid(unknown[0], "unknown field")
    if data.get("tool", TOOL_NAME) != TOOL_NAME:
        raise _Invalid("tool", f"expected {TOOL_NAME!r}, got {data.get('tool')!r}")
    for key in ("prefix", "iam_path"):
        if key not in data:
            raise _Invalid(key, "missing")
        _expect(data[key], str, key, "a string")
    if data.get("mode") not in ("phone", "software"):
        raise _Invalid("mode", f"expected 'phone' or 'software', got {data.get('mode')!r}")
    for key in (
        "region",
        "endpoint",
        "account",
        "role_account",
        "role_profile",
        "role_endpoint",
        "seed",
        "qr_png",
        "qr_png_sha256",
    ):
        _expect(data.get(key), (str, type(None)), key, "a string or null")
    _expect(data.get("created_at"), (int, float, type(None)), "created_at", "a number or null")
    _in_range(data.get("created_at"), "created_at")
    msd = data.get("max_session_duration", 3600)
    _expect(msd, int, "max_session_duration", "an integer")
    _in_range(msd, "max_session_duration")
    _expect(data.get("policy_attached", False), bool, "policy_attached", "true or false")
    totp_raw = data.get("totp", {})
    _expect(totp_raw, dict, "totp", "an object")
    totp = {serial: _build(TotpRecord, rec, f"totp.{serial}") for serial, rec in totp_raw.items()}
    state = State(
        prefix=data["prefix"],
        iam_path=data["iam_path"],
        mode=data["mode"],
        region=data.get("region"),
        endpoint=data.get("endpoint"),
        account=data.get("account"),
        role_account=data.get("role_account"),
        role_profile=data.get("role_profile"),
        role_endpoint=data.get("role_endpoint"),
        created_at=data.get("created_at"),
        max_session_duration=msd,
        user=_optional(Resource, data, "user"),
        mfa_device=_optional(MfaDevice, data, "mfa_device"),
        access_key=_optional(AccessKey, data, "access_key"),
        policy=_optional(Resource, data, "policy"),
        role=_optional(Resource, data, "role"),
        policy_attached=data.get("policy_attached", False),
        user_policy=_optional(InlinePolicy, data, "user_policy"),
        seed=data.get("seed"),
        qr_png=data.get("qr_png"),
        qr_png_sha256=data.get("qr_png_sha256"),
        totp=totp,
        session=_optional(Session, data, "session"),
    )
    if state.mode == "software" and state.mfa_device and state.mfa_device.serial and not state.seed:
        raise _Invalid("seed", "missing: software-token mode keeps the device seed here")
    _check_names(state)
    return state


def _check_arn(where: str, arn: str | None, kind: str, name: str, account: str | None) -> None:
    if arn is None:
        return
    parts = split_arn(arn)
    if parts is None or parts[1] != kind or parts[2] != IAM_PATH or parts[3] != name:
        raise _Invalid(where, f"expected the ARN of {kind} {IAM_PATH}{name}, got {arn!r}")
    if account is not None and parts[0] != account:
        raise _Invalid(where, f"the ARN is in account {parts[0]}, but the state says {account}")


def _check_names(state: State) -> None:
    """Every name and ARN must follow from the state's own prefix and path.

    A state file is input: one edited to name someone else's user or role must
    not lead `teardown` to it.
    """
    if not PREFIX_PATTERN.fullmatch(state.prefix):
        raise _Invalid("prefix", f"expected 'sts-mfa-' and 8 hex digits, got {state.prefix!r}")
    if state.iam_path != IAM_PATH:
        raise _Invalid("iam_path", f"expected {IAM_PATH!r}, got {state.iam_path!r}")
    for key in ("account", "role_account"):
        value = getattr(state, key)
        if value is not None and not (len(value) == 12 and value.isdigit() and value.isascii()):
            raise _Invalid(key, f"expected a 12-digit account ID, got {value!r}")
    names = Names.for_prefix(state.prefix)
    recorded = (
        ("user", state.user, names.user),
        ("mfa_device", state.mfa_device, names.device),
        ("role", state.role, names.role),
        ("policy", state.policy, names.policy),
        ("user_policy", state.user_policy, names.user_policy),
    )
    for key, item, expected in recorded:
        if item is not None and item.name != expected:
            raise _Invalid(f"{key}.name", f"expected {expected!r} (from the prefix), got {item.name!r}")
    if state.user is not None:
        _check_arn("user.arn", state.user.arn, "user", names.user, state.account)
    if state.mfa_device is not None:
        _check_arn("mfa_device.serial", state.mfa_device.serial, "mfa", names.device, state.account)
    if state.role is not None:
        _check_arn("role.arn", state.role.arn, "role", names.role, state.role_account)
    if state.policy is not None:
        _check_arn("policy.arn", state.policy.arn, "policy", names.policy, state.role_account)
    if state.access_key is not None:
        key_id = state.access_key.access_key_id
        if not (0 < len(key_id) <= 128 and key_id.isalnum() and key_id.isascii()):
            raise _Invalid("access_key.access_key_id", f"not an access key ID: {key_id[:40]!r}")
    if state.qr_png_sha256 is not None:
        if not re.fullmatch(r"[0-9a-f]{64}", state.qr_png_sha256):
            raise _Invalid("qr_png_sha256", "expected 64 hex digits")
        if state.qr_png is None or not os.path.isabs(state.qr_png):
            raise _Invalid("qr_png", "expected the absolute path of the QR code PNG sts-mfa wrote")


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 records which account owns the role and policy (for cross-account setups).

    A version-1 setup is single-account: its role lives in the identity account.
    """
    return {
        **data,
        "version": 2,
        "role_account": data.get("account"),
        "role_profile": None,
        "role_endpoint": None,
    }


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 records the QR code PNG's content hash, so only that very file is ever deleted.

    A version-2 `qr_png` (possibly relative, with no hash) is kept for the record but
    is never deleted: nothing proves the file there now is the one sts-mfa wrote.
    """
    return {**data, "version": 3, "qr_png_sha256": None}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3}
"""version N -> function turning a version-N document into a version-N+1 one."""


def parse(text: str, *, source: str = "state file") -> State:
    """Parse and validate a state document; raise StateError saying what and where."""
    if not text.strip():
        raise StateError(f"{source} is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise StateError(f"{source} is not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}") from None
    except RecursionError:
        raise StateError(f"{source} is not valid JSON: nested too deeply") from None
    except ValueError:  # e.g. an integer longer than Python's integer-string limit
        raise StateError(f"{source} holds a number far too long to be one sts-mfa wrote") from None
    if not isinstance(data, dict):
        raise StateError(f"{source} must hold a JSON object, not {_type_name(data)}")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateError(f"{source}: version: expected an integer, got {_type_name(version)}")
    if version > SCHEMA_VERSION:
        raise StateError(
            f"{source} was written by a newer sts-mfa (schema version {version}; "
            f"this one reads up to {SCHEMA_VERSION})",
            hint="upgrade sts-mfa",
        )
    if version < 1:
        raise StateError(f"{source}: version: {version} is not a schema version")
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)  # in memory: the file is rewritten by the next save
        version = data["version"]
    try:
        return _validate(data)
    except _Invalid as e:
        raise StateError(f"{source}: {e}") from None
    except (TypeError, ValueError) as e:  # defensive: never a traceback on a bad file
        raise StateError(f"{source}: {e}") from None


# -------------------------------------------------------------------- file I/O


def load(path: Path) -> State | None:
    """Load without locking (writes are atomic renames, so a read is never torn)."""
    text = read_text(path)
    return None if text is None else parse(text, source=f"state file {path}")


def dump(state: State) -> str:
    return json.dumps(state.to_json(), indent=2, sort_keys=False) + "\n"


# ---------------------------------------------------------------- transactions


class Transaction:
    """The state under the lock: `state` may be None until `create()`."""

    def __init__(self, path: Path, state: State | None) -> None:
        self.path = path
        self.state = state
        self.deleted = False

    def require(self) -> State:
        if self.state is None:
            raise StateError(
                f"no state file at {self.path}", hint="run `sts-mfa setup` first, or pass --state"
            )
        return self.state

    def save(self) -> None:
        """Persist now (called before and after every create)."""
        state = self.require()
        write_atomic(self.path, dump(state))

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        remove_stale_temp_files(self.path)
        self.state = None
        self.deleted = True


@contextlib.contextmanager
def transaction(
    path: Path,
    *,
    timeout: float = LOCK_TIMEOUT_SECONDS,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[Transaction]:
    """Hold the state lock, re-read the file inside it, and yield it for changes.

    Changes are written by `Transaction.save()`; nothing is written implicitly,
    so a command that fails half-way leaves what it last saved.
    """
    from filelock import FileLock, Timeout  # 16 ms to import: only paths that write pay it

    lock_path = path.with_name(path.name + ".lock")
    try:
        parent_is_dir = path.parent.is_dir()
    except OSError as e:
        raise StateError(f"cannot use state file {path}: {os_problem(e)}") from None
    if not parent_is_dir:
        raise StateError(f"directory {path.parent} for the state file does not exist")
    # Look before creating the lock: a refused path must not gain a lock file, and a
    # lock path that is a symlink or someone else's file is never opened.
    check_path(path)
    check_path(lock_path, "lock file", private=False)
    lock = FileLock(lock_path, mode=0o600)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait is not None:
            on_wait()
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise StateError(
                f"state file {path} is still in use by another sts-mfa after {timeout:.0f} s",
                hint="let it finish (the lock is released the moment it exits), then run this again",
            ) from None
    except OSError as e:
        raise StateError(f"cannot lock state file {path}: {e.strerror or e}") from None
    try:
        remove_stale_temp_files(path)
        yield Transaction(path, load(path))
    finally:
        lock.release()
