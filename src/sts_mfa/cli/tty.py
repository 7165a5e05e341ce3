"""Asking a person for a code on the controlling terminal, even when stdin and stderr are captured.

That is the `credential_process` case: the AWS CLI or Terraform runs sts-mfa with its
output piped and its stderr hidden, so a prompt there would look like a hang. The
terminal the person is typing in is still `/dev/tty`; when there is none (CI, cron,
a daemon) there is no one to ask and the caller fails at once with the command to run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

import click

from sts_mfa.mfa.codes import code_problem, normalize_code

TRIES = 3


NO_PROMPT = "STS_MFA_NO_PROMPT"  # set (to anything but 0): never ask a person; fail at once


def prompts_allowed() -> bool:
    return os.environ.get(NO_PROMPT, "").strip() in ("", "0")


def terminal_available() -> bool:
    """Is there a controlling terminal to ask on (and may we)?"""
    if not prompts_allowed():
        return False
    try:
        fd = os.open("/dev/tty", os.O_RDWR | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    os.close(fd)
    return True


def prompt_on_terminal(text: str) -> Callable[[], str] | None:
    """A code source that asks on /dev/tty, or None when there is no terminal."""
    if not terminal_available():
        return None

    def ask() -> str:
        # One descriptor, read through a line reader and written directly: a terminal is
        # not seekable, which Python's read-write ("r+") file objects require.
        fd = os.open("/dev/tty", os.O_RDWR | getattr(os, "O_NOCTTY", 0))
        with open(fd, encoding="utf-8", errors="replace", closefd=True) as reader:

            def say(words: str) -> None:
                with contextlib.suppress(OSError):
                    os.write(fd, words.encode("utf-8", "replace"))

            for _ in range(TRIES):
                say(f"{text}: ")
                line = reader.readline(64)
                if line == "":  # Ctrl-D
                    say("\n")
                    raise click.exceptions.Abort()
                problem = code_problem(line.strip())
                if problem is None:
                    return normalize_code(line.strip())
                say(f"Error: {problem}\n")
        raise click.BadParameter(f"no valid code after {TRIES} tries", param_hint="the MFA code")

    return ask
