"""Options several commands share, as decorators (one definition each)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from sts_mfa.cli.completion import complete_profile
from sts_mfa.cli.params import FiniteFloatRange
from sts_mfa.session.handoff import DEFAULT_REFRESH_MARGIN, MAX_REFRESH_MARGIN
from sts_mfa.session.model import NO_MFA_SESSION

F = TypeVar("F", bound=Callable[..., Any])


def json_option(f: F) -> F:
    """`--json` on a command, equivalent to the global one."""

    def set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            from sts_mfa.cli.app import App

            app = ctx.find_object(App)  # made by the group's callback, which runs first
            if app is not None:
                app.json = True
        return value

    return click.option(
        "--json",
        "json_flag",
        is_flag=True,
        expose_value=False,
        callback=set_json,
        help="Machine-readable output: one JSON document on stdout.",
    )(f)


QUIET_HELP = "Only errors and data."
VERBOSE_HELP = "Also show how many AWS requests each command made."


def add_global_flags(command: click.Command) -> click.Command:
    """-q/--quiet and -v/--verbose on `command` (and its subcommands), the same as before it.

    `sts-mfa assume -v` is `sts-mfa -v assume`, as `--json` is: each sets the App the
    group made (the group's callback runs before a command's options are parsed);
    -v counts, wherever it is given.
    """

    def set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        app = _app(ctx)
        if value and app is not None:
            app.quiet = True
        return value

    def add_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> int:
        app = _app(ctx)
        if value and app is not None:
            app.verbose += value
        return value

    names = {param.name for param in command.params}
    if "quiet_flag" not in names:
        command.params += [
            click.Option(
                ["-q", "--quiet", "quiet_flag"],
                is_flag=True,
                expose_value=False,
                callback=set_quiet,
                help=QUIET_HELP,
            ),
            click.Option(
                ["-v", "--verbose", "verbose_flag"],
                count=True,
                expose_value=False,
                callback=add_verbose,
                help=VERBOSE_HELP,
            ),
        ]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_global_flags(sub)
    return command


def _app(ctx: click.Context) -> Any:
    from sts_mfa.cli.app import App

    return ctx.find_object(App)


def margin_option(f: F) -> F:
    return click.option(
        "--refresh-margin",
        type=FiniteFloatRange(0, MAX_REFRESH_MARGIN),
        default=DEFAULT_REFRESH_MARGIN,
        show_default=True,
        envvar="STS_MFA_REFRESH_MARGIN",
        help="Renew a cached session with less than this many seconds left [env: STS_MFA_REFRESH_MARGIN].",
    )(f)


def code_option(help_text: str) -> Callable[[F], F]:
    """`--code CODE | --code -`, also read from STS_MFA_CODE (which its help says, on every command)."""
    from sts_mfa.cli.params import MFA_CODE_OR_STDIN

    shown = f"{help_text.rstrip('.')} [env: STS_MFA_CODE]."
    return click.option("--code", type=MFA_CODE_OR_STDIN, envvar="STS_MFA_CODE", help=shown)


def profile_argument(f: F) -> F:
    return click.argument("profile", required=False, shell_complete=complete_profile)(f)


def mfa_session_options(f: F) -> F:
    """--no-mfa-session and --mfa-session-duration (profiles only)."""
    f = click.option(
        "--mfa-session-duration",
        type=click.IntRange(900, 129600),
        default=None,
        show_default="43200, or a user profile's duration_seconds",
        envvar="STS_MFA_MFA_SESSION_DURATION",
        help="How long one MFA code unlocks the profile's roles (GetSessionToken), in seconds.",
    )(f)
    return click.option(
        "--no-mfa-session",
        is_flag=True,
        help=f"Assume each role directly with a code, no GetSessionToken [env: {NO_MFA_SESSION}].",
    )(f)
