"""`sts-mfa status`: what the state file holds and what exists, never a secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.completion import complete_profile
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import json_option
from sts_mfa.errors import StsMfaError
from sts_mfa.mfa.totp import step_start
from sts_mfa.session.handoff import iso8601
from sts_mfa.state.document import read
from sts_mfa.state.model import RESOURCE_KINDS, State

if TYPE_CHECKING:
    from rich.console import Console


def describe(state: State, now: float, exists: dict[str, bool | None] | None) -> dict[str, Any]:
    """The state as data for people and scripts: names, ARNs, times; secrets only as 'stored'."""
    exists = exists or {}
    extras: dict[str, dict[str, Any]] = {
        "access_key": {"secret": "stored in the state file"},
        "mfa_device": {"enabled": bool(state.mfa_device and state.mfa_device.enabled)},
        "policy": {"attached": state.policy_attached},
    }
    resources: dict[str, dict[str, Any] | None] = dict.fromkeys(RESOURCE_KINDS)
    for r in state.resources():
        resources[r.kind] = {
            "name": r.name,
            "arn": r.arn,
            "exists": exists.get(r.kind),
            **extras.get(r.kind, {}),
        }
    device = state.mfa_device
    record = state.totp.get(device.serial) if device and device.serial else None
    session = state.session
    return {
        "prefix": state.prefix,
        "mode": state.mode,
        "account": state.account,
        "role_account": state.role_account,
        "role_profile": state.role_profile,
        "region": state.region,
        "endpoint": state.endpoint,
        "setup_complete": state.setup_complete(),
        "resources": resources,
        "totp": {
            "seed_on_disk": state.seed is not None,
            "last_step": record.last_step if record else None,
            "last_step_started": iso8601(step_start(record.last_step))
            if record and record.last_step
            else None,
            "last_typed_code_at": iso8601(record.last_used_at) if record and record.last_used_at else None,
        },
        "session": None
        if session is None
        else {
            "access_key_id": session.access_key_id,
            "assumed_role_arn": session.assumed_role_arn,
            "expires": iso8601(session.expiration),
            "remaining_seconds": max(0, int(session.remaining(now))),
            "valid": session.remaining(now) > 0,
        },
    }


@click.command(
    short_help=short_help("status"),
    epilog="""\b
Examples:
  sts-mfa status
  sts-mfa status --offline --json | jq .session
  sts-mfa status prod                       # a profile's sessions and MFA session
""",
)
@click.argument("profile", required=False, shell_complete=complete_profile)
@click.option("--offline", is_flag=True, help="Only read the state file; do not ask AWS what exists.")
@json_option
@pass_app
def status(app: App, profile: str | None, offline: bool) -> None:
    """Show what the state file holds and which of it exists in AWS (no secrets), or PROFILE's sessions.

    A state file sts-mfa did not sign is shown too, marked NOT SIGNED (and
    `"signed": false`), so it can be checked before `sts-mfa adopt`; nothing in it is used.

    With PROFILE: the profile, its cached role session, the MFA sessions of its
    device and which roles each serves, and the last TOTP step sent (from the
    private cache; nothing is asked of AWS).
    """
    if profile is not None:
        from sts_mfa.session import status as profile_status

        data = profile_status.describe(profile, app.clock.now(), app.source.effective_endpoint())
        if app.json:
            app.echo_json(data)
        else:
            from sts_mfa.cli.output import safe

            out = app.out_console()
            for line in profile_status.render(data):
                out.print(safe(line))
        return
    found = read(app.state_path, key_dir=app.cache_root())
    if found is None:
        if app.json:
            app.echo_json({"state_file": str(app.state_path), "exists": False})
        else:
            click.echo(f"No state file at {app.state_path}: nothing is set up.")
        return
    state = found.state
    exists: dict[str, bool | None] | None = None
    problem = None
    if not offline and state.has_resources():
        try:
            app.source.check_matches(state)
            from sts_mfa import scenario

            exists = scenario.which_exist(app.source.context_for(state), state)
        except StsMfaError as e:
            problem = str(e)
    data = {
        "state_file": str(app.state_path),
        "exists": True,
        "signed": found.problem is None,
        **describe(state, app.clock.now(), exists),
    }
    refusal = found.refusal()
    if refusal is not None:  # shown, never used: say so, and how to adopt it
        data["not_signed"] = str(refusal)
    if problem:
        data["aws_check"] = f"could not ask AWS: {problem}"
    if app.json:
        app.echo_json(data)
        return
    _print(app, data)


def _yes(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "?"}[value]


COLUMNS = ["resource", "name", "details", "exists"]


@dataclass
class _Row:
    kind: str
    name: str | None = None
    arn: str | None = None
    note: str | None = None  # enabled, attached...
    exists: str | None = None

    def cells(self) -> list[str | None]:
        detail = self.arn or self.name
        if detail and self.note:
            detail = f"{detail} ({self.note})"
        return [self.kind, self.name, detail, self.exists]


def _print_resources(out: Console, rows: list[_Row]) -> None:
    """A table when every cell fits on one line; else one resource per line, each ARN whole on its own.

    A table too narrow for an ARN would fold it mid-ARN, where it can neither be read nor copied.
    """
    from sts_mfa.cli.output import safe as escape
    from sts_mfa.cli.output import table

    cells = [row.cells() for row in rows]
    everything: list[list[str | None]] = [list(COLUMNS), *cells]
    widths = [max(len(c[i] or "-") for c in everything) for i in range(len(COLUMNS))]
    if sum(widths) + 3 * (len(COLUMNS) - 1) <= out.width:  # " │ " between columns, no outer edge
        out.print(table(None, COLUMNS, cells))
        return
    for row in rows:
        note = f", {row.note}" if row.note else ""
        out.print(escape(f"{row.kind}: {row.name or '-'}{note} (exists: {row.exists or '-'})"))
        if row.arn:
            out.print(escape(f"  {row.arn}"))


def _print(app: App, data: dict[str, Any]) -> None:
    from sts_mfa.cli.output import safe as escape

    out = app.out_console()
    mode = "software token (seed in the state file)" if data["mode"] == "software" else "phone"
    accounts = f"account {data['account'] or '?'}"
    if data["role_account"] and data["role_account"] != data["account"]:
        accounts = f"user in account {data['account']}, role in account {data['role_account']}"
        if data["role_profile"]:
            accounts += f" (profile {data['role_profile']})"
    out.print(escape(f"State file {data['state_file']}: {data['prefix']}, {mode}, {accounts}"))
    if not data["signed"]:
        out.print(f"[bold red]NOT SIGNED[/]: {escape(data['not_signed'])}")
    rows = []
    for kind, r in data["resources"].items():
        row = _Row(kind.replace("_", " "))
        if r is not None:
            row.name, row.arn, row.exists = r["name"], r["arn"], _yes(r["exists"])
            if kind == "mfa_device":
                row.note = "enabled" if r["enabled"] else "not enabled"
            if kind == "policy":
                row.note = "attached" if r["attached"] else "not attached"
        rows.append(row)
    _print_resources(out, rows)
    totp = data["totp"]
    if totp["last_step"] is not None:
        out.print(
            escape(f"Last TOTP time-step used: {totp['last_step']} (began {totp['last_step_started']})")
        )
    s = data["session"]
    if s is None:
        out.print("No cached role session.")
    else:
        state_word = f"valid for {s['remaining_seconds']} s" if s["valid"] else "EXPIRED"
        out.print(escape(f"Cached session {s['access_key_id']}: expires {s['expires']} ({state_word})"))
    if "aws_check" in data:
        out.print(f"[yellow]{escape(data['aws_check'])}[/]")
