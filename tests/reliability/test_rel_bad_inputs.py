"""Bad input, one table: every case gets one clear line, its documented exit code, and no traceback.

Each row prepares a situation (a finished setup, a damaged state file, a FIFO where the
state file should be, a resource deleted behind the tool's back, a closed stdout, an
endpoint that is not AWS...), runs one command, and checks:

- the exit code the README assigns (0 ok, 1 AWS/environment, 2 usage, 3 exposed, 4 state,
  5 code refused, 6 credentials);
- exactly one `sts-mfa: error:` line, last on stderr, matching what the case expects
  (exit 2 may instead be Click's own short usage block);
- no traceback anywhere, no "internal error", and no secret (user key, seed, session,
  admin key) in the output;
- the state file byte-for-byte unchanged, unless changing it is the command's job;
- a hang fails the case (every subprocess runs under a timeout).

The cases live in `bad_input_cases`, `bad_input_cases_hostile`, `bad_input_cases_profiles`,
`bad_input_cases_unsigned` and `bad_input_cases_keys`;
`docs/bad-inputs.md` lists the same cases, and two tests keep the two in step.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.state import signature
from tests.reliability.bad_input_bench import Bench, Case, Outcome, run_case
from tests.reliability.bad_input_cases import CASES as BASIC_CASES
from tests.reliability.bad_input_cases_hostile import CASES as HOSTILE_CASES
from tests.reliability.bad_input_cases_keys import CASES as KEY_CASES
from tests.reliability.bad_input_cases_organization import CASES as ORGANIZATION_CASES
from tests.reliability.bad_input_cases_profiles import CASES as PROFILE_CASES
from tests.reliability.bad_input_cases_unsigned import CASES as UNSIGNED_CASES
from tests.support.cli import TRACEBACK, Cli, error_lines
from tests.support.leaks import leaked, state_secrets
from tests.support.state import valid_state

if TYPE_CHECKING:
    from tests.support.tally import Tally

pytestmark = pytest.mark.reliability

DOC = Path(__file__).resolve().parents[2] / "docs" / "bad-inputs.md"
CASES = BASIC_CASES + HOSTILE_CASES + PROFILE_CASES + UNSIGNED_CASES + ORGANIZATION_CASES + KEY_CASES


def documented_sections() -> dict[str, str]:
    """Case id -> the `###` section of docs/bad-inputs.md it is listed under."""
    sections: dict[str, str] = {}
    heading = "?"
    for line in DOC.read_text().splitlines():
        if line.startswith("### "):
            heading = line[4:].strip()
        elif match := re.match(r"\| `([a-z0-9-]+)` \|", line):
            sections[match.group(1)] = heading
    return sections


SECTIONS = documented_sections()


def secrets_of(b: Bench, case: Case) -> dict[str, str]:
    try:
        found = state_secrets(b.cli.state) if b.cli.state.is_file() else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        found = {}
    if case.shows_credentials:  # the session's keys are what the command was asked for
        found = {k: v for k, v in found.items() if not k.startswith("session")}
    key = Path(os.environ["STS_MFA_CACHE_DIR"]) / signature.KEY_FILE
    if key.is_file():
        found["state signing key"] = key.read_text()
    return {**found, "admin secret key": b.sb.env(0)["AWS_SECRET_ACCESS_KEY"]}


def assert_reported_in_one_line(case: Case, result: Outcome) -> None:
    if case.exit == 0:
        assert re.search(case.says, result.output), result.output
        return
    if case.exit == 130:  # interrupted: one "interrupted" line, last, and no error line
        lines = [line for line in result.stderr.splitlines() if line.startswith("sts-mfa: interrupted")]
        assert len(lines) == 1 and not error_lines(result.stderr), result.stderr
        assert result.stderr.strip().splitlines()[-1] == lines[0], result.stderr
        assert re.search(case.says, lines[0]), lines[0]
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
        before = srun.state.read_bytes() if srun.state.is_file() and not srun.state.is_symlink() else None
        secrets = secrets_of(b, case)
        sb.reset_log()
        result = run_case(case, b)
        shown = leaked(result.output, secrets)
        tally.bad_input(
            case.id,
            exit_ok=result.exit_code == case.exit,
            text=result.output,
            known_bug=case.bug is not None,
            group=SECTIONS.get(case.id, "?"),
        )
        tally.secrets_scanned(f"bad input {case.id}", shown)

        assert TRACEBACK not in result.output, result.output
        assert "internal error" not in result.output, result.output
        assert result.exit_code == case.exit, result.output
        assert_reported_in_one_line(case, result)
        assert shown == [], f"secrets in the output: {shown}"
        if not case.changes_state:
            after = srun.state.read_bytes() if srun.state.is_file() and not srun.state.is_symlink() else None
            assert after == before, "the state file changed"
        elif srun.state.is_file():
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
            r"^\| `([a-z0-9-]+)` \|(?:[^|\\]|\\.)*\|(?:[^|\\]|\\.)*\| (\d+) \|",
            DOC.read_text(),
            flags=re.MULTILINE,
        )
    }
    assert {c.id: c.exit for c in CASES} == rows
