"""`sts-mfa check-deny [PROFILE]`: AssumeRole without MFA must be refused, and nothing else let in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.completion import complete_profile
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import code_option, json_option, margin_option, mfa_session_options, profile_argument
from sts_mfa.session.model import Settings

if TYPE_CHECKING:
    from rich.console import Console

    from sts_mfa.scenario.check_deny import CheckDenyResult
    from sts_mfa.trust.analysis import Analysis


@click.command(
    "check-deny",
    short_help=short_help("check-deny"),
    epilog="""\b
Examples:
  sts-mfa check-deny && echo "MFA is enforced"
  sts-mfa check-deny --json | jq .proven
  sts-mfa check-deny prod                     # a profile: refused without MFA, accepted with it
  sts-mfa check-deny prod --policy-profile audit   # and its trust policy read by `audit`
\b
Exit 0: refused without MFA, and the trust policy requires MFA on every way in
        (for a profile: also accepted with MFA).
Exit 3: AWS handed out credentials without MFA, or the trust policy lets
        someone in without MFA (sts:AssumeRole, web identity, SAML, a
        service...), or the analysis cannot decide, or (for a profile) no
        credentials of the role's account could read the trust policy: the
        refusal alone is not proof.
""",
)
@profile_argument
@click.option(
    "--policy-profile",
    metavar="NAME",
    shell_complete=complete_profile,
    help="With PROFILE: an AWS profile allowed iam:GetRole, to read the role's trust policy.",
)
@code_option("With PROFILE: the MFA code, if a new session is needed for the contrast.")
@margin_option
@mfa_session_options
@json_option
@pass_app
def check_deny(
    app: App,
    profile: str | None,
    policy_profile: str | None,
    code: str | None,
    refresh_margin: float,
    no_mfa_session: bool,
    mfa_session_duration: int | None,
) -> None:
    """Call AssumeRole with NO MFA (the state file's user, or PROFILE's source); succeed only if refused.

    Any credentials AWS hands out are discarded unused. The role's trust policy
    is read and analysed too: a refusal proves the point only if every way in
    (every Allow for sts:AssumeRole, sts:AssumeRoleWithWebIdentity or
    sts:AssumeRoleWithSAML, for any principal) requires MFA. A way in without
    MFA is a finding that names its statement; anything the analysis does not
    understand is "undecided", never proven.
    """
    if profile is not None:
        options = Settings.of(no_mfa_session, mfa_session_duration)
        _check_profile(app, profile, policy_profile, code, refresh_margin, options)
        return
    if policy_profile is not None:
        raise click.UsageError("--policy-profile goes with PROFILE (the state file's admin reads the policy)")
    _check_state(app)


def _check_state(app: App) -> None:
    from sts_mfa import scenario

    state = app.source.load_state()
    _render(app, scenario.check_deny(app.source.context_for(state), state))


def _check_profile(
    app: App, profile: str, policy_profile: str | None, code: str | None, margin: float, options: Any
) -> None:
    from sts_mfa.cli.code_sources import FlagCodes
    from sts_mfa.session.check_deny import check_deny_profile
    from sts_mfa.session.model import Want

    sessions = app.source.profile_sessions(profile, options)
    policy_aws = app.source.policy_reader(policy_profile) if policy_profile else None
    codes = FlagCodes(app.state_file, code).for_profile(sessions.profile)
    result = check_deny_profile(sessions, Want(margin=margin), codes, policy_aws)
    for warning in result.warnings:
        app.warn(warning)
    _render(app, result)


def _render(app: App, result: CheckDenyResult) -> None:
    """The result as JSON or text, then the exit code: 0 only if proven."""
    from sts_mfa.cli.output import safe

    if app.json:
        app.echo_json(result.to_json())
        result.raise_unless_proven()
        return
    out = app.out_console()
    if result.denied:
        out.print(f"AssumeRole without MFA was refused: {result.error_code}: {safe(result.message)}")
    else:
        out.print("[bold red]AssumeRole without MFA SUCCEEDED[/]: the credentials were discarded unused")
    if result.profile is not None:
        out.print(f"AssumeRole with MFA was accepted: {safe(result.assumed_role_arn or '(a session)')}")
    if result.analysis is None:
        out.print(
            "[yellow]The trust policy could not be read[/] "
            f"({safe('; '.join(result.unread_because))}): other ways in (web identity, SAML, "
            "services, other principals) were NOT checked, so nothing is proven."
        )
    else:
        _say_analysis(out, result.analysis)
        _show_policy(app, out, result.role_arn, result.trust_policy, result.analysis)
    if result.proven:
        out.print(f"[green]Proven:[/] {safe(result.role_arn)} cannot be assumed without MFA.")
    result.raise_unless_proven()


def _say_analysis(out: Console, analysis: Analysis) -> None:
    from sts_mfa.cli.output import safe

    if analysis.findings:
        for finding in analysis.findings:
            label = "cannot decide" if finding.kind == "undecided" else "finding"
            out.print(f"[yellow]{label}:[/] {safe(str(finding))}")
    else:
        out.print("The trust policy requires MFA on every way in (all statements, all assume actions).")


def _show_policy(app: App, out: Console, role_arn: str, document: Any, analysis: Analysis) -> None:
    """The trust policy, the statements behind each finding marked (-q: not shown)."""
    if app.quiet or document is None:
        return
    from sts_mfa.cli.policy_view import show

    show(out, document, title=f"Trust policy of {role_arn}", findings=analysis.findings)
