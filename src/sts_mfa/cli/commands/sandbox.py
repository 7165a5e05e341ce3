"""`sts-mfa sandbox serve|selftest`: the local strict AWS endpoint."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.params import FilePath, FiniteFloatRange, path_problem
from sts_mfa.errors import AwsError

if TYPE_CHECKING:
    from sts_mfa.sandbox import Faults, Sandbox
    from sts_mfa.sandbox.fixtures.examples import ExampleFiles

READY = "# sts-mfa sandbox ready"


class DirPath(click.Path):
    """A directory the tool will create or write into: not empty, not too long, not a file."""

    def __init__(self) -> None:
        super().__init__(file_okay=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        problem = path_problem(str(value))
        if problem is not None:
            self.fail(f"{value}: {problem}", param, ctx)
        return super().convert(value, param, ctx)


@click.group(
    short_help=short_help("sandbox"),
    epilog="""\b
Examples:
  eval "$(sts-mfa sandbox serve --background)"
  sts-mfa sandbox serve --port 5000 --role-delay 5
  sts-mfa sandbox selftest
""",
)
def sandbox() -> None:
    """A local AWS endpoint (moto, made strict about MFA) for trying the tool offline.

    It enforces what AWS enforces for this scenario: trust policies and their
    MFA conditions, real TOTP checks against the device seed with replay
    protection, deletion order, and identity-policy permissions.
    """


@sandbox.command(
    short_help="Run the sandbox and print export lines.",
    epilog="""\b
Examples:
  eval "$(sts-mfa sandbox serve --background)"   # exports, server keeps running
  sts-mfa setup --software-token && sts-mfa check-deny
  kill "$STS_MFA_SANDBOX_PID"
\b
  sts-mfa sandbox serve --port 5000              # foreground, Ctrl-C to stop
\b
Two accounts (user in one, role in the other):
  eval "$(sts-mfa sandbox serve --background --credentials-file ./sandbox-creds)"
  sts-mfa setup --software-token --role-profile sandbox-resource
\b
An identity you already have (user alice, MFA, roles Admin and ReadOnly):
  eval "$(sts-mfa sandbox serve --background --example-profiles ./sandbox-aws)"
  aws --profile sandbox-alice sts get-caller-identity
\b
Sessions that expire after 60 s, to try refreshing them:
  eval "$(sts-mfa sandbox serve --background --session-seconds 60)"
\b
An organization of 20 member accounts, 50 roles each, 30 % of calls throttled:
  eval "$(sts-mfa sandbox serve --background --organization 20 --roles-per-account 50 \\
          --throttle-rate 0.3)"
  sts-mfa audit --organization
\b
Role sessions of 20 s renewed from one MFA session of 10 minutes:
  eval "$(sts-mfa sandbox serve --background --example-profiles ./sandbox-aws \\
          --session-seconds 20 --mfa-session-seconds 600)"
""",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port."
)
@click.option(
    "--key-delay", type=FiniteFloatRange(0), default=0.0, help="New access keys fail for N seconds."
)
@click.option(
    "--role-delay", type=FiniteFloatRange(0), default=0.0, help="New roles are not assumable for N seconds."
)
@click.option(
    "--principal-delay",
    type=FiniteFloatRange(0),
    default=0.0,
    help="New users are refused as trust-policy principals for N seconds.",
)
@click.option(
    "--throttle-rate", type=FiniteFloatRange(0, 1), default=0.0, help="Fraction of requests throttled."
)
@click.option(
    "--latency",
    type=FiniteFloatRange(0, 10),
    default=0.0,
    help="Every request waits N seconds first (a round trip to AWS), outside the sandbox's lock.",
)
@click.option(
    "--credentials-file",
    type=FilePath(),
    help="Write profiles sandbox-identity and sandbox-resource there (0600) and export "
    "AWS_SHARED_CREDENTIALS_FILE, for setup --role-profile sandbox-resource. An existing "
    "file is refused unless --merge.",
)
@click.option(
    "--example-profiles",
    "example_profiles",
    type=DirPath(),
    metavar="DIR",
    help="Create an identity someone already has (IAM user alice, her access key and MFA "
    "device, roles Admin and ReadOnly that need MFA) and write AWS config and credentials "
    "files for it in DIR (profiles sandbox-alice, sandbox-admin, sandbox-readonly); export "
    "AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE. Existing files are refused unless --merge.",
)
@click.option(
    "--merge",
    is_flag=True,
    help="Add the sandbox profiles to an existing --credentials-file (or the files in "
    "--example-profiles DIR), keeping every other byte.",
)
@click.option(
    "--session-seconds",
    type=FiniteFloatRange(0),
    default=None,
    help="Every new session (AssumeRole, GetSessionToken) expires after N seconds, whatever "
    "duration was asked.",
)
@click.option(
    "--mfa-session-seconds",
    type=FiniteFloatRange(0),
    default=None,
    help="MFA sessions (GetSessionToken) expire after N seconds instead, so role sessions "
    "can expire and be renewed while the MFA session lasts.",
)
@click.option(
    "--organization",
    type=click.IntRange(0, 5000),
    default=None,
    metavar="N",
    help="Make the identity account the management account of an organization of N member "
    "accounts, each with OrganizationAccountAccessRole (AdministratorAccess, trusting the "
    "management account) as AWS creates it.",
)
@click.option(
    "--roles-per-account",
    type=click.IntRange(0, 5000),
    default=0,
    show_default=True,
    metavar="M",
    help="With --organization: M roles requiring MFA in each member account (mfa-role-0001, ...).",
)
@click.option(
    "--mfa-access-role",
    is_flag=True,
    help="With --organization: OrganizationAccountAccessRole requires MFA too (a well-protected "
    "organization: only an MFA session gets into the member accounts).",
)
@click.option("--background", is_flag=True, help="Print the exports, leave the server running, return.")
def serve(
    port: int,
    key_delay: float,
    role_delay: float,
    principal_delay: float,
    throttle_rate: float,
    latency: float,
    credentials_file: str | None,
    example_profiles: str | None,
    merge: bool,
    session_seconds: float | None,
    mfa_session_seconds: float | None,
    organization: int | None,
    roles_per_account: int,
    mfa_access_role: bool,
    background: bool,
) -> None:
    """Run the sandbox; print `export NAME=value` lines for the admin identities.

    stdout holds only the export lines (for eval); the log goes to stderr.
    The first account is the identity account (users, MFA devices); the
    second is for roles in another account (STS_MFA_SANDBOX_ROLE_* variables).
    """
    credentials_file, examples = _check_files(credentials_file, example_profiles, merge)
    if (roles_per_account or mfa_access_role) and organization is None:
        name = "--roles-per-account" if roles_per_account else "--mfa-access-role"
        raise click.UsageError(f"{name} goes with --organization")
    from sts_mfa.sandbox import Faults

    faults = Faults(
        key_delay=key_delay,
        role_delay=role_delay,
        principal_delay=principal_delay,
        throttle_rate=throttle_rate,
        latency=latency,
        session_seconds=session_seconds,
        mfa_session_seconds=mfa_session_seconds,
    )
    if background:
        options = _child_options(port, faults, credentials_file, example_profiles, merge)
        if organization is not None:
            options += ["--organization", str(organization), "--roles-per-account", str(roles_per_account)]
            options += ["--mfa-access-role"] if mfa_access_role else []
        _serve_in_background(options)
        _how_to_try(examples)
        return
    # The example identity is made before any fault applies (propagation delays start from it).
    sb = _start(port, Faults() if examples is not None else faults)
    try:
        made = _organization(sb, organization, roles_per_account, mfa_access_role)
        exports = _write_files(sb, credentials_file, examples, merge=merge)
        sb.set_faults(faults)
    except BaseException:
        sb.stop()
        raise
    for name, value in exports.items():
        click.echo(f"export {name}={shlex.quote(value)}")
    click.echo(f"# stop the sandbox with Ctrl-C, or: kill {os.getpid()}")
    click.echo(READY)
    sys.stdout.flush()
    accounts = ", ".join(a.account_id for a in sb.accounts)
    click.echo(f"sts-mfa sandbox: listening on {sb.endpoint} (accounts {accounts}); Ctrl-C to stop", err=True)
    _how_to_try(examples)
    if made:
        click.echo(made, err=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    sb.stop()
    click.echo("sts-mfa sandbox: stopped", err=True)


def _organization(sb: Sandbox, members: int | None, roles_per_account: int, mfa: bool) -> str | None:
    """The organization asked for, made before any client talks to the sandbox; a line saying what."""
    if members is None:
        return None
    from sts_mfa.sandbox.fixtures.organization import create_organization, describe

    return describe(create_organization(sb, members, roles_per_account, access_role_mfa=mfa))


def _how_to_try(examples: ExampleFiles | None) -> None:
    if examples is not None:
        from sts_mfa.sandbox.fixtures.examples import how_to_try

        click.echo(how_to_try(examples), err=True)


def _check_files(
    credentials_file: str | None, example_profiles: str | None, merge: bool
) -> tuple[str | None, ExampleFiles | None]:
    """Before starting anything: may the files be written? (absolute paths)."""
    if merge and credentials_file is None and example_profiles is None:
        raise click.UsageError("--merge goes with --credentials-file or --example-profiles")
    if credentials_file is not None and example_profiles is not None:
        raise click.UsageError(
            "--credentials-file and --example-profiles each export AWS_SHARED_CREDENTIALS_FILE: use one"
        )
    examples = None
    if credentials_file is not None:
        from sts_mfa.files.ini import check_writable

        credentials_file = str(Path(credentials_file).absolute())
        check_writable(credentials_file, merge_into=merge, what="--credentials-file")
    if example_profiles is not None:
        from sts_mfa.sandbox.fixtures.examples import ExampleFiles

        examples = ExampleFiles.in_directory(example_profiles)
        examples.check(merge=merge)
    return credentials_file, examples


def _child_options(
    port: int, faults: Faults, credentials_file: str | None, example_profiles: str | None, merge: bool
) -> list[str]:
    """The same `serve` options for the background child (paths made absolute)."""
    options = [
        *("--port", str(port), "--key-delay", str(faults.key_delay), "--role-delay", str(faults.role_delay)),
        *("--principal-delay", str(faults.principal_delay), "--throttle-rate", str(faults.throttle_rate)),
        *("--latency", str(faults.latency)),
    ]
    if faults.session_seconds is not None:
        options += ["--session-seconds", str(faults.session_seconds)]
    if faults.mfa_session_seconds is not None:
        options += ["--mfa-session-seconds", str(faults.mfa_session_seconds)]
    if credentials_file is not None:
        options += ["--credentials-file", credentials_file]
    if example_profiles is not None:
        options += ["--example-profiles", str(Path(example_profiles).absolute())]
    if merge:
        options.append("--merge")
    return options


def _start(port: int, faults: Faults) -> Sandbox:
    from sts_mfa.sandbox import Sandbox, SandboxUnavailable

    try:
        return Sandbox(port=port, faults=faults, sample_buckets=("reports", "logs")).start()
    except SandboxUnavailable as e:
        raise AwsError(str(e)) from None
    except OSError as e:
        raise AwsError(f"cannot start the sandbox on port {port}: {e.strerror or e}") from None


def _write_files(
    sb: Sandbox, credentials_file: str | None, examples: ExampleFiles | None, *, merge: bool
) -> dict[str, str]:
    """Write the files asked for; return every variable to export, in order."""
    exports = dict(sb.env(0))
    if credentials_file is not None:
        _write_profiles(credentials_file, sb, merge=merge)
        exports["AWS_SHARED_CREDENTIALS_FILE"] = credentials_file
    if examples is not None:
        from sts_mfa.sandbox.fixtures.examples import create_identity, write_files

        identity = create_identity(sb)
        write_files(examples, identity, endpoint=sb.endpoint, region=sb.region, merge=merge)
        exports["AWS_CONFIG_FILE"] = str(examples.config)
        exports["AWS_SHARED_CREDENTIALS_FILE"] = str(examples.credentials)
    if len(sb.accounts) > 1:
        role = sb.accounts[1]
        exports["STS_MFA_SANDBOX_ROLE_ACCESS_KEY_ID"] = role.access_key_id
        exports["STS_MFA_SANDBOX_ROLE_SECRET_ACCESS_KEY"] = role.secret_access_key
        exports["STS_MFA_SANDBOX_ROLE_ACCOUNT"] = role.account_id
    from sts_mfa.sandbox.federation.endpoint import console_url, federation_url  # for `sts-mfa console`

    exports["STS_MFA_FEDERATION_URL"] = federation_url(sb.endpoint)
    exports["STS_MFA_CONSOLE_URL"] = console_url(sb.endpoint)
    return exports


def _write_profiles(path: str, sb: Any, *, merge: bool) -> None:
    """One credentials profile per sandbox account (they hold keys: 0600), merged or new."""
    from sts_mfa.files.ini import section, write_sections

    sections = {
        name: section(
            name,
            {"aws_access_key_id": account.access_key_id, "aws_secret_access_key": account.secret_access_key},
        )
        for name, account in zip(("sandbox-identity", "sandbox-resource"), sb.accounts, strict=False)
    }
    write_sections(path, sections, merge_into=merge, what="--credentials-file")


def _serve_in_background(options: list[str]) -> None:
    """Start `sandbox serve` (without --background) detached; relay its exports once ready."""
    args = ["sandbox", "serve", *options]
    log_path = os.environ.get("STS_MFA_SANDBOX_LOG", os.devnull)
    with open(log_path, "ab") as log:
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "sts_mfa", *args],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
        )
    assert child.stdout is not None
    lines = []
    for line in child.stdout:
        if line.strip() == READY:
            break
        if not line.startswith("#"):  # the foreground's own comment: no Ctrl-C reaches it here
            lines.append(line.rstrip("\n"))
    else:
        code = child.wait()
        raise AwsError(f"the sandbox did not start (exit {code}); set STS_MFA_SANDBOX_LOG=FILE to see why")
    child.stdout.close()
    for line in lines:
        click.echo(line)
    click.echo(f"export STS_MFA_SANDBOX_PID={child.pid}")
    click.echo(f'# stop the sandbox with: kill "$STS_MFA_SANDBOX_PID"  (it runs as process {child.pid})')


@sandbox.command(
    epilog="""\b
Examples:
  sts-mfa sandbox selftest && echo "moto still offers what the sandbox reads"
"""
)
def selftest() -> None:
    """Check that the installed moto still offers what the sandbox relies on.

    Checks the moto version against the pinned one, every moto attribute the
    enforcement layer reads, and a small scenario: AssumeRole refused without
    MFA and with a wrong code, allowed with the right one.
    """
    from sts_mfa.sandbox import selftest as st

    problems = st.run()
    for p in problems:
        click.echo(f"problem: {p}", err=True)
    if problems:
        raise AwsError(f"the sandbox self-test found {len(problems)} problem(s)")
    click.echo("sandbox self-test passed")
