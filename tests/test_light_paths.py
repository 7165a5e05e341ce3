"""The paths a person (or another program) waits on never load the heavy libraries.

`--help`, `--version` and TAB completion run constantly; `assume --format process`
runs every time the AWS CLI or an SDK wants credentials; `exec` runs before
every wrapped command. With a valid cached session none of them needs boto3,
botocore or moto, and help and completion do not need rich either: these
tests are the guard that keeps start-up fast.

Each case runs the real entry point (`sts_mfa.cli:main`) in a fresh interpreter
and records which of those modules were loaded when the process ends (atexit)
or, for `exec`, at the moment it replaces itself with the command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sts_mfa.state import Session, dump, write_atomic
from tests.conftest import complete_state, role_arn

WATCHED = ("boto3", "botocore", "moto", "rich")

# Runs the console script's entry point; writes the watched modules that were
# loaded to $PROBE_OUT at exit, or just before `exec` replaces the process.
PROBE = f"""
import atexit, json, os, sys
out = os.environ.pop("PROBE_OUT")
watched = {WATCHED!r}
def report():
    with open(out, "w") as f:
        json.dump(sorted(m for m in watched if m in sys.modules), f)
atexit.register(report)
real_execvpe = os.execvpe
def execvpe(file, args, env):
    report()
    real_execvpe(file, args, env)
os.execvpe = execvpe
sys.argv[0] = "sts-mfa"
from sts_mfa.cli import main
main()
"""

ACCOUNT = "111111111111"
PREFIX = "sts-mfa-11647700"
ROLE_ARN = role_arn(PREFIX, ACCOUNT)


def cached_state(path: Path, *, remaining: float = 3600.0) -> Session:
    """A complete phone-mode setup whose cached session has `remaining` seconds left.

    Phone mode on purpose: with no software token, a cache miss could not be
    served silently, so a passing test proves the cache answered.
    """
    now = time.time()
    session = Session(
        access_key_id="ASIALIGHTPATHCACHED",
        secret_access_key="cached-secret",
        session_token="cached-token",
        expiration=now + remaining,
        role_arn=ROLE_ARN,
        assumed_role_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/{PREFIX}-role/s",
        obtained_at=now,
    )
    write_atomic(path, dump(complete_state(now, prefix=PREFIX, account=ACCOUNT, session=session)))
    return session


def run_probe(
    tmp_path: Path, args: list[str], **extra_env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run `sts-mfa ARGS` through the probe; return the result and the watched modules it loaded."""
    out = tmp_path / "loaded.json"
    out.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STS_MFA_", "_STS_MFA_"))}
    env.update(
        PROBE_OUT=str(out),
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        NO_COLOR="1",
        **extra_env,
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert out.exists(), f"the probe did not report (exit {result.returncode}): {result.stderr}"
    return result, json.loads(out.read_text())


def test_help_loads_none_of_them(tmp_path: Path) -> None:
    """`sts-mfa --help` and a command's `--help`: Click only, not even rich."""
    for args in (["--help"], ["assume", "--help"], ["setup", "--help"]):
        result, loaded = run_probe(tmp_path, args)
        assert result.returncode == 0, result.stderr
        assert "Usage: sts-mfa" in result.stdout
        assert loaded == [], (args, loaded)


def test_version_loads_none_of_them(tmp_path: Path) -> None:
    result, loaded = run_probe(tmp_path, ["--version"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sts-mfa, version 0.1.0"
    assert loaded == []


def test_tab_completion_loads_none_of_them(tmp_path: Path) -> None:
    """A TAB press (`sts-mfa as<TAB>`, `--profile <TAB>`) stays in Click."""
    for words, cword, expected in (("sts-mfa as", "1", "plain,assume"), ("sts-mfa --profile ", "2", "")):
        result, loaded = run_probe(
            tmp_path, [], _STS_MFA_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=cword
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected
        assert loaded == [], (words, loaded)


def test_credential_process_from_the_cache_loads_no_aws_library(tmp_path: Path) -> None:
    """`assume --format process` with a valid cached session: the document, without boto3/botocore/moto."""
    state = tmp_path / "state.json"
    session = cached_state(state)
    result, loaded = run_probe(tmp_path, ["--state", str(state), "assume", "--format", "process"])
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["Version"] == 1
    assert document["AccessKeyId"] == session.access_key_id
    assert not set(loaded) & {"boto3", "botocore", "moto"}, loaded


def test_env_format_from_the_cache_loads_no_aws_library(tmp_path: Path) -> None:
    """`assume --format env` (for `eval`) takes the same light path."""
    state = tmp_path / "state.json"
    cached_state(state)
    result, loaded = run_probe(tmp_path, ["--state", str(state), "assume", "--format", "env"])
    assert result.returncode == 0, result.stderr
    assert "export AWS_ACCESS_KEY_ID=ASIALIGHTPATHCACHED" in result.stdout
    assert not set(loaded) & {"boto3", "botocore", "moto"}, loaded


def test_exec_from_the_cache_loads_no_aws_library(tmp_path: Path) -> None:
    """`exec -- true` with a valid cached session: replaced by `true` before any AWS library loads."""
    state = tmp_path / "state.json"
    cached_state(state)
    result, loaded = run_probe(tmp_path, ["--state", str(state), "exec", "--", "true"])
    assert result.returncode == 0, result.stderr
    assert not set(loaded) & {"boto3", "botocore", "moto"}, loaded


def test_the_probe_would_notice_boto3(tmp_path: Path) -> None:
    """The witness works: a session inside the refresh margin makes `assume` load boto3 to renew it.

    The renewal itself fails (phone mode, no code, no terminal: exit 2, or a
    missing endpoint), which does not matter here: boto3 was reached for.
    """
    state = tmp_path / "state.json"
    cached_state(state, remaining=60.0)  # under the default 300 s margin
    result, loaded = run_probe(
        tmp_path, ["--state", str(state), "assume", "--format", "process"], AWS_REGION="us-east-1"
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "boto3" in loaded, (loaded, result.stderr)


@pytest.mark.parametrize("fmt", ["process", "env", "json"])
def test_cached_answer_is_the_cached_session(tmp_path: Path, fmt: str) -> None:
    """What the light path prints is exactly the cached session, in the asked format."""
    state = tmp_path / "state.json"
    session = cached_state(state)
    result, _ = run_probe(tmp_path, ["--state", str(state), "assume", "--format", fmt])
    assert result.returncode == 0, result.stderr
    same_session = session.session_token in result.stdout and session.access_key_id in result.stdout
    assert same_session, f"--format {fmt} did not print the cached session"
