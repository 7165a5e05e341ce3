"""`sts-mfa assume`: the role session, with MFA, cached for other programs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from sts_mfa.cli.app import App, pass_app, short_help, stderr_is_terminal, stdin_is_terminal
from sts_mfa.cli.params import MFA_CODE, MFA_CODE_OR_STDIN, read_code_from_stdin
from sts_mfa.credentials import (
    DEFAULT_REFRESH_MARGIN,
    FORMATS,
    MAX_REFRESH_MARGIN,
    AnySession,
    cached_session,
    read_cached,
    render,
)
from sts_mfa.errors import NoCode

if TYPE_CHECKING:
    from sts_mfa.state import State

LAST_RESORT_SECONDS = 60.0  # a phone-mode session this close to expiry is not handed out


def margin_option(f: Callable[..., object]) -> Callable[..., object]:
    return click.option(
        "--refresh-margin",
        type=click.FloatRange(0, MAX_REFRESH_MARGIN),
        default=DEFAULT_REFRESH_MARGIN,
        show_default=True,
        envvar="STS_MFA_REFRESH_MARGIN",
        help="Renew a cached session with less than this many seconds left [env: STS_MFA_REFRESH_MARGIN].",
    )(f)


def code_asker(app: App, code: str | None, state: State) -> Callable[[], str] | None:
    """Where the MFA code comes from: --code/-/env, else the software token, else a prompt."""
    if code == "-":
        return lambda: read_code_from_stdin(sys.stdin)
    if code is not None:
        return lambda: code
    if state.mode == "software" and state.seed:
        return None  # the software token
    if stdin_is_terminal() and stderr_is_terminal():
        # Both: credential_process passes the terminal as stdin but hides stderr,
        # and a prompt nobody sees is a hang.
        return lambda: str(click.prompt("MFA code from your authenticator app", type=MFA_CODE, err=True))

    def no_code() -> str:
        raise NoCode(
            "no cached session with enough time left, no MFA code, and no terminal to ask for one: "
            f"refresh it with `sts-mfa --state {app.state_path} assume --code CODE` "
            "(or pass --code -, or set STS_MFA_CODE)"
        )

    return no_code


def obtain(
    app: App,
    *,
    code: str | None,
    duration: int | None,
    force: bool,
    margin: float,
) -> tuple[AnySession, bool]:
    """A session: from the cache without boto3 or the state model when possible, else AssumeRole.

    The fast path reads the file lock-free; a miss (or anything unusual) takes
    the lock, re-reads and validates the state, and renews only if still needed,
    so many processes asking at once make one AssumeRole.
    """
    if not force:
        cached = read_cached(app.state_file, app.clock.now(), margin, app.effective_endpoint())
        if cached is not None:
            return cached, True
    with app.transaction() as txn:
        state = txn.require()  # a missing state file is said before boto3 is even imported
        from sts_mfa import scenario

        ctx = app.context_for(state)
        try:
            result = scenario.assume(
                ctx,
                txn,
                ask_code=code_asker(app, code, state),
                duration=duration,
                force=force,
                margin=margin,
            )
        except NoCode:
            # No code to be had: a session inside the refresh margin still beats none.
            session = None if force else cached_session(state, app.clock.now(), LAST_RESORT_SECONDS)
            if session is None:
                raise
            left = int(session.remaining(app.clock.now()))
            click.echo(
                f"sts-mfa: warning: the cached session expires in {left} s and there is no MFA code to "
                f"renew it; run `sts-mfa --state {app.state_path} assume --code CODE` in a terminal",
                err=True,
            )
            return session, True
    warning = ctx.aws.skew_warning()
    if warning:
        ctx.report.warn(warning)
    return result.session, result.cached


@click.command(
    short_help=short_help("assume"),
    epilog="""\b
Examples:
  sts-mfa assume                          # software token, or prompts for a code
  sts-mfa assume --code 123456 --format env
  eval "$(sts-mfa assume --format env)"
  echo 123456 | sts-mfa assume --code - --format json
  sts-mfa assume --format process         # for credential_process in ~/.aws/config
\b
The session is cached in the state file and reused while more than
--refresh-margin seconds remain; --force gets a new one.
""",
)
@click.option(
    "--code",
    type=MFA_CODE_OR_STDIN,
    envvar="STS_MFA_CODE",
    help="The 6-digit MFA code, or - to read it from stdin [env: STS_MFA_CODE].",
)
@click.option(
    "--duration",
    type=click.IntRange(900, 43200),
    help="Session length in seconds (900-43200, at most the role's maximum) [default: 3600].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="text (no secrets), json (STS credentials), env (export lines), process (credential_process).",
)
@click.option("--force", is_flag=True, help="Get a new session even if a cached one is valid.")
@margin_option
@click.option("--json", "json_flag", is_flag=True, help="Same as --format json.")
@pass_app
def assume(
    app: App,
    code: str | None,
    duration: int | None,
    fmt: str | None,
    force: bool,
    refresh_margin: float,
    json_flag: bool,
) -> None:
    """Assume the role with an MFA code and print or cache the temporary credentials.

    The code comes from --code, --code - (stdin), STS_MFA_CODE, the software
    token, or a prompt when stdin is a terminal. With no code and no terminal it
    fails at once (exit 2) instead of hanging. Codes are single-use: a code
    just used is refused locally, and the software token waits for the next
    30-second window rather than resend one.
    """
    if (json_flag or (app.json and fmt is None)) and fmt not in (None, "json"):
        raise click.UsageError("--json and --format are two ways to say the same thing: use one")
    fmt = "json" if (json_flag or (app.json and fmt is None)) else (fmt or "text")
    session, cached = obtain(app, code=code, duration=duration, force=force, margin=refresh_margin)
    if app.verbose:
        source = "the cached session" if cached else "a new session"
        click.echo(f"sts-mfa: using {source} ({session.remaining(app.clock.now()):.0f} s left)", err=True)
    click.echo(render(session, fmt, now=app.clock.now(), cached=cached))
