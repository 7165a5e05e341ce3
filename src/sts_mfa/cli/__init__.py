"""The `sts-mfa` entry point.

Every command goes through Click (`sts_mfa.cli.group`), except one answer: the
cached session for `assume --format process|json|env`. That call is what the
AWS CLI makes on every use of a `credential_process` profile (it caches
nothing), so when the state file holds a valid session it is answered here,
before Click is imported, from the same reader and renderer the Click path
uses. Anything else, any doubt, any error: Click handles it, and says what is
wrong.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sts_mfa.cli.group import cli

__all__ = ["cli", "main"]

FAST_FORMATS = ("process", "json", "env")


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
    if args[:2] == ["assume", "--format"] and len(args) == 3:
        fmt = args[2]
    elif len(args) == 2 and args[0] == "assume" and args[1].startswith("--format="):
        fmt = args[1].partition("=")[2]
    else:
        return None
    if fmt not in FAST_FORMATS:
        return None
    if not state:
        from sts_mfa import DEFAULT_STATE_FILE

        state = DEFAULT_STATE_FILE
    import time

    from sts_mfa.credentials import DEFAULT_REFRESH_MARGIN, MAX_REFRESH_MARGIN, read_cached, render

    try:
        margin = float(environ.get("STS_MFA_REFRESH_MARGIN") or DEFAULT_REFRESH_MARGIN)
    except ValueError:
        return None
    if not 0 <= margin <= MAX_REFRESH_MARGIN:  # Click's own range for --refresh-margin
        return None
    now = time.time()
    try:
        session = read_cached(state, now, margin, environ.get("AWS_ENDPOINT_URL") or None)
        return None if session is None else render(session, fmt, now=now, cached=True)
    except Exception:  # an unsafe or unreadable file, a value out of range: Click says what is wrong
        return None


def _stdout_is_open() -> bool:
    try:
        return sys.stdout is not None and not sys.stdout.closed and os.fstat(sys.stdout.fileno()) is not None
    except (OSError, ValueError, AttributeError):
        return False


def main() -> None:
    """Run `sts-mfa`: data on stdout, and one line on stderr if stdout cannot take it.

    A closed stdout (`>&-`) is refused before anything is done: a credential helper
    that exits 0 having printed nothing would hand its caller nothing. A reader
    that goes away mid-output (`| head -1`) ends the run with one line and exit 1,
    here or inside Click, never with Python's "Exception ignored" at exit.
    """
    if not _stdout_is_open():
        from sts_mfa.cli.boundary import output_gone

        output_gone()
    code: int | str | None = 0
    try:
        answer = cached_answer(sys.argv[1:], os.environ)
        if answer is not None:
            sys.stdout.write(answer + "\n")
        else:
            from sts_mfa.cli.group import main as click_main

            click_main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, (int, str)) or e.code is None else 1
    except BrokenPipeError:
        from sts_mfa.cli.boundary import output_gone

        output_gone()
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        from sts_mfa.cli.boundary import output_gone

        output_gone()
    if code not in (0, None):
        sys.exit(code)


def __getattr__(name: str) -> Any:
    if name == "cli":  # the Click group, imported only when asked for
        from sts_mfa.cli.group import cli

        return cli
    raise AttributeError(name)
