"""A profile's cached sessions in the private cache: its role session, found even by the light path.

The role session of a profile is one entry of the private cache (`sts_mfa.files.cache`),
named by a hash of the profile, its files and the endpoint; the light path finds it
without reading the AWS config when the config and credentials files are unchanged since
the entry was written (their `file_signature`), and leaves anything else to the full path.
"""

from __future__ import annotations

import os

from sts_mfa.files.cache import check_directory, entry_name, read_entry
from sts_mfa.state.cached import session_if_usable

TYPE_CHECKING = False  # not typing's: importing typing costs ~10 ms of every start (mypy reads it as True)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from sts_mfa.state.cached import Cached


def profile_files(environ: Mapping[str, str]) -> tuple[str, str]:
    """The AWS config and credentials files, as botocore finds them."""
    config = environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    creds = environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    return os.path.abspath(os.path.expanduser(config)), os.path.abspath(os.path.expanduser(creds))


def file_signature(path: str) -> list[int] | None:
    """What changes when a file changes: the light path's "is the profile unchanged"."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def role_entry_path(root: str, profile: str, config: str, creds: str, endpoint: str | None) -> str:
    return os.path.join(root, entry_name("role", profile, config, creds, endpoint or "aws"))


def light_profile_entry(
    root: str, profile: str, environ: Mapping[str, str], endpoint: str | None
) -> dict[str, Any] | None:
    """The profile's cached entry if its config files have not changed since it was written.

    An unchanged config means an unchanged profile, whose fingerprint the full path
    checked when it wrote the entry; anything else is the full path's to judge.
    """
    try:
        st = os.lstat(root)
    except OSError:
        return None
    check_directory(root, st)
    config, creds = profile_files(environ)
    entry = read_entry(role_entry_path(root, profile, config, creds, endpoint))
    if entry is None or entry.get("profile") != profile or entry.get("endpoint") != endpoint:
        return None
    files = entry.get("files")
    if not isinstance(files, dict) or files.get("config") is None:
        return None
    if files.get("config") != file_signature(config) or files.get("credentials") != file_signature(creds):
        return None
    return entry


def usable_session(doc: Any, role_arn: str | None, now: float, margin: float) -> Cached | None:
    """A cached session document if it is whole, for `role_arn` (None: any), with more than `margin` left."""
    if not isinstance(doc, dict) or not isinstance(doc.get("role_arn"), str):
        return None
    return session_if_usable(doc, doc["role_arn"] if role_arn is None else role_arn, now, margin)
