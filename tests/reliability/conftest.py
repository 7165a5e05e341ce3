"""The reliability suite's `tally` fixture, and the short summary it prints at the end of a run.

Tests record what they tried and what they found in the tally *before* asserting (see
`tests/support/tally.py`); `pytest_terminal_summary` prints the section, and
`scripts/reliability_report.py` runs the suite and shows only that section.
"""

from __future__ import annotations

import pytest

from tests.support.tally import SECTION_TITLE, TALLY, Tally


@pytest.fixture
def tally() -> Tally:
    """The suite-wide tally (module-level: one per pytest run)."""
    return TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY.touched():
        return
    terminalreporter.section(SECTION_TITLE)
    for line in TALLY.lines():
        terminalreporter.write_line(line)
