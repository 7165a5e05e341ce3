"""Fixtures and helpers of the policy-file reader's tests (`sts_mfa.audit.policy_files`).

`test_policy_files.py` reads the formats, `test_policy_files_bad_input.py` what must be
refused; both read the fixtures in tests/data/policy_files/ (its README says what each is).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sts_mfa.audit.policy_files import PolicyFileError, PolicySource, cfn_yaml
from sts_mfa.audit.policy_files import read_policy_files as read
from sts_mfa.errors import ExitCode

DATA = Path(__file__).parent.parent / "data" / "policy_files"
SAM_YAML = str(DATA / "sam-template.yaml")
SAM_JSON = str(DATA / "sam-template.json")
PLAN = str(DATA / "terraform-plan.json")
STATE = str(DATA / "terraform-state.json")
POLICY = str(DATA / "trust-policy.json")
# Each YAML test runs on every loader this PyYAML has: libyaml's, and the pure-Python one.
LOADERS = pytest.mark.parametrize("loader", cfn_yaml.LOADERS, ids=lambda c: c.__name__)


def write(tmp_path: Path, content: str | bytes, name: str = "policy") -> str:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return str(path)


def by_name(sources: list[PolicySource]) -> dict[str, PolicySource]:
    return {s.name: s for s in sources}


def refused(paths: list[str], stdin: Any = None, *, names: str | None = None) -> str:
    """The one-line message `read` refuses `paths` with; it names the file."""
    with pytest.raises(PolicyFileError) as caught:
        read(paths, stdin)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"policy file {names or paths[-1]}: "), message
    assert caught.value.exit_code == ExitCode.USAGE
    return message


def refused_text(tmp_path: Path, content: str | bytes) -> str:
    return refused([write(tmp_path, content)])


def yaml_load(text: str, loader: type[Any] | None = None) -> object:
    return cfn_yaml.load(text, loader)
