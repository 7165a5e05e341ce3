"""The guard of the real user cache (tests/support/user_cache.py) sees what a leaking test does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.user_cache import Guard, real_cache_dirs


def test_the_guard_sees_a_file_created_changed_and_removed(tmp_path: Path) -> None:
    cache = tmp_path / "sts-mfa"
    guard = Guard([cache])
    assert guard.changed() is None
    cache.mkdir()
    (cache / "ledger-1.json").write_text("{}")
    assert guard.changed() == f"{cache}: created ., created ledger-1.json"
    assert guard.changed() is None  # only what changed since the last look
    (cache / "ledger-1.json").write_text('{"last_step": 1}')
    assert "changed ledger-1.json" in (guard.changed() or "")
    (cache / "ledger-1.json").unlink()
    assert "removed ledger-1.json" in (guard.changed() or "")


def test_the_guard_watches_platformdirs_xdg_and_the_configured_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The directories a user's sts-mfa may write to: platformdirs' (XDG_CACHE_HOME), ~/.cache's,
    and STS_MFA_CACHE_DIR if they set one."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("STS_MFA_CACHE_DIR", str(tmp_path / "mine"))
    watched = real_cache_dirs(os.environ)
    for expected in ("xdg/sts-mfa", "home/.cache/sts-mfa", "mine"):
        assert tmp_path / expected in watched, watched
