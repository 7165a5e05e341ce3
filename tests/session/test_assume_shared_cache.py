"""One cached role session, shared by every process that asks; and `--json` on every data command.

Against a strict `Sandbox`, with a software-token setup. The helper's callers
have no AWS keys of their own: only the state file, the endpoint and a region.

- Eight `assume --format process` started at once on an empty cache all get the
  same session, and AWS sees ONE AssumeRole (the others wait on the state lock
  and find the session cached when they get it).
- The cache is reused while more than the refresh margin remains
  (`--refresh-margin`, `STS_MFA_REFRESH_MARGIN`); a larger margin or `--force`
  renews it.
- Every command that prints data accepts `--json` and prints exactly one JSON
  document on stdout.

No test waits for a real 30 s TOTP window:

- Setup runs in-process (the same `cli`, through Click's runner, in the
  administrator's environment) on a clock 28 s behind real time, so the codes
  that enable the device belong to the previous window (the sandbox, like AWS,
  accepts one step of drift either side) and the first assume, in real processes
  on the real clock, can use the current window at once. (In the last 2 s of a
  window the enable codes are the current window's: that assume waits < 2 s.)
- The sandbox's clock is real time until a renewal test lets the software token
  wait: those renewals (`--force`, a larger margin, the step after a typed code)
  run in-process on the sandbox's own clock, whose `sleep` moves it (and so the
  sandbox) on at once. They come after every test whose real processes need a
  TOTP step, and leave a valid session cached, so the real processes after them
  only read the cache.
- `sts-mfa demo --json` (its own embedded sandbox) runs in the background in a
  process of its own whose TOTP wait moves its clock on instead of sleeping; the
  installed console script's demo, with its real wait, is `tests/test_e2e.py`'s.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyotp
import pytest

from sts_mfa.sandbox import Sandbox
from tests.support.cli import SETUP_BEHIND, Cli
from tests.support.clock import FakeClock, ShiftedClock
from tests.support.env import exactly, subprocess_env
from tests.support.processes import NO_WAIT_STS_MFA, STS_MFA, sts_mfa

pytestmark = [pytest.mark.e2e]

ACCOUNT = "111111111111"
BUCKETS = sorted(f"{name}-{ACCOUNT}" for name in ("reports", "logs"))
CONCURRENT = 8


def in_process(clock: FakeClock, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`sts-mfa ARGS` through Click's runner on `clock`, in `env`; stdout and stderr kept apart."""
    with exactly(env):
        result = Cli(state=Path(env["STS_MFA_STATE"]), clock=clock, app_kwargs={})(*args)
    return subprocess.CompletedProcess(["sts-mfa", *args], result.exit_code, result.stdout, result.stderr)


def one_document(result: subprocess.CompletedProcess[str]) -> Any:
    """stdout is exactly one JSON document (json.loads refuses anything after it)."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared-cache")


@pytest.fixture(scope="module")
def demo_run(home: Path) -> Iterator[subprocess.Popen[str]]:
    """`sts-mfa demo --json` (with no real TOTP wait), started first so that it runs meanwhile."""
    proc = subprocess.Popen(
        [sys.executable, "-c", NO_WAIT_STS_MFA, "demo", "--json"],
        env=subprocess_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


@pytest.fixture(scope="module")
def sandbox_clock() -> ShiftedClock:
    """The sandbox's clock: real time, until an in-process renewal's TOTP wait moves it on."""
    return ShiftedClock()


@pytest.fixture(scope="module")
def sb(demo_run: subprocess.Popen[str], sandbox_clock: ShiftedClock) -> Iterator[Sandbox]:
    with Sandbox(clock=sandbox_clock, sample_buckets=("reports", "logs")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def admin_env(sb: Sandbox, home: Path) -> dict[str, str]:
    return {**subprocess_env(home), **sb.env(0), "STS_MFA_STATE": str(home / "state.json")}


@pytest.fixture(scope="module")
def helper_env(sb: Sandbox, home: Path) -> dict[str, str]:
    """What a program calling the helper has: the state file, endpoint and region; no AWS keys."""
    return {
        **subprocess_env(home),
        "AWS_ENDPOINT_URL": sb.endpoint,
        "AWS_REGION": sb.region,
        "STS_MFA_STATE": str(home / "state.json"),
    }


@pytest.fixture(scope="module")
def setup_doc(admin_env: dict[str, str]) -> dict[str, Any]:
    """`sts-mfa setup --software-token --json`, once for the module: in-process, on a clock behind."""
    doc = one_document(
        in_process(ShiftedClock(-SETUP_BEHIND), admin_env, "setup", "--software-token", "--json")
    )
    assert isinstance(doc, dict)
    return doc


def process_document(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """A valid credential_process document: Version 1, the credentials, the account, a future expiry."""
    doc = one_document(result)
    assert set(doc) == {
        "Version",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
        "AccountId",
    }
    assert doc["Version"] == 1 and doc["AccountId"] == ACCOUNT
    assert doc["AccessKeyId"].startswith("ASIA")
    expires = datetime.strptime(doc["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert expires.timestamp() > time.time() + 600
    return dict(doc)


def assume(env: dict[str, str], *args: str) -> dict[str, Any]:
    return process_document(sts_mfa(env, "assume", "--format", "process", *args))


def assume_on(clock: ShiftedClock, env: dict[str, str], *args: str) -> dict[str, Any]:
    """`assume`, in-process on `clock` (the sandbox's): a TOTP wait moves both on at once."""
    return process_document(in_process(clock, env, "assume", "--format", "process", *args))


# ----------------------------------------------------------------------- the shared cache


def test_eight_helpers_at_once_on_an_empty_cache_make_one_assume_role(
    sb: Sandbox, setup_doc: dict[str, Any], helper_env: dict[str, str]
) -> None:
    """Eight `assume --format process` started together: all exit 0 with one session; ONE AssumeRole.

    The first to take the state lock assumes the role with the software token's
    code for the current window; the others wait on the lock, re-read the state
    inside it and find the session cached. No code is spent twice, no process
    fails.
    """
    assert json.loads(Path(helper_env["STS_MFA_STATE"]).read_text())["session"] is None
    before = sb.count("AssumeRole")
    procs = [
        subprocess.Popen(
            [STS_MFA, "assume", "--format", "process"],
            env=helper_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(CONCURRENT)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=150)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    documents = [process_document(r) for r in results]
    assert len({d["AccessKeyId"] for d in documents}) == 1, "every helper must hand out the same session"
    assert sb.count("AssumeRole") == before + 1
    assert sb.count("AssumeRole", status=200) >= 1


def test_the_cache_is_reused_while_more_than_the_margin_remains(
    sb: Sandbox, setup_doc: dict[str, Any], helper_env: dict[str, str]
) -> None:
    """Default margin (300 s), `--refresh-margin 3000` and `STS_MFA_REFRESH_MARGIN=3000`: same session.

    A fresh session has about 3600 s left, more than any of these margins.
    """
    first = assume(helper_env)
    before = sb.count("AssumeRole")
    assert assume(helper_env, "--refresh-margin", "3000")["AccessKeyId"] == first["AccessKeyId"]
    env_margin = {**helper_env, "STS_MFA_REFRESH_MARGIN": "3000"}
    assert assume(env_margin)["AccessKeyId"] == first["AccessKeyId"]
    assert sb.count("AssumeRole") == before


def test_force_gets_a_new_session_and_caches_it(
    sb: Sandbox, setup_doc: dict[str, Any], helper_env: dict[str, str], sandbox_clock: ShiftedClock
) -> None:
    """`--force` assumes again even though the cache is valid; later callers get the new session.

    The forced assume runs in-process on the sandbox's clock, in the helper's
    environment: its software token waits for the next TOTP window (the cached
    session used the current one) by moving that clock on. The caller after it,
    a real process on the real clock, is answered from the cache.
    """
    old = assume(helper_env)
    before = sb.count("AssumeRole", status=200)
    forced = assume_on(sandbox_clock, helper_env, "--force")
    assert forced["AccessKeyId"] != old["AccessKeyId"]
    assert sb.count("AssumeRole", status=200) == before + 1
    assert assume(helper_env)["AccessKeyId"] == forced["AccessKeyId"]


def next_window_code(state_file: Path, now: float) -> str:
    """The software token's code for the window after `now`'s (the sandbox accepts one step ahead)."""
    seed = json.loads(state_file.read_text())["seed"]
    return str(pyotp.TOTP(seed).at(now + 30))


def test_a_margin_larger_than_what_remains_renews(
    sb: Sandbox, setup_doc: dict[str, Any], helper_env: dict[str, str], sandbox_clock: ShiftedClock
) -> None:
    """`STS_MFA_REFRESH_MARGIN=3600` on a session with < 3600 s left: renewed, not reused.

    In-process on the sandbox's clock, in the helper's environment plus the
    variable. The code is passed with `--code` (the next window's, computed from
    the seed) so that this renewal costs no TOTP wait.
    """
    old = assume(helper_env)
    before = sb.count("AssumeRole", status=200)
    env_margin = {**helper_env, "STS_MFA_REFRESH_MARGIN": "3600"}
    code = next_window_code(Path(helper_env["STS_MFA_STATE"]), sandbox_clock.now())
    renewed = assume_on(sandbox_clock, env_margin, "--code", code)
    assert renewed["AccessKeyId"] != old["AccessKeyId"]
    assert sb.count("AssumeRole", status=200) == before + 1


def test_the_software_token_never_resends_a_step_a_typed_code_used(
    sb: Sandbox, setup_doc: dict[str, Any], helper_env: dict[str, str], sandbox_clock: ShiftedClock
) -> None:
    """After a typed code (previous test), the software token must pick a later window, not replay it.

    The previous test sent the next window's code by hand. A software token that
    only remembered the steps IT sent would now wait for that very step and send
    it, and AWS, which accepted it already, refuses it (exit 5). `assume --help`
    promises the token "waits for the next 30-second window rather than resend
    one". In-process on the sandbox's clock, so the wait (into the window after
    the typed code's) moves that clock on instead of taking up to a minute; the
    step the sandbox accepted for the typed code is read from the sandbox itself.
    """
    state_file = Path(helper_env["STS_MFA_STATE"])
    serial = setup_doc["mfa_serial"]
    if json.loads(state_file.read_text())["totp"].get(serial, {}).get("last_code") is None:
        assume_on(
            sandbox_clock, helper_env, "--force", "--code", next_window_code(state_file, sandbox_clock.now())
        )
    typed_step = sb.last_accepted_step(serial)
    assert typed_step is not None
    before, calls_before = sb.count("AssumeRole", status=200), sb.count("AssumeRole")
    renewed = in_process(sandbox_clock, helper_env, "assume", "--format", "process", "--force")
    assert renewed.returncode == 0, renewed.stderr
    assert sb.count("AssumeRole", status=200) == before + 1
    assert sb.count("AssumeRole") == calls_before + 1, "an AssumeRole was refused"
    sent = json.loads(state_file.read_text())["totp"][serial]["last_step"]
    accepted = sb.last_accepted_step(serial)
    assert accepted is not None
    assert sent == accepted > typed_step, "the token's step is recorded, and after the typed one"


# ------------------------------------------------------------------------- --json everywhere


def test_check_deny_json(admin_env: dict[str, str], setup_doc: dict[str, Any]) -> None:
    """`check-deny --json`: one document; `proven` is true and names the refusal."""
    doc = one_document(sts_mfa(admin_env, "check-deny", "--json"))
    assert doc["proven"] is True
    assert doc["denied"] is True
    assert doc["error_code"] == "AccessDenied"
    assert doc["role_arn"] == setup_doc["role_arn"]


def test_setup_json(setup_doc: dict[str, Any]) -> None:
    """`setup --json`: what was created, by ARN; never the secret key."""
    assert setup_doc["mode"] == "software"
    assert setup_doc["role_arn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/sts-mfa/")
    assert setup_doc["mfa_serial"].startswith(f"arn:aws:iam::{ACCOUNT}:mfa/sts-mfa/")
    assert not any("secret" in key.lower() for key in setup_doc)


def test_assume_json(helper_env: dict[str, str], setup_doc: dict[str, Any]) -> None:
    """`assume --json` (and the global `--json`): the STS credentials as one document."""
    for args in (["assume", "--json"], ["--json", "assume"]):
        doc = one_document(sts_mfa(helper_env, *args))
        assert set(doc) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}


def test_list_buckets_json(helper_env: dict[str, str], setup_doc: dict[str, Any]) -> None:
    """`list-buckets --json`: the sample buckets, listed as the role session."""
    doc = one_document(sts_mfa(helper_env, "list-buckets", "--json"))
    assert sorted(b["name"] for b in doc["buckets"]) == BUCKETS
    assert doc["role_arn"] == setup_doc["role_arn"]
    assert ":assumed-role/" in doc["assumed_role_arn"]


def test_status_json(admin_env: dict[str, str], setup_doc: dict[str, Any]) -> None:
    """`status --json` (online and `--offline`): what exists, no secret values."""
    state_file = Path(admin_env["STS_MFA_STATE"])
    secrets = json.loads(state_file.read_text())
    for args in (["status", "--json"], ["status", "--offline", "--json"]):
        result = sts_mfa(admin_env, *args)
        doc = one_document(result)
        assert doc["exists"] is True
        assert doc["setup_complete"] is True
        assert doc["session"]["valid"] is True
        leaked = any(
            value and value in result.stdout
            for value in (
                secrets["access_key"]["secret_access_key"],
                secrets["session"]["secret_access_key"],
                secrets["session"]["session_token"],
                secrets["seed"],
            )
        )
        assert not leaked, "status printed a secret"
    online = one_document(sts_mfa(admin_env, "status", "--json"))
    assert all(r["exists"] is True for r in online["resources"].values() if r is not None)


def test_demo_json(demo_run: subprocess.Popen[str]) -> None:
    """`demo --json` (started at the top of the module): narration on stderr, one summary document."""
    out, err = demo_run.communicate(timeout=180)
    doc = one_document(subprocess.CompletedProcess(demo_run.args, demo_run.returncode, out, err))
    assert doc["check_deny_proven"] is True
    assert sorted(doc["buckets"]) == BUCKETS
    assert doc["requests"] > 0
    assert doc["target"] == "sandbox"


def test_teardown_json_last(sb: Sandbox, admin_env: dict[str, str], setup_doc: dict[str, Any]) -> None:
    """`teardown --json` (last: it removes the setup): one document; the state file is gone."""
    doc = one_document(sts_mfa(admin_env, "teardown", "--json"))
    assert doc, "teardown --json printed an empty document"
    assert not Path(admin_env["STS_MFA_STATE"]).exists()
    again = one_document(sts_mfa(admin_env, "teardown", "--json"))
    assert again is not None
