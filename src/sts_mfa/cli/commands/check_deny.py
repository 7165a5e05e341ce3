"""`sts-mfa check-deny`: AssumeRole without MFA must be refused."""

from __future__ import annotations

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import json_option
from sts_mfa.errors import RoleExposed


@click.command(
    "check-deny",
    short_help=short_help("check-deny"),
    epilog="""\b
Examples:
  sts-mfa check-deny && echo "MFA is enforced"
  sts-mfa check-deny --json | jq .proven
\b
Exit 0: refused, and the trust policy requires MFA on every way in.
Exit 3: AWS handed out credentials without MFA, or the trust policy lets
        someone in without MFA (sts:AssumeRole, web identity, SAML, a
        service...), or the analysis cannot decide: the refusal is not proof.
""",
)
@json_option
@pass_app
def check_deny(app: App) -> None:
    """Call AssumeRole with the user's key and NO MFA; succeed only if AWS refuses.

    Any credentials AWS hands out are discarded unused. The role's trust policy
    is read and analysed too: a refusal proves the point only if every way in
    (every Allow for sts:AssumeRole, sts:AssumeRoleWithWebIdentity or
    sts:AssumeRoleWithSAML, for any principal) requires MFA. A way in without
    MFA is a finding that names its statement; anything the analysis does not
    understand is "undecided", never proven.
    """
    from sts_mfa import scenario

    state = app.load_state()
    result = scenario.check_deny(app.context_for(state), state)
    if app.json:
        app.echo_json(
            {
                "role_arn": result.role_arn,
                "user_arn": result.user_arn,
                "denied": result.denied,
                "error_code": result.error_code,
                "message": result.message,
                "trust_policy_requires_mfa": result.analysis.requires_mfa,
                "trust_policy_verdict": result.analysis.verdict,
                "findings": result.findings,
                "ways_in": result.analysis.to_json()["ways_in"],
                "proven": result.proven,
            }
        )
    else:
        out = app.out_console()
        from rich.markup import escape

        if result.denied:
            out.print(f"AssumeRole without MFA was refused: {result.error_code}: {escape(result.message)}")
        else:
            out.print("[bold red]AssumeRole without MFA SUCCEEDED[/]: the credentials were discarded unused")
        if result.findings:
            for finding in result.analysis.findings:
                label = "cannot decide" if finding.kind == "undecided" else "finding"
                out.print(f"[yellow]{label}:[/] {escape(str(finding))}")
        else:
            out.print("The trust policy requires MFA on every way in (all statements, all assume actions).")
        if result.proven:
            out.print(f"[green]Proven:[/] {escape(result.role_arn)} cannot be assumed without MFA.")
    if not result.denied:
        raise RoleExposed(f"EXPOSED: {result.role_arn} can be assumed WITHOUT MFA by {result.user_arn}")
    if result.analysis.verdict == "undecided":
        raise RoleExposed(
            f"not proven: the analysis cannot decide whether every way into {result.role_arn} "
            f"requires MFA ({result.findings[0]})"
        )
    if not result.analysis.requires_mfa:
        raise RoleExposed(
            f"the refusal is not proof: the trust policy of {result.role_arn} lets principals in "
            f"without MFA ({len(result.findings)} finding(s); first: {result.findings[0]})"
        )
