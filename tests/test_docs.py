"""The README and --help stay true: the commands, their examples, the test command CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sts_mfa.cli import cli
from sts_mfa.cli.lazy import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = ci[ci.index("# --- the README's test command, verbatim ---") + 1]
    assert command in README
    second = [line for line in README.splitlines() if line.startswith("python3 -m venv .venv")][1]
    assert second.endswith(command)


def test_the_newcomers_first_command_runs_the_demo() -> None:
    first = next(line for line in README.splitlines() if line.startswith("python3 -m venv .venv"))
    assert first.endswith("pip install '.[sandbox]' && sts-mfa demo")


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_is_in_the_readme_and_its_help_has_examples(name: str) -> None:
    assert f"### `{name}`" in README or f"`sts-mfa {name}" in README
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"sts-mfa {name} --help has no example"


def test_the_exit_codes_in_the_readme_and_in_help_are_the_same_set() -> None:
    help_text = CliRunner().invoke(cli, ["--help"]).output
    in_help = set(re.findall(r"^\s+([0-6])  ", help_text, re.MULTILINE))
    in_readme = set(re.findall(r"^\| ([0-6]) \|", README, re.MULTILINE))
    assert in_help == in_readme == {str(n) for n in range(7)}
