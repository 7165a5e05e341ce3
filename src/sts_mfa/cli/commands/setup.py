"""`sts-mfa setup`: create the user, MFA device, key, role and policies."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import json_option
from sts_mfa.cli.params import ENDPOINT_URL, MFA_CODE, FilePath, FiniteFloatRange
from sts_mfa.cli.terminal import stderr_is_terminal, stdin_is_terminal
from sts_mfa.errors import UsageError, WouldOverwrite
from sts_mfa.state.document import Transaction
from sts_mfa.state.model import MfaMode, State

SEED_ON_DISK_NOTICE = (
    "Software token: the MFA device's seed is kept in the state file {path} (mode 0600). "
    "A seed on disk is a second factor on disk: whoever can read that file has both factors. "
    "Use it for demos and automation, not to protect real access."
)


class TerminalPhone:
    """Phone mode as the CLI does it: QR on the terminal and/or a PNG, then two codes."""

    def __init__(
        self, app: App, txn: Transaction, codes: tuple[str, str] | None, qr_png: Path | None
    ) -> None:
        self.app = app
        self.txn = txn
        self.given = codes
        self.qr_png = qr_png

    def show(self, uri: str, serial: str) -> None:
        if self.given is not None:
            return  # the QR code was shown by the run that created the device
        from sts_mfa.mfa import qr

        shown = False
        state = self.txn.state
        if self.qr_png is not None and state is not None:
            path = qr.absolute(self.qr_png)  # a later run may start in another directory
            # The PNG an earlier run wrote, if it wrote one (rendered only then: a PNG is not free).
            user = state.user.name if state.user else None
            mine = qr.expected_png(state.seed, user, state.account) if state.qr_png else None
            if state.qr_png and state.qr_png != path:  # an earlier run's PNG elsewhere: not forgotten
                click.echo(qr.remove_if_ours(state.qr_png, mine), err=True)
            state.qr_png_sha256 = qr.write_png(uri, path, replace=mine if state.qr_png == path else None)
            state.qr_png = path  # recorded, so only that very file is ever removed
            click.echo(
                f"Wrote the QR code to {path} (mode 0600; removed once the device is enabled)", err=True
            )
            shown = True
        if stderr_is_terminal():
            click.echo(qr.terminal_qr(uri), err=True)
            click.echo(f"Scan this QR code with your authenticator app (device {serial}).", err=True)
            shown = True
        if not shown:
            raise UsageError(
                "there is no terminal to show the QR code on: pass --qr-png PATH "
                "(the device is created; run setup again to finish)"
            )

    def codes(self) -> tuple[str, str]:
        if self.given is not None:
            return self.given
        if not stdin_is_terminal():
            raise UsageError(
                "the MFA device is waiting for two codes and there is no terminal to ask: "
                "run `sts-mfa setup --codes CODE1 CODE2` with two consecutive codes from the app"
            )
        first = click.prompt("First code from the app", type=MFA_CODE, err=True)
        while True:
            second = click.prompt("Next code (wait for the app to show a new one)", type=MFA_CODE, err=True)
            if second != first:
                return first, second
            click.echo("That is the same code: wait for the app to show the next one.", err=True)

    def done(self) -> None:
        state = self.txn.state
        if state is not None and state.qr_png:
            from sts_mfa.mfa import qr

            mine = qr.expected_png(state.seed, state.user.name if state.user else None, state.account)
            click.echo(qr.remove_if_ours(state.qr_png, mine), err=True)
            state.qr_png = state.qr_png_sha256 = None


@click.command(
    short_help=short_help("setup"),
    epilog="""\b
Examples:
  sts-mfa setup --software-token        # codes from a built-in token (demos, scripts)
  sts-mfa setup                         # phone: scan the QR code, type two codes
  sts-mfa setup --qr-png qr.png </dev/null   # no terminal: write the QR code, stop
  sts-mfa setup --codes 123456 654321   # ...then finish with two consecutive codes
  sts-mfa setup --software-token --role-profile workload   # role in another account
""",
)
@click.option(
    "--software-token", is_flag=True, help="Generate codes with pyotp; keeps the seed in the state file."
)
@click.option(
    "--codes",
    nargs=2,
    type=MFA_CODE,
    metavar="CODE1 CODE2",
    help="Two consecutive codes (phone mode, non-interactive).",
)
@click.option(
    "--qr-png",
    "qr_png_text",
    type=FilePath(),
    help="Also write the QR code as a PNG (a new file, mode 0600, removed once enabled).",
)
@click.option(
    "--max-session-duration",
    type=click.IntRange(3600, 43200),
    default=3600,
    show_default=True,
    help="The role's MaxSessionDuration in seconds.",
)
@click.option(
    "--role-profile",
    metavar="NAME",
    help="Create the role and its policy in this AWS profile's account (user stays in the default one).",
)
@click.option(
    "--role-endpoint-url",
    metavar="URL",
    type=ENDPOINT_URL,
    help="Endpoint for the role's account, if it differs from --endpoint-url.",
)
@click.option(
    "--wait-timeout",
    type=FiniteFloatRange(1, 3600),
    default=90,
    show_default=True,
    help="How long to wait for IAM to propagate new resources.",
)
@json_option
@pass_app
def setup(
    app: App,
    software_token: bool,
    codes: tuple[str, str] | None,
    qr_png_text: str | None,
    max_session_duration: int,
    role_profile: str | None,
    role_endpoint_url: str | None,
    wait_timeout: float,
) -> None:
    """Create the user, its MFA device and key, and the MFA-only role.

    Creates an IAM user with no permissions, a virtual MFA device (enabled with
    two consecutive codes), an access key, a role whose trust policy lets only
    that user assume it and only with MFA, a policy allowing s3:ListAllMyBuckets
    attached to the role, and an inline user policy allowing sts:AssumeRole on
    the role. Everything lives under the IAM path /sts-mfa/ and is tagged
    created-by=sts-mfa. An interrupted setup is resumed by running it again.
    """
    qr_png = Path(qr_png_text) if qr_png_text is not None else None
    if software_token and (codes or qr_png):
        raise click.UsageError("--software-token generates its own codes: drop --codes / --qr-png")
    if qr_png is not None and not os.access(qr_png.parent, os.W_OK | os.X_OK):
        raise click.BadParameter(f"cannot write in {qr_png.parent}", param_hint="'--qr-png'")
    mode: MfaMode = "software" if software_token else "phone"
    from sts_mfa import scenario

    ctx = app.source.context(wait_timeout, role_profile=role_profile, role_endpoint=role_endpoint_url)
    with app.source.transaction(must_exist=False) as txn:
        if codes and (
            txn.state is None or txn.state.mfa_device is None or txn.state.mfa_device.serial is None
        ):
            raise click.UsageError(
                "--codes finishes a setup whose MFA device already exists; "
                "run `sts-mfa setup` (with --qr-png if there is no terminal) to create it first"
            )
        if qr_png is not None:
            _refuse_someone_elses_png(qr_png, txn.state)  # before anything is created
        if software_token:
            click.echo(SEED_ON_DISK_NOTICE.format(path=app.state_path), err=True)
        result = scenario.setup(
            ctx,
            txn,
            mode=mode,
            phone=None if software_token else TerminalPhone(app, txn, codes, qr_png),
            endpoint=app.source.effective_endpoint(),
            max_session_duration=max_session_duration,
            role_profile=role_profile,
            role_endpoint=role_endpoint_url,
        )
    if not app.quiet:  # the lesson: the three documents just created, MFA condition marked
        from sts_mfa.cli.policy_view import show_lesson

        show_lesson(app.err_console(), result.state)
    _print_summary(app, result.state)


def _refuse_someone_elses_png(qr_png: Path, state: State | None) -> None:
    """An existing file at --qr-png is refused, unless it is the PNG this setup recorded writing."""
    from sts_mfa.mfa import qr

    path = qr.absolute(qr_png)
    if os.path.lexists(path) and (state is None or state.qr_png != path):
        raise WouldOverwrite(f"--qr-png {path} already exists; sts-mfa never overwrites a file")


def summary(state: State, state_path: Path) -> dict[str, object]:
    """What setup made, without a secret in it."""
    return {
        "state_file": str(state_path),
        "prefix": state.prefix,
        "mode": state.mode,
        "account": state.account,
        "role_account": state.role_account,
        "user_arn": state.user.arn if state.user else None,
        "access_key_id": state.access_key.access_key_id if state.access_key else None,
        "mfa_serial": state.mfa_device.serial if state.mfa_device else None,
        "role_arn": state.role.arn if state.role else None,
        "policy_arn": state.policy.arn if state.policy else None,
        "user_policy": state.user_policy.name if state.user_policy else None,
    }


def _print_summary(app: App, state: State) -> None:
    data = summary(state, app.state_path)
    if app.json:
        app.echo_json(data)
        return
    from sts_mfa.cli.output import table

    rows = [[k.replace("_", " "), v] for k, v in data.items()]
    app.out_console().print(table("Setup complete", ["", "value"], rows))
