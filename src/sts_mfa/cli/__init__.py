"""The `sts-mfa` entry point.

Every command goes through Click (`sts_mfa.cli.group`), except one answer: the
cached session for `assume --format F` (process, json, and the shells' formats). That call is
what the AWS CLI makes on every use of a `credential_process` profile (it caches
nothing), so when the state file holds a valid session it is answered here,
before Click is imported, from the same reader and renderer the Click path
uses. Anything else, any doubt, any error: Click handles it, and says what is
wrong.
"""

from __future__ import annotations

import _signal as signal  # type: ignore[import-not-found]  # the C module: `signal` imports enum
import os
import sys

from sts_mfa import IS_PROGRAM, _interrupted_early

TYPE_CHECKING = False  # not typing's: importing typing costs ~10 ms of every start (mypy reads it as True)
if TYPE_CHECKING:
    from typing import Any

    from sts_mfa.cli.group import cli

__all__ = ["cli", "main"]

FAST_FORMATS = ("process", "json", "env", "env-no-export", "fish", "powershell", "windows-cmd")


def cached_answer(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> str | None:
    """The output of `assume --format F` when it can come straight from the cache, else None.

    Only the exact shapes `[--state PATH] assume --format F` are taken, with the
    settings Click would read from the environment (STS_MFA_STATE,
    STS_MFA_REFRESH_MARGIN, AWS_ENDPOINT_URL); every other argument list, and
    completion mode, goes to Click.
    """
    if "_STS_MFA_COMPLETE" in environ or "assume" not in argv:
        return None  # decided without importing anything: --help and TAB stay on Click's path
    args = list(argv)
    state = environ.get("STS_MFA_STATE") or ""
    if len(args) >= 2 and args[0] == "--state":
        state, args = args[1], args[2:]
    elif args and args[0].startswith("--state="):
        state, args = args[0].partition("=")[2], args[1:]
    shape = _assume_shape(args)
    if shape is None:
        return None
    profile, fmt = shape
    if fmt not in FAST_FORMATS:
        return None
    if not state:
        from sts_mfa import DEFAULT_STATE_FILE

        state = DEFAULT_STATE_FILE
    import time

    from sts_mfa.session.handoff import DEFAULT_REFRESH_MARGIN, MAX_REFRESH_MARGIN, fit_for_sdk, render

    try:
        margin = float(environ.get("STS_MFA_REFRESH_MARGIN") or DEFAULT_REFRESH_MARGIN)
    except ValueError:
        return None
    if not 0 <= margin <= MAX_REFRESH_MARGIN:  # Click's own range for --refresh-margin
        return None
    now = time.time()
    endpoint = environ.get("AWS_ENDPOINT_URL") or None
    try:
        if profile is not None:
            session = _cached_profile_session(profile, environ, endpoint, now, margin)
        else:
            session = _cached_state_session(state, environ, endpoint, now, margin)
        if session is None or (fmt == "process" and not fit_for_sdk(session, now, margin)):
            return None  # the Click path renews it, or says why it cannot
        return render(session, fmt, now=now, cached=True)
    except Exception:  # an unsafe or unreadable file, a value out of range: Click says what is wrong
        return None


def _assume_shape(args: list[str]) -> tuple[str | None, str] | None:
    """(profile or None, format) for `assume [PROFILE] --format F` in either order, else None."""
    if not args or args[0] != "assume":
        return None
    rest = args[1:]
    if len(rest) >= 1 and rest[0].startswith("--format="):
        fmt, rest = rest[0].partition("=")[2], rest[1:]
    elif len(rest) >= 2 and rest[0] == "--format":
        fmt, rest = rest[1], rest[2:]
    elif len(rest) >= 2 and not rest[0].startswith("-"):
        profile, more = rest[0], rest[1:]
        inner = _assume_shape(["assume", *more])
        return None if inner is None or inner[0] is not None else (profile, inner[1])
    else:
        return None
    if not rest:
        return None, fmt
    if len(rest) == 1 and not rest[0].startswith("-"):
        return rest[0], fmt
    return None


def _cached_state_session(state: str, environ: Any, endpoint: str | None, now: float, margin: float) -> Any:
    """The state file's cached session, if the file is signed under the key of the cache
    directory the full path would use (where that cannot be known without platformdirs: None)."""
    from sts_mfa.files import cache
    from sts_mfa.state.cached import read_cached

    root = cache.fast_root(environ)
    return read_cached(state, now, margin, endpoint, root) if root else None


def _cached_profile_session(
    profile: str, environ: Any, endpoint: str | None, now: float, margin: float
) -> Any:
    """A profile's cached role session, if its config is unchanged since it was cached."""
    from sts_mfa.files import cache
    from sts_mfa.session import cache as session_cache

    root = cache.fast_root(environ)
    entry = session_cache.light_profile_entry(root, profile, environ, endpoint) if root else None
    return session_cache.usable_session(entry.get("session") if entry else None, None, now, margin)


def _is_open(stream: Any) -> bool:
    try:
        return stream is not None and not stream.closed and os.fstat(stream.fileno()) is not None
    except (OSError, ValueError, AttributeError):
        return False


def _runs_a_child(argv: list[str]) -> bool:
    """`exec`: the child, not sts-mfa, decides whether it needs stdout."""
    words = [a for a in argv if not a.startswith("-")]
    return bool(words) and words[0] == "exec"


def _silence_closed_stderr() -> None:
    """With stderr closed, messages would go nowhere, or worse, to stdout: give them /dev/null."""
    if _is_open(sys.stderr):
        return
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        if fd != 2:
            os.dup2(fd, 2)
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - lives as long as the process
    except OSError:
        pass


def main() -> None:
    """Run `sts-mfa`: data on stdout, and one line on stderr if stdout cannot take it.

    A closed stdout (`>&-`) is refused before anything is done: a credential helper
    that exits 0 having printed nothing would hand its caller nothing. A reader
    that goes away mid-output (`| head -1`) ends the run with one line and exit 1,
    here or inside Click, never with Python's "Exception ignored" at exit.
    """
    _silence_closed_stderr()
    if not _is_open(sys.stdout) and not _runs_a_child(sys.argv[1:]):
        from sts_mfa.cli.boundary import output_gone

        output_gone()
    code: int | str | None = 0
    try:
        answer = cached_answer(sys.argv[1:], os.environ)
        if answer is not None:
            sys.stdout.write(answer + "\n")
        else:
            from sts_mfa.cli.group import main as click_main

            if signal.getsignal(signal.SIGINT) is _interrupted_early:  # set in sts_mfa/__init__
                # From here Ctrl-C raises KeyboardInterrupt, for the error boundary to end cleanly.
                signal.signal(signal.SIGINT, signal.default_int_handler)
            click_main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, (int, str)) or e.code is None else 1
    except BrokenPipeError:
        from sts_mfa.cli.boundary import output_gone

        output_gone()
    except OSError as e:  # the cached answer written to a stdout that cannot take it
        from sts_mfa.cli.boundary import cannot_write, output_gone

        if cannot_write(e):
            output_gone(e)
        raise
    if IS_PROGRAM:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the work is done: a late Ctrl-C changes nothing
    try:
        if _is_open(sys.stdout):
            sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError) as e:
        from sts_mfa.cli.boundary import cannot_write, output_gone

        output_gone(e if cannot_write(e) else None)
    if code not in (0, None):
        sys.exit(code)


def __getattr__(name: str) -> Any:
    if name == "cli":  # the Click group, imported only when asked for
        from sts_mfa.cli.group import cli

        return cli
    raise AttributeError(name)
