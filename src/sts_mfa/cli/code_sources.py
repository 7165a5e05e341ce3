"""Where a command's MFA code comes from, chosen from its flags and the terminal.

The session policy (cache, lock, AssumeRole, last resort) is `sts_mfa.session.state_file`'s;
here a command only says which code sources it offers, and its warnings are said.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from sts_mfa.cli.params import MFA_CODE, read_code_from_stdin
from sts_mfa.cli.terminal import stderr_is_terminal, stdin_is_terminal
from sts_mfa.errors import NoCode, StsMfaError
from sts_mfa.session.state_file import Codes, Obtained, Want

if TYPE_CHECKING:
    from collections.abc import Callable

    from sts_mfa.cli.app import App
    from sts_mfa.state.model import State


def from_flags(app: App, code: str | None) -> Codes:
    """--code CODE, --code - (stdin), STS_MFA_CODE; the software token; a prompt on a terminal."""
    given = given_code(code)
    prompt = terminal_prompt("MFA code from your authenticator app")

    def missing(state: State) -> StsMfaError:
        import shlex

        refresh = shlex.join(["sts-mfa", "--state", str(app.state_path), "assume", "--code", "CODE"])
        return NoCode(
            "no cached session with enough time left, no MFA code, and no terminal to ask for one: "
            f"refresh it with `{refresh}` "
            "(or pass --code -, or set STS_MFA_CODE)"
        )

    return Codes(given=given, prompt=prompt, missing=missing)


def given_code(code: str | None) -> Callable[[], str] | None:
    """The code the user gave: `--code CODE` (or STS_MFA_CODE), `--code -` (a line of stdin), or none."""
    if code == "-":
        return lambda: read_code_from_stdin(sys.stdin)
    if code is not None:
        return lambda: code
    return None


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


def obtain(app: App, want: Want, codes: Codes) -> Obtained:
    """The session from `sts_mfa.session.state_file`, its warnings said once, here."""
    got = app.sessions().get(want, codes)
    for warning in got.warnings:
        app.warn(warning)
    return got
