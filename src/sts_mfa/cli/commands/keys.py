"""`sts-mfa keys add|list|remove|rotate PROFILE`: long-term keys in the OS keyring, and rotated."""

from __future__ import annotations

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.completion import complete_profile
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import code_option, json_option
from sts_mfa.cli.params import FiniteFloatRange

PROFILE = click.argument("profile", shell_complete=complete_profile)


@click.group(
    short_help=short_help("keys"),
    epilog="""\b
Examples:
  sts-mfa keys add alice        # alice's key: out of ~/.aws/credentials, into the OS keyring
  sts-mfa keys list             # which profiles' keys are in the keyring (never a secret)
  sts-mfa keys rotate alice     # a new key, stored where the old one was; the old one deleted
  sts-mfa keys remove alice     # the keyring's entry deleted
\b
Exit codes: 0 done; 1 AWS refused (rotate: the user has two keys already,
or may not manage its keys); 2 a profile that cannot be used so; 4 an AWS
file or a rotation journal that is unsafe or not sts-mfa's; 5 the MFA code
was refused; 6 no keyring, a locked one, or no key where one should be.
""",
)
def keys() -> None:
    """A profile's long-term access key, kept in the OS keyring instead of ~/.aws/credentials.

    The keyring is the `keyring` library's: the Secret Service on Linux (GNOME
    Keyring, KWallet), the Keychain on macOS, the Credential Locker on Windows,
    or the backend PYTHON_KEYRING_BACKEND names. After `keys add`, every sts-mfa
    command finds the key there: the profile itself (a user profile with an
    mfa_serial), the role profiles whose source_profile it is, --profile.
    """


@keys.command(
    epilog="""\b
Examples:
  sts-mfa keys add alice
  PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring sts-mfa keys add alice
"""
)
@PROFILE
@json_option
@pass_app
def add(app: App, profile: str) -> None:
    """Move PROFILE's key from the AWS files into the OS keyring.

    The key is stored and read back first; only then are its two lines taken out of
    the file (every other byte kept) and `sts_mfa_keys = keyring` put in their
    place. If the keyring fails, no file is changed.
    """
    from sts_mfa.session import keys as core

    added = core.add(profile, app.cache_root())
    if app.json:
        app.echo_json(
            {
                "profile": profile,
                "access_key_id": added.access_key_id,
                "backend": added.backend,
                "moved_from": added.sections,
                "already": added.already,
            }
        )
    elif added.already:
        click.echo(
            f"profile {profile}'s key {added.access_key_id} is in the keyring already ({added.backend})"
        )
    else:
        click.echo(
            f"profile {profile}'s key {added.access_key_id} is in the OS keyring ({added.backend}); "
            f"taken out of {', '.join(added.sections)}"
        )


@keys.command("list", epilog="\b\nExamples:\n  sts-mfa keys list\n  sts-mfa keys list --json\n")
@json_option
@pass_app
def list_(app: App) -> None:
    """The profiles whose key is in the OS keyring, and its access key id (never a secret)."""
    from sts_mfa.session import keys as core

    found = core.listing()
    if app.json:
        app.echo_json({"profiles": found})
        return
    if not found:
        click.echo("no profile's key is in the OS keyring (sts-mfa keys add PROFILE)")
    for row in found:
        click.echo(f"{row['profile']}\t{row['access_key_id'] or '-'}\t{row['status']}")


@keys.command(epilog="\b\nExamples:\n  sts-mfa keys remove alice\n")
@PROFILE
@json_option
@pass_app
def remove(app: App, profile: str) -> None:
    """Delete PROFILE's key from the OS keyring (the key itself stays in AWS).

    The `sts_mfa_keys = keyring` line goes too; then it says where the profile
    gets its key now, if anywhere.
    """
    from sts_mfa.session import keys as core

    removed = core.remove(profile, app.cache_root())
    if app.json:
        app.echo_json(
            {
                "profile": profile,
                "deleted": removed.deleted,
                "unmarked": removed.unmarked,
                "now_from": removed.now_from,
            }
        )
        return
    if removed.deleted is None:
        what = "was not in the OS keyring"
    else:
        what = f"{removed.deleted or '(not an access key sts-mfa stored)'} was deleted from the OS keyring"
        if removed.deleted:
            app.warn(
                f"the access key {removed.deleted} itself still exists in AWS: delete it there if no one "
                "uses it (`aws iam delete-access-key`)"
            )
    now = f"it now gets its key from {removed.now_from}" if removed.now_from else "it has no key now"
    click.echo(f"profile {profile}'s key {what}; {now}")


@keys.command(
    epilog="""\b
Examples:
  sts-mfa keys rotate alice
  sts-mfa keys rotate alice --code 123456     # its MFA session needs a code
\b
Interrupted (Ctrl-C, a crash, a lost answer), it is finished by running it
again: the journal in the private cache says how far it got.
""",
)
@PROFILE
@code_option("MFA code, if the profile's MFA session needs one (a profile with an mfa_serial).")
@click.option(
    "--wait-timeout",
    type=FiniteFloatRange(1, 3600),
    default=90.0,
    show_default=True,
    help="How long to wait for STS to accept the new key, in seconds.",
)
@json_option
@pass_app
def rotate(app: App, profile: str, code: str | None, wait_timeout: float) -> None:
    """Replace PROFILE's access key with a new one, where the old one was kept.

    A new key is created, used until STS accepts it, stored (the keyring or the
    credentials file, every other byte kept), and only then is the old key
    deleted. With an mfa_serial the IAM calls use the profile's MFA session (for
    policies that allow managing your keys only with MFA). A user with two keys
    already is refused, the keys named.
    """
    from sts_mfa.session import keys as core

    rotated = core.rotate(app.source, profile, app.codes(code), wait_timeout)
    if app.json:
        app.echo_json(
            {
                "profile": profile,
                "old": rotated.old,
                "new": rotated.new,
                "resumed": rotated.resumed,
                "orphans_deleted": rotated.orphans,
            }
        )
        return
    how = " (an interrupted rotation, finished)" if rotated.resumed else ""
    click.echo(f"profile {profile}: access key {rotated.new} in use, {rotated.old} deleted{how}")
