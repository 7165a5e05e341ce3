"""`sts-mfa list-buckets`: use the role session."""

from __future__ import annotations

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.code_sources import given_code
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import code_option, json_option, margin_option, mfa_session_options, profile_argument
from sts_mfa.errors import CredentialsError, StsMfaError
from sts_mfa.mfa.sources import Codes
from sts_mfa.session.handoff import iso8601
from sts_mfa.session.model import Settings, Want


def no_session() -> StsMfaError:
    """The state file's role: no prompt, so a phone setup with no code given says what to run."""
    return CredentialsError(
        "no valid role session is cached", hint="pass --code, or run `sts-mfa assume --code CODE` first"
    )


@click.command(
    "list-buckets",
    short_help=short_help("list-buckets"),
    epilog="""\b
Examples:
  sts-mfa list-buckets
  sts-mfa list-buckets --json | jq -r '.buckets[].name'
  sts-mfa list-buckets prod                 # as a profile's role
  sts-mfa list-buckets prod --code 123456   # ...with a code, if a new session is needed
""",
)
@profile_argument
@code_option("MFA code if a new session is needed.")
@margin_option
@mfa_session_options
@json_option
@pass_app
def list_buckets(
    app: App,
    profile: str | None,
    code: str | None,
    refresh_margin: float,
    no_mfa_session: bool,
    mfa_session_duration: int | None,
) -> None:
    """List S3 buckets with the role session (never with the user's own key), or PROFILE's.

    Uses the cached session, renewed first (as `assume` would) when it has less
    than the refresh margin left. The state file's role is renewed with --code or
    by the software token, never a prompt: in phone mode without a code a session
    still valid for a minute is used as is, and none exits 6. A PROFILE's gets its
    code as `assume PROFILE` does.
    """
    from sts_mfa import scenario

    if profile is not None:
        options = Settings.of(no_mfa_session, mfa_session_duration)
        session = app.obtain(profile, Want(margin=refresh_margin), code, options).session
        ctx = app.source.context_for_profile(profile)
        buckets = scenario.list_buckets(ctx, None, session)
    else:
        state = app.source.load_state()
        scenario.require_setup(state)
        codes = Codes(given=given_code(code), missing=no_session)
        session = app.source.obtain_state(Want(margin=refresh_margin), codes).session
        ctx = app.source.context_for(state)
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
