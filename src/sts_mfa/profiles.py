"""Profiles from the AWS config: the MFA-protected roles people already have.

A profile sts-mfa serves names a role, a source of credentials and an MFA device:

    [profile prod]
    role_arn = arn:aws:iam::222222222222:role/Admin
    source_profile = admin-keys
    mfa_serial = arn:aws:iam::111111111111:mfa/alice
    # optional, as are external_id, role_session_name, region and mfa_process
    duration_seconds = 3600
    # a command printing a code (a `# comment` after a value would be part of it)
    mfa_process = ykman oath accounts code -s alice

It is read with botocore's own loader (so `AWS_CONFIG_FILE`,
`AWS_SHARED_CREDENTIALS_FILE` and the files' syntax mean what they mean to the AWS
CLI), and refused, naming the key, when it lacks `role_arn` or `mfa_serial` or is
one sts-mfa cannot serve (SSO, web identity, a credential_process of its own).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sts_mfa.errors import CredentialsError, StateError, UsageError

KEYS = (
    "role_arn",
    "source_profile",
    "mfa_serial",
    "duration_seconds",
    "external_id",
    "role_session_name",
    "region",
    "mfa_process",
    "endpoint_url",
)
# Keys that mean another kind of profile: sts-mfa does not serve these.
FOREIGN = {
    "sso_start_url": "an IAM Identity Center (SSO) profile",
    "sso_session": "an IAM Identity Center (SSO) profile",
    "web_identity_token_file": "a web-identity profile",
    "credential_source": "a profile whose credentials come from the environment or instance metadata",
}
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", re.ASCII)
SERIAL = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:mfa/[\w+=,.@/-]+|[\w+=/:,.@-]{9,256}", re.ASCII)
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
SERVING = "STS_MFA_SERVING"  # profiles this process (and its parents) are serving: no loops


@dataclass(frozen=True)
class Profile:
    name: str
    role_arn: str
    source_profile: str
    mfa_serial: str
    duration_seconds: int | None
    external_id: str | None
    role_session_name: str | None
    region: str | None
    mfa_process: str | None
    endpoint_url: str | None  # the profile's own, else its source profile's (as botocore reads them)
    config_file: str
    credentials_file: str

    @property
    def role_account(self) -> str:
        return self.role_arn.split(":")[4]

    def fingerprint(self) -> dict[str, Any]:
        """What a cached role session depends on: a change in any of it means a new session."""
        return {
            "role_arn": self.role_arn,
            "source_profile": self.source_profile,
            "mfa_serial": self.mfa_serial,
            "duration_seconds": self.duration_seconds,
            "external_id": self.external_id,
            "role_session_name": self.role_session_name,
            "endpoint_url": self.endpoint_url,
        }


def files(environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """The AWS config and credentials files, as botocore finds them."""
    from sts_mfa.cache import profile_files

    return profile_files(environ)


def _check_files(config: str, creds: str) -> None:
    """Before botocore opens them: a FIFO there would hang it, /dev/zero exhaust it."""
    from sts_mfa.storage import read_config_text

    for path in (config, creds):
        read_config_text(path)  # raises StateError for anything but a regular file of sensible size


def all_profiles(environ: Mapping[str, str] = os.environ) -> dict[str, dict[str, Any]]:
    """Every profile of the config and credentials files, merged as botocore merges them."""
    config, creds = files(environ)
    _check_files(config, creds)
    import botocore.exceptions
    import botocore.session

    try:
        session = botocore.session.Session()
        profiles: dict[str, dict[str, Any]] = session.full_config.get("profiles", {})
    except botocore.exceptions.ConfigParseError as e:
        raise StateError(f"the AWS config cannot be read: {e}") from None
    return profiles


def load(name: str, environ: Mapping[str, str] = os.environ) -> Profile:
    """The profile `name`, checked: everything sts-mfa needs is there, nothing it cannot serve."""
    profiles = all_profiles(environ)
    if name not in profiles:
        raise CredentialsError(
            f"The config profile ({name}) could not be found",
            hint="list them with `aws configure list-profiles`; check AWS_CONFIG_FILE",
        )
    raw = profiles[name]
    _refuse_foreign(name, raw)
    for key in ("role_arn", "mfa_serial", "source_profile"):
        if not str(raw.get(key) or "").strip():
            raise UsageError(
                f"profile {name} has no {key}: sts-mfa serves profiles that assume a role with MFA "
                "(role_arn, source_profile, mfa_serial)"
            )
    config, creds = files(environ)
    profile = Profile(
        name=name,
        role_arn=_matching(name, raw, "role_arn", ROLE_ARN),
        source_profile=str(raw["source_profile"]).strip(),
        mfa_serial=_matching(name, raw, "mfa_serial", SERIAL),
        duration_seconds=_duration(name, raw.get("duration_seconds")),
        external_id=_optional(raw, "external_id"),
        role_session_name=_optional_matching(name, raw, "role_session_name", SESSION_NAME),
        region=_optional(raw, "region"),
        mfa_process=_optional(raw, "mfa_process"),
        endpoint_url=_optional(raw, "endpoint_url")
        or _optional(profiles.get(str(raw["source_profile"]).strip()) or {}, "endpoint_url"),
        config_file=config,
        credentials_file=creds,
    )
    if profile.source_profile not in profiles:
        raise CredentialsError(
            f"profile {name}: its source_profile {profile.source_profile} could not be found"
        )
    if profile.source_profile == name:
        raise UsageError(f"profile {name} names itself as its source_profile")
    return profile


def _refuse_foreign(name: str, raw: Mapping[str, Any]) -> None:
    for key, kind in FOREIGN.items():
        if key in raw:
            raise UsageError(
                f"profile {name} is {kind} ({key}): sts-mfa serves role profiles with an mfa_serial"
            )
    if "credential_process" in raw and "role_arn" not in raw:
        raise UsageError(
            f"profile {name} has a credential_process and no role_arn: it is served by that command, "
            "not by sts-mfa (name the profile it points at instead)"
        )


def _optional(raw: Mapping[str, Any], key: str) -> str | None:
    value = str(raw.get(key) or "").strip()
    return value or None


def _matching(name: str, raw: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    value = str(raw.get(key) or "").strip()
    if not pattern.fullmatch(value):
        from sts_mfa.endpoints import shown

        raise UsageError(f"profile {name}: {key} {shown(value)} is not a valid {key.replace('_', ' ')}")
    return value


def _optional_matching(name: str, raw: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> str | None:
    return None if _optional(raw, key) is None else _matching(name, raw, key, pattern)


def _duration(name: str, value: Any) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not 900 <= int(text) <= 43200:
        raise UsageError(f"profile {name}: duration_seconds must be 900 to 43200, not {text[:20]!r}")
    return int(text)


def guard_recursion(name: str, environ: dict[str, str] | Any = os.environ) -> None:
    """Refuse to serve a profile whose credentials, through a credential_process, come back to it.

    Each sts-mfa that serves a profile says so in STS_MFA_SERVING, which the processes
    botocore starts for the source profile's credential_process inherit: a second
    sts-mfa asked for a profile already in the list is a loop.
    """
    serving = [p for p in str(environ.get(SERVING, "")).split(",") if p]
    if name in serving:
        chain = " -> ".join([*serving, name])
        raise UsageError(f"profile {name}'s credentials depend on themselves ({chain}): refusing to loop")
    environ[SERVING] = ",".join([*serving, name])
