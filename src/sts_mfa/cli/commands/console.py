"""`sts-mfa console [PROFILE]`: the AWS console in a browser, signed in as the MFA role."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import code_option, json_option, margin_option, mfa_session_options, profile_argument
from sts_mfa.errors import AwsError, UsageError
from sts_mfa.session.handoff import iso8601
from sts_mfa.session.model import Settings, Want
from sts_mfa.text import one_line

if TYPE_CHECKING:
    from sts_mfa.console import SignIn
    from sts_mfa.state.model import AnySession


@click.command(
    short_help=short_help("console"),
    epilog="""\b
Examples:
  sts-mfa console                         # the state file's role, in your browser
  sts-mfa console prod                    # a profile of ~/.aws/config
  sts-mfa console --destination s3        # land on the S3 console
  sts-mfa console --print | xclip         # the URL on stdout, for another browser
  sts-mfa console --session-duration 28800
\b
The URL signs whoever opens it in to the console as the role: it is good
for one sign-in within 15 minutes, and printed only with --print. The
console session lasts as long as the role session, or --session-duration.
STS_MFA_FEDERATION_URL and STS_MFA_CONSOLE_URL name another partition's
sign-in and console (`sandbox serve` exports the sandbox's).
""",
)
@profile_argument
@click.option(
    "--print",
    "print_url",
    is_flag=True,
    help="Print the sign-in URL on stdout instead of opening a browser (a bearer credential).",
)
@click.option(
    "--destination",
    metavar="URL|SERVICE",
    help="The console page to land on: a URL of the console, or a service name such as s3 "
    "[default: the console home of the session's region].",
)
@click.option(
    "--session-duration",
    type=click.IntRange(900, 43200),
    help="How long the console session lasts, in seconds (900-43200; at most 3600 for a "
    "PROFILE's role assumed from its MFA session) [default: as long as the role session].",
)
@code_option("MFA code if a new role session is needed.")
@click.option("--force", is_flag=True, help="Get a new role session even if a cached one is valid.")
@margin_option
@mfa_session_options
@json_option
@pass_app
def console(
    app: App,
    profile: str | None,
    print_url: bool,
    destination: str | None,
    session_duration: int | None,
    code: str | None,
    force: bool,
    refresh_margin: float,
    no_mfa_session: bool,
    mfa_session_duration: int | None,
) -> None:
    """Open the AWS console signed in as the role (the state file's, or PROFILE's).

    Uses the role session as `assume` would (cached, renewed when near
    expiry; for a PROFILE, a role session assumed from its MFA session),
    exchanges it for a sign-in token at the federation endpoint, and opens
    the sign-in URL with your web browser (BROWSER, else the system's).
    """
    from sts_mfa import console as core
    from sts_mfa.console import places

    if profile is not None and app.source.config_profile(profile).is_user:
        raise UsageError(
            f"profile {profile} is a user profile: the console signs in only a role session, never an "
            "MFA session from GetSessionToken; name a role profile whose source_profile it is"
        )
    region = places.check_region(_region(app, profile))
    where = places.places(os.environ, region)  # all input checked before a code is spent
    page = places.destination(where, region, destination)
    places.check_session_endpoint(where, _endpoint(app, profile))
    options = Settings.of(no_mfa_session, mfa_session_duration)
    chained = profile is not None and options.use_mfa_session  # assumed with the MFA session's keys
    duration = core.session_duration(session_duration, chained=chained, what=f"profile {profile}'s role")
    got = app.obtain(profile, Want(margin=refresh_margin, force=force), code, options)
    session = got.session
    if app.verbose:
        source = "the cached role session" if got.cached else "a new role session"
        asked = f", SessionDuration {duration}" if duration is not None else ""
        click.echo(f"sts-mfa: exchanging {source} at {where.federation}{asked}", err=True)
    signed = core.sign_in(session, where, page, duration=duration, now=app.clock.now())
    role = one_line(session.assumed_role_arn or session.role_arn)
    if print_url:
        app.warn(
            f"the URL on stdout is a bearer credential: whoever opens it before {_clock(signed.valid_until)} "
            f"(15 minutes, one sign-in) is signed in to the AWS console as {role}; keep it out of "
            "chats, tickets and shell history"
        )
    else:
        _open_in_browser(signed.url)
        if not app.quiet:
            click.echo(f"sts-mfa: opened the AWS console as {role} in your browser", err=True)
    if not app.quiet:
        click.echo(f"sts-mfa: {_console_lasts(signed)}", err=True)
    if app.json:
        app.echo_json(_document(signed, session, print_url))
    elif print_url:
        click.echo(signed.url)


def _region(app: App, profile: str | None) -> str:
    """The session's region: --region/AWS_REGION, else the profile's or the state file's."""
    from sts_mfa.console.places import DEFAULT_REGION

    if app.region:
        return app.region
    if profile is not None:
        return app.source.config_profile(profile).region or DEFAULT_REGION
    return app.source.load_state().region or DEFAULT_REGION


def _endpoint(app: App, profile: str | None) -> str | None:
    """Where the role session comes from (None: AWS): the flag or variable, else the profile's."""
    endpoint = app.source.effective_endpoint()
    if endpoint is None and profile is not None:
        endpoint = app.source.profile_endpoint(app.source.config_profile(profile))
    return endpoint


def _clock(epoch: float) -> str:
    return iso8601(epoch).replace("T", " ").replace("Z", " UTC")


def _console_lasts(signed: SignIn) -> str:
    if signed.session_duration is not None:
        return f"the console session lasts {signed.session_duration} s from the sign-in"
    assert signed.console_until is not None
    return f"the console session ends with the role session, at {_clock(signed.console_until)}"


def _document(signed: SignIn, session: AnySession, print_url: bool) -> dict[str, object]:
    document: dict[str, object] = {
        "role_arn": session.role_arn,
        "assumed_role_arn": session.assumed_role_arn,
        "destination": signed.destination,
        "url_valid_until": iso8601(signed.valid_until),
        "console_session_until": iso8601(signed.console_until) if signed.console_until else None,
        "session_duration": signed.session_duration,
        "opened": not print_url,
    }
    if print_url:
        document["url"] = signed.url
    return document


def _open_in_browser(url: str) -> None:
    """`webbrowser`, with the browser's own chatter kept off stdout (which holds only data)."""
    import webbrowser

    try:
        with _stdout_to_stderr():
            opened = webbrowser.open(url, new=2)
    except webbrowser.Error:
        opened = False
    if not opened:
        raise AwsError(
            "no web browser could be opened",
            hint="set BROWSER to one, or use --print and open the URL yourself",
        )


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    try:
        out, err = sys.stdout.fileno(), sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):  # not real files (a test's runner): nothing to do
        yield
        return
    sys.stdout.flush()
    saved = os.dup(out)
    try:
        os.dup2(err, out)
        yield
    finally:
        os.dup2(saved, out)
        os.close(saved)
