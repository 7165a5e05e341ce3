"""Rotating a profile's access key, crash-safe: a rerun finishes what a killed run began.

The steps, each preceded by a journal write (`sts_mfa.keys.journal`):

1. refuse if the user already has two keys (naming them): a third is never made;
2. CreateAccessKey; its id goes into the journal at once (never its secret);
3. wait until STS accepts the new key (GetCallerIdentity), so it works the moment this returns;
4. store it where the old one was (`Place`: the keyring, or the credentials file);
5. only then DeleteAccessKey the old one, and remove the journal.

So at every point the stored key works: the old one until the new one is stored, the
new one after. A rerun reads the journal and the stored key and finishes: the new key
stored, the old one still in AWS: delete it; the old one still stored: the new key's
secret died with the run that made it, so that key is deleted (it is the journal's `new`,
or, if the run died before writing it, the one key created after the rotation began and
stored nowhere) and the rotation starts again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sts_mfa.aws.clients import Keys
from sts_mfa.errors import AwsError, CredentialsError, StateError
from sts_mfa.keys.journal import Entry, Journal
from sts_mfa.progress import Reporter

# AWS's clock and this machine's may differ: a key created this long before the journal's
# start still counts as created after it (the user making a key by hand in that minute,
# during their own rotation, is not a case worth a lost key).
CLOCK_SLACK = 300.0


@dataclass(frozen=True)
class AccessKey:
    key_id: str
    created: float  # CreateDate, epoch seconds
    status: str


class Account(Protocol):
    """The IAM user's keys, as the rotation asks for them (AWS, with whatever credentials it takes)."""

    def keys(self) -> list[AccessKey]: ...

    def create(self) -> Keys: ...

    def delete(self, key_id: str) -> None: ...

    def wait_accepted(self, keys: Keys) -> None: ...


class Place(Protocol):
    """Where the profile's key is kept."""

    @property
    def where(self) -> str: ...

    def read(self) -> Keys: ...

    def write(self, keys: Keys) -> None: ...


@dataclass
class Rotated:
    old: str
    new: str
    resumed: bool = False  # a journal was found: an interrupted rotation was finished
    orphans: list[str] = field(default_factory=list)  # keys a killed run made, deleted


def rotate(
    user: str, place: Place, account: Account, journal: Journal, now: Callable[[], float], report: Reporter
) -> Rotated:
    with journal.locked():
        entry = journal.read()
        stored = place.read().access_key_id
        existing = account.keys()
        orphans: list[str] = []
        if entry is not None:
            if entry.user != user:
                raise StateError(
                    f"the key rotation journal {journal.path} is for user {entry.user}, not {user}; "
                    "nothing was done"
                )
            done = _finish(entry, stored, existing, account, journal, report)
            if done is not None:
                return done
            orphans = _delete_orphans(entry, existing, account, report)
            existing = [k for k in existing if k.key_id not in orphans]
            journal.remove()
        return _fresh(
            user, stored, existing, place, account, journal, now, report, entry is not None, orphans
        )


def _finish(
    entry: Entry, stored: str, existing: list[AccessKey], account: Account, journal: Journal, report: Reporter
) -> Rotated | None:
    """The rotation's end, if the new key is stored already; None if it must start again."""
    ids = {k.key_id for k in existing}
    if stored == entry.new:
        if entry.old in ids:
            report.info(f"finishing the interrupted rotation: deleting the old key {entry.old}")
            account.delete(entry.old)
        journal.remove()
        return Rotated(entry.old, entry.new, resumed=True)
    if stored != entry.old:
        if entry.old in ids:
            raise StateError(
                f"the stored key {stored} is neither the old ({entry.old}) nor the new key of the rotation "
                f"journal {journal.path}; nothing was done",
                hint="look at the user's keys (`aws iam list-access-keys`), then delete the journal",
            )
        journal.remove()  # the old key is gone and another one stored: that rotation is over
    return None


def _delete_orphans(entry: Entry, existing: list[AccessKey], account: Account, report: Reporter) -> list[str]:
    """The keys an interrupted run created but never stored (their secret is lost): deleted."""
    orphans = [
        k.key_id
        for k in existing
        if k.key_id != entry.old
        and (k.key_id == entry.new or (entry.new is None and k.created >= entry.started - CLOCK_SLACK))
    ]
    for key_id in orphans:
        report.info(
            f"deleting {key_id}, made by an interrupted rotation and stored nowhere (its secret is lost)"
        )
        account.delete(key_id)
    return orphans


def _fresh(
    user: str,
    stored: str,
    existing: list[AccessKey],
    place: Place,
    account: Account,
    journal: Journal,
    now: Callable[[], float],
    report: Reporter,
    resumed: bool,
    orphans: list[str],
) -> Rotated:
    if stored not in {k.key_id for k in existing}:
        raise CredentialsError(f"the stored key {stored} is not one of user {user}'s access keys")
    others = [k for k in existing if k.key_id != stored]
    if others:
        listed = ", ".join(f"{k.key_id} ({k.status})" for k in [*others])
        raise AwsError(
            f"user {user} already has two access keys, {stored} (stored in {place.where}) and {listed}: "
            "a rotation needs room for a new one; nothing was changed",
            hint=f"delete the one you do not use (`aws iam delete-access-key --user-name {user} "
            f"--access-key-id {others[0].key_id}`, after checking `aws iam get-access-key-last-used`)",
        )
    entry = Entry(profile=journal.profile, user=user, old=stored, new=None, started=now())
    journal.write(entry)
    report.info(f"creating a new access key for user {user}")
    new = account.create()
    journal.write(entry.with_new(new.access_key_id))
    report.info(f"waiting until STS accepts the new key {new.access_key_id}")
    account.wait_accepted(new)
    place.write(new)
    report.info(f"stored the new key in {place.where}; deleting the old key {stored}")
    account.delete(stored)
    journal.remove()
    return Rotated(stored, new.access_key_id, resumed=resumed, orphans=orphans)
