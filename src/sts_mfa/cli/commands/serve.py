"""`sts-mfa serve [PROFILE]`: a local credentials endpoint, until interrupted.

How the endpoint gets and renews its sessions is `sts_mfa.server.serving`'s (shared with
`exec --server`); here: the token file, the export lines, stopping on a signal.
"""

from __future__ import annotations

import contextlib
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import code_option, margin_option, mfa_session_options, profile_argument
from sts_mfa.server.serving import DEFAULT_HOST, OUTRANKING, Running, endpoint_environment, running_endpoint
from sts_mfa.session.model import Settings

if TYPE_CHECKING:
    from types import FrameType


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT, SIGTERM, SIGHUP or SIGQUIT, so that the server stops cleanly (its token
    file removed) on any of them."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
    previous = {signum: signal.signal(signum, handler) for signum in handled}
    try:
        yield stop
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)


@click.command(
    short_help=short_help("serve"),
    epilog="""\b
Examples:
  sts-mfa serve                       # the state file's role, until Ctrl-C
  sts-mfa serve prod > ~/.prod-endpoint &    # a profile of ~/.aws/config
  . ~/.prod-endpoint && aws s3 ls     # any shell of yours, any SDK
\b
It prints export lines: the endpoint's URL, a private file holding its
token (gone when the server stops, even if it is killed), and the AWS
files as /dev/null, so no [default] profile wins over it. SDKs fetch
credentials from it and fetch again before they expire; the server renews
the session as `assume` would, without a prompt. Loopback only; every
request needs the token.
""",
)
@profile_argument
@code_option("MFA code if a new session is needed to start.")
@margin_option
@mfa_session_options
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="The loopback address to listen on (127.0.0.1, another 127.x, or ::1); nothing else is accepted.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="The port [default: a free one].")
@click.option(
    "--show-token",
    is_flag=True,
    help="Also print AWS_CONTAINER_AUTHORIZATION_TOKEN itself (for SDKs that cannot read the token file).",
)
@pass_app
def serve(
    app: App,
    profile: str | None,
    code: str | None,
    refresh_margin: float,
    no_mfa_session: bool,
    mfa_session_duration: int | None,
    host: str,
    port: int,
    show_token: bool,
) -> None:
    """Serve the role session (the state file's, or PROFILE's) to your own programs until interrupted.

    A credentials endpoint on a loopback address in the format every AWS SDK
    and the AWS CLI read (AWS_CONTAINER_CREDENTIALS_FULL_URI). Each request
    gets the current session, renewed ahead of its expiry through the cache
    and the MFA session, so many shells or an IDE share one renewal. Stops on
    Ctrl-C, SIGTERM, SIGHUP or SIGQUIT (exit 0).
    """
    from sts_mfa.server import tokenfile

    options = Settings.of(no_mfa_session, mfa_session_duration)
    with running_endpoint(app, profile, code, refresh_margin, options, host=host, port=port) as running:
        held = tokenfile.create(running.token, app.cache_root())  # and stale token files swept
        try:
            with _stopped_by_signals() as stop:  # only now: at start-up, Ctrl-C ends a prompt
                exports = _print_exports(app, running, held.path, show_token)
                while not stop.wait(0.5):
                    pass
        finally:
            held.remove()
    click.echo(
        f"sts-mfa: stopped the credentials endpoint; in shells that sourced its lines: {undo_line(exports)}",
        err=True,
    )


def undo_line(exports: dict[str, str]) -> str:
    """What gives a shell that sourced the lines its own AWS files back: the endpoint's variables and
    the /dev/null files unset (the session's endpoint and region stay: they were most likely the
    shell's already, and are no credentials)."""
    kept = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION")
    return f"unset {' '.join(name for name in exports if name not in kept)}"


def _readable_by_others(stream: object) -> bool:
    """Is `stream` a regular file that users other than its owner may read?"""
    import os
    import stat

    try:
        info = os.fstat(stream.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISREG(info.st_mode) and bool(info.st_mode & 0o044)


def _print_exports(app: App, running: Running, path: str, show_token: bool) -> dict[str, str]:
    """The shell lines on stdout (and what they export, returned); where it serves on stderr."""
    exports = endpoint_environment(app, running)
    exports["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = path
    if show_token:
        exports["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = running.token
    lines = [f"unset {' '.join(OUTRANKING)}"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in exports.items()]
    lines.append(f"# to undo these lines: {undo_line(exports)}")
    click.echo("\n".join(lines))
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    if show_token and _readable_by_others(sys.stdout):
        app.warn(
            "the token went to a file others can read: anyone who reads it gets the role's credentials "
            "from the endpoint (chmod 600 it, or leave out --show-token: the token file is private)"
        )
    click.echo(
        f"sts-mfa: serving the role's session at {running.server.url} until interrupted "
        f"(the token is in {path})",
        err=True,
    )
    return exports
