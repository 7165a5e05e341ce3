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


def _modules_in_the_development_section() -> list[str]:
    """The patterns the README's layout names, as paths under src/sts_mfa/ (globs allowed)."""
    section = README[README.index("## Development") :]
    block = section[section.index("```\nsrc/sts_mfa/\n") + len("```\nsrc/sts_mfa/\n") :]
    names: list[str] = []
    parents: list[tuple[int, str]] = []  # (indent, directory) of the enclosing entries
    for line in block.splitlines():
        match = re.match(r"^( +)(\S+(?: \S+)*?)(?: {2,}|$)", line)
        if match is None:  # the end of the listing under src/sts_mfa/
            break
        indent, words = len(match[1]), match[2].split(" ")
        while parents and parents[-1][0] >= indent:
            parents.pop()
        prefix = parents[-1][1] if parents else ""
        for word in words:
            if word.endswith("/"):  # a package: its entries follow, indented; it names its __init__
                parents.append((indent, prefix + word))
                names.append(prefix + word + "__init__.py")
            else:
                names.append(prefix + word)
    return names


def test_the_development_section_names_every_module() -> None:
    from fnmatch import fnmatch

    package = ROOT / "src" / "sts_mfa"
    listed = _modules_in_the_development_section()
    modules = sorted(str(p.relative_to(package)) for p in package.rglob("*.py"))
    missing = [m for m in modules if not any(fnmatch(m, pattern) for pattern in listed)]
    assert not missing, f"README's Development section does not name: {missing}"
    stale = [pattern for pattern in listed if not any(fnmatch(m, pattern) for m in modules)]
    assert not stale, f"README's Development section names modules that do not exist: {stale}"
