"""`sts-mfa audit --organization`: the run, its progress bar on stderr, its output on stdout.

The work is `sts_mfa.audit.organization`'s; this module shows it. Progress goes to stderr
only: a bar (accounts done, roles read, throttled calls) on a terminal, a line every tenth
of the accounts otherwise, nothing with -q. Each account's output is spooled as it is read
(`audit.org_output.Spool`) and stdout gets the whole document once every account is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from sts_mfa.cli.app import App

if TYPE_CHECKING:
    from rich.console import Console

    from sts_mfa.audit import Filters
    from sts_mfa.audit.org_report import OrgReport
    from sts_mfa.audit.organization import AccountResult, OrgPlan, OrgProgress

BLOCK = 1 << 16  # stdout is written in blocks of about this many characters
TABLE_ROWS = 1000  # rows per printed table: the rows are read back from the spool in chunks


@dataclass(frozen=True)
class OrgRun:
    plan: OrgPlan
    filters: Filters
    output_format: str
    allow_undecided: bool
    allow_unreadable: bool


def audit_organization(app: App, run: OrgRun) -> None:
    from sts_mfa.audit.org_accounts import list_accounts
    from sts_mfa.audit.org_output import Spool
    from sts_mfa.audit.org_report import OrgReport
    from sts_mfa.audit.organization import OrganizationAudit, caller_identity, ignore_matches

    aws = app.source.aws()
    caller = caller_identity(aws.admin_sts())
    progress = ProgressBar(app)
    listing = list_accounts(aws.organizations(), progress.listing)
    targets = run.plan.targets(listing)
    for unknown in run.plan.unknown_exclusions(listing):
        app.warn(f"--exclude-account {unknown}: no ACTIVE account of the organization has this ID")
    report = OrgReport(inactive=listing.inactive())
    audit = OrganizationAudit(aws, run.plan, run.filters, caller)
    itemize = _itemizer(run.output_format)
    matched: set[str] = set()  # the --ignore ARNs that named a role read
    with Spool() as spool:

        def emit(result: AccountResult) -> None:
            report.add(result)
            for role in (r for r in result.roles if r.verdict == "ignored"):
                matched.update(p for p in run.filters.ignore if ignore_matches(p, role.arn))
            for item in itemize(result):
                spool.write(item)

        with progress:
            audit.run(targets, emit, progress.update)
        report.requests, report.throttles = aws.total_requests, aws.throttles
        _refuse_empty_prefix(run.filters, report)
        for arn in sorted(run.filters.ignore - matched):
            app.warn(f"--ignore {arn}: no such role among the roles read; nothing is ignored for it")
        _print(app, run.output_format, report, spool.items())
    report.raise_if_failing(allow_undecided=run.allow_undecided, allow_unreadable=run.allow_unreadable)


def _refuse_empty_prefix(filters: Filters, report: OrgReport) -> None:
    from sts_mfa.errors import StsMfaError

    if filters.path_prefix != "/" and report.roles == 0 and report.statuses["read"]:
        raise StsMfaError(
            f"no role in the accounts read is under --path-prefix {filters.path_prefix} (paths are "
            "case-sensitive)",
            hint="nothing was audited",
        )


# --- per account: what goes to the spool ---------------------------------------------------------


def _itemizer(output_format: str) -> Callable[[AccountResult], list[Any]]:
    from sts_mfa.audit import org_output

    if output_format == "json":
        return org_output.json_items
    if output_format == "sarif":
        return org_output.sarif_items
    return _rows


def _rows(result: AccountResult) -> list[list[str]]:
    """Table rows: one per role; an account that was not read is one row saying why."""
    from sts_mfa.cli.commands.audit import role_detail

    account = result.account.id
    if result.status != "read":
        return [[account, "-", result.status, result.note or ""]]
    return [[account, role.name, role.verdict, role_detail(role)] for role in result.roles]


# --- the end: stdout ---------------------------------------------------------------------------


def _print(app: App, output_format: str, report: OrgReport, items: Iterator[Any]) -> None:
    from sts_mfa import __version__
    from sts_mfa.audit import org_output

    if output_format == "json":
        _write(org_output.document(org_output.json_shape(report.accounts, report.summary()), items))
    elif output_format == "sarif":
        _write(org_output.document(org_output.sarif_shape(report.summary(), __version__), items))
    else:
        out = app.out_console()
        _tables(out, items)
        out.print(_summary_line(report))


def _write(chunks: Iterable[str]) -> None:
    block: list[str] = []
    size = 0
    for chunk in chunks:
        block.append(chunk)
        size += len(chunk)
        if size >= BLOCK:
            click.echo("".join(block), nl=False)
            block, size = [], 0
    click.echo("".join(block))


def _tables(out: Console, rows: Iterator[list[str]]) -> None:
    from sts_mfa.cli.output import table

    columns = ["account", "role", "verdict", "who gets in without MFA / why"]
    chunk: list[list[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= TABLE_ROWS:
            out.print(table(None, columns, chunk))
            chunk = []
    if chunk:
        out.print(table(None, columns, chunk))


def _summary_line(report: OrgReport) -> str:
    from sts_mfa.audit.classify import VERDICTS
    from sts_mfa.cli.output import safe

    statuses = report.statuses
    accounts = (
        f"{len(report.accounts)} accounts: {statuses['read']} read, {statuses['unreadable']} unreadable, "
        f"{statuses['excluded']} excluded"
    )
    if report.inactive:
        skipped = ", ".join(f"{n} {state}" for state, n in sorted(report.inactive.items()))
        accounts += f" (not ACTIVE, not read: {safe(skipped)})"
    verdicts = ", ".join(f"{report.verdicts[v]} {v}" for v in VERDICTS)
    calls = f"{report.requests} requests, {report.throttles} throttled"
    return f"{accounts}; {report.roles} roles: {verdicts} ({calls})"


# --- the progress bar ----------------------------------------------------------------------------


class ProgressBar:
    """Accounts done, roles read, throttled calls: a bar on a terminal, a line per tenth elsewhere."""

    def __init__(self, app: App) -> None:
        self._quiet = app.quiet
        self._console = app.err_console()
        self._bar: Any = None
        self._task: Any = None
        self._said = -1

    def listing(self, pages: int, accounts: int) -> None:
        if not self._quiet and pages % 10 == 0:
            self._console.print(f"· listing the organization's accounts: {pages} pages, {accounts} accounts")

    def __enter__(self) -> ProgressBar:
        if self._quiet or not self._console.is_terminal:
            return self
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("auditing accounts"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[roles]} roles, {task.fields[throttles]} throttled"),
            TimeElapsedColumn(),
            console=self._console,
        )
        self._bar.start()
        self._task = self._bar.add_task("accounts", total=None, roles=0, throttles=0)
        return self

    def update(self, progress: OrgProgress) -> None:
        if self._bar is not None:
            self._bar.update(
                self._task,
                completed=progress.done,
                total=progress.total,
                roles=progress.roles,
                throttles=progress.throttles,
            )
            return
        tenth = progress.done * 10 // max(progress.total, 1)
        if not self._quiet and (tenth > self._said or progress.done == progress.total):
            self._said = tenth
            self._console.print(
                f"· audited {progress.done} of {progress.total} accounts: {progress.roles} roles, "
                f"{progress.throttles} throttled"
            )

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()
