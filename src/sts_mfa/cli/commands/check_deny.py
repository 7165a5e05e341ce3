"""`sts-mfa check-deny [PROFILE]`: AssumeRole without MFA must be refused, and nothing else let in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from sts_mfa.cli.app import App, pass_app
from sts_mfa.cli.completion import complete_profile
from sts_mfa.cli.lazy import short_help
from sts_mfa.cli.options import code_option, json_option, margin_option, mfa_session_options, profile_argument
from sts_mfa.errors import RoleExposed
from sts_mfa.session.model import Settings

if TYPE_CHECKING:
    from rich.console import Console

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
    mfa_session_duration: int,
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
    result = scenario.check_deny(app.source.context_for(state), state)
    if app.json:
        app.echo_json(
            {
                "role_arn": result.role_arn,
                "user_arn": result.user_arn,
                "denied": result.denied,
                "error_code": result.error_code,
                "message": result.message,
                **_analysis_json(result.analysis),
                "proven": result.proven,
            }
        )
    else:
        out = app.out_console()
        _say_denial(out, result.denied, result.error_code, result.message)
        _say_analysis(out, result.analysis)
        _show_policy(app, out, result.role_arn, result.trust_policy, result.analysis)
        if result.proven:
            _say_proven(out, result.role_arn)
    _verdict(result.denied, result.role_arn, result.user_arn, result.analysis)


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
    if app.json:
        app.echo_json(
            {
                "profile": result.profile,
                "role_arn": result.role_arn,
                "source_arn": result.source_arn,
                "denied": result.denied,
                "error_code": result.error_code,
                "message": result.message,
                "accepted_with_mfa": result.assumed_role_arn is not None,
                "assumed_role_arn": result.assumed_role_arn,
                "trust_policy": result.trust_policy,
                "trust_policy_read_with": result.read_with,
                **_analysis_json(result.analysis),
                "proven": result.proven,
            }
        )
    else:
        out = app.out_console()
        _say_denial(out, result.denied, result.error_code, result.message)
        _say_accepted(out, result.assumed_role_arn)
        if result.analysis is None:
            out.print(
                "[yellow]The trust policy could not be read[/] "
                f"({_safe('; '.join(result.unread_because))}): other ways in (web identity, SAML, "
                "services, other principals) were NOT checked, so nothing is proven."
            )
        else:
            _say_analysis(out, result.analysis)
            _show_policy(app, out, result.role_arn, result.document, result.analysis)
        if result.proven:
            _say_proven(out, result.role_arn)
    if result.denied and result.analysis is None:
        account = result.role_arn.split(":")[4]
        raise RoleExposed(
            f"not proven: the trust policy of {result.role_arn} could not be read "
            f"({'; '.join(result.unread_because)}), so other ways in were not checked",
            hint=f"read it with --policy-profile NAME, a profile of account {account} allowed iam:GetRole",
        )
    _verdict(result.denied, result.role_arn, result.source_arn or result.profile, result.analysis)


def _analysis_json(analysis: Analysis | None) -> dict[str, Any]:
    if analysis is None:
        return {
            "trust_policy_requires_mfa": None,
            "trust_policy_verdict": None,
            "findings": [],
            "ways_in": [],
        }
    return {
        "trust_policy_requires_mfa": analysis.requires_mfa,
        "trust_policy_verdict": analysis.verdict,
        "findings": [str(f) for f in analysis.findings],
        "ways_in": analysis.to_json()["ways_in"],
    }


def _safe(text: str) -> str:
    from sts_mfa.cli.output import safe

    return safe(text)


def _say_denial(out: Console, denied: bool, code: str | None, message: str) -> None:
    if denied:
        out.print(f"AssumeRole without MFA was refused: {code}: {_safe(message)}")
    else:
        out.print("[bold red]AssumeRole without MFA SUCCEEDED[/]: the credentials were discarded unused")


def _say_accepted(out: Console, assumed: str | None) -> None:
    out.print(f"AssumeRole with MFA was accepted: {_safe(assumed or '(a session)')}")


def _say_analysis(out: Console, analysis: Analysis) -> None:
    if analysis.findings:
        for finding in analysis.findings:
            label = "cannot decide" if finding.kind == "undecided" else "finding"
            out.print(f"[yellow]{label}:[/] {_safe(str(finding))}")
    else:
        out.print("The trust policy requires MFA on every way in (all statements, all assume actions).")


def _show_policy(app: App, out: Console, role_arn: str, document: Any, analysis: Analysis) -> None:
    """The trust policy, the statements behind each finding marked (-q: not shown)."""
    if app.quiet or document is None:
        return
    from sts_mfa.cli.policy_view import show

    show(out, document, title=f"Trust policy of {role_arn}", findings=analysis.findings)


def _say_proven(out: Console, role_arn: str) -> None:
    out.print(f"[green]Proven:[/] {_safe(role_arn)} cannot be assumed without MFA.")


def _verdict(denied: bool, role_arn: str, who: str, analysis: Analysis | None) -> None:
    """Exit 3 unless proven: refused without MFA, and a trust policy read that requires MFA."""
    if not denied:
        raise RoleExposed(f"EXPOSED: {role_arn} can be assumed WITHOUT MFA by {who}")
    if analysis is None:
        raise RoleExposed(f"not proven: the trust policy of {role_arn} could not be read")
    if analysis.verdict == "undecided":
        raise RoleExposed(
            f"not proven: the analysis cannot decide whether every way into {role_arn} "
            f"requires MFA ({analysis.findings[0]})"
        )
    if not analysis.requires_mfa:
        first = str(analysis.findings[0])
        raise RoleExposed(
            f"the refusal is not proof: the trust policy of {role_arn} lets principals in "
            f"without MFA ({len(analysis.findings)} finding(s); first: {first})"
        )
