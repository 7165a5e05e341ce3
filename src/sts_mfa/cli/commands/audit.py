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

    from sts_mfa.audit.report import Report

FORMATS = ("table", "json", "sarif")


def _arn(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if not (value.startswith("arn:") and ":role/" in value and value.isprintable()):
            raise click.BadParameter(f"{value!r} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    return values


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
Exit 0: every role requires MFA on every way in (or is a service role, or ignored).
Exit 3: a role can be assumed without MFA, or (unless --allow-undecided) the
        analysis cannot decide for a role, or AWS disagrees with the analysis.
Exit 1: the roles could not be read (the caller needs
        iam:GetAccountAuthorizationDetails), or a --role is not in the account.
Exit 2: a --policy-file that is not a trust policy, a CloudFormation template
        (JSON or YAML) or `terraform show -json` output, or describes no role.
""",
)
@click.option(
    "--path-prefix", default="/", show_default=True, callback=_prefix, help="Only roles under this IAM path."
)
@click.option("--role", "roles", multiple=True, metavar="NAME_OR_ARN", help="Only this role (repeatable).")
@click.option(
    "--ignore", multiple=True, metavar="ARN", callback=_arn, help="An accepted exception (repeatable)."
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
    if policy_files:
        _audit_files(app, policy_files, output_format, allow_undecided, roles, ignore, prove_with)
        return
    filters = Filters.of(path_prefix, roles, ignore)
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


def _table(out: Console, report: Report) -> None:
    from sts_mfa.cli.output import table

    rows = []
    for role in report.results:
        findings = [str(f) for f in role.findings if role.verdict != "requires-mfa"]
        detail = "; ".join(([role.note] if role.note else []) + findings)
        rows.append([role.name, role.verdict, detail or "every way in requires MFA"])
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
