"""One ledger per MFA device: the TOTP time-steps already sent, shared by every caller.

AWS accepts each 30-second step's code once per device. State files and profiles on
one device, run by any number of processes at once, must therefore never send the
same step: every caller reserves its step here, under the device's lock, before the
code can reach AWS. The ledger lives in the private cache (`sts_mfa.files.cache`), one
entry per (endpoint, serial), and remembers:

- `last_step`: the last time-step reserved or known to be spent;
- `last_code`, `last_used_at`: the last code a person typed (or a command printed),
  so the same digits are refused locally instead of by AWS.

A state file keeps its own record too (it travels with the file); the ledger is the
meeting point when several files and profiles share a device.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sts_mfa.files import cache
from sts_mfa.mfa.totp import step_at


@dataclass
class Entry:
    last_step: int | None = None
    last_code: str | None = None
    last_used_at: float | None = None

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> Entry:
        if not doc:
            return cls()
        step, code, used = doc.get("last_step"), doc.get("last_code"), doc.get("last_used_at")
        return cls(
            last_step=step if isinstance(step, int) and not isinstance(step, bool) and step >= 0 else None,
            last_code=code if isinstance(code, str) and code.isdigit() and len(code) == 6 else None,
            last_used_at=float(used) if isinstance(used, (int, float)) and _is_number(used) else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {"last_step": self.last_step, "last_code": self.last_code, "last_used_at": self.last_used_at}

    def note_step(self, step: int | None) -> None:
        if step is not None:
            self.last_step = max(step, self.last_step if self.last_step is not None else step)

    def note_typed(self, code: str, now: float) -> None:
        """A code from a person or an mfa_process: its step is not known, so the current one counts."""
        self.last_code, self.last_used_at = code, now
        self.note_step(step_at(now))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Ledger:
    """The ledger of one device (`serial`) at one endpoint."""

    def __init__(self, root: str, endpoint: str | None, serial: str) -> None:
        self.path = f"{cache.ensure(root)}/{cache.entry_name('ledger', endpoint or 'aws', serial)}"
        self.serial = serial

    def read(self) -> Entry:
        return Entry.from_json(cache.read_entry(self.path))

    @contextmanager
    def held(self) -> Iterator[Entry]:
        """The entry under the device's lock; what the caller changes is saved on the way out."""
        with cache.locked(self.path, "the TOTP ledger of " + self.serial):
            entry = self.read()
            before = entry.to_json()
            yield entry
            if entry.to_json() != before:
                cache.write_entry(self.path, {"serial": self.serial, **entry.to_json()})
