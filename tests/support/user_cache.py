"""The guard that keeps every test out of the real user's sts-mfa cache.

A pytest plugin (`pytest_plugins` in tests/conftest.py). sts-mfa keeps sessions, the TOTP
ledger and the state files' signing key in its private cache: `STS_MFA_CACHE_DIR`, else
platformdirs' user cache directory (`$XDG_CACHE_HOME/sts-mfa`, `~/.cache/sts-mfa`). Every
test must use a cache of its own (the autouse `aws_env` fixture sets one in-process;
`subprocess_env(home)` one for a child). A test, or a child it starts, that writes to the
real one would leave files behind on every run, and could read a real session or key.

The directories are computed once, from the environment pytest started in, before any
fixture changes it. Each is snapshot (every entry's type, size, inode, mode and mtime)
before and after every test, and around the whole session (for module and session
fixtures): any change fails the test that was running, naming what changed. A test's
own reads are not seen; writes, new files and deletions are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

Snapshot = dict[str, tuple[int, ...]]


def real_cache_dirs(environ: dict[str, str] | os._Environ[str] = os.environ) -> list[Path]:
    """Every directory the real user's sts-mfa may use as its cache, given their environment."""
    import platformdirs

    found = [Path(platformdirs.user_cache_dir("sts-mfa", appauthor=False))]
    home = environ.get("HOME") or os.path.expanduser("~")
    found.append(Path(home) / ".cache" / "sts-mfa")
    if environ.get("XDG_CACHE_HOME", "").strip():
        found.append(Path(environ["XDG_CACHE_HOME"].strip()) / "sts-mfa")
    if environ.get("STS_MFA_CACHE_DIR"):
        found.append(Path(os.path.expanduser(environ["STS_MFA_CACHE_DIR"])))
    return sorted({p.absolute() for p in found})


def snapshot(directory: Path) -> Snapshot:
    """Every entry under `directory` (itself included) as (type and mode, size, inode, mtime)."""
    seen: Snapshot = {}

    def note(path: str, st: os.stat_result) -> None:
        seen[path] = (st.st_mode, st.st_size, st.st_ino, st.st_mtime_ns)

    try:
        note(".", os.lstat(directory))
    except FileNotFoundError:
        return seen
    for parent, dirs, files in os.walk(directory):
        for name in dirs + files:
            full = os.path.join(parent, name)
            try:
                note(os.path.relpath(full, directory), os.lstat(full))
            except FileNotFoundError:  # pragma: no cover - removed while walking: a change all the same
                seen[os.path.relpath(full, directory)] = (-1,)
    return seen


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What differs between two snapshots, for a message: created, removed, changed entries."""
    said = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            said.append(f"created {name}")
        elif name not in after:
            said.append(f"removed {name}")
        elif before[name] != after[name]:
            said.append(f"changed {name}")
    return said


class Guard:
    """Snapshots of the watched directories, and what changed since the last look."""

    def __init__(self, directories: list[Path]) -> None:
        self.directories = directories
        self.last = self.take()

    def take(self) -> dict[Path, Snapshot]:
        return {d: snapshot(d) for d in self.directories}

    def changed(self) -> str | None:
        """What changed in the watched directories since the last call (None: nothing)."""
        now = self.take()
        said = [
            f"{d}: {', '.join(changes(self.last[d], now[d]))}"
            for d in self.directories
            if self.last[d] != now[d]
        ]
        self.last = now
        return "; ".join(said) or None


GUARD = Guard(real_cache_dirs())  # computed at import: the environment pytest was started in


def _fail(when: str, what: str) -> None:
    pytest.fail(
        f"the real user's sts-mfa cache was touched {when}: {what} (every test, and every child "
        "process it starts, must use a cache of its own: tests.support.env.subprocess_env(home))",
        pytrace=False,
    )


@pytest.fixture(scope="session", autouse=True)
def real_user_cache_untouched_by_fixtures() -> Iterator[None]:
    """Around the session: what module and session fixtures do, set up and torn down."""
    yield
    what = GUARD.changed()
    if what:
        _fail("by a fixture torn down at the end of the session", what)


@pytest.fixture(autouse=True)
def real_user_cache_untouched() -> Iterator[None]:
    """Around every test: fails the test if it (or what it started) touched the real user cache."""
    what = GUARD.changed()
    if what:
        _fail("before this test began (by a module fixture, or a process of another worker)", what)
    yield
    what = GUARD.changed()
    if what:
        _fail("by this test", what)
