"""The `sts-mfa` command group: global options, help, exit codes.

Only click and the light modules are imported here; each command imports
what it needs (boto3, rich, moto) inside its body, so `--help` and TAB
completion cost about as much as Click itself.
"""

from __future__ import annotations

from typing import Any

import click

from sts_mfa import DEFAULT_STATE_FILE, __version__
from sts_mfa.cli.lazy import LazyGroup
from sts_mfa.cli.params import ENDPOINT_URL, STATE_NAME_BYTES, FilePath
from sts_mfa.cli.terminal import terminal_width


def _complete_profile(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Profile names, from a module loaded only when a profile is being completed."""
    from sts_mfa.cli.completion import complete_profile

    return complete_profile(ctx, param, incomplete)


EXIT_CODES = """\b
Exit codes:
  0  success (check-deny: AWS refused AssumeRole without MFA, as it should)
  1  an AWS or environment error
  2  usage error (bad option, malformed code, no code and no terminal)
  3  check-deny: the role can be assumed WITHOUT MFA; audit: a role can be,
     or the analysis cannot decide for one
  4  state problem: missing, unsafe, corrupt, not signed by your sts-mfa
     (see adopt), made against another endpoint or account, a resource in
     it deleted outside sts-mfa, or a step run before its prerequisite
  5  the MFA code was refused (invalid, already used, not this user's device)
  6  credentials missing, expired, or rejected
"""

EXAMPLES = """\b
A newcomer's tour, on the embedded sandbox (no AWS account needed):
  sts-mfa demo
\b
The steps one by one, against a local sandbox:
  eval "$(sts-mfa sandbox serve --background)"
  sts-mfa setup --software-token
  sts-mfa check-deny
  sts-mfa assume
  sts-mfa list-buckets
  sts-mfa teardown
\b
Your own MFA roles, from ~/.aws/config:
  sts-mfa assume prod
  credential_process = sts-mfa assume prod --format process
"""


@click.group(
    cls=LazyGroup,
    context_settings={
        "help_option_names": ["-h", "--help"],
        "max_content_width": 100,
        "terminal_width": terminal_width(),
    },
    epilog=EXAMPLES + "\n" + EXIT_CODES,
)
@click.option(
    "--state",
    "state_path",
    type=FilePath(STATE_NAME_BYTES),
    envvar="STS_MFA_STATE",
    default=DEFAULT_STATE_FILE,
    show_default=True,
    help="State file shared by the steps [env: STS_MFA_STATE].",
)
@click.option(
    "--profile",
    envvar="AWS_PROFILE",
    shell_complete=_complete_profile,
    help="AWS profile for the admin side [env: AWS_PROFILE].",
)
@click.option("--region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], help="AWS region [env: AWS_REGION].")
@click.option(
    "--endpoint-url",
    metavar="URL",
    type=ENDPOINT_URL,
    help="AWS endpoint override, e.g. a sandbox [env: AWS_ENDPOINT_URL, read by boto3 itself].",
)
@click.option("--json", "json_", is_flag=True, help="Machine-readable output: one JSON document on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and data.")
@click.option("-v", "--verbose", count=True, help="Also show how many AWS requests each command made.")
@click.version_option(__version__, "--version", prog_name="sts-mfa")
@click.pass_context
def cli(
    ctx: click.Context,
    state_path: str,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    json_: bool,
    quiet: bool,
    verbose: int,
) -> None:
    """Prove, step by step, that an AWS role can only be assumed with MFA.

    setup creates an IAM user with a virtual MFA device and a role whose trust
    policy demands MFA; check-deny shows AssumeRole refused without MFA; assume
    gets the role with a TOTP code; list-buckets uses it; teardown removes it all.
    The steps share a JSON state file, so each runs on its own or in a script.
    assume, exec, serve, console, list-buckets, check-deny and status also take a
    PROFILE of your AWS config (role_arn + mfa_serial): one MFA code for many
    roles, never reused. audit checks every role in the account.
    """
    from sts_mfa.cli.app import App  # not for --help or TAB, which never get here

    app = App.from_options(
        ctx.obj,  # a test's injected App, if any: its fields win
        state_file=state_path,
        profile=profile or None,
        region=region or None,
        endpoint_url=endpoint_url or None,
        json=json_,
        quiet=quiet,
        verbose=verbose,
    )
    ctx.obj = app
    ctx.call_on_close(app.show_requests)


def main() -> None:
    """Click's main, with its own endings replaced by the tool's (see `cli.boundary`).

    In standalone mode Click answers Ctrl-C while it parses with "Aborted!" and exit 1;
    here every interruption is one line and exit 130, wherever it lands.
    """
    import sys

    try:
        code = cli.main(prog_name="sts-mfa", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        from sts_mfa.cli.boundary import interrupted

        interrupted()
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except OSError as e:  # a gone reader (EPIPE), or a stdout that cannot take Click's help or message
        from sts_mfa.cli.boundary import cannot_write, output_gone

        if isinstance(e, BrokenPipeError) or cannot_write(e):
            output_gone(e if cannot_write(e) else None)
        raise
    sys.exit(code if isinstance(code, int) else 0)
