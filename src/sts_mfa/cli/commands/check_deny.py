"""`sts-mfa check-deny`: AssumeRole without MFA must be refused."""

from __future__ import annotations

import click

from sts_mfa.cli.app import App, json_option, pass_app, short_help
from sts_mfa.errors import RoleExposed


@click.command(
    "check-deny",
    short_help=short_help("check-deny"),
    epilog="""\b
Examples:
  sts-mfa check-deny && echo "MFA is enforced"
  sts-mfa check-deny --json | jq .proven
\b
Exit 0: refused, and the trust policy requires MFA on every Allow.
Exit 3: AWS handed out credentials without MFA, or the trust policy lets
        someone in without MFA (the refusal was then not proof).
""",
)
@json_option
@pass_app
def check_deny(app: App) -> None:
    """Call AssumeRole with the user's key and NO MFA; succeed only if AWS refuses.

    Any credentials AWS hands out are discarded unused. The role's trust policy
    is read too: a refusal proves the point only if every Allow for
    sts:AssumeRole requires MFA (BoolIfExists or a missing condition is a finding).
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
                "trust_policy_requires_mfa": not result.findings,
                "findings": result.findings,
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
            for finding in result.findings:
                out.print(f"[yellow]finding:[/] {escape(finding)}")
        else:
            out.print("The trust policy requires MFA on every Allow for sts:AssumeRole.")
        if result.proven:
            out.print(f"[green]Proven:[/] {result.role_arn} cannot be assumed without MFA.")
    if not result.denied:
        raise RoleExposed(f"EXPOSED: {result.role_arn} can be assumed WITHOUT MFA by {result.user_arn}")
    if result.findings:
        raise RoleExposed(
            f"the refusal is not proof: the trust policy of {result.role_arn} "
            f"lets principals in without MFA ({len(result.findings)} finding(s))"
        )
