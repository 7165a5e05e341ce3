"""Bad input, one table: every case gets one clear line, its documented exit code, and no traceback.

Each row of `CASES` prepares a situation (a finished setup, a damaged state file, a
resource deleted behind the tool's back, no credentials, an immutable directory...),
runs one command, and checks:

- the exit code DESIGN.md assigns (0 ok, 1 AWS/environment, 2 usage, 4 state, 5 code
  refused, 6 credentials);
- exactly one `sts-mfa: error:` line, last on stderr, matching what the case expects
  (exit 2 may instead be Click's own short usage block);
- no traceback anywhere, and no secret (user key, seed, session, admin key) in the output;
- the state file byte-for-byte unchanged, unless changing it is the command's job.

`docs/bad-inputs.md` lists the same cases; a test keeps the two in step.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp
import pytest
from click.testing import Result

from sts_mfa.sandbox import Faults, Sandbox
from sts_mfa.state import SCHEMA_VERSION, write_atomic
from tests.conftest import Cli
from tests.reliability.rel_support import (
    TRACEBACK,
    error_lines,
    is_clean,
    leaked,
    residue,
    state_secrets,
    valid_state,
)
from tests.sandbox_fixtures import admin

if TYPE_CHECKING:
    from tests.reliability.conftest import Tally

DOC = Path(__file__).resolve().parents[2] / "docs" / "bad-inputs.md"


@dataclass
class Bench:
    """What a case prepares: the CLI (its state file), the sandbox, and the run's env and stdin."""

    cli: Cli
    sb: Sandbox
    tmp: Path
    env: dict[str, str | None] = field(default_factory=dict)
    stdin: str | None = None
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    saved: dict[str, Any] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.cli.state.read_text())
        return data

    def write(self, data: dict[str, Any] | str) -> None:
        write_atomic(self.cli.state, data if isinstance(data, str) else json.dumps(data))

    def run(self, *args: str) -> Result:
        result = self.cli(*args)
        assert result.exit_code == 0, (args, result.output)
        return result


Prepare = Callable[[Bench], None]
Check = Callable[[Bench, Result], None]


@dataclass(frozen=True)
class Case:
    id: str
    what: str  # the bad input, for people (and docs/bad-inputs.md)
    argv: list[str] | Callable[[Bench], list[str]]
    exit: int
    says: str  # a regex the error line (or, for exit 0, the output) must match
    prepare: tuple[Prepare, ...] = ()
    changes_state: bool = False  # changing the state file is this command's job
    check: Check | None = None
    bug: str | None = None  # an xfail reason: "BUG: ..."

    def param(self) -> Any:
        marks = [pytest.mark.xfail(strict=True, reason=self.bug)] if self.bug else []
        return pytest.param(self, id=self.id, marks=marks)


# ------------------------------------------------------------------- preparations


def software(b: Bench) -> None:
    """A finished software-token setup, five minutes old (nothing is still propagating)."""
    b.run("setup", "--software-token")
    b.cli.clock.advance(300)


def with_session(b: Bench) -> None:
    b.run("assume")


def phone_setup(b: Bench) -> None:
    """A finished phone-mode setup (QR code PNG, then two codes from the 'phone')."""
    first = b.cli("setup", "--qr-png", str(b.tmp / "qr.png"))
    assert first.exit_code == 2, first.output
    serial = b.state()["mfa_device"]["serial"]
    totp = pyotp.TOTP(b.sb.mfa_seed(serial))
    now = b.cli.clock.now()
    b.run("setup", "--codes", totp.at(now - 30), totp.at(now))


def expire_session(b: Bench) -> None:
    b.cli.clock.advance(3600 + 60)


def forge_session_lifetime(b: Bench) -> None:
    """The session expired at AWS an hour ago, but the state file says it is good for another hour."""
    b.cli.clock.advance(3600 + 600)
    data = b.state()
    data["session"]["expiration"] = b.cli.clock.now() + 3600
    b.write(data)


def edit(change: Callable[[dict[str, Any]], object]) -> Prepare:
    def prepare(b: Bench) -> None:
        data = b.state()
        change(data)
        b.write(data)

    return prepare


def text(content: str | Callable[[str], str]) -> Prepare:
    """Replace the state file's text (a function gets the current text)."""

    def prepare(b: Bench) -> None:
        current = b.cli.state.read_text() if b.cli.state.exists() else ""
        b.write(content(current) if callable(content) else content)

    return prepare


def raw_bytes(content: bytes) -> Prepare:
    def prepare(b: Bench) -> None:
        b.write("{}")
        b.cli.state.write_bytes(content)

    return prepare


def chmod(mode: int) -> Prepare:
    def prepare(b: Bench) -> None:
        b.cli.state.chmod(mode)

    return prepare


def iam(b: Bench) -> Any:
    return admin(b.sb, "iam")


def delete_role(b: Bench) -> None:
    data = b.state()
    iam(b).detach_role_policy(RoleName=data["role"]["name"], PolicyArn=data["policy"]["arn"])
    iam(b).delete_role(RoleName=data["role"]["name"])


def delete_key(b: Bench) -> None:
    data = b.state()
    iam(b).delete_access_key(UserName=data["user"]["name"], AccessKeyId=data["access_key"]["access_key_id"])


def delete_device(b: Bench) -> None:
    data = b.state()
    serial = data["mfa_device"]["serial"]
    iam(b).deactivate_mfa_device(UserName=data["user"]["name"], SerialNumber=serial)
    iam(b).delete_virtual_mfa_device(SerialNumber=serial)


def delete_user(b: Bench) -> None:
    delete_key(b)
    delete_device(b)
    data = b.state()
    iam(b).delete_user_policy(UserName=data["user"]["name"], PolicyName=data["user_policy"]["name"])
    iam(b).delete_user(UserName=data["user"]["name"])


def half_setup(b: Bench) -> None:
    """setup died after creating the MFA device (its answer lost): an unfinished setup."""
    b.sb.set_faults(Faults(fail={3: "after"}))
    assert b.cli("setup", "--software-token").exit_code == 1
    b.sb.set_faults(Faults())


def other_account(b: Bench) -> None:
    """The admin credentials now belong to the sandbox's second account."""
    b.env.update({k: v for k, v in b.sb.env(1).items() if k.startswith("AWS_")})


def no_credentials(b: Bench) -> None:
    b.env.update({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None})


def no_region(b: Bench) -> None:
    b.env.update({"AWS_REGION": None, "AWS_DEFAULT_REGION": None})


def stdin(value: str) -> Prepare:
    def prepare(b: Bench) -> None:
        b.stdin = value

    return prepare


def env(**values: str) -> Prepare:
    def prepare(b: Bench) -> None:
        b.env.update(values)

    return prepare


def used_code(b: Bench) -> None:
    """A typed code was just spent (AWS refused it, but it was sent): the same code again is a replay."""
    result = b.cli("assume", "--force", "--code", "000000")
    assert result.exit_code == 5, result.output


def immutable_directory(b: Bench) -> None:
    """The state file's directory is read-only even for root (`chattr +i`, undone afterwards)."""
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("chattr is not available")
    probe = subprocess.run([chattr, "+i", str(b.tmp)], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"chattr +i does not work here: {probe.stderr.strip()}")
    b.cleanup.append(lambda: subprocess.run([chattr, "-i", str(b.tmp)], check=True))


# -------------------------------------------------------------------------- checks


def no_assume_role_sent(b: Bench, _: Result) -> None:
    """Nothing reached AWS that could spend a code."""
    assert b.sb.count("AssumeRole") == 0


def nothing_created_in_the_other_account(b: Bench, _: Result) -> None:
    found = residue(b.sb, 1)
    assert is_clean(found), f"created in the second account: {found}"


def nothing_deleted(b: Bench, _: Result) -> None:
    assert residue(b.sb)["users"], "teardown deleted resources it could not record deleting"


def no_state_left_that_only_rm_can_remove(b: Bench, _: Result) -> None:
    """A setup that never reached AWS either leaves no state file, or one a teardown can clear."""
    if not b.cli.state.exists():
        return
    again = b.cli("--endpoint-url", "http://127.0.0.1:1", "teardown")
    assert again.exit_code == 0, f"the state file can only be removed by hand: {again.output}"


def state_file_kept(b: Bench, _: Result) -> None:
    assert b.cli.state.exists()


# -------------------------------------------------------------------------- the table

FUTURE = SCHEMA_VERSION + 1
CASES = [
    # --- malformed MFA codes: Click refuses them while parsing (exit 2) ---
    Case(
        "code-5-digits",
        "an MFA code of 5 digits",
        ["assume", "--code", "12345"],
        2,
        r"exactly 6 digits",
        (software,),
    ),
    Case(
        "code-7-digits",
        "an MFA code of 7 digits",
        ["assume", "--code", "1234567"],
        2,
        r"exactly 6 digits",
        (software,),
    ),
    Case(
        "code-letters",
        "an MFA code with letters",
        ["assume", "--code", "12a45b"],
        2,
        r"other characters",
        (software,),
    ),
    Case("code-empty", "an empty MFA code", ["assume", "--code", ""], 2, r"6 digits", (software,)),
    Case(
        "code-stdin-garbage",
        "`--code -` with a non-code on stdin",
        ["assume", "--code", "-"],
        2,
        r"from stdin.*6 digits",
        (software, stdin("hello\n")),
    ),
    Case(
        "code-env-short",
        "STS_MFA_CODE with 2 digits",
        ["assume", "--force"],
        2,
        r"exactly 6 digits",
        (software, env(STS_MFA_CODE="99")),
    ),
    Case(
        "setup-codes-malformed",
        "`setup --codes` with a 5-digit code",
        ["setup", "--codes", "12345", "123456"],
        2,
        r"exactly 6 digits",
    ),
    Case(
        "setup-codes-and-software-token",
        "`--software-token` together with `--codes`",
        ["setup", "--software-token", "--codes", "123456", "654321"],
        2,
        r"--software-token",
    ),
    # --- durations and other numbers out of range ---
    Case(
        "duration-too-short",
        "`--duration 899`",
        ["assume", "--duration", "899"],
        2,
        r"900<=x<=43200",
        (software,),
    ),
    Case(
        "duration-too-long",
        "`--duration 43201`",
        ["assume", "--duration", "43201"],
        2,
        r"900<=x<=43200",
        (software,),
    ),
    Case(
        "duration-above-role-max",
        "`--duration 7200` for a role whose maximum is 3600 s",
        ["assume", "--force", "--duration", "7200"],
        2,
        r"longer than the role allows \(3600 s\)",
        (software,),
        check=no_assume_role_sent,
    ),
    Case(
        "max-session-duration-out-of-range",
        "`setup --max-session-duration 100`",
        ["setup", "--software-token", "--max-session-duration", "100"],
        2,
        r"3600<=x<=43200",
    ),
    Case(
        "wait-timeout-zero",
        "`setup --wait-timeout 0`",
        ["setup", "--software-token", "--wait-timeout", "0"],
        2,
        r"1<=x<=3600",
    ),
    Case(
        "refresh-margin-negative",
        "`--refresh-margin -1`",
        ["list-buckets", "--refresh-margin", "-1"],
        2,
        r"0<=x<=3600",
        (software,),
    ),
    # --- usage ---
    Case("exec-without-command", "`exec` with no command", ["exec"], 2, r"Missing argument", (software,)),
    Case(
        "json-and-format",
        "`assume --json --format env`",
        ["assume", "--json", "--format", "env"],
        2,
        r"--json and --format",
        (software,),
    ),
    Case("unknown-command", "a command that does not exist", ["frobnicate"], 2, r"No such command"),
    # --- the state file ---
    Case("state-missing", "no state file", ["check-deny"], 4, r"no state file at"),
    Case(
        "state-dir-missing",
        "`--state` in a directory that does not exist",
        lambda b: ["--state", str(b.tmp / "nope" / "state.json"), "setup", "--software-token"],
        4,
        r"does not exist",
    ),
    Case("state-empty", "an empty state file", ["status"], 4, r"is empty", (text(""),)),
    Case(
        "state-truncated",
        "a state file cut off half-way",
        ["assume"],
        4,
        r"not valid JSON \(line \d+, column \d+\)",
        (software, text(lambda t: t[: len(t) // 2])),
    ),
    Case(
        "state-non-object",
        "a state file holding `[]`",
        ["list-buckets"],
        4,
        r"must hold a JSON object",
        (text("[]"),),
    ),
    Case(
        "state-not-utf8",
        "a state file that is not UTF-8",
        ["status"],
        4,
        r"not UTF-8",
        (raw_bytes(b"\xff\xfe{}"),),
    ),
    Case(
        "state-future-version",
        "a state file from a newer schema version",
        ["teardown"],
        4,
        rf"schema version {FUTURE}.*upgrade sts-mfa",
        (software, edit(lambda d: d.update(version=FUTURE))),
        check=state_file_kept,
    ),
    Case(
        "state-world-readable",
        "a state file with mode 0644",
        ["assume"],
        4,
        r"accessible by other users \(mode 0644\).*chmod 600",
        (software, chmod(0o644)),
    ),
    Case(
        "state-group-readable",
        "a state file with mode 0640",
        ["teardown"],
        4,
        r"accessible by other users \(mode 0640\)",
        (software, chmod(0o640)),
        check=nothing_deleted,
    ),
    Case(
        "state-is-a-directory",
        "`--state` naming a directory",
        lambda b: ["--state", str(b.tmp), "status"],
        2,
        r"is a directory",
    ),
    Case(
        "state-unfinished-setup",
        "`assume` on a setup that died half-way",
        ["assume"],
        4,
        r"setup is incomplete",
        (half_setup,),
    ),
    Case(
        "state-other-endpoint",
        "a state file made against another endpoint",
        ["--endpoint-url", "http://127.0.0.1:2", "check-deny"],
        4,
        r"was made against http://127\.0\.0\.1:\d+, but this run uses http://127\.0\.0\.1:2",
        (software,),
    ),
    Case(
        "state-other-account-teardown",
        "credentials for another account than the state file's",
        ["teardown"],
        4,
        r"account 111111111111.*account 222222222222",
        (software, other_account),
        check=nothing_deleted,
    ),
    Case(
        "state-other-account-status",
        "`status` with credentials for another account",
        ["status"],
        0,
        r"222222222222",
        (software, other_account),
    ),
    Case(
        "state-other-account-resume",
        "resuming an unfinished setup with another account's credentials",
        ["setup", "--software-token"],
        4,
        r"account 111111111111.*222222222222|222222222222.*111111111111",
        (half_setup, other_account),
        changes_state=True,
        check=nothing_created_in_the_other_account,
    ),
    Case(
        "state-number-out-of-range",
        "a state file whose session expires at 1e300",
        ["status", "--offline"],
        4,
        r"session\.expiration",
        (software, with_session, edit(lambda d: d["session"].update(expiration=1e300))),
    ),
    Case(
        "state-step-out-of-range",
        "a state file whose last TOTP step is 10**400",
        ["assume", "--force"],
        4,
        r"last_step",
        (software, edit(lambda d: [r.update(last_step=10**400) for r in d["totp"].values()])),
    ),
    Case(
        "state-dir-read-only",
        "the state directory is immutable (`chattr +i`), fresh setup",
        ["setup", "--software-token"],
        4,
        r"cannot (lock|write) state file",
        (immutable_directory,),
    ),
    Case(
        "state-dir-read-only-assume",
        "the state directory is immutable, `assume --force`",
        ["assume", "--force"],
        4,
        r"cannot (lock|write) state file",
        (software, immutable_directory),
        check=no_assume_role_sent,
    ),
    # --- resources deleted behind the tool's back ---
    Case(
        "role-deleted",
        "the role was deleted outside sts-mfa (`check-deny`)",
        ["check-deny"],
        4,
        r"role sts-mfa-\w+-role recorded in the state file does not exist",
        (software, delete_role),
    ),
    Case(
        "role-deleted-assume",
        "the role was deleted outside sts-mfa (`assume`)",
        ["assume", "--force"],
        1,
        r"AssumeRole was refused: .*not authorized.*check-deny",
        (software, delete_role),
        changes_state=True,  # the spent step is recorded
    ),
    Case(
        "user-deleted",
        "the user (key, device, policy) was deleted outside sts-mfa",
        ["check-deny"],
        4,
        r"no longer accepts the demo user's access key",
        (software, delete_user),
    ),
    Case(
        "key-deleted",
        "the access key was deleted outside sts-mfa",
        ["assume", "--force"],
        4,
        r"no longer accepts the demo user's access key",
        (software, delete_key),
        changes_state=True,
    ),
    Case(
        "mfa-device-deleted",
        "the MFA device was deactivated and deleted outside sts-mfa",
        ["assume", "--force"],
        5,
        r"unable to validate MFA code.*serial number",
        (software, delete_device),
        changes_state=True,
    ),
    # --- codes AWS refuses ---
    Case(
        "code-wrong",
        "a well-formed but wrong code",
        ["assume", "--force", "--code", "000000"],
        5,
        r"invalid MFA one time pass code",
        (software,),
        changes_state=True,
    ),
    Case(
        "code-reused",
        "the code just used, typed again",
        ["assume", "--force", "--code", "000000"],
        5,
        r"already used",
        (software, used_code),
        check=no_assume_role_sent,
    ),
    # --- sessions and credentials ---
    Case(
        "session-expired-phone",
        "phone mode, the cached session expired",
        ["list-buckets"],
        6,
        r"no valid role session.*assume --code",
        (phone_setup, expire_session),
    ),
    Case(
        "session-rejected-by-aws",
        "a cached session AWS says has expired",
        ["list-buckets"],
        6,
        r"rejected by S3 \(ExpiredToken\)",
        (software, with_session, forge_session_lifetime),
    ),
    Case(
        "no-credentials",
        "no AWS credentials at all",
        ["teardown"],
        6,
        r"no AWS credentials found",
        (software, no_credentials),
        check=nothing_deleted,
    ),
    Case(
        "no-credentials-setup",
        "no AWS credentials, `setup`",
        ["setup", "--software-token"],
        6,
        r"no AWS credentials found",
        (no_credentials,),
        changes_state=True,
    ),
    Case(
        "profile-not-found",
        "`--profile` naming a profile that does not exist",
        ["--profile", "nope", "setup", "--software-token"],
        6,
        r"profile \(nope\) could not be found",
    ),
    Case("no-region", "no AWS region", ["setup", "--software-token"], 1, r"no AWS region", (no_region,)),
    Case(
        "endpoint-unreachable",
        "`--endpoint-url http://127.0.0.1:1` (nothing listens)",
        ["--endpoint-url", "http://127.0.0.1:1", "setup", "--software-token"],
        1,
        r"cannot reach the AWS endpoint http://127\.0\.0\.1:1",
        changes_state=True,
    ),
    Case(
        "endpoint-unreachable-leftover-state",
        "an unreachable endpoint leaves a state file behind",
        ["--endpoint-url", "http://127.0.0.1:1", "setup", "--software-token"],
        1,
        r"cannot reach the AWS endpoint",
        changes_state=True,
        check=no_state_left_that_only_rm_can_remove,
    ),
]


def argv(case: Case, b: Bench) -> list[str]:
    return case.argv(b) if callable(case.argv) else list(case.argv)


def secrets_of(b: Bench) -> dict[str, str]:
    try:
        found = state_secrets(b.cli.state)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        found = {}
    return {**found, "admin secret key": b.sb.env(0)["AWS_SECRET_ACCESS_KEY"]}


def assert_reported_in_one_line(case: Case, result: Result) -> None:
    if case.exit == 0:
        assert re.search(case.says, result.output), result.output
        return
    lines = error_lines(result.stderr)
    if case.exit == 2 and not lines:  # Click's own usage block
        assert any(line.startswith("Error: ") for line in result.stderr.splitlines()), result.stderr
        assert len(result.stderr.strip().splitlines()) <= 4, result.stderr
        assert re.search(case.says, result.stderr), result.stderr
        return
    assert len(lines) == 1, result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1] == lines[0], result.stderr
    assert re.search(case.says, lines[0]), lines[0]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input(case: Case, srun: Cli, sb: Sandbox, tmp_path: Path, tally: Tally) -> None:
    """One row of the table: the exit code, one line, no traceback, no secret, state untouched."""
    b = Bench(cli=srun, sb=sb, tmp=tmp_path)
    try:
        for prepare in case.prepare:
            prepare(b)
        before = srun.state.read_bytes() if srun.state.is_file() else None
        secrets = secrets_of(b)
        sb.reset_log()
        result = srun(*argv(case, b), input=b.stdin, env=b.env)
        shown = leaked(result.output, secrets)
        tally.bad_input(
            case.id, exit_ok=result.exit_code == case.exit, text=result.output, known_bug=case.bug is not None
        )
        tally.secrets_scanned(f"bad input {case.id}", shown)

        assert TRACEBACK not in result.output, result.output
        assert "internal error" not in result.output, result.output
        assert result.exit_code == case.exit, result.output
        assert_reported_in_one_line(case, result)
        assert shown == [], f"secrets in the output: {shown}"
        if not case.changes_state:
            after = srun.state.read_bytes() if srun.state.is_file() else None
            assert after == before, "the state file changed"
        else:
            valid_state(srun.state)  # changed, but still a document the tool can read
        if case.check is not None:
            case.check(b, result)
    finally:
        for undo in b.cleanup:
            undo()


def test_every_case_is_documented_and_every_documented_case_exists() -> None:
    """docs/bad-inputs.md has a row for each case id (and no row for a case that is gone)."""
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", DOC.read_text(), flags=re.MULTILINE))
    ids = {c.id for c in CASES}
    assert ids - documented == set(), f"cases missing from {DOC.name}"
    assert documented - ids == set(), f"rows in {DOC.name} with no test case"
    assert len(ids) == len(CASES) >= 25


def test_the_documented_exit_codes_match_the_table() -> None:
    """Each documented row states the same exit code the test expects."""
    rows = {
        m.group(1): int(m.group(2))
        for m in re.finditer(
            r"^\| `([a-z0-9-]+)` \|[^|]*\|[^|]*\| (\d) \|", DOC.read_text(), flags=re.MULTILINE
        )
    }
    assert {c.id: c.exit for c in CASES} == rows
