"""`exec --server`'s command: run to its end, with signals passed on and its exit status passed back.

Plain `exec` replaces itself with the command; with `--server` sts-mfa must stay to serve
credentials, so the command is its child, in the same process group, with the same
stdin, stdout and stderr. What reaches sts-mfa is passed on:

* SIGTERM, SIGUSR1 and SIGUSR2 always (`kill PID`, a supervisor, `timeout`);
* SIGINT, SIGQUIT and SIGHUP only when sts-mfa is not in its terminal's foreground
  process group. In the foreground, Ctrl-C, Ctrl-\\ and a hangup come from the terminal,
  which sends them to the whole group, the command included: sending them again would
  make one Ctrl-C count twice, and Terraform takes a second interrupt as "stop at once,
  data loss may occur".

sts-mfa itself keeps running (and serving) until the command exits, whatever it is sent
(but SIGKILL), and then exits as a shell reports the command: its exit code, or 128 plus
the number of the signal that ended it. A command that cannot be started is the shell's
127 (not found) or 126 (not runnable), as plain `exec` says.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from types import FrameType

from sts_mfa.errors import CommandFailed

ALWAYS_FORWARDED = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)
FROM_THE_TERMINAL = (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP)


def in_terminal_foreground() -> bool:
    """Is this process in the foreground process group of its controlling terminal?"""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def exit_status(returncode: int) -> int:
    """What a shell reports: the exit code, or 128 + N for a child ended by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def start(command: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start the command, or say as the shell would why it cannot be (127, 126)."""
    for stream in (sys.stdout, sys.stderr):  # what sts-mfa said comes before what the command says
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.flush()
    try:
        return subprocess.Popen(list(command), env=dict(env))  # noqa: S603 - running it is the point
    except OSError as e:
        raise CommandFailed.starting(command[0], e) from None


def run(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run `command` to its end with signals passed on (see the module docstring); its exit status."""
    child: subprocess.Popen[bytes] | None = None
    pending: list[int] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        if signum in FROM_THE_TERMINAL and in_terminal_foreground():
            return  # the terminal sent it to the command too
        if child is None:
            pending.append(signum)
        else:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)

    handled = (*ALWAYS_FORWARDED, *FROM_THE_TERMINAL)
    main = threading.current_thread() is threading.main_thread()
    previous = {signum: signal.signal(signum, forward) for signum in handled} if main else {}
    try:
        child = start(command, env)
        for signum in pending:  # what arrived while it was being started
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)
        return exit_status(child.wait())
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
