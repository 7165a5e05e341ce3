"""`sts-mfa exec -- CMD ARGS`: run a program with the role session."""

from __future__ import annotations

import os
import sys

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.code_sources import from_flags, obtain
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import code_option, margin_option
from sts_mfa.credentials import CHILD_SETTINGS, environment, scrubbed
from sts_mfa.errors import CommandFailed
from sts_mfa.session import Want


def child_environment(app: App, session_env: dict[str, str]) -> dict[str, str]:
    """The caller's environment minus every other source of AWS credentials, plus the session."""
    env = scrubbed(dict(os.environ))
    env.update(CHILD_SETTINGS)
    env.update(session_env)
    endpoint = app.effective_endpoint()
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint  # the session is only valid where it was made
    if app.region:
        env.setdefault("AWS_REGION", app.region)
        env.setdefault("AWS_DEFAULT_REGION", app.region)
    return env


@click.command(
    "exec",
    short_help=short_help("exec"),
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog="""\b
Examples:
  sts-mfa exec -- aws sts get-caller-identity
  sts-mfa exec -- terraform plan
  STS_MFA_CODE=123456 sts-mfa exec -- ./deploy.sh
\b
The command's exit code is passed through (127 if it cannot be found).
""",
)
@code_option("MFA code if a new session is needed.")
@margin_option
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_app
def exec_(app: App, code: str | None, refresh_margin: float, command: tuple[str, ...]) -> None:
    """Run COMMAND with the role session's credentials in its environment.

    The cached session is used (renewed when near expiry, as `assume` does);
    AWS_PROFILE and any other AWS credentials are removed from the command's
    environment, so it can only act as the role.
    """
    if not command[0]:
        raise click.BadParameter("the command to run is empty", param_hint="'COMMAND'")
    got = obtain(app, Want(margin=refresh_margin), from_flags(app, code))
    env = child_environment(app, environment(got.session))
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(command[0], list(command), env)  # noqa: S606 - replacing ourselves is the point
    except FileNotFoundError:
        raise CommandFailed(f"command not found: {command[0]}", 127) from None
    except PermissionError:
        raise CommandFailed(f"permission denied: {command[0]}", 126) from None
    except OSError as e:  # not executable as it is (no shebang, a directory...): the shell's 126
        raise CommandFailed(f"cannot run {command[0]}: {e.strerror}", 126) from None
