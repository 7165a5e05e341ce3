"""A desktop for a test: Xvfb on a display of its own, and a person (xdotool) answering dialogs.

`Desktop()` starts `Xvfb -displayfd` (it picks a free display and says which); `env()` is
what a child needs to show windows there (DISPLAY). `dialogs()` lists the sts-mfa dialogs
(zenity processes on this display, with the command line they were given, so a test can
read the text the person sees); `answer(text)` types into the newest dialog and presses
Return, `cancel()` presses Escape, as a person would.

The programs come from Debian's xvfb, xdotool and zenity; missing, the test is skipped, or
fails under CI_REQUIRE_SYSTEM_TOOLS (`tests.support.system_tools`).
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tests.support.processes import stop_group
from tests.support.system_tools import tool


@dataclass(frozen=True)
class Dialog:
    pid: int
    argv: list[str]

    @property
    def text(self) -> str:
        return next((a.removeprefix("--text=") for a in self.argv if a.startswith("--text=")), "")


class Desktop:
    def __init__(self) -> None:
        self.display = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Desktop:
        xvfb = tool("Xvfb")
        tool("xdotool")
        tool("zenity")
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            [xvfb, "-displayfd", str(write), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
            pass_fds=(write,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(write)
        with os.fdopen(read) as said:
            number = said.readline().strip()
        if not number.isdigit():
            self.__exit__(None, None, None)
            raise RuntimeError("Xvfb did not say which display it took")
        self.display = f":{number}"
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc is not None:
            stop_group(self.proc)

    def env(self) -> dict[str, str]:
        return {"DISPLAY": self.display}

    def dialogs(self) -> list[Dialog]:
        """The zenity dialogs open on this display, oldest first."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"zenity") and f"DISPLAY={self.display}".encode() in environ:
                found.append(Dialog(int(entry.name), [a.decode() for a in argv if a]))
        return sorted(found, key=lambda d: d.pid)

    def wait_for_dialog(self, *, after: int = 0, timeout: float = 30) -> Dialog:
        """The first dialog whose pid is not `after`'s (a new one), once its window is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fresh = [d for d in self.dialogs() if d.pid != after]
            if fresh and self._window():
                return fresh[-1]
            time.sleep(0.05)
        raise AssertionError(f"no sts-mfa dialog on {self.display} within {timeout} s")

    def _window(self) -> str | None:
        done = subprocess.run(
            [tool("xdotool"), "search", "--name", "^sts-mfa$"],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        windows = done.stdout.split()
        return windows[-1] if windows else None

    def _keys(self, *args: str) -> None:
        window = self._window()
        assert window, "the dialog's window is gone"
        env = {**os.environ, **self.env()}
        xdotool = tool("xdotool")
        for argv, check in (([xdotool, "windowfocus", window], False), ([xdotool, *args], True)):
            subprocess.run(argv, env=env, capture_output=True, timeout=10, check=check)

    def answer(self, text: str) -> None:
        self._keys("type", "--delay", "20", text)
        self._keys("key", "Return")

    def cancel(self) -> None:
        self._keys("key", "Escape")
