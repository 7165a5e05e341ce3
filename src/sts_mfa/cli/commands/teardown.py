"""`sts-mfa teardown`: remove everything, in the order AWS requires."""

from __future__ import annotations

from typing import Any

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import json_option


@click.command(
    short_help=short_help("teardown"),
    epilog="""\b
Examples:
  sts-mfa teardown
  sts-mfa teardown --sweep --dry-run     # list the tool's leftovers, change nothing
  sts-mfa teardown --sweep               # state file lost: find them by path, tag, prefix
\b
Running it again when nothing is left says so and exits 0.
""",
)
@click.option(
    "--sweep",
    is_flag=True,
    help="Also remove leftovers found by the tool's IAM path, tag and name prefix (no state file needed).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@click.option(
    "--role-profile",
    metavar="NAME",
    help="With --sweep and no state file: also sweep this profile's account (where roles went).",
)
@json_option
@pass_app
def teardown(app: App, sweep: bool, dry_run: bool, role_profile: str | None) -> None:
    """Delete everything setup created, asking AWS what is attached, then the state file.

    Order: access keys, MFA device (deactivate, then delete), inline policies,
    then the user; the role's attached and inline policies, then the role; then
    the managed policy. What is already gone is skipped, so it is safe to rerun.
    With --sweep, resources under the IAM path /sts-mfa/ whose names start with
    sts-mfa- and that carry the tag created-by=sts-mfa are removed too; nothing
    without all three marks is touched. A cross-account setup is torn down and
    swept in both accounts, each with its own credentials.
    """
    from sts_mfa import scenario

    data: dict[str, Any] = {"dry_run": dry_run, "deleted": [], "found": [], "nothing_to_do": False}
    ctx = None
    with app.source.transaction(must_exist=False) as txn:
        state = txn.state
        if state is not None:
            ctx = app.source.context_for(state)
            if dry_run:
                data["found"] += _recorded(state)
            else:
                data["deleted"] += scenario.teardown(ctx, txn).deleted
        if sweep:
            ctx = ctx or app.source.context(role_profile=role_profile)
            sides = [ctx.aws] + ([ctx.role_aws] if ctx.role_aws is not None else [])
            for aws in sides:
                swept = scenario.sweep(ctx, aws, dry_run=dry_run)
                data["found"] += [{"kind": f.kind, "name": f.name, "arn": f.arn} for f in swept.found]
                data["deleted"] += swept.deleted
    data["nothing_to_do"] = state is None and not data["found"] and not data["deleted"]
    if app.json:
        app.echo_json(data)
        return
    if dry_run:
        if not data["found"]:
            click.echo("Nothing to tear down.")
        for item in data["found"]:
            click.echo(f"would delete {item['kind']:<11} {item['arn'] or item['name']}")
        return
    if data["nothing_to_do"]:
        where = "" if sweep else f": no state file at {app.state_path}"
        click.echo(f"Nothing to tear down{where}.", err=True)
        return
    click.echo(f"Removed {len(data['deleted'])} resource(s).")
    if state is not None:
        click.echo(f"Removed the state file {app.state_path}.", err=True)


def _recorded(state: Any) -> list[dict[str, str | None]]:
    """What the state file says may exist (a dry run does not ask AWS what is attached)."""
    return [{"kind": r.kind, "name": r.name, "arn": r.arn} for r in state.resources()]
