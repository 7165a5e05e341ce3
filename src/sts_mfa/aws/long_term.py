"""Whether a profile's credentials are an IAM user's long-term access keys (for `audit --prove-with`).

A proof by asking AWS ("AssumeRole without MFA is refused") means something only when the
caller carries no MFA: long-term keys. A session (GetSessionToken with MFA, a role profile
with mfa_serial, SSO, a process, an instance role) may carry MFA context and would get into
every role that requires it. The profile's settings are looked at before botocore resolves
anything, so a profile that would run a process or ask for a code is refused first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sts_mfa.aws.errors import translate_errors
from sts_mfa.errors import CredentialsError, UsageError

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

    from sts_mfa.aws.clients import Aws

# Where botocore found credentials that are strings in a file or the environment: these
# can be long-term keys. Anything else (assume-role, sso, credential_process, instance or
# container roles, web identity) is a session, and may carry MFA context.
STATIC = frozenset({"explicit", "env", "shared-credentials-file", "config-file", "boto-config"})
# Profile settings that make botocore get a session (and would run a process or prompt for
# an MFA code just to find the credentials): refused before any is looked at.
SESSION_SETTINGS = (
    "role_arn",
    "credential_process",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
)


def long_term_sts(aws: Aws, label: str) -> STSClient:
    """`aws`'s STS client, if its credentials are long-term keys (no session, so no MFA).

    `label` names the credentials in errors (`--prove-with PROFILE`).
    """
    with translate_errors(f"{label}: its credentials"):
        config = aws.session._session.get_scoped_config()  # boto3 exposes no public reader
        setting = next((k for k in SESSION_SETTINGS if config.get(k)), None)
        found = aws.session.get_credentials() if setting is None else None
        method = getattr(found, "method", None) if setting is None else setting
        token = found.get_frozen_credentials().token if found is not None and method in STATIC else None
    if found is None and setting is None:
        raise CredentialsError(f"{label}: no credentials found for this profile")
    if method not in STATIC or token:
        how = (
            "a session token"
            if token
            else f"the profile sets {setting}"
            if setting
            else f"{method} credentials"
        )
        raise UsageError(
            f"{label}: its credentials are temporary ({how}), not long-term access keys: "
            "a session obtained with MFA would get into the roles that require it, so its answers prove "
            "nothing; use a profile with an IAM user's long-term access keys"
        )
    return aws.admin_sts()
