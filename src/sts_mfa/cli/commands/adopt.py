"""`sts-mfa adopt`: sign a state file sts-mfa did not write, which the user vouches for."""

from __future__ import annotations

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import json_option


@click.command(
    short_help=short_help("adopt"),
    epilog="""\b
Examples:
  sts-mfa status --offline                     # first, look at what it names
  sts-mfa adopt                                # ./sts-mfa-state.json
  sts-mfa --state ~/.sts-mfa/state.json adopt
\b
Exit codes: 0 adopted (or already this user's); 4 no state file, not a valid one,
or an unsafe file or cache directory.
""",
)
@json_option
@pass_app
def adopt(app: App) -> None:
    """Sign the state file with this user's key, so sts-mfa uses it again.

    sts-mfa signs every state file it writes and uses no other: a file from a
    tarball, a clone, another machine or another cache directory (STS_MFA_CACHE_DIR),
    one written by an sts-mfa before schema version 4, or one changed by hand is
    refused (exit 4) until adopted. Adopt only a file you trust: it names the access
    key and role that `assume` will use. The file must be a valid state file; any
    cached role session in it is discarded (a session sts-mfa did not obtain is
    someone else's credentials), and it is written as the current schema version.
    """
    from sts_mfa.state.document import adopt as sign_it

    adopted = sign_it(app.state_path, key_dir=app.cache_root())
    state = adopted.state
    if app.json:
        app.echo_json(
            {
                "state_file": str(app.state_path),
                "adopted": not adopted.already,
                "already_signed": adopted.already,
                "discarded_session": adopted.discarded_session,
                "was": adopted.was,
            }
        )
        return
    if adopted.already:
        click.echo(f"State file {app.state_path} is already signed by your sts-mfa: nothing to do.")
        return
    role = state.role.arn if state.role and state.role.arn else "none yet"
    names = f"{state.prefix}, account {state.account or '?'}, role {role}"
    click.echo(f"Adopted state file {app.state_path}: {names}.")
    click.echo(f"It was refused because it {adopted.was}; it is now signed with your key.")
    if adopted.discarded_session:
        click.echo("Its cached role session was discarded: the next `sts-mfa assume` gets a new one.")
