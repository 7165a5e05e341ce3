"""keyring backends for tests, named by PYTHON_KEYRING_BACKEND (`tests.support.keyrings.NAME`).

The real thing (a Secret Service: gnome-keyring in a D-Bus session of its own) is in
`tests.support.secret_service`; these stand in where a test needs a keyring that fails in a
given way, or one that several processes share without a D-Bus session:

- `FileKeyring`: entries in the JSON file TEST_KEYRING_FILE names (a test's own keyring,
  shared by the processes it starts);
- `LockedKeyring`: every call raises `KeyringLocked`, as a locked Secret Service does;
- `HangingKeyring`: every call waits forever, as an unlock prompt nobody sees does;
- `RefusingKeyring`: reads answer "no entry", writes fail (`PasswordSetError`).

A child process finds them with PYTHONPATH set to the repository (`environment(...)`).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordSetError

ROOT = Path(__file__).resolve().parents[2]
FILE_VARIABLE = "TEST_KEYRING_FILE"


def environment(backend: str, **extra: str) -> dict[str, str]:
    """What a child needs to use the backend `backend` (a class name of this module)."""
    path = os.environ.get("PYTHONPATH", "")
    return {
        "PYTHON_KEYRING_BACKEND": f"tests.support.keyrings.{backend}",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT),
        **extra,
    }


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def _path(self) -> Path:
        return Path(os.environ[FILE_VARIABLE])

    def _entries(self) -> dict[str, Any]:
        path = self._path()
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        found = self._entries().get(f"{service}/{username}")
        return found if isinstance(found, str) else None

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._entries()
        entries[f"{service}/{username}"] = password
        self._path().write_text(json.dumps(entries))

    def delete_password(self, service: str, username: str) -> None:
        entries = self._entries()
        entries.pop(f"{service}/{username}", None)
        self._path().write_text(json.dumps(entries))


class LockedKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class HangingKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        while True:
            time.sleep(60)

    def set_password(self, service: str, username: str, password: str) -> None:
        while True:
            time.sleep(60)

    def delete_password(self, service: str, username: str) -> None:
        while True:
            time.sleep(60)


class RefusingKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError("the collection is read-only")

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordSetError("the collection is read-only")
