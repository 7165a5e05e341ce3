"""Asking a person for an MFA code in a desktop dialog: for a `credential_process` with no terminal.

Under an IDE, CDK or a desktop app, `credential_process` has no terminal, so a code could
only fail (exit 2). When a code is needed, no other source has one, there is no terminal
and a desktop is there, sts-mfa asks in a dialog: osascript on macOS; zenity, else kdialog
elsewhere, with `DISPLAY` or `WAYLAND_DISPLAY` set. The choice can be made:
`STS_MFA_PROMPT` (or a profile's `mfa_prompt`; the variable wins) is one of

- `terminal`: the terminal only, never a window;
- `zenity`, `kdialog`, `osascript`: that dialog, even when a terminal is there;
- `none`: never ask a person (as `STS_MFA_NO_PROMPT=1`);

and left out, the terminal, else the dialog the desktop offers, else nobody.

The dialog names the device and the profile, takes only six digits (asked again, up to
three times, saying why), and its Cancel ends the command at once (exit 2, `Cancelled`).
It is run like an `mfa_process` (`sts_mfa.mfa.process.output_of`): no shell, a session of
its own, its output bounded, and `STS_MFA_PROMPT_TIMEOUT` seconds (default 120) at most.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping

from sts_mfa.errors import UsageError
from sts_mfa.mfa.codes import code_problem, normalize_code
from sts_mfa.mfa.process import output_of, seconds_from

VARIABLE = "STS_MFA_PROMPT"
PROFILE_KEY = "mfa_prompt"
DIALOGS = ("zenity", "kdialog", "osascript")
CHOICES = ("terminal", *DIALOGS, "none")
TIMEOUT_VARIABLE = "STS_MFA_PROMPT_TIMEOUT"
DEFAULT_TIMEOUT = 120.0
TRIES = 3
TITLE = "sts-mfa"


class Cancelled(UsageError):
    """The person cancelled the dialog: the command ends at once (exit 2)."""


def choice(profile_setting: str | None, environ: Mapping[str, str]) -> str | None:
    """STS_MFA_PROMPT, else the profile's mfa_prompt, checked (None: neither says)."""
    for where, value in ((VARIABLE, environ.get(VARIABLE)), (PROFILE_KEY, profile_setting)):
        text = (value or "").strip()
        if not text:
            continue
        if text not in CHOICES:
            raise UsageError(f"{where} must be one of {', '.join(CHOICES)}, not {text[:40]!r}")
        return text
    return None


def offered(environ: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """The dialog this desktop offers: osascript on macOS; zenity, else kdialog, with a display."""
    if platform == "darwin":
        return "osascript" if shutil.which("osascript") else None
    if not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
        return None
    return next((name for name in ("zenity", "kdialog") if shutil.which(name)), None)


def timeout_from(environ: Mapping[str, str]) -> float:
    """STS_MFA_PROMPT_TIMEOUT (seconds, more than 0, at most 3600), else 120."""
    return seconds_from(environ, TIMEOUT_VARIABLE, DEFAULT_TIMEOUT, 3600)


def asker(tool: str, text: str, timeout: float) -> Callable[[], str]:
    """A code source that asks in the dialog `tool` (see the module docstring)."""

    def ask() -> str:
        message = text
        for _ in range(TRIES):
            typed = _show(tool, message, timeout)
            problem = code_problem(typed)
            if problem is None:
                return normalize_code(typed)
            message = f"{text}\n\n{problem}"
        raise UsageError(f"no valid code after {TRIES} tries in the {tool} dialog")

    return ask


def _show(tool: str, message: str, timeout: float) -> str:
    """What the person typed; Cancelled if they cancelled (or closed) the dialog."""
    where = f"the MFA code dialog ({tool})"
    returncode, output = output_of(
        _argv(tool, message, timeout), timeout + 5, where, stderr=subprocess.DEVNULL
    )
    if returncode == 1:  # Cancel, or the window closed (osascript: any error, "User canceled." too)
        raise Cancelled(f"{where} was cancelled: no MFA code")
    if returncode == 5 and tool == "zenity":
        raise UsageError(f"{where} was not answered within {timeout:.0f} s")
    if returncode != 0:
        raise UsageError(f"{where} failed (exit {returncode}): is there a display it can open?")
    return output.decode("utf-8", "replace").strip()[:64]


def _argv(tool: str, message: str, timeout: float) -> list[str]:
    if tool == "zenity":  # --text is Pango markup: escaped, so a profile name is only text
        text = html.escape(message, quote=False)
        return [
            "zenity",
            "--entry",
            f"--title={TITLE}",
            f"--text={text}",
            f"--timeout={max(1, int(timeout))}",
        ]
    if tool == "kdialog":
        return ["kdialog", "--title", TITLE, "--inputbox", message]
    if tool == "osascript":  # the text as an argument, never as part of the script
        script = (
            f'display dialog (item 1 of argv) default answer "" with title "{TITLE}" '
            'buttons {"Cancel", "OK"} default button "OK" cancel button "Cancel"'
        )
        return [
            "osascript",
            "-e",
            "on run argv",
            "-e",
            script,
            "-e",
            "return text returned of result",
            "-e",
            "end run",
            message,
        ]
    raise ValueError(f"unknown dialog {tool!r}")
