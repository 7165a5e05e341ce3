"""The state file under stress: killed writers, concurrent processes, and any input at all.

- A writer killed with SIGKILL at random moments, hundreds of times, never leaves a
  torn file: a reader polling all along, and a check after every kill, always find
  a document that parses (and is one that was written whole).
- Processes doing read-modify-write through `sts_mfa.state.document.transaction` serialize:
  no update is lost, and a killed lock holder never wedges the next writer.
- `sts_mfa.state.document.parse` raises nothing but `StateError` on arbitrary text, arbitrary
  JSON and mutations of a valid document (hypothesis), and its messages say what is
  wrong and where. A future schema version is refused by every command, untouched.
"""

from __future__ import annotations

import copy
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sts_mfa.errors import StateError
from sts_mfa.state.document import load, parse, transaction, write_atomic
from sts_mfa.state.model import Session, State, TotpRecord
from sts_mfa.state.version import SCHEMA_VERSION
from tests.support.cli import TRACEBACK, Cli, assert_one_error_line
from tests.support.state import StateWatcher, complete_state, signed, write_state

if TYPE_CHECKING:
    from tests.support.tally import Tally

pytestmark = pytest.mark.reliability

SERIAL = "arn:aws:iam::111111111111:mfa/sts-mfa/sts-mfa-abcd1234-device"


def full_state(padding: int = 0) -> State:
    """A finished software-token setup with a cached session: every optional part present."""
    return complete_state(
        1700000000.0,
        prefix="sts-mfa-abcd1234",
        mode="software",
        endpoint="http://127.0.0.1:5000",
        seed="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" + "A" * (padding - padding % 8),  # documents of many sizes
        totp={SERIAL: TotpRecord(56666666, None, None)},
        session=Session("ASIAEXAMPLE", "sessionsecret", "sessiontoken", 1700003600.0, "arn:role", None, 1.0),
    )


VALID = json.loads(json.dumps(full_state().to_json()))  # a document, not yet signed (parse ignores it)


# ------------------------------------------------------------------ killed writers

FORK_SERVER = r"""
import os, sys, json
from pathlib import Path
import filelock, tempfile  # imported before forking: a child must be writing, not importing
from sts_mfa.state.document import transaction, write_atomic

path, mode, docs_file = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
docs = json.loads(Path(docs_file).read_text())
for _ in sys.stdin:
    pid = os.fork()
    if pid == 0:
        i = 0
        while True:
            if mode == "atomic":
                write_atomic(path, docs[i % len(docs)])
            else:
                with transaction(path, timeout=10) as txn:
                    state = txn.require()
                    state.max_session_duration += 1
                    state.seed = "JBSWY3DPEHPK3PXP" + "A" * (8 * ((state.max_session_duration * 7919) % 7500))
                    txn.save()
            i += 1
    print(pid, flush=True)
    os.waitpid(pid, 0)
    print("reaped", flush=True)
"""


@pytest.fixture
def fork_server(tmp_path: Path) -> Iterator[Callable[[str, list[str]], subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(mode: str, docs: list[str]) -> subprocess.Popen[str]:
        docs_file = tmp_path / "docs.json"
        docs_file.write_text(json.dumps(docs))
        proc = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER, str(tmp_path / "state.json"), mode, str(docs_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=10)


def kill_repeatedly(
    proc: subprocess.Popen[str], rng: random.Random, *, budget: float, limit: int, max_delay: float
) -> Iterator[int]:
    """Start a writer, SIGKILL it after a random few milliseconds; yield after each kill.

    `limit` kills, unless `budget` seconds run out first: the budget is generous (a loaded
    2-core machine is several times slower than an idle one), so the count is what is tested."""
    assert proc.stdin is not None and proc.stdout is not None
    deadline = time.monotonic() + budget
    for i in range(limit):
        if time.monotonic() > deadline:
            return
        proc.stdin.write("go\n")
        proc.stdin.flush()
        pid = int(proc.stdout.readline())
        time.sleep(rng.uniform(0.0, max_delay))
        os.kill(pid, signal.SIGKILL)
        assert proc.stdout.readline().strip() == "reaped"
        yield i


def stray_temp_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(".state.json.*.tmp"))


def test_sigkilled_atomic_writer_never_leaves_a_torn_file(
    tmp_path: Path, fork_server: Callable[..., subprocess.Popen[str]], tally: Tally
) -> None:
    """`write_atomic` killed hundreds of times mid-loop: the file always holds one whole document."""
    docs = [signed(full_state(padding)) for padding in (0, 40_000, 7, 120_000, 900)]
    path = tmp_path / "state.json"
    write_atomic(path, docs[0])
    proc = fork_server("atomic", docs)
    rng = random.Random(20240601)
    written = set(docs)
    with StateWatcher(path, lambda s: signed(s) in written) as reader:
        kills = 0
        for i in kill_repeatedly(proc, rng, budget=15.0, limit=150, max_delay=0.006):
            kills += 1
            try:
                text_ok = path.read_text() in written
            except OSError:
                text_ok = False
            tally.state_read(f"atomic writer, kill {i}", torn=not text_ok)
            assert text_ok, f"torn state file after kill {i}"
    tally.kills += [f"atomic-writer-{i}" for i in range(kills)]
    strays = stray_temp_files(tmp_path)
    tally.stray_temp_files += len(strays)
    tally.state_reads_checked(reader.reads, reader.torn)
    assert kills >= 100, f"only {kills} kills in the time budget"
    assert reader.reads > kills
    assert reader.torn == []
    for stray in strays:  # what a killed writer leaves: whole or partial copies, still private
        assert stray.stat().st_mode & 0o077 == 0


def test_sigkilled_transaction_holder_loses_no_committed_update_and_never_wedges_the_lock(
    tmp_path: Path, fork_server: Callable[..., subprocess.Popen[str]], tally: Tally
) -> None:
    """Read-modify-write writers killed at random, often while holding the lock: the file always
    parses, the counter only ever grows, and the lock is free again the moment the holder died."""
    path = tmp_path / "state.json"
    start = full_state()
    start.max_session_duration = 3600  # the counter (the schema lets it range up to 43200)
    write_state(path, start)
    proc = fork_server("transaction", [])
    rng = random.Random(7)
    last = 0
    advanced = 0
    kills = 0
    with StateWatcher(path, lambda s: s.prefix.startswith(("p", "sts-mfa-"))) as reader:
        for i in kill_repeatedly(proc, rng, budget=15.0, limit=75, max_delay=0.02):
            kills += 1
            with transaction(path, timeout=1.0) as txn:  # a dead holder's lock is free at once
                state = txn.state
            tally.state_read(f"transaction writer, kill {i}", torn=state is None)
            assert state is not None
            assert state.max_session_duration >= last, "a committed update was lost"
            advanced += state.max_session_duration > last
            last = state.max_session_duration
    tally.kills += [f"transaction-writer-{i}" for i in range(kills)]
    tally.stray_temp_files += len(stray_temp_files(tmp_path))
    tally.state_reads_checked(reader.reads, reader.torn)
    assert kills >= 50
    assert reader.torn == []
    assert advanced > 0 and last > 0, "no writer ever committed between kills"


# ------------------------------------------------------- concurrent read-modify-write

BUMPER = r"""
import sys, time
from pathlib import Path
from sts_mfa.state.document import transaction

path, n, go = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
while time.time() < go:
    time.sleep(0.001)
for _ in range(n):
    with transaction(path, timeout=60) as txn:
        state = txn.require()
        state.max_session_duration += 1
        txn.save()
"""


def test_concurrent_processes_serialize_read_modify_write(tmp_path: Path) -> None:
    """Four processes, released at the same instant, each add 40 under the lock: the total is 160."""
    path = tmp_path / "state.json"
    start = full_state()
    start.max_session_duration = 3600  # the counter (the schema lets it range up to 43200)
    write_state(path, start)
    go = time.time() + 0.5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BUMPER, str(path), "40", str(go)], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    state = load(path)
    assert state is not None and state.max_session_duration == 3600 + 160


# ----------------------------------------------------------- validation messages


def mutate(path: str, value: Any) -> str:
    """The valid document with the field at dotted `path` set to `value` (removed if `value` is ...)."""
    doc = copy.deepcopy(VALID)
    *parents, last = (SERIAL if key == "SERIAL" else key for key in path.split("."))
    node = doc
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        pytest.param(mutate("tool", "aws-vault"), "tool", "expected 'sts-mfa'", id="tool"),
        pytest.param(mutate("iam_path", ...), "iam_path", "missing", id="iam_path"),
        pytest.param(mutate("prefix", None), "prefix", "expected a string", id="prefix"),
        pytest.param(mutate("mode", None), "mode", "expected 'phone' or 'software'", id="mode"),
        pytest.param(mutate("region", 5), "region", "expected a string or null, got int", id="region"),
        pytest.param(
            mutate("created_at", "yesterday"),
            "created_at",
            "expected a number or null, got a string",
            id="created_at",
        ),
        pytest.param(
            mutate("max_session_duration", 1.5),
            "max_session_duration",
            "expected an integer",
            id="max_session_duration",
        ),
        pytest.param(
            mutate("max_session_duration", True),
            "max_session_duration",
            "expected an integer",
            id="max_session_duration-bool",
        ),
        pytest.param(
            mutate("policy_attached", "yes"),
            "policy_attached",
            "expected true or false, got a string",
            id="policy_attached",
        ),
        pytest.param(mutate("totp", []), "totp", "expected an object, got a list", id="totp"),
        pytest.param(mutate("totp.SERIAL", 5), f"totp.{SERIAL}", "expected an object", id="totp.SERIAL"),
        pytest.param(
            mutate("totp.SERIAL.last_used_at", "now"),
            f"totp.{SERIAL}.last_used_at",
            "expected a number",
            id="totp.SERIAL.last_used_at",
        ),
        pytest.param(mutate("user.colour", "red"), "user.colour", "unknown field", id="user.colour"),
        pytest.param(mutate("role.arn", 5), "role.arn", "expected a string or null, got int", id="role.arn"),
        pytest.param(
            mutate("access_key.secret_access_key", ...),
            "access_key.secret_access_key",
            "missing",
            id="access_key.secret_access_key",
        ),
        pytest.param(
            mutate("mfa_device.enabled", "yes"),
            "mfa_device.enabled",
            "expected true or false",
            id="mfa_device.enabled",
        ),
        pytest.param(
            mutate("user_policy", "inline"),
            "user_policy",
            "expected an object, got a string",
            id="user_policy",
        ),
        pytest.param(
            mutate("session.session_token", ...),
            "session.session_token",
            "missing",
            id="session.session_token",
        ),
        pytest.param(
            mutate("session.expiration", float("nan")), "session.expiration", "NaN", id="session.expiration"
        ),
        pytest.param(mutate("session", [1]), "session", "expected an object, got a list", id="session"),
        pytest.param(mutate("seed", ...), "seed", "missing", id="seed"),
        pytest.param(mutate("version", 1.0), "version", "expected an integer", id="version-float"),
        pytest.param(mutate("version", -1), "version", "not a schema version", id="version-negative"),
        pytest.param("[" * 100_000 + "]" * 100_000, "JSON", "nested too deeply", id="deep-nesting"),
        pytest.param('{"version": 1,', "line 1, column", "not valid JSON", id="truncated"),
    ],
)
def test_validation_messages_say_what_is_wrong_and_where(text: str, where: str, what: str) -> None:
    with pytest.raises(StateError) as err:
        parse(text, source="state file s.json")
    message = str(err.value)
    assert message.startswith("state file s.json"), message
    assert where in message and what in message, message


def test_a_file_that_is_not_utf8_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    write_atomic(path, "{}")
    path.write_bytes(b'{"version": 1, "prefix": "\xff\xfe"}')
    with pytest.raises(StateError, match=f"{path}.*not UTF-8"):
        load(path)


def test_a_future_schema_version_is_refused_naming_both_versions() -> None:
    future = dict(VALID, version=SCHEMA_VERSION + 1, something_new={"x": 1})
    with pytest.raises(StateError) as err:
        parse(json.dumps(future))
    message = str(err.value)
    assert f"schema version {SCHEMA_VERSION + 1}" in message
    assert f"reads up to {SCHEMA_VERSION}" in message and "upgrade sts-mfa" in message


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "--offline", "--json"],
        ["check-deny"],
        ["assume"],
        ["list-buckets"],
        ["setup", "--software-token"],
        ["teardown"],
        ["teardown", "--sweep", "--dry-run"],
    ],
    ids=" ".join,
)
def test_every_command_refuses_a_future_state_file_and_leaves_it_alone(
    run: Cli, tally: Tally, args: list[str]
) -> None:
    """Exit 4 with one line naming the newer version; the file is byte-for-byte the same (teardown
    must not delete what it cannot read, setup must not overwrite it)."""
    future = json.dumps(dict(VALID, version=SCHEMA_VERSION + 1, something_new=True))
    write_atomic(run.state, future)
    before = run.state.read_bytes()
    result = run(*args)
    tally.bad_input(
        f"future-version: {' '.join(args)}",
        exit_ok=result.exit_code == 4,
        text=result.output,
        group="Future schema versions",
    )
    line = assert_one_error_line(result, 4)
    assert "newer sts-mfa" in line and "upgrade sts-mfa" in line, line
    assert run.state.read_bytes() == before


# ----------------------------------------------------------------- property-based fuzz

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(
    sorted({*VALID, *VALID["user"], *VALID["session"], *VALID["access_key"], *VALID["mfa_device"], "x"})
)


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into the document's objects."""
    found: list[tuple[Any, ...]] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.append((*prefix, key))
            found += paths(value, (*prefix, key))
    return found


ALL_PATHS = paths(VALID)


def parse_or_state_error(text: str) -> State | None:
    """Parse; a StateError is an answer, anything else is a bug. An accepted document round-trips."""
    try:
        state = parse(text)
    except StateError:
        return None
    assert parse(signed(state)) == state
    return state


FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure here reproduces, nothing is stored
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_arbitrary_text_raises_only_state_error(text: str) -> None:
    parse_or_state_error(text)


@FUZZ
@given(JSON)
def test_fuzz_arbitrary_json_raises_only_state_error(value: Any) -> None:
    parse_or_state_error(json.dumps(value))


@FUZZ
@given(JSON.filter(lambda v: isinstance(v, dict)) | st.dictionaries(FIELD_NAMES, JSON, max_size=8))
def test_fuzz_arbitrary_objects_with_a_version_raise_only_state_error(value: dict[str, Any]) -> None:
    parse_or_state_error(json.dumps({"version": SCHEMA_VERSION, **value}))


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(ALL_PATHS), st.sampled_from(["drop", "retype", "rename"]), JSON, FIELD_NAMES
        ),
        min_size=1,
        max_size=4,
    )
)
def test_fuzz_mutations_of_a_valid_document_raise_only_state_error(
    edits: list[tuple[tuple[Any, ...], str, Any, str]],
) -> None:
    """Drop a field, give it a value of any type, or rename it, anywhere in the document (up to 4 edits)."""
    doc = copy.deepcopy(VALID)
    for path, op, value, new_name in edits:
        node = doc
        for key in path[:-1]:
            if not isinstance(node, dict) or key not in node:
                break
            node = node[key]
        else:
            key = path[-1]
            if not isinstance(node, dict) or key not in node:
                continue
            if op == "drop":
                del node[key]
            elif op == "retype":
                node[key] = value
            else:
                node[new_name] = node.pop(key)
    parse_or_state_error(json.dumps(doc))


def test_the_fuzz_baseline_document_is_valid() -> None:
    """The mutations start from a document the tool accepts (else the fuzz proves little)."""
    assert parse(json.dumps(VALID)) == full_state()
    assert TRACEBACK not in json.dumps(VALID)
