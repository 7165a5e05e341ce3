"""`sts-mfa audit`: every role's trust policy in the account, and which can be assumed without MFA."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.completion import complete_profile
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import json_option

if TYPE_CHECKING:
    from rich.console import Console

    from sts_mfa.audit.classify import RoleResult
    from sts_mfa.audit.report import Report

FORMATS = ("table", "json", "sarif")


def _arn(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if not (value.startswith("arn:") and ":role/" in value and value.isprintable()):
            raise click.BadParameter(f"{value!r} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    return values


def _account_ids(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    from sts_mfa.text import is_account_id

    for value in values:
        if not is_account_id(value):
            raise click.BadParameter(f"{value!r} is not an AWS account ID (12 digits)")
    return values


def _member_role(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A role name, or PATH/NAME (the path without its leading slash), as IAM allows them."""
    *path, name = value.split("/")
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")
    parts_ok = all(part and set(part) <= allowed for part in [*path, name])
    if not (1 <= len(name) <= 64 and len(value) <= 512 and parts_ok):
        raise click.BadParameter(f"{value!r} is not a role name (letters, digits, +=,.@_- and / for a path)")
    return value


def _prefix(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not (value.startswith("/") and value.isprintable() and len(value) <= 512):
        raise click.BadParameter("an IAM path prefix starts with / (for example /teams/)")
    return value


@click.command(
    short_help=short_help("audit"),
    epilog="""\b
Examples:
  sts-mfa audit                              # every role, a table; exit 3 if any is open
  sts-mfa audit --json | jq '.roles[] | select(.verdict == "open") | .arn'
  sts-mfa audit --format sarif > audit.sarif # for CI code scanning
  sts-mfa audit --role deploy --role admin   # these roles, with their trust policies marked
  sts-mfa audit --path-prefix /teams/ --ignore arn:aws:iam::111111111111:role/teams/legacy
  sts-mfa audit --prove-with alice           # and ask AWS: AssumeRole without MFA as alice
  sts-mfa audit --policy-file template.yaml  # before deploying: a template, a plan, a policy
  terraform show -json plan.out | sts-mfa audit --policy-file - --format sarif
\b
Every account of an organization (as its management account or a delegated admin):
  sts-mfa audit --organization                          # one table, a row per role
  sts-mfa audit --organization --format sarif > org.sarif
  sts-mfa --profile admin-mfa audit --organization --member-role AuditMfa   # one code
  sts-mfa audit --organization --exclude-account 123456789012 --concurrency 16
  sts-mfa audit --organization --ignore 'arn:aws:iam::*:role/ci-audit'  # in every account
\b
Exit 0: every role requires MFA on every way in (or is a service role, or ignored).
Exit 3: a role can be assumed without MFA, or (unless --allow-undecided) the
        analysis cannot decide for a role, or AWS disagrees with the analysis;
        with --organization also an account that could not be read (unless
        --allow-unreadable).
Exit 1: the roles could not be read (the caller needs
        iam:GetAccountAuthorizationDetails), or a --role is not in the account;
        with --organization, the accounts could not be listed.
Exit 2: a --policy-file that is not a trust policy, a CloudFormation template
        (JSON or YAML) or `terraform show -json` output, or describes no role.
""",
)
@click.option(
    "--path-prefix", default="/", show_default=True, callback=_prefix, help="Only roles under this IAM path."
)
@click.option("--role", "roles", multiple=True, metavar="NAME_OR_ARN", help="Only this role (repeatable).")
@click.option(
    "--ignore",
    multiple=True,
    metavar="ARN",
    callback=_arn,
    help="An accepted exception (repeatable); with --organization, the account * names every account.",
)
@click.option("--allow-undecided", is_flag=True, help="Exit 0 even if the analysis cannot decide for a role.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output.",
)
@click.option(
    "--prove-with",
    metavar="PROFILE",
    shell_complete=complete_profile,
    help="Also AssumeRole WITHOUT MFA with this profile for each role said to require MFA.",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 1000),
    default=1000,
    show_default=True,
    help="Roles per GetAccountAuthorizationDetails request (IAM allows 1000).",
)
@click.option(
    "--policy-file",
    "policy_files",
    multiple=True,
    metavar="PATH",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Audit the roles in this file instead of the account: a trust policy, a CloudFormation "
    "template or `terraform show -json` output (repeatable; - for stdin; no AWS credentials).",
)
@click.option(
    "--organization",
    is_flag=True,
    help="Every ACTIVE account of the caller's organization (ListAccounts), each through --member-role.",
)
@click.option(
    "--member-role",
    default="OrganizationAccountAccessRole",
    show_default=True,
    metavar="NAME",
    callback=_member_role,
    help="With --organization: the role assumed in each account.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="With --organization: accounts read at a time.",
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="ID",
    callback=_account_ids,
    help="With --organization: only this account (repeatable).",
)
@click.option(
    "--exclude-account",
    multiple=True,
    metavar="ID",
    callback=_account_ids,
    help="With --organization: not this account (repeatable).",
)
@click.option(
    "--allow-unreadable",
    is_flag=True,
    help="With --organization: exit 0 even if an account could not be read.",
)
@json_option
@pass_app
def audit(
    app: App,
    path_prefix: str,
    roles: tuple[str, ...],
    ignore: tuple[str, ...],
    allow_undecided: bool,
    output_format: str,
    prove_with: str | None,
    page_size: int,
    policy_files: tuple[str, ...],
    organization: bool,
    member_role: str,
    concurrency: int,
    accounts: tuple[str, ...],
    exclude_account: tuple[str, ...],
    allow_unreadable: bool,
) -> None:
    """Read every role's trust policy and report which can be assumed without MFA.

    The trust policies come from GetAccountAuthorizationDetails, up to 1,000 roles
    per request, read again until two readings agree (a role changed while it was
    read is "undecided", never "requires MFA"). Each is analysed like check-deny's:
    every statement, principal and assume action. Verdicts: requires-mfa, open
    (to whom, through which statement), undecided (why), service (a service role
    or service-linked role), ignored (--ignore).
    """
    from sts_mfa.audit import Filters
    from sts_mfa.audit import audit as run_audit

    if app.json:
        output_format = "json"
    organization = _organization_options(organization, roles, prove_with, policy_files)
    if policy_files:
        _audit_files(app, policy_files, output_format, allow_undecided, roles, ignore, prove_with)
        return
    filters = Filters.of(path_prefix, roles, ignore)
    if organization:
        from sts_mfa.audit.organization import OrgPlan
        from sts_mfa.cli.audit_organization import OrgRun, audit_organization

        plan = OrgPlan(member_role, concurrency, frozenset(accounts), frozenset(exclude_account), page_size)
        audit_organization(app, OrgRun(plan, filters, output_format, allow_undecided, allow_unreadable))
        return
    report_ = app.reporter()

    def progress(pages: int, count: int) -> None:
        report_.info(f"read page {pages}: {count} roles so far")

    prover = _prover(app, prove_with) if prove_with is not None else None  # before any reading
    report = run_audit(app.source.aws().iam(), filters, page_size=page_size, progress=progress)
    report.refuse_missing(filters)
    for arn in sorted(filters.ignore - {r.arn for r in report.results}):
        scope = " among the roles read" if filters.roles or filters.path_prefix != "/" else ""
        app.warn(f"--ignore {arn}: no such role{scope}; nothing is ignored for it")
    if prove_with is not None and prover is not None:
        _prove(app, report, prove_with, prover)
    _print(app, report, output_format, bool(roles))
    report.raise_if_failing(allow_undecided)


_ORGANIZATION_ONLY = ("member_role", "concurrency", "accounts", "exclude_account", "allow_unreadable")


def _organization_options(
    organization: bool, roles: tuple[str, ...], prove_with: str | None, policy_files: tuple[str, ...]
) -> bool:
    """Whether this is an organization's run; options that belong to the other kind are refused."""
    ctx = click.get_current_context()
    if not organization:
        given = [
            name
            for name in _ORGANIZATION_ONLY
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            raise click.UsageError(f"--{given[0].replace('_', '-')} goes with --organization")
        return False
    if roles or prove_with is not None or policy_files:
        option = "--role" if roles else "--prove-with" if prove_with is not None else "--policy-file"
        raise click.UsageError(f"{option} reads one account; it does not go with --organization")
    return True


def _audit_files(
    app: App,
    paths: tuple[str, ...],
    output_format: str,
    allow_undecided: bool,
    *account_only: object,
) -> None:
    """`--policy-file`: the roles the files describe, judged before they exist; no AWS call."""
    from sts_mfa.audit.from_files import audit_files
    from sts_mfa.audit.policy_files import read_policy_files

    if any(account_only) or click.get_current_context().params["path_prefix"] != "/":
        raise click.UsageError(
            "--policy-file audits files: --role, --ignore, --path-prefix and --prove-with "
            "are for the roles of an account"
        )
    report = audit_files(read_policy_files(paths))
    _print(app, report, output_format, named=False)
    report.raise_if_failing(allow_undecided)


def _prover(app: App, profile: str) -> Any:
    """The profile's STS client, if its credentials are long-term keys (no session, so no MFA).

    An MFA session (GetSessionToken, or a role profile with mfa_serial) gets into every
    role that requires MFA: each would come out "open", AWS said to let it in WITHOUT MFA.
    """
    from sts_mfa.aws.long_term import long_term_sts

    return long_term_sts(app.source.policy_reader(profile), f"--prove-with {profile}")


def _prove(app: App, report: Report, profile: str, sts: Any) -> None:
    from sts_mfa.audit.prove import prove
    from sts_mfa.aws.errors import translate_errors

    with translate_errors(f"--prove-with {profile}: GetCallerIdentity"):
        who = str(sts.get_caller_identity().get("Arn", profile))
    reporter = app.reporter()

    def progress(done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            reporter.info(f"asked AWS for {done} of {total} roles")

    report.results, report.proofs = prove(report.results, sts, who, progress)
    report.proved_with = profile


def _print(app: App, report: Report, output_format: str, named: bool) -> None:
    if output_format == "json":
        app.echo_json(report.to_json())
        return
    if output_format == "sarif":
        from sts_mfa import __version__
        from sts_mfa.audit.sarif import to_sarif

        app.echo_json(to_sarif(report, __version__))
        return
    out = app.out_console()
    _table(out, report)
    if named:
        _policies(out, report)
    _summary(out, report)


def role_detail(role: RoleResult) -> str:
    """A role's table cell: who gets in without MFA, or why it is not decided."""
    findings = [str(f) for f in role.findings if role.verdict != "requires-mfa"]
    return "; ".join(([role.note] if role.note else []) + findings) or "every way in requires MFA"


def _table(out: Console, report: Report) -> None:
    from sts_mfa.cli.output import table

    rows = [[role.name, role.verdict, role_detail(role)] for role in report.results]
    out.print(table(None, ["role", "verdict", "who gets in without MFA / why"], rows))


def _policies(out: Console, report: Report) -> None:
    from sts_mfa.cli.policy_view import show

    for role in report.results:
        document = report.documents.get(role.digest)
        if document is None:
            continue
        out.print()
        show(out, document, title=f"Trust policy of {role.arn} ({role.verdict})", findings=role.findings)


def _summary(out: Console, report: Report) -> None:
    from sts_mfa.audit.classify import VERDICTS
    from sts_mfa.cli.output import safe

    counts = report.count()
    parts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS)
    read = f" ({report.requests} requests, {report.readings} reading(s))" if report.readings else ""
    out.print(f"{len(report.results)} roles: {parts}{read}")
    if report.proved_with is not None:  # a proof that could not be made must not read as agreement
        refused = sum(1 for p in report.proofs if p.outcome == "refused")
        untried = [p for p in report.proofs if p.outcome.startswith("not tried")]
        first = f" (first: {safe(untried[0].arn)}: {safe(untried[0].outcome)})" if untried else ""
        out.print(
            f"--prove-with {safe(report.proved_with)}: {refused} refused without MFA (agrees), "
            f"{len(untried)} not tried{first}"
        )
    for proof in report.proofs:
        if proof.outcome == "DISAGREES":
            out.print(f"[bold red]AWS disagrees:[/] {safe(proof.arn)}: {safe(proof.detail)}")
