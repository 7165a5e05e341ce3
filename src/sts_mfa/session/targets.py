"""What a command works on: the state file's role, or a profile from the AWS config.

`assume`, `exec`, `list-buckets`, `check-deny` and `status` take an optional PROFILE;
without one they work on the state file as always. Here the CLI turns its flags
into code sources and settings for either kind, and says what happened.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sts_mfa.cli.completion import complete_profile
from sts_mfa.session.state_file import Obtained, Want

if TYPE_CHECKING:
    from sts_mfa.cli.app import App
    from sts_mfa.session.profile import ProfileSessions
    from sts_mfa.session.profiles import Profile
    from sts_mfa.session.state_file import ProfileCodes, Settings

F = TypeVar("F", bound=Callable[..., Any])
NO_MFA_SESSION = "STS_MFA_NO_MFA_SESSION"


def profile_argument(f: F) -> F:
    return click.argument("profile", required=False, shell_complete=complete_profile)(f)


def mfa_session_options(f: F) -> F:
    """--no-mfa-session and --mfa-session-duration (profiles only)."""
    f = click.option(
        "--mfa-session-duration",
        type=click.IntRange(900, 129600),
        default=43200,
        show_default=True,
        envvar="STS_MFA_MFA_SESSION_DURATION",
        help="How long one MFA code unlocks the profile's roles (GetSessionToken), in seconds.",
    )(f)
    return click.option(
        "--no-mfa-session",
        is_flag=True,
        help=f"Assume each role directly with a code, no GetSessionToken [env: {NO_MFA_SESSION}].",
    )(f)


def settings(no_mfa_session: bool, mfa_session_duration: int) -> Settings:
    from sts_mfa.session.state_file import Settings

    off = no_mfa_session or os.environ.get(NO_MFA_SESSION, "").strip() not in ("", "0")
    return Settings(use_mfa_session=not off, mfa_session_duration=mfa_session_duration)


def profile_codes(app: App, profile: Profile, code: str | None, *, admin: bool = False) -> ProfileCodes:
    """--code/-/STS_MFA_CODE, then the profile's mfa_process, then a prompt on the terminal.

    `admin`: the profile gives another command its credentials (`--profile` and the like),
    which has no --code of its own: the error without a code says what to do instead."""
    from sts_mfa.cli.code_sources import given_code, terminal_prompt
    from sts_mfa.errors import NoCode
    from sts_mfa.mfa import process as mfa_process
    from sts_mfa.session.state_file import ProfileCodes

    command = profile.mfa_process
    timeout = mfa_process.timeout_from(os.environ)
    process = (lambda: mfa_process.run(command, profile=profile.name, timeout=timeout)) if command else None

    def missing() -> NoCode:
        import shlex

        assume = shlex.join(["sts-mfa", "assume", profile.name])
        if admin:
            return NoCode(
                f"profile {profile.name} assumes its role with MFA, and there is no cached session for it "
                "with enough time left, no MFA code and no terminal to ask for one: run "
                f"`{assume}` in a terminal first (this command then uses its session), "
                "or set STS_MFA_CODE, or give the profile an mfa_process"
            )
        return NoCode(
            f"no cached session for profile {profile.name} with enough time left, no MFA code, and no "
            f"terminal to ask for one: run `{assume}` in a terminal "
            "(or pass --code, set STS_MFA_CODE, or give the profile an mfa_process)"
        )

    prompt = terminal_prompt(f"MFA code for {profile.mfa_serial} (profile {profile.name})")
    return ProfileCodes(given=given_code(code), process=process, prompt=prompt, missing=missing)


def obtain_for(
    app: App, profile: str | None, want: Want, code: str | None, options: Settings | None = None
) -> Obtained:
    """The session of the state file's role, or of the profile's role; its warnings said here."""
    from sts_mfa.cli.code_sources import from_flags, obtain

    if profile is None:
        return obtain(app, want, from_flags(app, code))
    from sts_mfa.session.state_file import Settings

    return obtain_from(app, app.profile_sessions(profile, options or Settings()), want, code)


def obtain_from(
    app: App, sessions: ProfileSessions, want: Want, code: str | None, *, admin: bool = False
) -> Obtained:
    """A profile's session from its ProfileSessions (kept by a caller that renews); warnings said here."""
    got = sessions.get(want, profile_codes(app, sessions.profile, code, admin=admin))
    got.endpoint, got.region = sessions.endpoint, sessions.profile.region
    for warning in got.warnings:
        app.warn(warning)
    if app.verbose:
        for note in sessions.notes:
            click.echo(f"sts-mfa: {note}", err=True)
    return got
