"""The demo narrates the documents setup creates, the trust policy's MFA condition marked.

In-process on a clock a little behind real time (as tests/test_demo_two_accounts.py
does), so the TOTP wait moves the clock; its own module, because the demo starts a
Sandbox of its own and only one may run in a process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import SETUP_BEHIND, Cli
from tests.support.clock import ShiftedClock
from tests.support.env import exactly

pytestmark = pytest.mark.sandbox

PLAIN = {"NO_COLOR": "1", "COLUMNS": "200"}
TITLES = ("Trust policy of the role", "Permission policy", "Inline user policy")


def _marked(text: str, mark: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith(mark)]


def test_the_demo_narrates_the_trust_policy(tmp_path: Path) -> None:
    demo = Cli(state=tmp_path / "unused.json", clock=ShiftedClock(-SETUP_BEHIND), app_kwargs={})
    with exactly({"HOME": str(tmp_path), **PLAIN}):
        result = demo("demo")
    assert result.exit_code == 0, result.output
    narration = result.stderr  # no terminal: the narration is on stderr
    assert all(title in narration for title in TITLES)
    (mfa,) = _marked(narration, "MFA ▶")
    assert '"aws:MultiFactorAuthPresent": "true"' in mfa
    assert narration.index("Trust policy of the role") < narration.index("2. check-deny")


def test_quiet_demo_has_no_lesson(tmp_path: Path) -> None:
    demo = Cli(state=tmp_path / "unused.json", clock=ShiftedClock(-SETUP_BEHIND), app_kwargs={})
    with exactly({"HOME": str(tmp_path), **PLAIN}):
        result = demo("-q", "demo")
    assert result.exit_code == 0, result.output
    assert not any(title in result.output for title in TITLES) and "MFA ▶" not in result.output
