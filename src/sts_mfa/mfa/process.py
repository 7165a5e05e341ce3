"""Running a profile's `mfa_process`: a command that prints the current MFA code.

aws-vault's name for it; `ykman oath accounts code -s NAME`, a password manager's CLI
or the sandbox's `python -m sts_mfa.sandbox.totp_code FILE` are typical. It is run
without a shell (the line is split like a shell would, but nothing is interpreted),
in a session of its own (so a timeout or an endless output kills everything it
started; it has no terminal to read from), its stderr passed through to ours (a
touch prompt reaches the person), its stdin closed, at most 4 KiB of its output
read and checked: exactly one 6-digit code.
"""

from __future__ import annotations

import contextlib
import math
import os
import selectors
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping

from sts_mfa.errors import CredentialsError, UsageError
from sts_mfa.mfa.codes import code_problem, normalize_code
from sts_mfa.text import one_line

DEFAULT_TIMEOUT = 60.0  # a person may have to touch a key or approve a push
TIMEOUT_VARIABLE = "STS_MFA_MFA_PROCESS_TIMEOUT"
MAX_OUTPUT = 4096  # a code is 6 digits and a newline; anything near this is not a code
SHOWN_COMMAND = 200  # characters of the command line an error shows


def timeout_from(environ: Mapping[str, str]) -> float:
    """STS_MFA_MFA_PROCESS_TIMEOUT (seconds, more than 0, at most 600), else 60."""
    return seconds_from(environ, TIMEOUT_VARIABLE, DEFAULT_TIMEOUT, 600)


def seconds_from(environ: Mapping[str, str], variable: str, default: float, most: float) -> float:
    """A number of seconds from `variable` (more than 0, at most `most`), else `default`."""
    text = (environ.get(variable) or "").strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 0 < seconds <= most:
        raise UsageError(f"{variable} must be a number of seconds above 0 and at most {most:g}")
    return seconds


def run(command: str, *, profile: str, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The code `command` prints, or a one-line error saying what went wrong.

    Errors name the command as run, never what it printed: a password manager's CLI
    that prints more than a code may be printing a password.
    """
    try:
        argv = shlex.split(command)
    except ValueError as e:
        raise UsageError(f"profile {profile}: mfa_process is not a command line: {e}") from None
    if not argv:
        raise UsageError(f"profile {profile}: mfa_process is empty")
    where = f"profile {profile}: mfa_process {_as_run(argv)}"
    returncode, output = output_of(argv, timeout, where)
    if returncode != 0:
        raise CredentialsError(f"{where} failed (exit {returncode})")
    text = output.decode("utf-8", "replace").strip()
    if code_problem(text) is not None:
        raise CredentialsError(f"{where} printed no code: {_shape(text)}")
    return normalize_code(text)


def _as_run(argv: list[str]) -> str:
    """The command as it is run, quoted as a shell would need it, on one line and not too long."""
    shown = one_line(shlex.join(argv))
    return f"`{shown}`" if len(shown) <= SHOWN_COMMAND else f"`{shown[:SHOWN_COMMAND]}…`"


def _shape(text: str) -> str:
    """What was printed instead of a code, described without showing it."""
    if not text:
        return "its output was empty"
    lines = len(text.splitlines())
    return f"one line of 6 digits expected, it printed {lines} line(s) of {len(text)} characters"


def output_of(argv: list[str], timeout: float, where: str, *, stderr: int | None = None) -> tuple[int, bytes]:
    """Run `argv` in a session of its own; its exit status and (at most MAX_OUTPUT bytes of) its output.

    A session of its own makes it a process group, so a timeout or an endless output
    kills everything it started (a grandchild holding the pipe open too), not only it.
    Its stderr is ours unless `stderr` says otherwise (subprocess.DEVNULL).
    """
    try:
        child = subprocess.Popen(  # noqa: S603 - the user's own configured command, no shell
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True
        )
    except FileNotFoundError:
        raise CredentialsError(f"{where}: command not found") from None
    except PermissionError:
        raise CredentialsError(f"{where}: permission denied") from None
    except OSError as e:
        raise CredentialsError(f"{where}: {e.strerror or e}") from None
    deadline = time.monotonic() + timeout
    try:
        output = _read_bounded(child, deadline, where, timeout)
        try:
            return child.wait(max(deadline - time.monotonic(), 0)), output
        except subprocess.TimeoutExpired:
            raise _timed_out(where, timeout) from None
    finally:
        if child.stdout is not None:
            child.stdout.close()  # a writer still at it gets SIGPIPE
        if child.returncode is None:  # not reaped: its group is still there to kill
            _kill_group(child)


def _read_bounded(child: subprocess.Popen[bytes], deadline: float, where: str, timeout: float) -> bytes:
    """What `child` prints until it closes its output: at most MAX_OUTPUT bytes, before `deadline`."""
    assert child.stdout is not None
    fd = child.stdout.fileno()
    output = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _timed_out(where, timeout)
            if not selector.select(left):
                continue
            chunk = os.read(fd, MAX_OUTPUT + 1 - len(output))
            if not chunk:
                return bytes(output)
            output += chunk
            if len(output) > MAX_OUTPUT:
                raise CredentialsError(f"{where} printed more than {MAX_OUTPUT} bytes; a code is 6 digits")


def _timed_out(where: str, timeout: float) -> CredentialsError:
    return CredentialsError(f"{where} did not print a code within {timeout:.0f} s")


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the child's whole process group (its session), then reap the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    child.kill()  # should the group be gone, never wait on a child still running
    child.wait()
