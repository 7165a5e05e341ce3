"""The state document's schema: validation, migrations, and parsing with messages that say where.

A document that is not what this version wrote is refused with a message naming
the field and what is wrong (`user.name: expected ...`); a newer schema version is
refused with "upgrade sts-mfa"; older ones are migrated in memory (only `sts-mfa adopt`
uses one: they are unsigned, see `sts_mfa.state.signature`). Every name and ARN must follow
from the state's own prefix, so an edited state cannot point `teardown` at someone else's
resources.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any

from sts_mfa import TOOL_NAME
from sts_mfa.errors import StateError
from sts_mfa.state.marks import IAM_PATH, PREFIX_PATTERN, Names, split_arn
from sts_mfa.state.model import AccessKey, InlinePolicy, MfaDevice, Resource, Session, State, TotpRecord
from sts_mfa.state.signature import FIELD
from sts_mfa.state.version import LATEST_TIME, SCHEMA_VERSION


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


# Times (epoch seconds), time-steps and durations all fit well inside LATEST_TIME; anything
# bigger is a damaged file, and would overflow datetime or the TOTP counter later.


# Field-specific ranges; every other number is a time (epoch seconds) or a count: 0..LATEST_TIME.
RANGES: dict[str, tuple[int, int]] = {
    "last_step": (0, LATEST_TIME // 30),  # a TOTP time-step: epoch seconds / 30
    "max_session_duration": (900, 43200),  # what IAM allows a role's MaxSessionDuration
}


def _in_range(value: object, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise _Invalid(where, f"expected a finite number, got {'NaN' if math.isnan(value) else value}")
    low, high = RANGES.get(where.rpartition(".")[2], (0, LATEST_TIME))
    if not low <= value <= high:
        raise _Invalid(where, "number out of range")


# The nested documents, by the name their fields are annotated with.
NESTED: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (Resource, MfaDevice, AccessKey, InlinePolicy, Session, TotpRecord)
}
MODES = ("phone", "software")


def _shown(value: object) -> str:
    """A value from the file, for a message: repr'd and cut short."""
    from sts_mfa.aws.endpoints import shown

    if isinstance(value, str):
        return shown(value)
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:60]}… ({len(text)} characters)"


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _value(annotation: str, value: object, where: str) -> Any:
    """`value` checked against a field's annotation (a flat type, a mode, a nested document)."""
    if annotation in _FIELD_KINDS:
        kinds, what = _FIELD_KINDS[annotation]
        _expect(value, kinds, where, what)
        _in_range(value, where)
        return value
    if annotation == "MfaMode":
        if value not in MODES:
            raise _Invalid(where, f"expected 'phone' or 'software', got {_shown(value)}")
        return value
    if annotation.endswith(" | None") and annotation[: -len(" | None")] in NESTED:
        return None if value is None else _build(NESTED[annotation[: -len(" | None")]], value, where)
    if annotation == "dict[str, TotpRecord]":
        _expect(value, dict, where, "an object")
        assert isinstance(value, dict)
        return {key: _build(TotpRecord, item, _at(where, key)) for key, item in value.items()}
    raise AssertionError(f"the schema has no rule for a field annotated {annotation!r}")  # pragma: no cover


def _build(cls: type[Any], data: object, where: str) -> Any:
    """Build a dataclass from a JSON object, checking every field against its annotation.

    A new field of the state is one edit: its annotation says how it is checked.
    """
    _expect(data, dict, where or "document", "an object" if where else "a JSON object")
    assert isinstance(data, dict)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise _Invalid(_at(where, unknown[0]), "unknown field")
    kwargs: dict[str, Any] = {}
    for name, f in known.items():
        if name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise _Invalid(_at(where, name), "missing")
            continue
        kwargs[name] = _value(str(f.type), data[name], _at(where, name))
    return cls(**kwargs)


def validate(data: object) -> State:
    state: State = _build(State, data, "")
    if state.tool != TOOL_NAME:
        raise _Invalid("tool", f"expected {TOOL_NAME!r}, got {_shown(state.tool)}")
    if state.mode == "software" and state.mfa_device and state.mfa_device.serial and not state.seed:
        raise _Invalid("seed", "missing: software-token mode keeps the device seed here")
    _check_names(state)
    return state


def _is_base32_seed(seed: str) -> bool:
    """A seed AWS hands out: base32 (RFC 4648), at least 16 characters (80 bits)."""
    import base64
    import binascii

    if len(seed) < 16 or not seed.isascii():
        return False
    try:
        base64.b32decode(seed + "=" * (-len(seed) % 8), casefold=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _check_arn(where: str, arn: str | None, kind: str, name: str, account: str | None) -> None:
    if arn is None:
        return
    parts = split_arn(arn)
    if parts is None or parts[1] != kind or parts[2] != IAM_PATH or parts[3] != name:
        raise _Invalid(where, f"expected the ARN of {kind} {IAM_PATH}{name}, got {_shown(arn)}")
    if account is not None and parts[0] != account:
        raise _Invalid(where, f"the ARN is in account {parts[0]}, but the state says {account}")


def _check_names(state: State) -> None:
    """Every name and ARN must follow from the state's own prefix and path.

    A state file is input: one edited to name someone else's user or role must
    not lead `teardown` to it.
    """
    if not PREFIX_PATTERN.fullmatch(state.prefix):
        raise _Invalid("prefix", f"expected 'sts-mfa-' and 8 hex digits, got {_shown(state.prefix)}")
    if state.iam_path != IAM_PATH:
        raise _Invalid("iam_path", f"expected {IAM_PATH!r}, got {_shown(state.iam_path)}")
    for key in ("account", "role_account"):
        value = getattr(state, key)
        if value is not None and not (len(value) == 12 and value.isdigit() and value.isascii()):
            raise _Invalid(key, f"expected a 12-digit account ID, got {_shown(value)}")
    _check_arns(state)


def _check_arns(state: State) -> None:
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
            raise _Invalid(f"{key}.name", f"expected {expected!r} (from the prefix), got {_shown(item.name)}")
    if state.user is not None:
        _check_arn("user.arn", state.user.arn, "user", names.user, state.account)
    if state.mfa_device is not None:
        _check_arn("mfa_device.serial", state.mfa_device.serial, "mfa", names.device, state.account)
    if state.role is not None:
        _check_arn("role.arn", state.role.arn, "role", names.role, state.role_account)
    if state.policy is not None:
        _check_arn("policy.arn", state.policy.arn, "policy", names.policy, state.role_account)
    _check_files_and_keys(state)


def _check_files_and_keys(state: State) -> None:
    if state.seed is not None and not _is_base32_seed(state.seed):
        raise _Invalid("seed", "not a base32 TOTP seed")  # never echoed: it is a secret
    for key in ("endpoint", "role_endpoint"):
        value = getattr(state, key)
        if value is not None:
            from sts_mfa.aws.endpoints import endpoint_problem, shown

            problem = endpoint_problem(value)
            if problem is not None:
                raise _Invalid(key, f"{shown(value)} is not an endpoint URL: {problem}")
    if state.access_key is not None:
        key_id = state.access_key.access_key_id
        # IAM's access key IDs are 16 to 128 upper-case letters and digits (AKIA..., ASIA...);
        # a secret key (40 characters of mixed case, often with + or /) never is one.
        if not re.fullmatch(r"[A-Z0-9]{16,128}", key_id):
            # Never echo it: a secret key pasted into the wrong field must not reach the terminal.
            raise _Invalid("access_key.access_key_id", f"not an access key ID ({len(key_id)} characters)")
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


def _v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    """Version 4 files are signed (`sts_mfa.state.signature`); the model is unchanged.

    An older file is unsigned, so `state.load` refuses it whatever this migration does:
    it is read (and rewritten as version 4, signed) only by `sts-mfa adopt`.
    """
    return {**data, "version": 4}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}
"""version N -> function turning a version-N document into a version-N+1 one."""


def parse(text: str, *, source: str = "state file") -> State:
    """Parse and validate a state document; raise StateError saying what and where.

    Says nothing of who wrote it: `state.load` also checks its signature."""
    return build(decode(text, source=source), source=source)


def decode(text: str, *, source: str = "state file") -> dict[str, Any]:
    """The JSON object of a state document, of a schema version this sts-mfa reads."""
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
            f"{source} was written by a newer sts-mfa (schema version {_shown(version)}; "
            f"this one reads up to {SCHEMA_VERSION})",
            hint="upgrade sts-mfa",
        )
    if version < 1:
        raise StateError(f"{source}: version: {_shown(version)} is not a schema version")
    return data


def build(doc: dict[str, Any], *, source: str = "state file") -> State:
    """The State of a decoded document (its signature aside): migrated, validated."""
    data = {k: v for k, v in doc.items() if k != FIELD}
    version = data["version"]
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)  # in memory: `sts-mfa adopt` writes the new version
        version = data["version"]
    try:
        return validate(data)
    except _Invalid as e:
        raise StateError(f"{source}: {e}") from None
    except (TypeError, ValueError) as e:  # defensive: never a traceback on a bad file
        raise StateError(f"{source}: {e}") from None
