"""A profile's long-term access key in the OS keyring, through the `keyring` library.

One entry per profile: service `sts-mfa`, username the profile's name, and as its secret a
small JSON object `{"aws_access_key_id": ..., "aws_secret_access_key": ...}` (the names
of the credentials file). On Linux that is the Secret Service (GNOME Keyring, KWallet), on
macOS the Keychain, on Windows the Credential Locker: whatever `keyring` finds, or the
backend `PYTHON_KEYRING_BACKEND` names (its own convention, honoured as it is).

What can go wrong is one line and exit 6 (a credentials problem), never a hang or a
traceback:

- no OS keyring (keyring's `fail` or `null` backend), or one keyring picked by itself that
  is not an OS keyring (a plain file of `keyrings.alt`): sts-mfa never falls back to
  keeping a key in a file, unless PYTHON_KEYRING_BACKEND says so explicitly;
- a locked keyring, or one that does not answer (an unlock prompt nobody sees): every call
  runs in a thread of its own and is given up after `STS_MFA_KEYRING_TIMEOUT` seconds
  (default 30);
- an entry that is not one sts-mfa wrote (never shown: it may hold a secret).

`keyring` is imported only here, and only when a profile's key is in the keyring: no path
that finds its key in a file, and no light path, loads it.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sts_mfa.aws.clients import Keys
from sts_mfa.errors import CredentialsError, UsageError

SERVICE = "sts-mfa"
TIMEOUT_VARIABLE = "STS_MFA_KEYRING_TIMEOUT"
DEFAULT_TIMEOUT = 30.0
BACKEND_VARIABLE = "PYTHON_KEYRING_BACKEND"
ACCESS_KEY_ID = re.compile(r"[A-Z0-9]{16,128}", re.ASCII)
SECRET_ACCESS_KEY = re.compile(r"[A-Za-z0-9+/=]{16,128}", re.ASCII)
# keyring's own backends that are the operating system's keyring (not fail, null or chainer).
_OS_BACKENDS = re.compile(r"keyring\.backends\.(SecretService|libsecret|kwallet|macOS|Windows)(\..*)?")
_MAX_ENTRY = 4096

T = TypeVar("T")


def check_keys(keys: Keys, where: str) -> Keys:
    """Refuse what is not an access key (id and secret, no session token), naming only the id."""
    if keys.session_token:
        raise UsageError(f"{where} holds a session token: temporary credentials, not a long-term access key")
    if not ACCESS_KEY_ID.fullmatch(keys.access_key_id) or not SECRET_ACCESS_KEY.fullmatch(
        keys.secret_access_key
    ):
        shown = keys.access_key_id[:24] if ACCESS_KEY_ID.fullmatch(keys.access_key_id) else "an id"
        raise UsageError(f"{where}: {shown} with its secret does not look like an AWS access key")
    return keys


def timeout_from(environ: Any = os.environ) -> float:
    text = str(environ.get(TIMEOUT_VARIABLE, "") or "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise UsageError(f"{TIMEOUT_VARIABLE} must be a number of seconds, 0 to 3600, not {text[:20]!r}")
    return value


class KeyringStore:
    """The OS keyring's entries of sts-mfa, each call bounded in time."""

    def __init__(self, timeout: float | None = None, environ: Any = os.environ) -> None:
        self.timeout = timeout_from(environ) if timeout is None else timeout
        self.explicit = bool(str(environ.get(BACKEND_VARIABLE, "") or "").strip())
        self._name: str | None = None

    @property
    def backend_name(self) -> str:
        """The backend in use, for messages (known once a call has been made)."""
        return self._name or "the OS keyring"

    def read(self, profile: str) -> Keys | None:
        """The profile's key, None if the keyring has no entry for it."""
        text = self._bounded(lambda kr: kr.get_password(SERVICE, profile), f"reading {profile}'s key")
        return None if text is None else parse_entry(text, profile)

    def write(self, profile: str, keys: Keys) -> None:
        """Store the key, then read it back: stored means readable."""
        entry = json.dumps(
            {"aws_access_key_id": keys.access_key_id, "aws_secret_access_key": keys.secret_access_key}
        )
        self._bounded(lambda kr: kr.set_password(SERVICE, profile, entry), f"storing {profile}'s key")
        if self.read(profile) != Keys(keys.access_key_id, keys.secret_access_key):
            raise CredentialsError(f"{self.backend_name} did not keep profile {profile}'s key when asked to")

    def delete(self, profile: str) -> bool:
        """Delete the profile's entry; False if there was none."""
        if self._bounded(lambda kr: kr.get_password(SERVICE, profile), f"reading {profile}'s key") is None:
            return False
        self._bounded(lambda kr: kr.delete_password(SERVICE, profile), f"deleting {profile}'s key")
        return True

    # -- the library, bounded ------------------------------------------------------------------

    def _bounded(self, call: Callable[[Any], T], doing: str) -> T:
        """`call(backend)` in a thread of its own, given up after `timeout` seconds."""
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["value"] = call(self._backend())
            except BaseException as e:  # handed to the caller's thread
                outcome["error"] = e

        worker = threading.Thread(target=run, name="sts-mfa keyring", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise CredentialsError(
                f"{self.backend_name} did not answer within {self.timeout:g} s ({doing}): is it locked, "
                "waiting for a password nobody sees?",
                hint=f"unlock it and try again; {TIMEOUT_VARIABLE} sets the wait",
            )
        if "error" in outcome:
            raise _translated(outcome["error"], self.backend_name, doing) from None
        return outcome["value"]  # type: ignore[no-any-return]

    def _backend(self) -> Any:
        import keyring
        from keyring.backends import chainer

        backend = keyring.get_keyring()
        self._name = _name(backend)
        chosen = list(backend.backends) if isinstance(backend, chainer.ChainerBackend) else [backend]
        usable = [
            b
            for b in chosen
            if _name(b) not in ("keyring.backends.fail.Keyring", "keyring.backends.null.Keyring")
        ]
        if not usable:
            raise CredentialsError(
                "no OS keyring is available (keyring found no backend: no Secret Service on the session bus, "
                "no Keychain)",
                hint=f"start one (gnome-keyring, KWallet), or name a backend in {BACKEND_VARIABLE}",
            )
        if not self.explicit and not all(_OS_BACKENDS.fullmatch(_name(b)) for b in usable):
            raise CredentialsError(
                f"keyring picked {self._name}, which is not an OS keyring; sts-mfa does not keep an access "
                "key in a file of its own choosing",
                hint=f"set {BACKEND_VARIABLE} to choose a backend explicitly",
            )
        return backend


def _name(backend: Any) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def parse_entry(text: str, profile: str) -> Keys:
    """An entry's key, checked: sts-mfa's JSON, an access key id and a secret, nothing else."""
    problem = "it is not the JSON object sts-mfa writes"
    doc: Any = None
    if isinstance(text, str) and len(text) <= _MAX_ENTRY:
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            doc = None
    if isinstance(doc, dict) and set(doc) == {"aws_access_key_id", "aws_secret_access_key"}:
        key_id, secret = doc["aws_access_key_id"], doc["aws_secret_access_key"]
        if isinstance(key_id, str) and isinstance(secret, str):
            if ACCESS_KEY_ID.fullmatch(key_id) and SECRET_ACCESS_KEY.fullmatch(secret):
                return Keys(key_id, secret)
            problem = "its access key id or secret is malformed"
    raise CredentialsError(
        f"the OS keyring's entry for profile {profile} (service {SERVICE}) is not an access key sts-mfa "
        f"stored: {problem}",
        hint=f"run `sts-mfa keys remove {profile}`, then add the key again",
    )


def _translated(error: BaseException, backend: str, doing: str) -> BaseException:
    """The library's failures as one line each (exit 6); sts-mfa's own errors as they are."""
    from sts_mfa.errors import StsMfaError

    if isinstance(error, StsMfaError) or not isinstance(error, Exception):
        return error
    kind = type(error).__name__
    first = (str(error).strip().splitlines() or [""])[0][:200]
    if kind == "KeyringLocked":
        return CredentialsError(
            f"{backend} is locked ({doing})",
            hint="unlock it (log in to the desktop session, or unlock the login keyring) and try again",
        )
    if kind in ("NoKeyringError", "InitError"):
        return CredentialsError(f"no OS keyring is available ({doing}): {first or kind}")
    return CredentialsError(f"{backend} failed ({doing}): {kind}{': ' + first if first else ''}")
