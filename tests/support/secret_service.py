"""A real Secret Service for a test: gnome-keyring-daemon inside a D-Bus session of its own.

`SecretService(home)` runs `dbus-run-session` with a shell that starts
`gnome-keyring-daemon --components=secrets` (unlocked with a test password, or left locked),
writes the session bus's address to a file and waits; processes the test starts join that
bus through `env()` (DBUS_SESSION_BUS_ADDRESS), so `keyring` finds the Secret Service there,
as on a desktop. The keyrings live in `home` (`~/.local/share/keyrings`), encrypted by the
daemon. `lookup(profile)` asks the daemon with `secret-tool`, the way a person would.
Everything is stopped (its whole process group) when the block ends.

The programs come from Debian's gnome-keyring, dbus and libsecret-tools; missing, the test is
skipped, or fails under CI_REQUIRE_SYSTEM_TOOLS (`tests.support.system_tools`).
"""

from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path
from types import TracebackType

from tests.support.env import subprocess_env
from tests.support.processes import stop_group
from tests.support.system_tools import tool

PASSWORD = "test-keyring-password"


class SecretService:
    def __init__(self, home: Path, *, unlocked: bool = True) -> None:
        self.home = home
        self.unlocked = unlocked
        self.runtime = home / "run"
        self.address_file = home / "dbus-address"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SecretService:
        dbus, daemon = tool("dbus-run-session"), tool("gnome-keyring-daemon")
        tool("secret-tool")
        self.runtime.mkdir(mode=0o700, exist_ok=True)
        self.address_file.unlink(missing_ok=True)
        start = (
            f"printf %s {PASSWORD} | {daemon} --unlock --components=secrets"
            if self.unlocked
            else f"{daemon} --start --components=secrets"
        )
        address = shlex.quote(str(self.address_file))
        script = f'{start} >/dev/null && printf %s "$DBUS_SESSION_BUS_ADDRESS" > {address} && exec sleep 600'
        self.proc = subprocess.Popen(
            [dbus, "--", "sh", "-c", script],
            env=self._base_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while not (self.address_file.exists() and self.address_file.read_text()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("gnome-keyring-daemon did not start in its D-Bus session")
            time.sleep(0.05)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc is not None:
            stop_group(self.proc)

    def _base_env(self) -> dict[str, str]:
        env = subprocess_env(self.home)
        for name in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "PYTHON_KEYRING_BACKEND"):
            env.pop(name, None)
        env.update(
            HOME=str(self.home),
            XDG_RUNTIME_DIR=str(self.runtime),
            XDG_DATA_HOME=str(self.home / ".local/share"),
        )
        return env

    def env(self) -> dict[str, str]:
        """What a child needs to reach this Secret Service (and nothing else of the test's)."""
        return {
            "DBUS_SESSION_BUS_ADDRESS": self.address_file.read_text(),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
        }

    def lookup(self, profile: str) -> str | None:
        """The secret the daemon holds for sts-mfa's entry of `profile` (secret-tool's answer)."""
        done = subprocess.run(
            [tool("secret-tool"), "lookup", "service", "sts-mfa", "username", profile],
            env={**self._base_env(), **self.env()},
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        return done.stdout if done.returncode == 0 and done.stdout else None
