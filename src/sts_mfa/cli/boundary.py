"""How every run ends and every message leaves: one line on stderr, a documented exit code.

Failures cross from the core as `StsMfaError`s (each carrying its exit code) and are
printed here as one `sts-mfa: error:` line; botocore's exceptions are translated
first; Ctrl-C (or Ctrl-C/Ctrl-D at a prompt) is one line and exit 130; a stdout that
closed or lost its reader is one line and exit 1. Warnings have one format too.
Light on purpose: a failing run imports only what it needs to say why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeGuard, TypeVar

import click

from sts_mfa.text import one_line

T = TypeVar("T")

INTERRUPTED = "sts-mfa: interrupted; the state file keeps what was done so far"
# What writing to stdout fails with besides a gone reader (`> /dev/full`, a full disk, a
# dead terminal): our own files are written by `storage`, whose errors say which file.
CANNOT_WRITE = frozenset({errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT})


def cannot_write(e: BaseException) -> TypeGuard[OSError]:
    """An OSError that means the output could not be written (not a gone reader: EPIPE)."""
    return isinstance(e, OSError) and e.errno in CANNOT_WRITE


def warning_text(message: str) -> str:
    """The one form of a warning, wherever it is printed."""
    return f"sts-mfa: warning: {one_line(message)}"


def warn(message: str) -> None:
    click.echo(warning_text(message), err=True)


def fail(error: Any) -> NoReturn:
    """Print an StsMfaError as one line and exit with its code."""
    click.echo(f"sts-mfa: error: {one_line(str(error))}", err=True)
    sys.exit(int(error.exit_code))


def interrupted() -> NoReturn:
    """Ctrl-C anywhere, or Ctrl-C/Ctrl-D at a prompt: one line, exit 130, state resumable."""
    click.echo("", err=True)  # end the line the prompt or spinner was on
    click.echo(INTERRUPTED, err=True)
    sys.exit(130)


def output_gone(error: OSError | None = None) -> NoReturn:
    """stdout was closed, its reader went away (`| head -1`), or it cannot be written
    (`> /dev/full`, `error`): say so once, exit 1."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing more can fail at exit's flush
    why = f"could not be written: {error.strerror}" if error else "was closed before everything was written"
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.write(f"sts-mfa: error: standard output {why}\n")
        sys.stderr.flush()
    os._exit(1)


def guarded(run: Callable[[], T], *, doing: str) -> T:
    """Run a command: its expected failures become one line and an exit code, never a traceback.

    `STS_MFA_DEBUG=1` lets every exception through with its traceback.
    """
    debug = os.environ.get("STS_MFA_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
    try:
        return run()
    except (click.exceptions.Exit, click.ClickException):
        raise
    except (KeyboardInterrupt, click.exceptions.Abort):  # Abort: Ctrl-C or Ctrl-D at a prompt
        if debug:
            raise
        interrupted()
    except BrokenPipeError:
        output_gone()
    except Exception as e:
        if debug:
            raise
        from sts_mfa.errors import ExitCode, StsMfaError  # only a failing run pays for it

        if isinstance(e, StsMfaError):
            fail(e)
        if cannot_write(e):
            output_gone(e)
        if type(e).__module__.startswith("botocore"):
            from sts_mfa.aws.errors import translate

            fail(translate(e, doing))
        click.echo(
            f"sts-mfa: internal error: {type(e).__name__}: {one_line(str(e))} "
            "(set STS_MFA_DEBUG=1 for the traceback)",
            err=True,
        )
        sys.exit(int(ExitCode.ERROR))
