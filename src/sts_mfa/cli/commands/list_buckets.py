"""`sts-mfa list-buckets`: use the role session."""

from __future__ import annotations

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.code_sources import obtain
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import json_option, margin_option
from sts_mfa.credentials import iso8601
from sts_mfa.errors import CredentialsError, StsMfaError
from sts_mfa.session import Codes, Want


def no_session(_state: object) -> StsMfaError:
    """list-buckets never asks for a code: a software token renews, a phone setup says what to run."""
    return CredentialsError("no valid role session is cached", hint="run `sts-mfa assume --code CODE` first")


@click.command(
    "list-buckets",
    short_help=short_help("list-buckets"),
    epilog="""\b
Examples:
  sts-mfa list-buckets
  sts-mfa list-buckets --json | jq -r '.buckets[].name'
""",
)
@margin_option
@json_option
@pass_app
def list_buckets(app: App, refresh_margin: float) -> None:
    """List S3 buckets with the assumed-role session (never with the user's own key).

    Uses the cached session, renewed first (as `assume` would) when it has less
    than the refresh margin left: a software token renews it on its own; in phone
    mode a session still valid for a minute is used as is, and none exits 6.
    """
    from sts_mfa import scenario

    state = app.load_state()
    scenario.require_setup(state)
    session = obtain(app, Want(margin=refresh_margin), Codes(missing=no_session)).session
    ctx = app.context_for(state)
    buckets = scenario.list_buckets(ctx, state, session)
    if app.json:
        app.echo_json(
            {
                "role_arn": session.role_arn,
                "assumed_role_arn": session.assumed_role_arn,
                "buckets": [
                    {"name": b.name, "created": iso8601(b.created) if b.created else None} for b in buckets
                ],
            }
        )
        return
    from sts_mfa.cli.output import table

    rows = [[b.name, iso8601(b.created) if b.created else None] for b in buckets]
    title = f"{len(buckets)} bucket(s), listed as {session.assumed_role_arn or session.role_arn}"
    app.out_console().print(table(title, ["bucket", "created"], rows))
