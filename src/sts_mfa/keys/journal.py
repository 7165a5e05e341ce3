"""The journal of a key rotation: what a rerun needs to finish one that was interrupted.

One entry of the private cache per profile (`rotation-<hash>.json`, 0600, written
atomically), written before each step that changes something in AWS or on disk:

- `old`: the access key id stored when the rotation began (the one to delete at the end);
- `new`: the id of the key CreateAccessKey made, once its answer is in (None before);
- `started`: when the rotation began (this machine's clock), so that a key created after it
  and stored nowhere is known for the orphan of a run killed before it could write `new`;
- `user`: the IAM user whose keys these are.

It never holds a secret: a new key whose secret was lost with a killed run is deleted and
made again, never guessed at. A journal is input like any file: one that is not what
sts-mfa writes (wrong types, another profile, ids that are not access key ids) is refused
(exit 4) naming the file, and is never acted on.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, replace
from typing import Any

from sts_mfa.errors import StateError
from sts_mfa.files import cache

KEY_ID = re.compile(r"[A-Z0-9]{16,128}", re.ASCII)
USER = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)


@dataclass(frozen=True)
class Entry:
    profile: str
    user: str
    old: str
    new: str | None
    started: float

    def with_new(self, key_id: str) -> Entry:
        return replace(self, new=key_id)


class Journal:
    """The rotation journal of one profile, in the private cache directory."""

    def __init__(self, root: str, profile: str, credentials_file: str) -> None:
        self.path = os.path.join(cache.ensure(root), cache.entry_name("rotation", profile, credentials_file))
        self.profile = profile

    def read(self) -> Entry | None:
        doc = cache.read_entry(self.path)  # refuses a symlink, a FIFO, someone else's, a huge file
        if doc is None:
            if os.path.lexists(self.path):
                raise self._hostile("it is not JSON of this sts-mfa's version")
            return None
        return self._checked(doc)

    def write(self, entry: Entry) -> None:
        cache.write_entry(
            self.path,
            {
                "profile": entry.profile,
                "user": entry.user,
                "old": entry.old,
                "new": entry.new,
                "started": entry.started,
            },
        )

    def remove(self) -> None:
        cache.remove_entry(self.path)

    def locked(self) -> Any:
        """One rotation of a profile at a time."""
        return cache.locked(self.path, f"the key rotation of profile {self.profile}")

    def _checked(self, doc: dict[str, Any]) -> Entry:
        profile, user, old, new, started = (doc.get(k) for k in ("profile", "user", "old", "new", "started"))
        if profile != self.profile:
            raise self._hostile("it is for another profile")
        if not isinstance(user, str) or not USER.fullmatch(user):
            raise self._hostile("its user is not an IAM user name")
        for key in (old, new):
            if key is not None and (not isinstance(key, str) or not KEY_ID.fullmatch(key)):
                raise self._hostile("a key in it is not an access key id")
        if old is None or old == new:
            raise self._hostile("its old and new keys are not two keys")
        if isinstance(started, bool) or not isinstance(started, (int, float)) or not math.isfinite(started):
            raise self._hostile("its start time is not a time")
        return Entry(profile=self.profile, user=user, old=str(old), new=new, started=float(started))

    def _hostile(self, why: str) -> StateError:
        return StateError(
            f"the key rotation journal {self.path} is not one sts-mfa wrote ({why}); nothing was done",
            hint="look at the user's keys (`aws iam list-access-keys`), then delete the journal and run "
            "`sts-mfa keys rotate` again",
        )
