"""Handing the role session to other programs, on a path that never loads boto3.

`assume --format process` runs every time the AWS CLI or an SDK wants
credentials (the AWS CLI does not cache `credential_process` output), and
`exec` runs before every wrapped command. When the state file holds a session
with more than the refresh margin left, this module answers from it alone:
json and `sts_mfa.files.private`, no boto3, no rich, no lock (the state file is
replaced atomically, so a lock-free read is never torn), not even the state
model; but never from a file whose signature does not check, as the full path
would not (`sts_mfa.state.signature`). Anything unexpected sends the caller down the
full path, which validates the file and says what is wrong.

Every shape a session is handed over in lives here: the `--format`s (process, json, text, and
the shells' lines of `sts_mfa.session.shells`: env, env-no-export, fish, powershell,
windows-cmd), the environment `exec` gives its child, and the container-credentials document
the credentials endpoint answers with (`container_document`).
"""

from __future__ import annotations

import json
import math
import time

from sts_mfa.state.cached import DEFAULT_REFRESH_MARGIN, MAX_REFRESH_MARGIN
from sts_mfa.state.version import LATEST_TIME

__all__ = ["DEFAULT_REFRESH_MARGIN", "MAX_REFRESH_MARGIN"]  # the margins, where the formats are

TYPE_CHECKING = False  # not typing's: importing typing costs ~10 ms of every start (mypy reads it as True)
if TYPE_CHECKING:
    from sts_mfa.state.model import AnySession

FORMATS = ("text", "json", "env", "process", "env-no-export", "fish", "powershell", "windows-cmd")
# What an SDK does with credentials it refreshes itself (botocore's RefreshableCredentials,
# for credential_process and the container endpoint): it fetches again when they have less
# than SDK_ADVISORY_SECONDS left (calling the process on every API call meanwhile, keeping
# the old ones if that fails) and must at SDK_MANDATORY_SECONDS (a failure fails the call).
SDK_ADVISORY_SECONDS = 900.0
SDK_MANDATORY_SECONDS = 600.0
SDK_SAFETY_SECONDS = 60.0
SDK_FLOOR_SECONDS = SDK_MANDATORY_SECONDS + SDK_SAFETY_SECONDS  # never handed to an SDK with less left
# Renewing inside the advisory window is worth it only for a session that then stays out of
# it at least this long (else a 901 s session would be renewed on every call).
SDK_FRESH_SECONDS = 60.0
# AWS's shortest session lasts 900 s (the clocks may make it look a little shorter); one much
# shorter is the sandbox's, of a few seconds, kept in proportion to its life instead.
SHORT_SESSION_SECONDS = 840.0
# What `exec` removes from the child's environment: every variable that can supply
# credentials or point at something that does, so the child can only act as the role.
SCRUBBED_VARS = (
    # credentials themselves (AWS_ACCESS_KEY/AWS_SECRET_KEY: the Java SDK's older names)
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    # profiles, and the files that hold them (keys, credential_process, SSO, role_arn)
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    # web identity, IAM Roles Anywhere, SSO
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_SSO_SESSION",
    # the instance metadata service, which hands out an instance role's credentials
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    # aws-vault's markers of a session it serves
    "AWS_VAULT",
    # other tools' credential files: the old AWS command line tools' (AWS_CREDENTIAL_FILE),
    # the Java SDK v1's credentials file (AWS_CREDENTIAL_PROFILES_FILE), boto 2's and
    # gsutil's config files (BOTO_CONFIG, BOTO_PATH), which may hold keys
    "AWS_CREDENTIAL_FILE",
    "AWS_CREDENTIAL_PROFILES_FILE",
    "BOTO_CONFIG",
    "BOTO_PATH",
)
# Whole families: container credentials endpoints (AWS_CONTAINER_CREDENTIALS_FULL_URI,
# ..._RELATIVE_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]) and sts-mfa's own settings,
# which include an MFA code (STS_MFA_CODE), a state file holding an access key
# (STS_MFA_STATE) and the sandbox's admin keys (STS_MFA_SANDBOX_*).
SCRUBBED_PREFIXES = ("AWS_CONTAINER_", "STS_MFA_", "_STS_MFA_")
# Kept although it is one of sts-mfa's: the private cache directory supplies nothing the
# child could not read without it (the default directory is the same user's), and an
# sts-mfa run inside the child needs it to find the key its state files are signed with.
KEPT_SETTINGS = frozenset({"STS_MFA_CACHE_DIR"})
# The JVM reads options from these variables; a Java SDK (v1 or v2) takes these system
# properties (-Dname=value) before any environment variable: each supplies credentials,
# points at them, or turns the instance metadata service back on.
JVM_OPTION_VARS = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")
JVM_CREDENTIAL_PROPERTIES = frozenset(
    {
        "aws.accessKeyId",
        "aws.secretKey",  # v1's name
        "aws.secretAccessKey",
        "aws.sessionToken",
        "aws.profile",
        "aws.sharedCredentialsFile",
        "aws.configFile",
        "aws.webIdentityTokenFile",
        "aws.roleArn",
        "aws.roleSessionName",
        "aws.containerCredentialsPath",
        "aws.containerCredentialsFullUri",
        "aws.containerAuthorizationToken",
        "aws.containerAuthorizationTokenFile",
        "aws.containerServiceEndpoint",
        "aws.ec2MetadataServiceEndpoint",
        "aws.ec2MetadataServiceEndpointMode",
        "aws.disableEc2Metadata",
        "com.amazonaws.sdk.disableEc2Metadata",  # v1's
        "com.amazonaws.sdk.ec2MetadataServiceEndpointOverride",  # v1's
    }
)
# Set in the child: with no other source left, an SDK would next ask the instance
# metadata service; it must not fall back to an instance role.
CHILD_SETTINGS = {"AWS_EC2_METADATA_DISABLED": "true"}


def scrubbed(environ: dict[str, str]) -> dict[str, str]:
    """`environ` without any variable that supplies or points at credentials (see SCRUBBED_VARS), and
    without the Java system properties that do (JVM_CREDENTIAL_PROPERTIES) in the JVM's option variables."""
    env = {
        k: v
        for k, v in environ.items()
        if k in KEPT_SETTINGS or (k not in SCRUBBED_VARS and not k.startswith(SCRUBBED_PREFIXES))
    }
    for name in JVM_OPTION_VARS:
        if name in env:
            kept = jvm_options_without_credentials(env[name])
            if kept:
                env[name] = kept
            else:
                del env[name]
    return env


def jvm_options_without_credentials(options: str) -> str | None:
    """JVM options minus every `-D` of JVM_CREDENTIAL_PROPERTIES, the others kept as written;
    None when they cannot be read as the JVM reads them (an unmatched quote: the JVM refuses them too)."""
    tokens = _jvm_tokens(options)
    if tokens is None:
        return None
    kept = [written for written, value in tokens if _jvm_property(value) not in JVM_CREDENTIAL_PROPERTIES]
    return " ".join(kept)


def _jvm_property(option: str) -> str | None:
    return option[2:].partition("=")[0] if option.startswith("-D") else None


def _jvm_tokens(options: str) -> list[tuple[str, str]] | None:
    """(as written, value) of each option, split as the JVM splits its option variables: on white
    space, a quoted stretch ('...' or "...", no escapes) taken whole without its quotes."""
    blank = " \t\n\r\v\f"
    tokens: list[tuple[str, str]] = []
    i, end = 0, len(options)
    while i < end:
        if options[i] in blank:
            i += 1
            continue
        start, value = i, []
        while i < end and options[i] not in blank:
            if options[i] in "'\"":
                close = options.find(options[i], i + 1)
                if close < 0:
                    return None
                value.append(options[i + 1 : close])
                i = close + 1
            else:
                value.append(options[i])
                i += 1
        tokens.append((options[start:i], "".join(value)))
    return tokens


def lifetime(session: AnySession | None) -> float | None:
    """How long the session lasts from when it was obtained; None when that is not known."""
    if session is None or session.obtained_at is None:
        return None
    return session.expiration - session.obtained_at


def sdk_floor(lifetime: float | None) -> float:
    """The least time left a session of this lifetime is handed to an SDK with, even as a last
    resort: past the SDK's mandatory refresh and a margin (a quarter of a sandbox session's life)."""
    if lifetime is None or lifetime >= SHORT_SESSION_SECONDS:
        return SDK_FLOOR_SECONDS
    return min(SDK_SAFETY_SECONDS, max(lifetime, 0.0) / 4)


def sdk_renew_below(lifetime: float | None) -> float:
    """Renew a session of this lifetime handed to an SDK once it has less than this left: inside the
    SDK's advisory window when a fresh one would end well outside it, else at the floor."""
    if lifetime is None or lifetime >= SDK_ADVISORY_SECONDS + SDK_FRESH_SECONDS:
        return SDK_ADVISORY_SECONDS
    return sdk_floor(lifetime)


def fit_for_sdk(session: AnySession, now: float, margin: float) -> bool:
    """May `session` go, as it is, to an SDK that refreshes it (credential_process)?"""
    return session.remaining(now) > max(margin, sdk_renew_below(lifetime(session)))


def account_id(session: AnySession) -> str | None:
    """The 12-digit account of the assumed role (its session ARN, else the role ARN), if either says."""
    for arn in (session.assumed_role_arn, session.role_arn):
        parts = (arn or "").split(":")
        if len(parts) > 4 and len(parts[4]) == 12 and parts[4].isascii() and parts[4].isdigit():
            return parts[4]
    return None


def iso8601(epoch: float) -> str:
    """An epoch time as ISO 8601 (UTC); times outside what datetime can show are clamped to it."""
    clamped = min(max(epoch, 0.0), float(LATEST_TIME)) if not math.isnan(epoch) else 0.0
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clamped))  # datetime costs ~2 ms to import


def environment(session: AnySession) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": session.access_key_id,
        "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
        "AWS_SESSION_TOKEN": session.session_token,
        "AWS_CREDENTIAL_EXPIRATION": iso8601(session.expiration),
    }


def container_document(session: AnySession) -> dict[str, str]:
    """The session as the container credentials provider reads it (AccountId too, when known)."""
    document = {
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": session.secret_access_key,
        "Token": session.session_token,
        "Expiration": iso8601(session.expiration),
    }
    account = account_id(session)
    return {**document, "AccountId": account} if account else document


def render(session: AnySession, fmt: str, *, now: float, cached: bool, source: str | None = None) -> str:
    """The session in one of FORMATS; only `text` leaves the secrets out (and says `source`, if given)."""
    if fmt in ("process", "json"):
        credentials = {  # STS's Credentials object; credential_process adds its Version
            "AccessKeyId": session.access_key_id,
            "SecretAccessKey": session.secret_access_key,
            "SessionToken": session.session_token,
            "Expiration": iso8601(session.expiration),
        }
        if fmt == "process":
            account = account_id(session)
            return json.dumps({"Version": 1, **credentials, **({"AccountId": account} if account else {})})
        return json.dumps(credentials, indent=2)
    if fmt != "text":
        from sts_mfa.session.shells import lines

        return lines(environment(session), fmt)
    from sts_mfa.text import one_line  # the text format only: not on the fast paths

    remaining = max(0, int(session.remaining(now)))
    source = source or ("cached session" if cached else "new session (AssumeRole with MFA)")
    shown = {
        k: one_line(getattr(session, k) or "-") for k in ("role_arn", "assumed_role_arn", "access_key_id")
    }
    if not session.role_arn:  # a user profile's session: the MFA session, no role
        shown["role_arn"] = "- (a user's MFA session, GetSessionToken)"
    return "\n".join(
        [
            f"Role:          {shown['role_arn']}",
            f"Session:       {shown['assumed_role_arn']}",
            f"Access key id: {shown['access_key_id']}",
            f"Expires:       {iso8601(session.expiration)} (in {remaining // 60} min {remaining % 60} s)",
            f"Source:        {source}",
        ]
    )
