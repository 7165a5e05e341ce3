"""The bad-input table's profile cases: AWS config profiles that need an MFA code, or loop.

An admin-side profile (`--profile`, a role profile, `--policy-profile`, `--prove-with`)
that assumes a role with MFA gets its code from sts-mfa's own sources or fails in one
line; a profile whose credentials come through another one's MFA role, or go round in a
loop (of source_profiles, or of credential_processes that are sts-mfa again, whatever
the names hold), is refused at once. Each case is a row of `docs/bad-inputs.md` (the
section "Profiles of the AWS config"). No case sends a code: none is to be had.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.reliability.bad_input_bench import Bench, Case, Outcome, Prepare, env, nothing_deleted, software
from tests.support.processes import STS_MFA

ROLE = "arn:aws:iam::111111111111:role/Admin"
SERIAL = "arn:aws:iam::111111111111:mfa/alice"
KEYS = "[keys]\naws_access_key_id = AKIAEXAMPLESOURCE000\naws_secret_access_key = not-a-secret-of-anyone\n"


def _mfa_role(source: str) -> dict[str, str]:
    return {"role_arn": ROLE, "source_profile": source, "mfa_serial": SERIAL}


def _sts_mfa_for(profile: str) -> dict[str, str]:
    return {"credential_process": f"{STS_MFA} assume {profile} --format process"}


PROFILES = {
    "admin": _mfa_role("keys"),  # an admin that assumes its role with MFA
    "chain": {"role_arn": ROLE, "source_profile": "admin"},  # a role reached through admin's MFA role
    "c1": {"role_arn": ROLE, "source_profile": "c2"},
    "c2": {"role_arn": ROLE, "source_profile": "c1"},
    "la": _mfa_role("lb"),
    "lb": {"role_arn": ROLE, "source_profile": "la"},
    "pa": _mfa_role("pb"),
    "pb": _sts_mfa_for("pa"),
    "a,b": _mfa_role("back"),
    "back": _sts_mfa_for("a,b"),
}


def profiles(b: Bench) -> None:
    """The AWS config and credentials files above, in the case's directory, in use."""
    config, credentials = b.path("config"), b.path("credentials")
    config.write_text(
        "".join(
            f"[profile {name}]\nregion = us-east-1\n"
            + "".join(f"{k} = {v}\n" for k, v in values.items())
            + "\n"
            for name, values in PROFILES.items()
        )
    )
    credentials.write_text(KEYS)
    b.env.update({"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)})


def no_code_sent(b: Bench, _: Outcome) -> None:
    assert b.sb.count("GetSessionToken") == b.sb.count("AssumeRole") == 0


def no_state_file_and_no_code_sent(b: Bench, result: Outcome) -> None:
    assert not b.cli.state.exists()
    no_code_sent(b, result)


def both(*checks: Callable[[Bench, Outcome], None]) -> Callable[[Bench, Outcome], None]:
    def check(b: Bench, result: Outcome) -> None:
        for each in checks:
            each(b, result)

    return check


WITH_PROFILES: tuple[Prepare, ...] = (profiles,)

CASES = [
    Case(
        "admin-profile-mfa-no-code",
        "`--profile` naming a profile that assumes a role with MFA; no code, no terminal",
        ["--profile", "admin", "setup", "--software-token"],
        2,
        r"profile admin assumes its role with MFA, and there is no cached session for it with enough "
        r"time left, no MFA code and no terminal to ask for one: run `sts-mfa assume admin` in a "
        r"terminal first .*or set STS_MFA_CODE",
        WITH_PROFILES,
        check=no_state_file_and_no_code_sent,
    ),
    Case(
        "admin-profile-mfa-no-code-teardown",
        "`teardown` with such a `--profile`; no code, no terminal",
        ["--profile", "admin", "teardown"],
        2,
        r"profile admin assumes its role with MFA, .*no terminal to ask for one",
        (software, profiles),
        check=both(nothing_deleted, no_code_sent),
    ),
    Case(
        "admin-profile-code-env-malformed",
        "such a `--profile` with STS_MFA_CODE of 2 digits",
        ["--profile", "admin", "audit"],
        2,
        r"STS_MFA_CODE: an MFA code is exactly 6 digits; '12' has 2",
        (profiles, env(STS_MFA_CODE="12")),
        check=no_code_sent,
    ),
    Case(
        "admin-profile-mfa-source",
        "`--profile` naming a role whose source_profile assumes a role with MFA",
        ["--profile", "chain", "audit"],
        2,
        r"profile chain: its credentials come through profile admin, which assumes a role with MFA "
        r"\(mfa_serial\); sts-mfa gets MFA codes only for the profile it is given",
        WITH_PROFILES,
        check=no_code_sent,
    ),
    Case(
        "prove-with-mfa-role-profile",
        "`audit --prove-with` naming a profile that assumes a role with MFA",
        ["audit", "--prove-with", "admin"],
        2,
        r"--prove-with admin: its credentials are temporary \(the profile sets role_arn\)",
        WITH_PROFILES,
        check=no_code_sent,
    ),
    Case(
        "admin-profile-source-loop",
        "`--profile` naming a role whose source_profiles go round in a loop",
        ["--profile", "c1", "setup", "--software-token"],
        2,
        r"profile c1: its source_profiles go round in a loop \(c1 -> c2 -> c1\): refusing to loop",
        WITH_PROFILES,
        check=no_state_file_and_no_code_sent,
    ),
    Case(
        "profile-source-loop",
        "a PROFILE whose source_profile's source_profile is the PROFILE",
        ["assume", "la"],
        2,
        r"profile la: its source_profiles go round in a loop \(la -> lb -> la\): refusing to loop",
        WITH_PROFILES,
        check=no_code_sent,
    ),
    Case(
        "profile-credential-process-loop",
        "a PROFILE whose source_profile's credential_process is `sts-mfa assume PROFILE`",
        ["assume", "pa"],
        2,
        r"profile pa: the credentials of pb: profile pa's credentials depend on themselves "
        r"\(pa -> pa\): refusing to loop$",
        WITH_PROFILES,
        check=no_code_sent,
    ),
    Case(
        "profile-comma-loop",
        "the same loop, for a PROFILE named `a,b` (a comma in its name)",
        [],
        2,
        r"profile a,b: the credentials of back: profile a,b's credentials depend on themselves "
        r"\(a,b -> a,b\): refusing to loop$",
        WITH_PROFILES,
        runner="shell",
        shell="{sts} assume a,b --format process",
        check=no_code_sent,
    ),
]
