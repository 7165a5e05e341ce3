"""`-q` and `-v` after the command, like `--json`: `sts-mfa assume -v` is `sts-mfa -v assume`.

Each pair runs in-process against the strict sandbox, once with the flag before the
command and once after it, on state files of their own; the outputs must be the same
but for the names and keys that differ from one setup to the next.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sts_mfa.cli import cached_answer, cli
from sts_mfa.cli.lazy import COMMANDS
from sts_mfa.sandbox import Sandbox
from tests.support.cli import Cli
from tests.support.clock import FakeClock
from tests.support.state import write_cached_state

VARYING = [
    (re.compile(r"sts-mfa-[0-9a-f]{8}"), "sts-mfa-PREFIX"),
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{12,}\b"), "KEY"),
    (re.compile(r"\d+(\.\d+)? ?s\b"), "N s"),
    (re.compile(r"state(-[ab])?\.json"), "STATE"),
]


def normalized(result: Result) -> tuple[int, str, str]:
    def clean(text: str) -> str:
        for pattern, replacement in VARYING:
            text = pattern.sub(replacement, text)
        return text

    return result.exit_code, clean(result.stdout), clean(result.stderr)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_takes_quiet_and_verbose(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "-q, --quiet" in result.output and "-v, --verbose" in result.output


@pytest.fixture
def two(sb: Sandbox, shared_clock: FakeClock, tmp_path: Path) -> tuple[Cli, Cli]:
    """Two finished software-token setups on the sandbox, each with a state file of its own."""
    clis = (
        Cli(state=tmp_path / "state-a.json", clock=shared_clock, app_kwargs={}),
        Cli(state=tmp_path / "state-b.json", clock=shared_clock, app_kwargs={}),
    )
    for each in clis:
        done = each("setup", "--software-token")
        assert done.exit_code == 0, done.output
    shared_clock.advance(300)
    return clis


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["-v", "assume", "--force"], ["assume", "--force", "-v"]),
        (["-v", "list-buckets"], ["list-buckets", "-v"]),
        (["-q", "teardown"], ["teardown", "-q"]),
        (["-q", "check-deny"], ["check-deny", "--quiet"]),
        (["-v", "-v", "status"], ["status", "-vv"]),
    ],
    ids=["assume-v", "list-buckets-v", "teardown-q", "check-deny-quiet", "status-vv"],
)
def test_a_flag_after_the_command_does_what_it_does_before(
    two: tuple[Cli, Cli], before: list[str], after: list[str]
) -> None:
    first, second = two
    one, other = first(*before), second(*after)
    assert one.exit_code == 0, one.output
    assert normalized(one) == normalized(other)


@pytest.mark.sandbox
def test_verbose_after_the_command_shows_the_requests(two: tuple[Cli, Cli]) -> None:
    result = two[0]("assume", "--force", "-v")
    assert result.exit_code == 0, result.output
    assert "AWS requests (AssumeRole 1)" in result.stderr


@pytest.mark.parametrize("fmt", ["process", "json", "env"])
@pytest.mark.parametrize(
    "shape",
    [["assume", "--format", "F", "-q"], ["assume", "-v", "--format", "F"], ["assume", "-q", "--format=F"]],
    ids=["format-then-q", "v-then-format", "q-then-format="],
)
def test_the_cached_answer_leaves_these_shapes_to_click_which_prints_the_same(
    tmp_path: Path, run: Cli, fmt: str, shape: list[str]
) -> None:
    state = tmp_path / "state.json"
    write_cached_state(state, "ASIAFAST", "fast/secret", "fast-token")
    argv = [word.replace("F", fmt) if "F" in word else word for word in shape]
    environ = {"STS_MFA_CACHE_DIR": os.environ["STS_MFA_CACHE_DIR"]}  # the key this test signed with
    assert cached_answer(["--state", str(state), *argv], environ) is None
    plain = cached_answer(["--state", str(state), "assume", "--format", fmt], environ)

    run.state = state
    slow = run(*argv)

    assert slow.exit_code == 0, slow.output
    assert plain is not None and slow.stdout == plain + "\n"
