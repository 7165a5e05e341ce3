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

A *user profile* has an IAM user's long-term keys (in the credentials file, or in the
OS keyring after `sts-mfa keys add`) and an `mfa_serial`, but no `role_arn`:

    [profile alice]
    mfa_serial = arn:aws:iam::111111111111:mfa/alice
    # optional: how long its session lasts (GetSessionToken: 900 to 129600 s)
    duration_seconds = 43200

Its session is the MFA session itself (GetSessionToken with a code), the very one the
role profiles whose `source_profile` it is use (`Profile.is_user`: `role_arn` is "" and
it is its own source).

It is read with botocore's own loader (so `AWS_CONFIG_FILE`,
`AWS_SHARED_CREDENTIALS_FILE` and the files' syntax mean what they mean to the AWS
CLI), and refused, naming the key, when it lacks `mfa_serial`, or `role_arn` while it
names a `source_profile`, or is one sts-mfa cannot serve (SSO, web identity, a
credential_process of its own), and refused too when its source_profiles go round in a
loop or pass through another profile's MFA role (botocore would prompt for that code itself).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sts_mfa.errors import LOOP, CredentialsError, StateError, UsageError

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
    "mfa_prompt",
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


USER_DURATION = (900, 129600)  # GetSessionToken's range for an IAM user
ROLE_DURATION = (900, 43200)  # AssumeRole's


@dataclass(frozen=True)
class Profile:
    name: str
    role_arn: str  # "" for a user profile: its session is the MFA session (see `is_user`)
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
    mfa_prompt: str | None = None  # how to ask a person for a code (`sts_mfa.mfa.dialog`)

    @property
    def is_user(self) -> bool:
        """A user profile: keys and an mfa_serial, no role; its own source of credentials."""
        return not self.role_arn

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
    from sts_mfa.session.cache import profile_files

    return profile_files(environ)


def _check_files(config: str, creds: str) -> None:
    """Before botocore opens them: a FIFO there would hang it, /dev/zero exhaust it."""
    from sts_mfa.files.private import read_config_text

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
    if not str(raw.get("role_arn") or "").strip() and not str(raw.get("source_profile") or "").strip():
        return _user_profile(name, raw, environ)
    for key in ("role_arn", "mfa_serial", "source_profile"):
        if not str(raw.get(key) or "").strip():
            raise UsageError(
                f"profile {name} has no {key}: sts-mfa serves profiles that assume a role with MFA "
                "(role_arn, source_profile, mfa_serial) and user profiles (keys and mfa_serial)"
            )
    config, creds = files(environ)
    profile = Profile(
        name=name,
        role_arn=_matching(name, raw, "role_arn", ROLE_ARN),
        source_profile=str(raw["source_profile"]).strip(),
        mfa_serial=_matching(name, raw, "mfa_serial", SERIAL),
        duration_seconds=_duration(name, raw.get("duration_seconds"), ROLE_DURATION),
        external_id=_optional(raw, "external_id"),
        role_session_name=_optional_matching(name, raw, "role_session_name", SESSION_NAME),
        region=_optional(raw, "region"),
        mfa_process=_optional(raw, "mfa_process"),
        endpoint_url=_optional(raw, "endpoint_url")
        or _optional(profiles.get(str(raw["source_profile"]).strip()) or {}, "endpoint_url"),
        config_file=config,
        credentials_file=creds,
        mfa_prompt=_prompt(name, raw),
    )
    if profile.source_profile not in profiles:
        raise CredentialsError(
            f"profile {name}: its source_profile {profile.source_profile} could not be found"
        )
    if profile.source_profile == name:
        raise UsageError(f"profile {name} names itself as its source_profile")
    mfa = _first_with_mfa(role_chain(name, profiles)[1:], profiles)  # botocore would prompt for it
    if mfa is not None:
        raise UsageError(chained_mfa(name, mfa))
    return profile


def _user_profile(name: str, raw: Mapping[str, Any], environ: Mapping[str, str]) -> Profile:
    """A profile with an IAM user's own keys and an mfa_serial: its session is GetSessionToken's."""
    if not str(raw.get("mfa_serial") or "").strip():
        raise UsageError(
            f"profile {name} has no mfa_serial and no role_arn: sts-mfa serves profiles that assume a "
            "role with MFA (role_arn, source_profile, mfa_serial) and user profiles with keys and an "
            "mfa_serial"
        )
    config, creds = files(environ)
    return Profile(
        name=name,
        role_arn="",
        source_profile=name,
        mfa_serial=_matching(name, raw, "mfa_serial", SERIAL),
        duration_seconds=_duration(name, raw.get("duration_seconds"), USER_DURATION),
        external_id=None,
        role_session_name=None,
        region=_optional(raw, "region"),
        mfa_process=_optional(raw, "mfa_process"),
        endpoint_url=_optional(raw, "endpoint_url"),
        config_file=config,
        credentials_file=creds,
        mfa_prompt=_prompt(name, raw),
    )


def _prompt(name: str, raw: Mapping[str, Any]) -> str | None:
    """The profile's mfa_prompt, if it is one sts-mfa knows (terminal, zenity, kdialog, osascript, none)."""
    from sts_mfa.mfa import dialog

    value = _optional(raw, dialog.PROFILE_KEY)
    try:
        return dialog.choice(value, {})
    except UsageError as e:
        raise UsageError(f"profile {name}: {e}") from None


def _assumes_role(raw: Mapping[str, Any]) -> bool:
    """botocore assumes a role for this profile (role_arn, and not a web-identity profile)."""
    return "role_arn" in raw and "web_identity_token_file" not in raw


def _has_keys(raw: Mapping[str, Any]) -> bool:
    return "aws_access_key_id" in raw or "aws_secret_access_key" in raw


def role_chain(name: str, profiles: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The profiles whose roles botocore assumes, in turn, to get `name`'s credentials (`name` first).

    botocore's AssumeRoleProvider follows each `source_profile` while it names a role of
    its own and has no keys; the chain ends at a profile with keys, a credential_process,
    SSO or the like, or a `credential_source`. A source that comes round again is a
    loop: refused here (exit 2), before botocore refuses it in the middle of a request.
    """
    chain: list[str] = []
    current = name
    while (raw := profiles.get(current)) is not None and _assumes_role(raw):
        chain.append(current)
        source = str(raw.get("source_profile") or "").strip()
        if not source or "credential_source" in raw or (source == current and _has_keys(raw)):
            break
        if source in chain:
            loop = " -> ".join([*chain, source])
            raise UsageError(f"profile {name}: its source_profiles go round in a loop ({loop}): {LOOP}")
        if _has_keys(profiles.get(source) or {}):
            break
        current = source
    return chain


def mfa_role_in_chain(name: str, profiles: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The first profile of `name`'s role chain with an mfa_serial: where botocore would prompt."""
    return _first_with_mfa(role_chain(name, profiles), profiles)


def _first_with_mfa(names: list[str], profiles: Mapping[str, Mapping[str, Any]]) -> str | None:
    return next((p for p in names if _optional(profiles[p], "mfa_serial")), None)


def chained_mfa(name: str, mfa: str) -> str:
    """The refusal of a profile whose credentials come through another one's MFA role."""
    return (
        f"profile {name}: its credentials come through profile {mfa}, which assumes a role with MFA "
        "(mfa_serial); sts-mfa gets MFA codes only for the profile it is given, never through a "
        f"source_profile (use {mfa} itself, or a source_profile with long-term keys)"
    )


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
        from sts_mfa.aws.endpoints import shown

        raise UsageError(f"profile {name}: {key} {shown(value)} is not a valid {key.replace('_', ' ')}")
    return value


def _optional_matching(name: str, raw: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> str | None:
    return None if _optional(raw, key) is None else _matching(name, raw, key, pattern)


def _duration(name: str, value: Any, limits: tuple[int, int]) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    low, high = limits
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise UsageError(f"profile {name}: duration_seconds must be {low} to {high}, not {text[:20]!r}")
    return int(text)


def guard_recursion(name: str, environ: dict[str, str] | Any = os.environ) -> None:
    """Refuse to serve a profile whose credentials, through a credential_process, come back to it.

    Each sts-mfa that serves a profile says so in STS_MFA_SERVING, which the processes
    botocore starts for the source profile's credential_process inherit: a second
    sts-mfa asked for a profile already in the list is a loop.
    """
    serving = served_by_parents(environ)
    if name in serving:
        chain = " -> ".join([*serving, name])
        raise UsageError(f"profile {name}'s credentials depend on themselves ({chain}): {LOOP}")
    environ[SERVING] = json.dumps([*serving, name])


def served_by_parents(environ: Mapping[str, str]) -> list[str]:
    """The names in STS_MFA_SERVING: a JSON list (a name may hold any character, a comma too).

    Anything else is read as an older sts-mfa's comma-separated list, which is what it is.
    """
    text = str(environ.get(SERVING, ""))
    try:
        names = json.loads(text) if text.startswith("[") else None
    except ValueError:
        names = None
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        return names
    return [p for p in text.split(",") if p]
