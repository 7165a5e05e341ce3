"""A state file sts-mfa did not write is never a credential source (issue 19, item 6).

`./sts-mfa-state.json` is the default state file, and a cached session in it is handed to
any program that asks. A 0600 file from a tarball or a `git clone` is the user's own by
owner and mode, so those checks cannot tell it from one sts-mfa wrote: every state file
sts-mfa writes is signed with a key in the user's private cache, and a file whose
signature does not check is refused (exit 4) on every path, the cached-credentials answer
before Click included, until `sts-mfa adopt` signs it (dropping its cached session).

Every planted or forged file here names an endpoint nothing listens on, and every run uses
it: were a file ever accepted, the command could reach nothing, let alone AWS.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sts_mfa.state.document import load
from sts_mfa.state.model import Session
from sts_mfa.state.version import SCHEMA_VERSION
from tests.support.cli import Cli, assert_one_error_line
from tests.support.env import cache_dir, subprocess_env
from tests.support.processes import STS_MFA, run, sts_mfa
from tests.support.state import complete_state, role_arn, write_state

SECRET = "planted/secret+key"
TOKEN = "planted-session-token"
NOWHERE = "http://127.0.0.1:1"  # nothing listens there
ASSUME_PROCESS = ["assume", "--format", "process"]


def session_state() -> object:
    now = time.time()
    session = Session("ASIAPLANTED", SECRET, TOKEN, now + 3600, role_arn(), None, now)
    return complete_state(now, session=session, endpoint=NOWHERE)


def planted_document(version: int = SCHEMA_VERSION) -> dict[str, object]:
    """What a tarball or a clone can hold: a finished setup with a usable cached session, valid
    by the schema, written by no sts-mfa of this user's."""
    doc = session_state().to_json()  # type: ignore[attr-defined]
    doc["version"] = version
    return doc  # type: ignore[no-any-return]


def plant(path: Path, doc: dict[str, object] | None = None) -> bytes:
    """Write the document as a 0600 file of the user's own, as `tar x` or `git clone` would."""
    data = json.dumps(doc if doc is not None else planted_document(), indent=2).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return data


def sign_as_sts_mfa(path: Path, home: Path | None = None) -> bytes:
    """The same state, written by sts-mfa's own writer (for `home`'s cache, else this process's)."""
    write_state(path, session_state(), cache_dir(home) if home else None)  # type: ignore[arg-type]
    return path.read_bytes()


def shows_no_credentials(*outputs: str) -> bool:
    return not any(secret in text for text in outputs for secret in (SECRET, TOKEN, "ASIAPLANTED"))


def console_script(home: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """The installed `sts-mfa` (the only way to the answer before Click), run in `home`."""
    assert STS_MFA
    done = run([STS_MFA, *args], subprocess_env(home, AWS_ENDPOINT_URL=NOWHERE, **env), cwd=home)
    return done.returncode, done.stdout, done.stderr


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("sts-mfa: error:")]
    assert len(lines) == 1, stderr
    return lines[0]


# ------------------------------------------------------------------------------ planted


@pytest.mark.e2e
@pytest.mark.parametrize("version", [SCHEMA_VERSION, 3], ids=["current-version", "version-3"])
def test_a_planted_default_state_file_is_refused_by_the_cached_credentials_answer(
    tmp_path: Path, version: int
) -> None:
    """A planted `./sts-mfa-state.json`, as `credential_process` would find it: exit 4, no keys."""
    before = plant(tmp_path / "sts-mfa-state.json", planted_document(version))
    code, out, err = console_script(tmp_path, *ASSUME_PROCESS)
    assert code == 4, (out, err)
    assert out == "" and shows_no_credentials(out, err)
    line = one_error_line(err)
    assert "is not signed" in line and "sts-mfa --state sts-mfa-state.json adopt" in line, line
    assert (tmp_path / "sts-mfa-state.json").read_bytes() == before


@pytest.mark.parametrize(
    "args",
    [
        ASSUME_PROCESS,
        ["assume", "--format", "env"],
        ["list-buckets"],
        ["console", "--print"],
        ["check-deny"],
        ["setup", "--software-token"],
        ["teardown"],
    ],
    ids=" ".join,
)
def test_a_planted_state_file_is_refused_by_every_command_that_uses_it(run: Cli, args: list[str]) -> None:
    """In-process (Click's path): exit 4, one line, no credentials, the file left as it was."""
    before = plant(run.state)
    result = run(*args, env={"AWS_ENDPOINT_URL": NOWHERE})
    line = assert_one_error_line(result, 4)
    assert "is not signed" in line and "adopt" in line, line
    assert shows_no_credentials(result.output)
    assert run.state.read_bytes() == before


@pytest.mark.e2e
def test_exec_refuses_a_planted_state_file(tmp_path: Path) -> None:
    """`exec` (a process of its own: it replaces itself with the command) runs nothing."""
    before = plant(tmp_path / "sts-mfa-state.json")
    witness = tmp_path / "ran"
    code, out, err = console_script(tmp_path, "exec", "--", "touch", str(witness))
    assert code == 4, (out, err)
    assert not witness.exists()
    assert shows_no_credentials(out, err)
    assert (tmp_path / "sts-mfa-state.json").read_bytes() == before


# ------------------------------------------------------------------ signed by sts-mfa


@pytest.mark.e2e
def test_a_state_file_sts_mfa_signed_is_served_from_the_cache(tmp_path: Path) -> None:
    """The other side of the coin: the same file, written by sts-mfa's writer, is answered."""
    sign_as_sts_mfa(tmp_path / "sts-mfa-state.json", tmp_path)
    code, out, err = console_script(tmp_path, *ASSUME_PROCESS)
    assert code == 0, err
    assert json.loads(out)["SessionToken"] == TOKEN


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("old", "new"),
    [
        (TOKEN, TOKEN[:-1] + "X"),
        ('"expiration": ', '"expiration": 1'),
        ('"mode": "phone"', '"mode": "software"'),
    ],
    ids=["session-token", "expiration", "mode"],
)
def test_one_changed_byte_in_a_signed_file_is_refused(tmp_path: Path, old: str, new: str) -> None:
    """A signed file with one value changed (still valid by the schema): refused on both paths."""
    path = tmp_path / "sts-mfa-state.json"
    text = sign_as_sts_mfa(path, tmp_path).decode()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    if new.endswith('software"'):  # software mode needs a seed to be valid: give it one
        doc = json.loads(path.read_text())
        doc["seed"] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        path.write_text(json.dumps(doc))
    code, out, err = console_script(tmp_path, *ASSUME_PROCESS)
    assert code == 4, (out, err)
    assert "was changed after sts-mfa wrote it" in one_error_line(err)
    assert out == "" and shows_no_credentials(err)


@pytest.mark.e2e
def test_a_file_signed_under_another_cache_directory_is_refused(tmp_path: Path) -> None:
    """Signed with cache A's key, used with STS_MFA_CACHE_DIR=B (which has a key of its own)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    sign_as_sts_mfa(tmp_path / "sts-mfa-state.json", elsewhere)
    sign_as_sts_mfa(tmp_path / "other.json", tmp_path)  # this cache directory has its key too
    code, out, err = console_script(tmp_path, *ASSUME_PROCESS)
    assert code == 4, (out, err)
    line = one_error_line(err)
    assert f"was signed with another key than {cache_dir(tmp_path)}/state-signing.key" in line, line
    assert shows_no_credentials(out, err)


@pytest.mark.e2e
def test_a_cleared_cache_means_every_state_file_needs_adopting(tmp_path: Path) -> None:
    path = tmp_path / "sts-mfa-state.json"
    sign_as_sts_mfa(path, tmp_path)
    (cache_dir(tmp_path) / "state-signing.key").unlink()
    code, out, err = console_script(tmp_path, *ASSUME_PROCESS)
    assert code == 4, (out, err)
    line = one_error_line(err)
    assert "a key that is gone" in line and "every state file written before then needs adopting" in line
    assert shows_no_credentials(out, err)


def test_a_copy_of_ones_own_state_file_is_still_ones_own(run: Cli) -> None:
    """The signature is of the content, not the path: `cp state.json backup.json` keeps working."""
    original = run.state.with_name("original.json")
    sign_as_sts_mfa(original)
    run.state.write_bytes(original.read_bytes())
    run.state.chmod(0o600)
    result = run(*ASSUME_PROCESS, env={"AWS_ENDPOINT_URL": NOWHERE})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["SessionToken"] == TOKEN


# ---------------------------------------------------------------------------- adopt


def test_adopt_makes_a_planted_file_usable_and_drops_its_session(run: Cli) -> None:
    plant(run.state)
    adopted = run("adopt")
    assert adopted.exit_code == 0, adopted.output
    assert "Adopted state file" in adopted.stdout and "is not signed" in adopted.stdout
    assert "cached role session was discarded" in adopted.stdout
    assert shows_no_credentials(adopted.output)
    state = load(run.state)  # signed now: loads
    assert state is not None and state.session is None and state.setup_complete()
    assert json.loads(run.state.read_text())["version"] == SCHEMA_VERSION
    # No session, phone mode, no code: nothing to hand out, and the planted keys are gone for good.
    again = run(*ASSUME_PROCESS, env={"AWS_ENDPOINT_URL": NOWHERE})
    assert again.exit_code == 2, again.output
    assert shows_no_credentials(again.output, run.state.read_text())


def test_adopt_migrates_an_older_version(run: Cli) -> None:
    plant(run.state, planted_document(version=3))
    assert run("adopt").exit_code == 0
    assert json.loads(run.state.read_text())["version"] == SCHEMA_VERSION
    assert run("status", "--offline", "--json", env={"AWS_ENDPOINT_URL": NOWHERE}).exit_code == 0


def test_adopt_of_a_file_already_signed_changes_nothing(run: Cli) -> None:
    before = sign_as_sts_mfa(run.state)
    result = run("adopt", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["already_signed"] is True
    assert run.state.read_bytes() == before  # its session kept: sts-mfa obtained it


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "is empty"),
        (b"[]", "must hold a JSON object"),
        (json.dumps({**planted_document(), "prefix": "prod"}).encode(), "prefix: expected 'sts-mfa-'"),
        (json.dumps({**planted_document(), "version": SCHEMA_VERSION + 1}).encode(), "newer sts-mfa"),
    ],
    ids=["empty", "not-an-object", "bad-prefix", "future-version"],
)
def test_adopt_refuses_what_is_not_a_valid_state_file(run: Cli, content: bytes, says: str) -> None:
    fd = os.open(run.state, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, content)
    os.close(fd)
    result = run("adopt")
    assert says in assert_one_error_line(result, 4)
    assert run.state.read_bytes() == content


def test_adopt_without_a_state_file(run: Cli) -> None:
    assert "no state file at" in assert_one_error_line(run("adopt"), 4)
    assert list(run.state.parent.iterdir()) == [], "adopt left something behind (a lock file?)"


def test_status_shows_a_planted_file_as_not_signed(run: Cli) -> None:
    """Status reads what it holds (nothing in it is used) and says how to adopt it."""
    plant(run.state)
    result = run("status", "--offline", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["signed"] is False and "adopt" in data["not_signed"]
    text = run("status", "--offline")
    assert text.exit_code == 0 and "NOT SIGNED" in text.stdout
    shown = result.output + text.output
    assert SECRET not in shown and TOKEN not in shown  # the session's key ID, as always, but no secret


# --------------------------------------------------------------------- a real chain


@pytest.mark.e2e
def test_the_tool_reads_what_it_wrote_through_adopt(tmp_path: Path) -> None:
    """The console script adopts, then serves status from the file it signed."""
    env = subprocess_env(tmp_path)
    plant(tmp_path / "state.json")
    adopted = sts_mfa(env, "--state", str(tmp_path / "state.json"), "adopt")
    assert adopted.returncode == 0, adopted.stderr
    shown = sts_mfa(env, "--state", str(tmp_path / "state.json"), "status", "--offline", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["signed"] is True
