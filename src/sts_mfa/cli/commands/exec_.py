"""`sts-mfa exec -- CMD ARGS`: run a program with the role session."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.completion import complete_profile
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import code_option, margin_option, mfa_session_options
from sts_mfa.errors import CommandFailed
from sts_mfa.session.handoff import CHILD_SETTINGS, environment, scrubbed
from sts_mfa.session.model import Obtained, Settings, Want


def child_environment(app: App, got: Obtained) -> dict[str, str]:
    """The caller's environment minus every other source of AWS credentials, plus the session."""
    env = scrubbed(dict(os.environ))
    env.update(CHILD_SETTINGS)
    env.update(environment(got.session))
    endpoint = app.source.effective_endpoint() or got.endpoint
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint  # the session is only valid where it was made
    region = app.region or got.region  # a profile's region: its config file is not the child's
    if region:
        env.setdefault("AWS_REGION", region)
        env.setdefault("AWS_DEFAULT_REGION", region)
    return env


class ExecCommand(click.Command):
    """`exec [PROFILE] -- COMMAND`: a word before `--` is the profile; without `--`, all is the command."""

    VALUE_OPTIONS = ("--code", "--refresh-margin", "--mfa-session-duration")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            head, tail = args[: args.index("--")], args[args.index("--") + 1 :]
            options, words = self._split(head)
            if len(words) == 1:
                args = [*options, "--target-profile", words[0], "--", *tail]
        return super().parse_args(ctx, args)

    def _split(self, head: list[str]) -> tuple[list[str], list[str]]:
        """The options before `--` (with their values), and the other words."""
        options: list[str] = []
        words: list[str] = []
        taking_value = False
        for token in head:
            if taking_value:
                options.append(token)
                taking_value = False
            elif token.startswith("-"):
                options.append(token)
                taking_value = token in self.VALUE_OPTIONS
            else:
                words.append(token)
        return options, words

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return ["[OPTIONS]", "[PROFILE]", "--", "COMMAND..."]


def complete_first_word(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """The first word may be a PROFILE (before `--`): offer the AWS config's profiles there."""
    if ctx.params.get("command") or ctx.params.get("profile"):
        return []
    return complete_profile(ctx, param, incomplete)


@click.command(
    "exec",
    cls=ExecCommand,
    short_help=short_help("exec"),
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog="""\b
Examples:
  sts-mfa exec -- aws sts get-caller-identity
  sts-mfa exec -- terraform plan
  STS_MFA_CODE=123456 sts-mfa exec -- ./deploy.sh
  sts-mfa exec prod -- aws s3 ls            # a profile of ~/.aws/config
  sts-mfa exec --server prod -- terraform apply   # outlives one session
\b
The command's exit code is passed through (127 if it cannot be found).
With --server the command gets no keys but a local credentials endpoint
(loopback, a token of its own) that its SDK refreshes from, renewed as
`assume` would, for as long as the command runs; signals reach it.
""",
)
@code_option("MFA code if a new session is needed.")
@margin_option
@mfa_session_options
@click.option(
    "--server",
    is_flag=True,
    help="Serve the session on a local endpoint the command's SDK refreshes from, instead of keys.",
)
@click.option("--target-profile", "profile", hidden=True)
@click.argument(
    "command", nargs=-1, required=True, type=click.UNPROCESSED, shell_complete=complete_first_word
)
@pass_app
def exec_(
    app: App,
    code: str | None,
    refresh_margin: float,
    no_mfa_session: bool,
    mfa_session_duration: int | None,
    server: bool,
    profile: str | None,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND with the role session's credentials (the state file's, or PROFILE's) in its environment.

    The cached session is used (renewed when near expiry, as `assume` does);
    AWS_PROFILE and any other AWS credentials are removed from the command's
    environment, so it can only act as the role.
    """
    if not command[0]:
        raise click.BadParameter("the command to run is empty", param_hint="'COMMAND'")
    options = Settings.of(no_mfa_session, mfa_session_duration)
    if server:
        from sts_mfa.server.serving import run_with_endpoint

        click.get_current_context().exit(
            run_with_endpoint(app, profile, code, refresh_margin, options, command)
        )
    got = app.obtain(profile, Want(margin=refresh_margin), code, options)
    env = child_environment(app, got)
    for stream in (sys.stdout, sys.stderr):  # either may be closed (`>&-`, `2>&-`)
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.flush()
    try:
        os.execvpe(command[0], list(command), env)  # noqa: S606 - replacing ourselves is the point
    except OSError as e:
        raise CommandFailed.starting(command[0], e) from None
