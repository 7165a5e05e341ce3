"""`sts-mfa audit --organization` at 20, 100 and 500 accounts, at --concurrency 1, 4, 8 and 16.

Run through `python scripts/bench.py --organization` (which hands in its process runner,
environment and sandbox starter); this module is the scenario. For each size, `sts-mfa
sandbox serve --background --organization N-1 --roles-per-account ROLES` (ROLES roles
requiring MFA per member, plus OrganizationAccountAccessRole) runs as a process of its own,
and `sts-mfa -v audit --organization --json` as another, against it as any endpoint. (Not a
Sandbox in this process: a child forked from a process holding thousands of roles in moto
starts with that process's memory, and its peak RSS would say so.)

Then the same at LATENCY_ACCOUNTS accounts with `--latency LATENCY` (every request waits that
long first, outside the sandbox's lock, as a round trip to AWS does): what concurrency buys
when the time goes to waiting for AWS, not to this machine's CPUs.

Measured per run: wall time, the audit process's peak memory and CPU time (wait4), the
sandbox process's CPU time (/proc/PID/stat; Linux), and the requests, counted twice: by the
sandbox's request log (`/_sandbox/requests`) and by the tool's own `-v` line. Targets: the
requests are exactly ListAccounts pages + 2 per account (GetCallerIdentity standing for the
management account's AssumeRole, which is not needed), and memory is flat: the peak at 500
accounts at most MEMORY_RATIO times the peak at 20.
"""

from __future__ import annotations

import json
import os
import re
import signal
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SIZES = (20, 100, 500)
CONCURRENCY = (1, 4, 8, 16)
ROLES = 20  # roles requiring MFA per member account (each member has one more: its access role)
MEMORY_RATIO = 1.3
LATENCY = 0.05  # seconds per request: about an AWS round trip from a nearby region
LATENCY_ACCOUNTS = 100
REQUESTS_LINE = re.compile(r"sts-mfa: (\d+) AWS requests")


@dataclass
class Run:
    accounts: int
    concurrency: int
    seconds: float
    peak_mb: float
    audit_cpu: float
    sandbox_cpu: float
    requests: int  # the sandbox's count
    said: int  # the tool's -v count
    listing_pages: int
    roles: int
    returncode: int
    error: str


def organization_scenario(
    sts_mfa: str,
    env_for: Callable[..., dict[str, str]],
    measure: Callable[..., Any],
    serve: Callable[..., tuple[dict[str, str], str]],
) -> tuple[str, bool]:
    """Every size at every concurrency; a Markdown table and whether the targets held."""
    runs: list[Run] = []
    slow: list[Run] = []
    for size, latency, into in [*((size, 0.0, runs) for size in SIZES), (LATENCY_ACCOUNTS, LATENCY, slow)]:
        options = (
            "--organization",
            str(size - 1),
            "--roles-per-account",
            str(ROLES),
            "--latency",
            str(latency),
        )
        exports, problem = serve(sts_mfa, env_for(), *options)
        if problem:
            return problem, False
        sandbox = Served(exports)
        try:
            env = env_for(**{k: v for k, v in exports.items() if k.startswith("AWS_")})
            into += [_run(sandbox, sts_mfa, env, measure, size, c) for c in CONCURRENCY]
        finally:
            os.kill(sandbox.pid, signal.SIGTERM)
    return _table(runs) + "\n\n" + _latency_table(slow), _targets_hold(runs) and _targets_hold(slow)


class Served:
    """A `sandbox serve --background`: its request log and its CPU time."""

    def __init__(self, exports: dict[str, str]) -> None:
        self.endpoint = exports["AWS_ENDPOINT_URL"]
        self.pid = int(exports["STS_MFA_SANDBOX_PID"])

    def requests(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.endpoint}/_sandbox/requests", timeout=30) as answer:  # noqa: S310
            records: list[dict[str, Any]] = json.load(answer)
        return records

    def clear(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/_sandbox/requests", method="DELETE")  # noqa: S310
        urllib.request.urlopen(request, timeout=30).close()  # noqa: S310

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(
    sandbox: Served,
    sts_mfa: str,
    env: dict[str, str],
    measure: Callable[..., Any],
    size: int,
    concurrency: int,
) -> Run:
    sandbox.clear()
    cpu = sandbox.cpu_seconds()
    ran = measure(
        [sts_mfa, "-v", "audit", "--organization", "--json", "--concurrency", str(concurrency)], env
    )
    sandbox_cpu = sandbox.cpu_seconds() - cpu
    said = REQUESTS_LINE.search(ran.stderr)
    roles = json.loads(ran.stdout)["summary"]["roles"] if ran.stdout.strip() else -1
    records = sandbox.requests()
    return Run(
        accounts=size,
        concurrency=concurrency,
        seconds=ran.seconds,
        peak_mb=ran.peak_mb,
        audit_cpu=ran.cpu_seconds,
        sandbox_cpu=sandbox_cpu,
        requests=len(records),
        said=int(said.group(1)) if said else -1,
        listing_pages=sum(1 for r in records if r["action"] == "ListAccounts"),
        roles=roles,
        returncode=ran.returncode,
        error=ran.stderr.strip().splitlines()[-1] if ran.returncode not in (0, 3) else "",
    )


def _expected_requests(run: Run) -> int:
    return run.listing_pages + 2 * run.accounts


def _targets_hold(runs: list[Run]) -> bool:
    worked = all(r.returncode == 3 and not r.error for r in runs)  # exit 3: the access roles are open
    exact = all(r.requests == r.said == _expected_requests(r) for r in runs)
    first = {r.concurrency: r.peak_mb for r in runs if r.accounts == runs[0].accounts}
    flat = all(r.peak_mb <= MEMORY_RATIO * first[r.concurrency] for r in runs)
    return worked and exact and flat


def _latency_table(runs: list[Run]) -> str:
    one = runs[0]
    lines = [
        f"The same at {LATENCY_ACCOUNTS} accounts with every request waiting {1000 * LATENCY:.0f} ms first "
        "(`sandbox serve --latency`), as a round trip to AWS does:",
        "",
        "| accounts | concurrency | requests | time | time / time at concurrency 1 | audit CPU "
        "| audit peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.accounts} | {r.concurrency} | {r.requests:,} | {r.seconds:.2f} s "
        f"| {r.seconds / one.seconds:.2f} | {r.audit_cpu:.2f} s | {r.peak_mb:.0f} MB |"
        for r in runs
    ]
    return "\n".join(lines)


def _table(runs: list[Run]) -> str:
    base = runs[0]
    lines = [
        f"`sts-mfa -v audit --organization --json` on the sandbox, {ROLES} roles requiring MFA per member "
        "account plus its OrganizationAccountAccessRole; requests counted by the sandbox (and equal to the "
        "tool's `-v` count); CPU seconds of the audit process and of the sandbox serving it "
        f"(targets: requests = ListAccounts pages + 2 per account; peak memory at {SIZES[-1]} accounts at "
        f"most {MEMORY_RATIO} x at {SIZES[0]}):",
        "",
        "| accounts | roles | concurrency | requests | of which ListAccounts | time | time / accounts "
        "| audit CPU | sandbox CPU | audit peak memory | memory / at 20 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        first = next(f for f in runs if f.accounts == SIZES[0] and f.concurrency == r.concurrency)
        lines.append(
            f"| {r.accounts} | {r.roles:,} | {r.concurrency} | {r.requests:,} | {r.listing_pages} "
            f"| {r.seconds:.2f} s | {1000 * r.seconds / r.accounts:.1f} ms | {r.audit_cpu:.2f} s "
            f"| {r.sandbox_cpu:.2f} s | {r.peak_mb:.0f} MB | {r.peak_mb / first.peak_mb:.2f} |"
        )
    failed = [r for r in runs if r.error or r.returncode != 3 or r.requests != _expected_requests(r)]
    if failed:
        worst = failed[0]
        lines.append(
            f"\nFailed or missed a target at {worst.accounts} accounts, concurrency {worst.concurrency}: "
            f"exit {worst.returncode}, {worst.requests} requests (expected {_expected_requests(worst)}, "
            f"-v said {worst.said}) {worst.error}"
        )
    lines.append(
        f"\n(time / accounts at concurrency 1, {SIZES[0]} accounts: {1000 * base.seconds / 20:.1f} ms)"
    )
    return "\n".join(lines)
