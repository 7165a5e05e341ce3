"""The README and --help stay true: the commands, their examples, the test command CI runs."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from botocore.configloader import raw_config_parse
from click.testing import CliRunner

from sts_mfa.cli import cli
from sts_mfa.cli.lazy import COMMANDS
from sts_mfa.session import profiles

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


# --- the AWS config examples: what botocore reads from them when they are copied ---------------

# Every section the documentation's AWS config examples hold, with exactly the values botocore must
# read from it (an inline `# comment` is part of the value to botocore, so it would show here).
DOCUMENTED_SECTIONS: dict[str, dict[str, str]] = {
    "profile mfa-role": {
        "credential_process": "sts-mfa --state /home/me/.sts-mfa/state.json assume --format process",
        "region": "us-east-1",
    },
    "profile admin-keys": {},
    "profile prod": {
        "role_arn": "arn:aws:iam::222222222222:role/Admin",
        "source_profile": "admin-keys",
        "mfa_serial": "arn:aws:iam::111111111111:mfa/alice",
        "duration_seconds": "3600",
        "mfa_process": "ykman oath accounts code -s alice",
    },
    "profile prod-cli": {"credential_process": "sts-mfa assume prod --format process"},
    # a user profile (keys and mfa_serial, no role) and a role profile on top of it
    "profile alice": {
        "mfa_serial": "arn:aws:iam::111111111111:mfa/alice",
        "duration_seconds": "43200",
        "mfa_process": "ykman oath accounts code -s alice",
    },
    "profile alice-admin": {
        "role_arn": "arn:aws:iam::222222222222:role/Admin",
        "source_profile": "alice",
        "mfa_serial": "arn:aws:iam::111111111111:mfa/alice",
    },
    "profile alice-mfa": {"credential_process": "sts-mfa assume alice --format process"},
    "profile alice-admin-cli": {"credential_process": "sts-mfa assume alice-admin --format process"},
}


def _ini_blocks() -> list[tuple[str, str]]:
    """(where, text) of every ```ini block of the README and docs/*.md, and the profiles module's example."""
    blocks = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for n, match in enumerate(re.finditer(r"^```ini\n(.*?)^```", path.read_text(), re.M | re.S)):
            blocks.append((f"{path.name}#{n}", match[1]))
    doc = profiles.__doc__ or ""
    example = re.search(r"\n\n((?:    .*\n)+)\n", doc)
    assert example, "the profiles module's docstring has no indented example"
    blocks.append(("profiles.py", textwrap.dedent(example[1])))
    return blocks


INI_BLOCKS = _ini_blocks()


def _parsed(text: str, tmp_path: Path) -> dict[str, dict[str, str]]:
    copied = tmp_path / "config"
    copied.write_text(text)
    parsed: dict[str, dict[str, str]] = raw_config_parse(str(copied))
    return parsed


@pytest.mark.parametrize(("where", "text"), INI_BLOCKS, ids=[where for where, _ in INI_BLOCKS])
def test_every_aws_config_example_reads_as_it_says(where: str, text: str, tmp_path: Path) -> None:
    """Copied as it is, each example gives botocore exactly the documented values, and no comment."""
    parsed = _parsed(text, tmp_path)
    assert parsed, f"{where}: botocore read no section"
    for section, values in parsed.items():
        for key, value in values.items():
            assert "#" not in value and " ;" not in value, f"{where}: [{section}] {key} = {value!r}"
        assert values == DOCUMENTED_SECTIONS.get(section), f"{where}: [{section}]"


def test_every_documented_section_is_in_an_example(tmp_path: Path) -> None:
    seen = {section for _, text in INI_BLOCKS for section in _parsed(text, tmp_path)}
    assert seen == set(DOCUMENTED_SECTIONS)


@pytest.mark.parametrize(("where", "text"), INI_BLOCKS, ids=[where for where, _ in INI_BLOCKS])
def test_every_role_profile_in_an_example_is_one_sts_mfa_serves(
    where: str, text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = _parsed(text, tmp_path)
    sources = {values["source_profile"] for values in parsed.values() if "source_profile" in values}
    config = tmp_path / "config"  # the example, and its source profiles where it leaves them out
    config.write_text(text + "".join(f"\n[profile {s}]\n" for s in sources if f"profile {s}" not in parsed))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for section, values in parsed.items():
        if "role_arn" in values:
            name = section.removeprefix("profile ")
            profile = profiles.load(name)
            assert (profile.role_arn, profile.mfa_serial) == (values["role_arn"], values["mfa_serial"])
            duration = values.get("duration_seconds")
            assert profile.duration_seconds == (int(duration) if duration else None)
        elif "mfa_serial" in values:  # a user profile: its MFA session
            assert profiles.load(section.removeprefix("profile ")).is_user
