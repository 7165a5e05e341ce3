"""Helpers shared by the reliability tests (imported as `tests.reliability.rel_support`)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from click.testing import Result

from sts_mfa.errors import StateError
from sts_mfa.sandbox import RequestRecord, Sandbox
from sts_mfa.state import State, load
from tests.sandbox_fixtures import admin, leftovers

STS_MFA = shutil.which("sts-mfa")
READ_ONLY_PREFIXES = ("Get", "List", "Simulate", "Generate")
ERROR_PREFIX = "sts-mfa: error:"
TRACEBACK = "Traceback (most recent call last)"

# What `setup --software-token` changes in IAM, in order: one fault point before and
# one after each. A change here must be a deliberate one (the fault matrix follows it).
SETUP_MUTATIONS = [
    "CreateUser",
    "CreateAccessKey",
    "CreateVirtualMFADevice",
    "EnableMFADevice",
    "CreatePolicy",
    "CreateRole",
    "AttachRolePolicy",
    "PutUserPolicy",
]


def is_mutating(record: RequestRecord) -> bool:
    """The sandbox's own definition, recorded with each request (`WireRequest.mutating`)."""
    return record.mutating


def mutations(sb: Sandbox) -> list[str]:
    """The mutating calls the sandbox answered, in order."""
    return [r.action for r in sb.requests if is_mutating(r)]


def residue(sb: Sandbox, index: int = 0) -> dict[str, list[str]]:
    """What the tool may have leaked: `leftovers` plus keys and MFA devices of any tool-named user.

    Empty lists everywhere mean nothing is left; an access key or MFA device
    still attached to an `sts-mfa-*` user anywhere (any path) counts too.
    """
    iam = admin(sb, "iam", index)
    found = leftovers(sb, index)
    keys: list[str] = []
    devices: list[str] = []
    for user in iam.list_users()["Users"]:
        name = user["UserName"]
        if not name.startswith("sts-mfa-"):
            continue
        keys += [k["AccessKeyId"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]]
        devices += [d["SerialNumber"] for d in iam.list_mfa_devices(UserName=name)["MFADevices"]]
    for device in iam.list_virtual_mfa_devices()["VirtualMFADevices"]:
        serial = device["SerialNumber"]
        if serial.rpartition("/")[2].startswith("sts-mfa-") and serial not in found["mfa_devices"]:
            devices.append(serial)
    return {**found, "access_keys": keys, "user_mfa_devices": devices}


def is_clean(found: dict[str, list[str]]) -> bool:
    return not any(found.values())


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(ERROR_PREFIX)]


def assert_one_error_line(result: Result, exit_code: int) -> str:
    """The failure is reported as exactly one `sts-mfa: error:` line, last, with no traceback."""
    assert result.exit_code == exit_code, result.output
    assert TRACEBACK not in result.output, result.output
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1] == lines[0], result.stderr
    return lines[0]


def valid_state(path: Path) -> State | None:
    """The state file parses (or is absent); a StateError here means it was corrupted."""
    try:
        return load(path)
    except StateError as e:  # pragma: no cover - reported by the assertion in the caller
        raise AssertionError(f"the state file is not valid: {e}") from e


def state_secrets(path: Path) -> dict[str, str]:
    """Every secret the state file holds, by name (empty if there is no file)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    found: dict[str, str] = {}
    if data.get("seed"):
        found["seed"] = data["seed"]
    if data.get("access_key"):
        found["user secret key"] = data["access_key"]["secret_access_key"]
    if data.get("session"):
        found["session secret key"] = data["session"]["secret_access_key"]
        found["session token"] = data["session"]["session_token"]
    return found


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    """Names of the secrets that appear in `text` (also with whitespace or escapes removed)."""
    flat = re.sub(r"\s+", "", text)
    return sorted(name for name, value in secrets.items() if value and (value in text or value in flat))


def recorded_names(state: State | None) -> set[str]:
    """Every resource name the state records (what teardown will look for)."""
    if state is None:
        return set()
    names = {r.name for r in (state.user, state.role, state.policy) if r is not None}
    if state.mfa_device is not None:
        names.add(state.mfa_device.name)
    return names


def sandbox_names(found: dict[str, list[str]]) -> set[str]:
    names = set(found["users"]) | set(found["roles"]) | set(found["policies"])
    return names | {serial.rpartition("/")[2] for serial in found["mfa_devices"]}


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a subprocess: the machine's, minus any AWS or sts-mfa setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STS_MFA_"))}
    env.update({"NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"})
    env.update(extra or {})
    return env


def lines_of(chunks: Iterable[Any]) -> list[str]:
    return [str(c).rstrip("\n") for c in chunks]
