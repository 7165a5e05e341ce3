"""`sts-mfa demo`: the whole story in one process, narrated.

By default it runs on the embedded sandbox (moto plus the enforcement AWS
applies), so it needs no AWS account and no network. `--aws` runs the same
steps against the configured account. Teardown always runs (in `finally`).
"""

from __future__ import annotations

import os
import resource
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import json_option
from sts_mfa.errors import AwsError, RoleExposed, StsMfaError


@dataclass
class StepTiming:
    name: str
    seconds: float = 0.0
    requests: int = 0
    waited: float = 0.0  # of which: waiting for the next TOTP window
    outcome: str = ""


@dataclass
class DemoRun:
    steps: list[StepTiming] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def step(self, name: str, ctx: Any) -> Iterator[StepTiming]:
        timing = StepTiming(name)
        before = ctx.request_count
        t0 = time.perf_counter()
        try:
            yield timing
        finally:
            timing.seconds = time.perf_counter() - t0
            timing.requests = ctx.request_count - before
            self.steps.append(timing)


def peak_memory_mb() -> float:
    """Peak resident memory of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@click.command(
    short_help=short_help("demo"),
    epilog="""\b
Examples:
  sts-mfa demo                 # on the embedded sandbox: no AWS account needed
  sts-mfa demo --json          # narration on stderr, a summary document on stdout
  sts-mfa demo --two-accounts  # the user in one account, the role in another
  sts-mfa --profile admin demo --aws   # the same against a real account
""",
)
@click.option(
    "--aws", "use_aws", is_flag=True, help="Run against the configured AWS account, not the sandbox."
)
@click.option(
    "--svg",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also save the narration as an SVG picture of the terminal (a new file).",
)
@click.option(
    "--two-accounts",
    is_flag=True,
    help="On the sandbox: the user in one account, the role in another (cross-account AssumeRole).",
)
@json_option
@pass_app
def demo(app: App, use_aws: bool, svg: Path | None, two_accounts: bool) -> None:
    """Run setup, check-deny, assume, list-buckets and teardown in one go, narrated.

    Uses a software token and a temporary state file. The only deliberate wait
    is for the next 30-second TOTP window: AWS accepts each code once, and the
    two codes that enabled the device used the current window.
    """
    from sts_mfa.cli.output import CliReporter, make_console

    run = DemoRun()
    if svg is not None and os.path.lexists(svg):  # before minutes of work, not after
        from sts_mfa.errors import WouldOverwrite

        raise WouldOverwrite(f"--svg {svg} already exists; sts-mfa never overwrites a file")
    if svg is not None and not os.path.isdir(os.path.dirname(os.path.abspath(svg))):
        raise click.BadParameter(
            f"directory {os.path.dirname(os.path.abspath(svg))} does not exist", param_hint="'--svg'"
        )
    if two_accounts and use_aws:
        raise click.UsageError("--two-accounts runs on the sandbox; for AWS use setup --role-profile")
    # The narration is progress: on stdout only when a person watches it there.
    # The summary is data: on stdout (or as JSON). A recording gets both.
    recording = svg is not None
    console = make_console(stderr=app.json or not sys.stdout.isatty(), record=recording)
    summary_console = console if recording or console.is_terminal else app.out_console()
    narrated = app.derive(reporter=CliReporter(console, quiet=app.quiet))
    # The state file, and for the sandbox its private cache (the device's ledger, the state's
    # signing key): they describe a sandbox that ends with the demo, so they go with it,
    # however the demo ends (an error, Ctrl-C).
    with tempfile.TemporaryDirectory(prefix="sts-mfa-demo-") as tmp:
        sandbox = None if use_aws else _start_sandbox(console)
        try:
            if sandbox is not None:
                narrated = _bind_to(narrated, sandbox, console, two_accounts=two_accounts)
                narrated = narrated.derive(cache_dir=os.path.join(tmp, "cache"))
            summary = _narrate(narrated.derive(state_file=os.path.join(tmp, "state.json")), console, run)
        finally:
            if sandbox is not None:
                sandbox.stop()
    total = time.perf_counter() - run.started
    waited = sum(s.waited for s in run.steps)
    summary.update(
        wall_seconds=round(total, 3),
        totp_wait_seconds=round(waited, 3),
        wall_seconds_excluding_totp_wait=round(total - waited, 3),
        peak_memory_mb=round(peak_memory_mb(), 1),
        requests=sum(s.requests for s in run.steps),
        target="sandbox" if sandbox is not None else "aws",
    )
    _print_summary(app, summary_console, run, summary)
    if svg is not None:
        from sts_mfa.files.private import write_new

        write_new(svg, console.export_svg(title="sts-mfa demo").encode("utf-8"), what="--svg")
    if summary.get("error"):
        raise AwsError(f"the demo failed: {summary['error']}")
    if not summary.get("check_deny_proven"):
        raise RoleExposed(f"the demo's role {summary.get('role_arn')} was not proven to need MFA")


def _start_sandbox(console: Any) -> Any:
    try:
        from sts_mfa.sandbox import Sandbox, SandboxUnavailable
    except ImportError as e:  # pragma: no cover - the package ships the module
        raise AwsError(f"the embedded sandbox is unavailable: {e}") from None
    with console.status("Starting the embedded sandbox (moto + the checks AWS applies)"):
        try:
            return Sandbox(sample_buckets=("reports", "logs")).start()
        except SandboxUnavailable as e:
            raise AwsError(str(e), hint="or run `sts-mfa demo --aws` against a real account") from None


def _bind_to(app: App, sandbox: Any, console: Any, *, two_accounts: bool) -> App:
    """An App for the sandbox: its endpoint, region and admin keys (the caller's App is not changed)."""
    from sts_mfa.aws.clients import Keys
    from sts_mfa.cli.output import safe as escape

    admin = sandbox.accounts[0]
    where = f"account {admin.account_id}"
    role_keys = None
    if two_accounts:
        other = sandbox.accounts[1]
        role_keys = Keys(other.access_key_id, other.secret_access_key)
        where = f"the user in account {admin.account_id}, the role in account {other.account_id}"
    console.print(f"[bold]Sandbox[/] listening on {escape(sandbox.endpoint)}: {escape(where)}")
    return app.derive(
        endpoint_url=sandbox.endpoint,
        region=sandbox.region,
        profile=None,
        admin_keys=Keys(admin.access_key_id, admin.secret_access_key),
        role_admin_keys=role_keys,
    )


def _narrate(app: App, console: Any, run: DemoRun) -> dict[str, Any]:
    """The five steps, each told as it happens; teardown always runs."""
    story = _Story(app, console, run)
    try:
        state = story.setup()
        story.check_deny(state)
        session = story.assume()
        story.list_buckets(state, session)
    except StsMfaError as e:
        story.summary["error"] = str(e)
        story.ctx.report.warn(f"stopped: {e}")
    finally:
        story.teardown()
    return story.summary


class _Story:
    """The demo's narration, one method per step, filling in the summary as it goes."""

    def __init__(self, app: App, console: Any, run: DemoRun) -> None:
        self.app, self.console, self.run = app, console, run
        self.ctx = app.source.context()
        self.summary: dict[str, Any] = {}

    def chapter(self, title: str) -> None:
        from rich.rule import Rule

        self.console.print(Rule(title))

    def setup(self) -> Any:
        from sts_mfa import scenario

        self.chapter("1. setup: a user with no permissions, an MFA device, an MFA-only role")
        with self.run.step("setup", self.ctx) as t, self.app.source.transaction(must_exist=False) as txn:
            endpoint = self.app.source.effective_endpoint()
            result = scenario.setup(self.ctx, txn, mode="software", phone=None, endpoint=endpoint)
            t.outcome = f"{len(result.created)} resources"
        state = result.state
        if not self.app.quiet:  # the lesson: the documents just created, MFA condition marked
            from sts_mfa.cli.policy_view import show_lesson

            show_lesson(self.console, state)
        self.summary["role_arn"] = state.role.arn if state.role else None
        self.summary["accounts"] = {"user": state.account, "role": state.role_account}
        return state

    def check_deny(self, state: Any) -> None:
        from sts_mfa import scenario
        from sts_mfa.cli.output import safe as escape

        self.chapter("2. check-deny: AssumeRole with the user's key and no MFA")
        with self.run.step("check-deny", self.ctx) as t:
            check = scenario.check_deny(self.ctx, state)
            if check.denied:
                self.console.print(
                    f"AWS refused it, as it should: [bold]{check.error_code}[/]: {escape(check.message)}"
                )
            else:
                self.console.print("[bold red]AWS handed out credentials without MFA![/] (discarded)")
            for finding in check.findings:
                self.console.print(f"[yellow]finding:[/] {escape(finding)}")
            if check.proven:
                self.console.print("The trust policy requires MFA on every way in, so the refusal is proof.")
            t.outcome = "refused (proven)" if check.proven else "NOT PROVEN"
        self.summary["check_deny_proven"] = check.proven
        self.summary["denial_message"] = check.message

    def assume(self) -> Any:
        from sts_mfa import scenario
        from sts_mfa.cli.output import safe as escape

        self.chapter("3. assume: the same call with an MFA code from the software token")
        with self.run.step("assume", self.ctx) as t, self.app.source.transaction(must_exist=False) as txn:
            assumed = scenario.assume(self.ctx, txn, ask_code=None)
            t.waited = assumed.waited
            self.console.print(
                f"AWS accepted code {assumed.code} (time-step {assumed.step}) and returned a session: "
                f"{escape(assumed.session.assumed_role_arn or '')}"
            )
            t.outcome = f"code {assumed.code}"
        self.summary["assumed_role_arn"] = assumed.session.assumed_role_arn
        self.summary["code_step"] = assumed.step
        return assumed.session

    def list_buckets(self, state: Any, session: Any) -> None:
        from sts_mfa import scenario
        from sts_mfa.cli.output import table

        self.chapter("4. list-buckets: with the role session's temporary keys")
        with self.run.step("list-buckets", self.ctx) as t:
            buckets = scenario.list_buckets(self.ctx, state, session)
            self.console.print(table(None, ["bucket"], [[b.name] for b in buckets]))
            t.outcome = f"{len(buckets)} buckets"
        self.summary["buckets"] = [b.name for b in buckets]

    def teardown(self) -> None:
        from sts_mfa import scenario

        self.chapter("5. teardown: everything, in the order AWS requires")
        with self.run.step("teardown", self.ctx) as t, self.app.source.transaction(must_exist=False) as txn:
            try:
                removed = scenario.teardown(self.ctx, txn)
                t.outcome = f"{len(removed.deleted)} deleted"
                self.summary["resources_deleted"] = len(removed.deleted)
            except StsMfaError as e:
                t.outcome = "FAILED"
                self.summary.setdefault("error", f"teardown: {e}")
                self.ctx.report.warn(f"teardown failed: {e}")
                if self.app.endpoint_url is None or self.ctx.role_aws is not None:
                    kept = _keep_state(self.app)
                    finish = shlex.join(["sts-mfa", "--state", str(kept), "teardown"])
                    self.ctx.report.warn(f"the state is kept in {kept}: run `{finish}`")


def _keep_state(app: App) -> Path:
    """Copy the demo's state out of its temporary directory, which is about to go.

    Into a new file: the state an earlier failed run kept is never overwritten
    (`sts-mfa-demo-state.json`, then `-2`, `-3`, ...).
    """
    from sts_mfa.errors import WouldOverwrite
    from sts_mfa.files.private import read_text, write_new

    data = (read_text(app.state_path) or "").encode("utf-8")
    for n in range(1, 1000):
        kept = Path(f"sts-mfa-demo-state{'' if n == 1 else f'-{n}'}.json").resolve()
        try:
            write_new(kept, data, what="kept state file")
        except WouldOverwrite:
            continue
        return kept
    raise WouldOverwrite("could not keep the demo's state: sts-mfa-demo-state-2..999.json all exist")


def _print_summary(app: App, console: Any, run: DemoRun, summary: dict[str, Any]) -> None:
    from rich.rule import Rule

    from sts_mfa.cli.output import table

    if app.json:
        summary["steps"] = [
            {
                "name": s.name,
                "seconds": round(s.seconds, 3),
                "requests": s.requests,
                "totp_wait_seconds": round(s.waited, 3),
                "outcome": s.outcome,
            }
            for s in run.steps
        ]
        app.echo_json(summary)
        return
    console.print(Rule("Summary"))
    rows = [[s.name, s.outcome, f"{s.seconds:.2f} s", s.requests] for s in run.steps]
    console.print(table(None, ["step", "outcome", "time", "requests"], rows))
    console.print(
        f"Total {summary['wall_seconds']:.1f} s, of which {summary['totp_wait_seconds']:.1f} s waiting for "
        f"the next TOTP window ({summary['wall_seconds_excluding_totp_wait']:.2f} s without it); "
        f"{summary['requests']} requests; peak memory {summary['peak_memory_mb']:.0f} MB."
    )
    if summary.get("check_deny_proven") and "error" not in summary:
        console.print("[green]Shown:[/] without MFA the role is refused; with MFA it works.")
