"""`sts-mfa teardown`: remove everything, in the order AWS requires."""

from __future__ import annotations

import click

from sts_mfa.cli.app import App, json_option, pass_app


@click.command(
    short_help="Delete everything setup created, in AWS's order.",
    epilog="""\b
Examples:
  sts-mfa teardown
  sts-mfa teardown --json
\b
Running it again when nothing is left says so and exits 0.
""",
)
@json_option
@pass_app
def teardown(app: App) -> None:
    """Delete everything setup created, asking AWS what is attached, then the state file.

    Order: access keys, MFA device (deactivate, then delete), inline policies,
    then the user; the role's attached and inline policies, then the role; then
    the managed policy. What is already gone is skipped, so it is safe to rerun.
    """
    from sts_mfa import scenario

    with app.transaction(must_exist=False) as txn:
        if txn.state is None:
            result = scenario.TeardownResult(nothing_to_do=True)
        else:
            result = scenario.teardown(app.context(), txn)
    if app.json:
        app.echo_json({"deleted": result.deleted, "nothing_to_do": result.nothing_to_do})
        return
    if result.nothing_to_do:
        click.echo(f"Nothing to tear down: no state file at {app.state_path}.", err=True)
    else:
        click.echo(f"Removed {len(result.deleted)} resource(s) and the state file {app.state_path}.")
