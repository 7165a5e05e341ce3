"""`sts-mfa assume`: the role session, with MFA, cached for other programs."""

from __future__ import annotations

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import code_option, margin_option, mfa_session_options, profile_argument
from sts_mfa.session.handoff import FORMATS, render
from sts_mfa.session.model import Settings, Want


@click.command(
    short_help=short_help("assume"),
    epilog="""\b
Examples:
  sts-mfa assume                          # software token, or prompts for a code
  sts-mfa assume --code 123456 --format env
  eval "$(sts-mfa assume --format env)"
  sts-mfa assume alice --format fish | source   # fish; powershell: | Invoke-Expression
  echo 123456 | sts-mfa assume --code - --format json
  sts-mfa assume --format process         # for credential_process in ~/.aws/config
  sts-mfa assume prod --format process    # a profile of ~/.aws/config (role_arn, mfa_serial)
  sts-mfa assume alice                    # a user profile (keys, mfa_serial): its MFA session
\b
The session is cached (in the state file, or for a profile in the private
cache) and reused while more than --refresh-margin seconds remain; --force
gets a new one. A profile's roles share one MFA session: one code for many
roles (--no-mfa-session turns it off).
""",
)
@profile_argument
@code_option("The 6-digit MFA code, or - to read it from stdin.")
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
    help="text (no secrets), json (STS credentials), process (credential_process), or a shell's lines "
    "as `aws configure export-credentials` prints them: env (export), env-no-export, fish, powershell, "
    "windows-cmd.",
)
@click.option("--force", is_flag=True, help="Get a new session even if a cached one is valid.")
@margin_option
@click.option("--json", "json_flag", is_flag=True, help="Same as --format json.")
@mfa_session_options
@pass_app
def assume(
    app: App,
    profile: str | None,
    code: str | None,
    duration: int | None,
    fmt: str | None,
    force: bool,
    refresh_margin: float,
    json_flag: bool,
    no_mfa_session: bool,
    mfa_session_duration: int | None,
) -> None:
    """Assume the role (the state file's, or PROFILE's) with MFA; print or cache the credentials.

    The code comes from --code, --code - (stdin), STS_MFA_CODE, the profile's
    mfa_process, the software token, or a prompt on the terminal (even when
    stdin and stderr are captured, as under credential_process). With no code
    and no terminal it fails at once (exit 2) instead of hanging. Codes are single-use: a code
    just used is refused locally, and the software token waits for the next
    30-second window rather than resend one.
    """
    if (json_flag or (app.json and fmt is None)) and fmt not in (None, "json"):
        raise click.UsageError("--json and --format are two ways to say the same thing: use one")
    fmt = "json" if (json_flag or (app.json and fmt is None)) else (fmt or "text")
    # credential_process: an SDK that refreshes the session on its own clock (see sts_mfa.session.state_file)
    want = Want(margin=refresh_margin, duration=duration, force=force, for_sdk=fmt == "process")
    got = app.obtain(profile, want, code, Settings.of(no_mfa_session, mfa_session_duration))
    if app.verbose:
        source = "the cached session" if got.cached else "a new session"
        click.echo(f"sts-mfa: using {source} ({got.session.remaining(app.clock.now()):.0f} s left)", err=True)
    click.echo(render(got.session, fmt, now=app.clock.now(), cached=got.cached, source=got.source))
