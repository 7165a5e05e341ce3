"""`sts-mfa demo` on its sandbox keeps the throwaway sandbox's files to itself, and removes them.

The demo's sandbox lives as long as the demo; a ledger (or a signing key) it left in the user's
cache would describe a device that no longer exists, one more file per run. In-process on a
clock a little behind real time (as tests/test_audit_demo.py), in a module of its own: the
demo starts a Sandbox of its own.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from click.testing import Result

from sts_mfa.cli.commands import demo as demo_command
from tests.support.cli import SETUP_BEHIND, Cli
from tests.support.clock import ShiftedClock
from tests.support.env import exactly

pytestmark = pytest.mark.sandbox

PLAIN = {"NO_COLOR": "1", "COLUMNS": "200"}


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directory `tempfile` makes its directories in, for this test alone."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def demo(tmp_path: Path, user_cache: Path, *args: str) -> Result:
    cli = Cli(state=tmp_path / "unused.json", clock=ShiftedClock(-SETUP_BEHIND), app_kwargs={})
    with exactly({"HOME": str(tmp_path), "STS_MFA_CACHE_DIR": str(user_cache), **PLAIN}):
        return cli("demo", *args)


def test_the_sandbox_demo_writes_nothing_to_the_user_cache(tmp_path: Path, temp: Path) -> None:
    """The ledger of the demo's device stays in the demo's temporary directory, which goes."""
    user_cache = tmp_path / "user-cache"
    result = demo(tmp_path, user_cache, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["check_deny_proven"] is True
    assert not user_cache.exists(), sorted(p.name for p in user_cache.iterdir())
    assert list(temp.iterdir()) == [], "the demo left its temporary directory behind"


def test_an_interrupted_demo_removes_its_files_too(
    tmp_path: Path, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after assume (the ledger written): exit 130, the user cache untouched, nothing left."""

    def ctrl_c(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo_command._Story, "list_buckets", ctrl_c)
    user_cache = tmp_path / "user-cache"
    result = demo(tmp_path, user_cache)
    assert result.exit_code == 130, result.output
    assert not user_cache.exists(), sorted(p.name for p in user_cache.iterdir())
    assert list(temp.iterdir()) == [], "the demo left its temporary directory behind"
