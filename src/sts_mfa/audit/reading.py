"""Every role's trust policy, in as few requests as IAM allows.

One `GetAccountAuthorizationDetails` (Filter=Role) page holds up to 1,000 roles with
their trust policies (IAM API Reference, GetAccountAuthorizationDetails: `MaxItems`
1-1000, follow `IsTruncated`/`Marker`; "IAM might return fewer results, even when
there are more results available"; policies come URL-encoded per RFC 3986). So an
account of 2,000 roles is read in 2 requests, where GetRole would take 2,000.

Pages are not a snapshot. A role created, deleted or updated between two pages can
be skipped, repeated or read as it was before the change. So a reading of more than
one page is read again: it counts only when two readings in a row agree (the same
roles, each with the same trust policy). After `MAX_READINGS` without agreement the
roles that differed are reported as changed while being read (undecided), never as
requiring MFA.

Each page is reduced to small records as it arrives (name, ARN, path, a digest of
the trust policy) and dropped; a trust policy's text is kept once per distinct
document, and only for the roles the caller wants (`keep`: the filters), so memory
grows with the number of distinct roles, not with the size or number of pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sts_mfa.errors import AwsError

PAGE_SIZE = 1000  # IAM's maximum MaxItems
MAX_READINGS = 3
MAX_PAGES = 100_000  # a marker chain longer than this is an endpoint going round in circles
NO_DOCUMENT = ""  # the digest of "the answer carried no trust policy"


@dataclass(frozen=True)
class RoleSeen:
    """One role as a page showed it."""

    arn: str
    name: str
    path: str
    digest: str  # of the trust policy text as sent; NO_DOCUMENT when there was none


@dataclass
class Reading:
    """One pass over every page."""

    roles: dict[str, RoleSeen] = field(default_factory=dict)  # by ARN
    pages: int = 0
    repeated: set[str] = field(default_factory=set)  # ARNs a later page showed again, differently


@dataclass
class Account:
    """The roles of the account, as agreed by consecutive readings (or not)."""

    roles: dict[str, RoleSeen]
    documents: dict[str, str]  # digest -> trust policy text, for the digests of `roles`
    unstable: dict[str, RoleSeen]  # roles that changed between the last two readings
    readings: int
    requests: int


Progress = Callable[[int, int], None]  # (pages read so far, roles read so far)
Keep = Callable[[str, str, str], bool]  # (arn, name, path) -> is the role wanted?


def read_account(
    iam: Any,
    *,
    page_size: int = PAGE_SIZE,
    keep: Keep = lambda _arn, _name, _path: True,
    progress: Progress | None = None,
) -> Account:
    """Read the account's roles until two readings agree (one page needs one reading)."""
    documents: dict[str, str] = {}
    requests = 0
    previous: Reading | None = None
    for number in range(1, MAX_READINGS + 1):
        reading = _read_once(iam, page_size, keep, documents, progress)
        requests += reading.pages
        if reading.pages <= 1 and not reading.repeated and previous is None:
            return _account(reading.roles, {}, documents, number, requests)
        if previous is not None and _same(previous, reading):
            return _account(reading.roles, {}, documents, number, requests)
        previous_roles = previous.roles if previous is not None else {}
        previous = reading
    assert previous is not None
    unstable = _differences(previous_roles, previous)
    stable = {arn: role for arn, role in previous.roles.items() if arn not in unstable}
    return _account(stable, unstable, documents, MAX_READINGS, requests)


def _account(
    roles: dict[str, RoleSeen],
    unstable: dict[str, RoleSeen],
    documents: dict[str, str],
    readings: int,
    requests: int,
) -> Account:
    wanted = {role.digest for role in roles.values()}
    kept = {digest: text for digest, text in documents.items() if digest in wanted}
    return Account(roles, kept, unstable, readings, requests)


def _same(before: Reading, after: Reading) -> bool:
    if before.repeated or after.repeated or before.roles.keys() != after.roles.keys():
        return False
    return all(before.roles[arn].digest == role.digest for arn, role in after.roles.items())


def _differences(before: dict[str, RoleSeen], after: Reading) -> dict[str, RoleSeen]:
    changed = {
        arn: role for arn, role in after.roles.items() if arn in after.repeated or before.get(arn) != role
    }
    gone = {arn: role for arn, role in before.items() if arn not in after.roles}
    return {**gone, **changed}


def _read_once(
    iam: Any, page_size: int, keep: Keep, documents: dict[str, str], progress: Progress | None
) -> Reading:
    reading = Reading()
    for page in _pages(iam, page_size):
        reading.pages += 1
        for detail in page:
            role = _seen(detail, keep, documents)
            if role is None:
                continue
            earlier = reading.roles.get(role.arn)
            if earlier is not None and earlier != role:
                reading.repeated.add(role.arn)
            reading.roles[role.arn] = role
        if progress is not None:
            progress(reading.pages, len(reading.roles))
    return reading


def _pages(iam: Any, page_size: int) -> Iterator[list[Any]]:
    """The RoleDetailList of each page, following Marker while IsTruncated."""
    from sts_mfa.aws.errors import translate_errors

    marker: str | None = None
    markers: set[str] = set()
    while True:
        kwargs: dict[str, Any] = {"Filter": ["Role"], "MaxItems": page_size}
        if marker is not None:
            kwargs["Marker"] = marker
        with translate_errors("reading the account's roles (GetAccountAuthorizationDetails)"):
            answer = iam.get_account_authorization_details(**kwargs)
        details = answer.get("RoleDetailList")
        if not isinstance(details, list):  # IAM always sends it (empty: []); without it, 0 roles is no answer
            raise _not_iam("its answer has no RoleDetailList")
        yield details
        if answer.get("IsTruncated") is not True:
            return
        marker = answer.get("Marker")
        if not isinstance(marker, str) or not marker or marker in markers or len(markers) >= MAX_PAGES:
            raise _not_iam("the endpoint said there is more but gave no new Marker")
        markers.add(marker)


def _not_iam(what: str) -> AwsError:
    return AwsError(f"reading the account's roles: {what}", hint="check --endpoint-url / AWS_ENDPOINT_URL")


def _seen(detail: object, keep: Keep, documents: dict[str, str]) -> RoleSeen | None:
    detail = detail if isinstance(detail, dict) else {"not a role": detail}
    arn, name, path = (detail.get(k) for k in ("Arn", "RoleName", "Path"))
    if not (isinstance(arn, str) and arn and isinstance(name, str) and name):
        # Dropped, it would be a role never audited, and "every role requires MFA" a lie.
        shown = repr(detail)[:80]
        raise _not_iam(f"its answer holds an entry that is not a role with an Arn and a RoleName: {shown}")
    path = path if isinstance(path, str) else "/"
    if not keep(arn, name, path):
        return None
    text = detail.get("AssumeRolePolicyDocument")
    if not isinstance(text, str) or not text:
        return RoleSeen(arn, name, path, NO_DOCUMENT)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    documents.setdefault(digest, text)
    return RoleSeen(arn, name, path, digest)
