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
from pathlib import Path

import pytest

from sts_mfa.state.model import Session
from tests.support.env import cache_dir
from tests.support.processes import run_probe
from tests.support.state import write_cached_state

ACCOUNT = "111111111111"
PREFIX = "sts-mfa-11647700"


def cached_state(path: Path, *, remaining: float = 3600.0, lifetime: float | None = None) -> Session:
    """A complete phone-mode setup whose cached session has `remaining` seconds left.

    Phone mode on purpose: with no software token, a cache miss could not be
    served silently, so a passing test proves the cache answered.
    """
    assumed = f"arn:aws:sts::{ACCOUNT}:assumed-role/{PREFIX}-role/s"
    return write_cached_state(
        path,
        "ASIALIGHTPATHCACHED",
        "cached-secret",
        "cached-token",
        remaining=remaining,
        prefix=PREFIX,
        account=ACCOUNT,
        assumed_role_arn=assumed,
        cache_dir=cache_dir(path.parent),  # the probe runs in subprocess_env(tmp_path)
        lifetime=lifetime,
    )


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
    assert not set(loaded) & {"boto3", "botocore", "moto", "keyring", "cvc5"}, loaded


def test_env_format_from_the_cache_loads_no_aws_library(tmp_path: Path) -> None:
    """`assume --format env` (for `eval`) takes the same light path."""
    state = tmp_path / "state.json"
    cached_state(state)
    result, loaded = run_probe(tmp_path, ["--state", str(state), "assume", "--format", "env"])
    assert result.returncode == 0, result.stderr
    assert "export AWS_ACCESS_KEY_ID=ASIALIGHTPATHCACHED" in result.stdout
    assert not set(loaded) & {"boto3", "botocore", "moto", "keyring", "cvc5"}, loaded


def test_exec_from_the_cache_loads_no_aws_library(tmp_path: Path) -> None:
    """`exec -- true` with a valid cached session: replaced by `true` before any AWS library loads."""
    state = tmp_path / "state.json"
    cached_state(state)
    result, loaded = run_probe(tmp_path, ["--state", str(state), "exec", "--", "true"])
    assert result.returncode == 0, result.stderr
    assert not set(loaded) & {"boto3", "botocore", "moto", "keyring", "cvc5"}, loaded


def test_the_probe_would_notice_boto3(tmp_path: Path) -> None:
    """The witness works: a session inside the refresh margin makes `assume` load boto3 to renew it.

    The renewal itself fails (phone mode, no code, no terminal: exit 2, or a
    missing endpoint), which does not matter here: boto3 was reached for.
    """
    state = tmp_path / "state.json"
    cached_state(state, remaining=60.0, lifetime=3600.0)  # an hour's session, under the 300 s margin
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


def test_the_solver_loads_for_check_deny_and_audit_only(tmp_path: Path) -> None:
    """The probe would notice the solver: `audit --policy-file` loads it (and needs no AWS library)."""
    policy = tmp_path / "trust.json"
    policy.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
    )
    result, loaded = run_probe(tmp_path, ["audit", "--policy-file", str(policy)])
    assert result.returncode == 0, result.stderr
    assert "cvc5" in loaded and not set(loaded) & {"boto3", "botocore", "moto"}, loaded
