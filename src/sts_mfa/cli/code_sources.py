"""Where this run's MFA codes come from: its flags and its terminal (`sts_mfa.mfa.sources.Codes`).

`FlagCodes` is what the CLI hands the session source (`sts_mfa.session.source`): for the
state file, a code given (`--code`, `--code -`, `STS_MFA_CODE`), then the software token,
then a prompt on the terminal; for a profile, a code given, its `mfa_process`, a prompt.
With none, the error says what to run instead, shell-quoted.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import TYPE_CHECKING

import click

from sts_mfa.cli.params import MFA_CODE, read_code_from_stdin
from sts_mfa.cli.terminal import stderr_is_terminal, stdin_is_terminal
from sts_mfa.errors import NoCode, StsMfaError
from sts_mfa.mfa.sources import Codes

if TYPE_CHECKING:
    from collections.abc import Callable

    Asker = Callable[[], str]

    from sts_mfa.session.profiles import Profile


class FlagCodes:
    """The code sources of one command: its `--code` (or STS_MFA_CODE), the terminal."""

    def __init__(self, state_path: str, code: str | None) -> None:
        self.state_path = state_path
        self.code = code

    def for_state_file(self) -> Codes:
        def missing() -> StsMfaError:
            refresh = shlex.join(["sts-mfa", "--state", self.state_path, "assume", "--code", "CODE"])
            return NoCode(
                "no cached session with enough time left, no MFA code, and no terminal to ask for one: "
                f"refresh it with `{refresh}` "
                "(or pass --code -, or set STS_MFA_CODE)"
            )

        prompt, dialog = person_prompts(
            "MFA code from your authenticator app", None, f"MFA code for the state file {self.state_path}"
        )
        return Codes(given=given_code(self.code), prompt=prompt, dialog=dialog, missing=missing)

    def for_profile(self, profile: Profile, *, admin: bool = False) -> Codes:
        """--code/-/STS_MFA_CODE, then the profile's mfa_process, then a prompt on the terminal.

        `admin`: the profile gives another command its credentials (`--profile` and the like),
        whose --code is not for it: STS_MFA_CODE is, checked as --code checks it, and the error
        without a code says what to do instead."""
        from sts_mfa.mfa import process as mfa_process

        command = profile.mfa_process
        timeout = mfa_process.timeout_from(os.environ)
        process = (
            (lambda: mfa_process.run(command, profile=profile.name, timeout=timeout)) if command else None
        )
        assume = shlex.join(["sts-mfa", "assume", profile.name])

        def missing() -> NoCode:
            if admin:
                return NoCode(
                    f"profile {profile.name} assumes its role with MFA, and there is no cached session for "
                    "it with enough time left, no MFA code and no terminal to ask for one: run "
                    f"`{assume}` in a terminal first (this command then uses its session), "
                    "or set STS_MFA_CODE, or give the profile an mfa_process"
                )
            return NoCode(
                f"no cached session for profile {profile.name} with enough time left, no MFA code, and no "
                f"terminal to ask for one: run `{assume}` in a terminal "
                "(or pass --code, set STS_MFA_CODE, or give the profile an mfa_process)"
            )

        prompt, dialog = person_prompts(
            f"MFA code for {profile.mfa_serial} (profile {profile.name})", profile.mfa_prompt
        )
        given = given_code(code_from_environment()) if admin else given_code(self.code)
        return Codes(given=given, process=process, prompt=prompt, dialog=dialog, missing=missing)


def given_code(code: str | None) -> Callable[[], str] | None:
    """The code the user gave: `--code CODE` (or STS_MFA_CODE), `--code -` (a line of stdin), or none."""
    if code == "-":
        return lambda: read_code_from_stdin(sys.stdin)
    if code is not None:
        return lambda: code
    return None


def code_from_environment() -> str | None:
    """STS_MFA_CODE, checked as --code checks it (the admin side's commands have no --code)."""
    from sts_mfa.errors import UsageError
    from sts_mfa.mfa.codes import code_problem, normalize_code

    value = os.environ.get("STS_MFA_CODE")
    if value is None or value == "":
        return None
    problem = code_problem(value)
    if problem is not None:
        raise UsageError(f"STS_MFA_CODE: {problem}")
    return normalize_code(value)


def person_prompts(
    text: str, profile_setting: str | None, in_a_window: str | None = None
) -> tuple[Asker | None, Asker | None]:
    """(a prompt on the terminal, a desktop dialog): at most one of them, as STS_MFA_PROMPT (else the
    profile's mfa_prompt) says: `terminal`, a dialog by name (even with a terminal there), `none`;
    unsaid, the terminal, else the dialog the desktop offers (`sts_mfa.mfa.dialog`). A window says
    `in_a_window` if given (what a terminal's context makes clear, a window must say)."""
    from sts_mfa.cli.tty import prompts_allowed
    from sts_mfa.mfa import dialog

    chosen = dialog.choice(profile_setting, os.environ)
    if chosen == "none" or not prompts_allowed():
        return None, None
    window = in_a_window or text
    if chosen in dialog.DIALOGS:
        return None, dialog.asker(chosen, window, dialog.timeout_from(os.environ))
    on_terminal = terminal_prompt(text)
    if on_terminal is not None or chosen == "terminal":
        return on_terminal, None
    offered = dialog.offered(os.environ)
    return None, (dialog.asker(offered, window, dialog.timeout_from(os.environ)) if offered else None)


def terminal_prompt(text: str) -> Callable[[], str] | None:
    """A prompt where the person is: stdin and stderr when both are the terminal, else /dev/tty.

    Both, because credential_process passes the terminal as stdin but hides stderr, and
    a prompt nobody sees is a hang; /dev/tty reaches the person in that case too.
    """
    from sts_mfa.cli.tty import prompt_on_terminal, prompts_allowed

    if stdin_is_terminal() and stderr_is_terminal() and prompts_allowed():

        def prompt() -> str:
            return str(click.prompt(text, type=MFA_CODE, err=True))

        return prompt
    return prompt_on_terminal(text)
