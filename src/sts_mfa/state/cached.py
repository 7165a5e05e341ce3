"""The session a state file caches, as the light paths read it: no model, no typing, no boto3.

`assume --format process` runs every time the AWS CLI or an SDK wants credentials, and
`exec` before every wrapped command: when the state file holds a session with more than
the margin left, `read_cached` answers from the JSON alone (json and the private-file
reader), never looser than the full read (`sts_mfa.state.document`), which validates
the file and says what is wrong. `usable` is the one rule for a cached session, used here
on the raw document and by `State.usable_session` on the model.
"""

from __future__ import annotations

from sts_mfa.files.private import read_json_object
from sts_mfa.state.signature import is_signed
from sts_mfa.state.version import LATEST_TIME, SCHEMA_VERSION

DEFAULT_REFRESH_MARGIN = 300.0  # seconds: a cached session with less left is renewed
MAX_REFRESH_MARGIN = 3600.0

TYPE_CHECKING = False  # not typing's: importing typing costs ~10 ms of every start (mypy reads it as True)
if TYPE_CHECKING:
    from typing import Any

    from sts_mfa.files.private import PathLike


class Cached:
    """A session read straight from the file: the fields `render` needs, nothing else."""

    __slots__ = (
        "access_key_id",
        "assumed_role_arn",
        "expiration",
        "obtained_at",
        "role_arn",
        "secret_access_key",
        "session_token",
    )

    def __init__(self, doc: dict[str, Any]) -> None:
        self.access_key_id: str = doc["access_key_id"]
        self.secret_access_key: str = doc["secret_access_key"]
        self.session_token: str = doc["session_token"]
        self.expiration: float = doc["expiration"]
        self.role_arn: str = doc["role_arn"]
        self.assumed_role_arn: str | None = doc.get("assumed_role_arn")
        obtained = doc.get("obtained_at")
        number = isinstance(obtained, (int, float)) and not isinstance(obtained, bool)
        self.obtained_at: float | None = obtained if number else None

    def remaining(self, now: float) -> float:
        return self.expiration - now


SESSION_FIELDS = frozenset(
    {
        "access_key_id",
        "secret_access_key",
        "session_token",
        "expiration",
        "role_arn",
        "assumed_role_arn",
        "obtained_at",
    }
)


def usable(session_role_arn: str, expiration: float, role_arn: str | None, now: float, margin: float) -> bool:
    """The one rule for a cached session: it is the current role's and has more than `margin` s left.

    Used on the raw document by `read_cached` (the light path builds no model) and on the
    model by `State.usable_session`.
    """
    return session_role_arn == role_arn and expiration - now > margin


def read_cached(
    path: PathLike, now: float, margin: float, endpoint: str | None, key_dir: str
) -> Cached | None:
    """The cached session if it is usable as is (current role, endpoint, > margin left) and the
    file is signed under the key in the cache directory `key_dir`, else None.

    Raises StateError only for an unsafe file (world-readable, unreadable; the cache
    directory or its key too): that must be refused on every path, fast or not.
    """
    doc = read_json_object(path, "state file", version=SCHEMA_VERSION)
    if doc is None:
        return None
    if not isinstance(doc.get("session"), dict) or not set(doc["session"]) <= SESSION_FIELDS:
        return None  # not what this version wrote: the full path says what is wrong
    session, role = doc.get("session"), doc.get("role")
    if (
        (doc.get("endpoint") or None) != endpoint
        or not isinstance(session, dict)
        or not isinstance(role, dict)
    ):
        return None
    role_arn = role.get("arn")
    found = session_if_usable(session, role_arn, now, margin) if isinstance(role_arn, str) else None
    if found is None or not is_signed(
        doc, key_dir
    ):  # never looser than the full path: it refuses such a file
        return None
    return found


def session_if_usable(doc: dict[str, Any], role_arn: str, now: float, margin: float) -> Cached | None:
    """A cached session document, if it is whole, of `role_arn`, and has more than `margin` s left."""
    strings = ("access_key_id", "secret_access_key", "session_token", "role_arn")
    expiration = doc.get("expiration")
    if not all(isinstance(doc.get(k), str) for k in strings):
        return None
    if not isinstance(expiration, (int, float)) or isinstance(expiration, bool):
        return None
    if not 0 <= expiration <= LATEST_TIME:  # also refuses NaN
        return None
    if not usable(doc["role_arn"], expiration, role_arn, now, margin):
        return None
    return Cached(doc)
