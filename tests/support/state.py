"""State files without running a setup: a finished setup's `State`, and what a state file records.

sts-mfa uses only state files it signed (`sts_mfa.state.signature`), with the key of the cache
directory the command under test will use: in-process, the autouse fixture's
STS_MFA_CACHE_DIR (the default here); a child made with `subprocess_env(home)` uses
`cache_dir(home)`, which a test must then pass as `cache_dir`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sts_mfa.errors import StateError
from sts_mfa.files import cache
from sts_mfa.files.private import write_atomic
from sts_mfa.state import signature
from sts_mfa.state.document import dump, load, write
from sts_mfa.state.model import AccessKey, InlinePolicy, MfaDevice, Resource, Session, State

PREFIX = "sts-mfa-0a1b2c3d"
ACCOUNT = "111111111111"


def role_arn(prefix: str = PREFIX, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/sts-mfa/{prefix}-role"


def complete_state(
    now: float,
    *,
    prefix: str = PREFIX,
    account: str = ACCOUNT,
    session: Session | None = None,
    **fields: Any,
) -> State:
    """A finished phone-mode setup made at `now` (with `session` cached, if given).

    Phone mode: with no software token, nothing can be renewed silently, so a
    test that gets credentials from it proves they came from the cache. Any other
    `State` field can be given too (`mode="software", seed=...`): it replaces the default.
    """
    arn = f"arn:aws:iam::{account}"
    state = State(
        prefix=prefix,
        iam_path="/sts-mfa/",
        mode="phone",
        region="us-east-1",
        account=account,
        role_account=account,
        created_at=now,
        user=Resource(f"{prefix}-user", f"{arn}:user/sts-mfa/{prefix}-user", now),
        mfa_device=MfaDevice(f"{prefix}-device", f"{arn}:mfa/sts-mfa/{prefix}-device", True, now),
        access_key=AccessKey("AKIAEXAMPLEUSERKEY", "user-secret", now),
        policy=Resource(f"{prefix}-list-buckets", f"{arn}:policy/sts-mfa/{prefix}-list-buckets", now),
        role=Resource(f"{prefix}-role", role_arn(prefix, account), now),
        policy_attached=True,
        user_policy=InlinePolicy(f"{prefix}-assume-role", True, now),
        session=session,
    )
    return replace(state, **fields)


def write_state(path: Path, state: State, cache_dir: Path | None = None) -> None:
    """Write `state` at `path` as sts-mfa does: atomically, signed with the key of `cache_dir`
    (None: this process's STS_MFA_CACHE_DIR)."""
    write(path, state, key_dir=str(cache_dir) if cache_dir is not None else None)


def write_document(path: Path, doc: dict[str, Any], cache_dir: Path | None = None) -> None:
    """Write a state document edited by hand as sts-mfa would have written it: signed (for
    `cache_dir`, as `write_state`), so what a test checks is what it edited, not the signature."""
    body = {k: v for k, v in doc.items() if k != signature.FIELD}
    key = signature.key_for_writing(str(cache_dir) if cache_dir is not None else cache.root())
    write_atomic(path, json.dumps({**body, signature.FIELD: signature.sign(body, key)}))


def signed(state: State, cache_dir: Path | None = None) -> str:
    """The text sts-mfa writes for `state`, signed with the key of `cache_dir` (None: this process's)."""
    return dump(state, signature.key_for_writing(str(cache_dir) if cache_dir is not None else cache.root()))


def write_cached_state(
    path: Path,
    key_id: str,
    secret: str,
    token: str,
    *,
    remaining: float = 3600.0,
    prefix: str = PREFIX,
    account: str = ACCOUNT,
    assumed_role_arn: str | None = None,
    cache_dir: Path | None = None,
    lifetime: float | None = None,
) -> Session:
    """Write at `path` a `complete_state` made now, caching a role session with these keys,
    signed for `cache_dir` (see `write_state`).

    The session expires `remaining` seconds from now; it was obtained `lifetime` seconds
    before it expires (default: just now, so it lasts `remaining`). Returns it.
    """
    now = time.time()
    session = Session(
        access_key_id=key_id,
        secret_access_key=secret,
        session_token=token,
        expiration=now + remaining,
        role_arn=role_arn(prefix, account),
        assumed_role_arn=assumed_role_arn,
        obtained_at=now if lifetime is None else now + remaining - lifetime,
    )
    write_state(path, complete_state(now, prefix=prefix, account=account, session=session), cache_dir)
    return session


def valid_state(path: Path) -> State | None:
    """The state file parses (or is absent); a StateError here means it was corrupted."""
    try:
        return load(path)
    except StateError as e:  # pragma: no cover - reported by the assertion in the caller
        raise AssertionError(f"the state file is not valid: {e}") from e


class StateWatcher:
    """Parses the state file in a thread while another process writes it; counts reads and torn ones.

    A read is torn if the file does not parse, or parses to a document `accept` refuses (one
    that was never written whole). It reads every `pause` seconds (or without a pause), and
    with `check_on_exit` once more when the block ends, after the writer is gone.
    """

    def __init__(
        self,
        path: Path,
        accept: Callable[[State], bool] | None = None,
        *,
        pause: float = 0.0,
        check_on_exit: bool = False,
    ) -> None:
        self.path, self.accept, self.pause, self.check_on_exit = path, accept, pause, check_on_exit
        self.reads = 0
        self.torn: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check()
            if self.pause:
                time.sleep(self.pause)

    def check(self) -> None:
        try:
            state = load(self.path)
        except StateError as e:
            self.torn.append(str(e))
        else:
            if state is not None and self.accept is not None and not self.accept(state):
                self.torn.append("a document that was never written")
        self.reads += 1

    def __enter__(self) -> StateWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self.check_on_exit:
            self.check()


def recorded_names(state: State | None) -> set[str]:
    """Every resource name the state records (what teardown will look for)."""
    if state is None:
        return set()
    names = {r.name for r in (state.user, state.role, state.policy) if r is not None}
    if state.mfa_device is not None:
        names.add(state.mfa_device.name)
    return names
