"""The cached-credentials answer given before Click is imported.

It must say exactly what the Click path says, and step aside (None) for
anything it is not sure of, so that Click can handle it and say what is wrong.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from sts_mfa.cli import cached_answer
from tests.support.cli import Cli
from tests.support.env import subprocess_env
from tests.support.processes import run
from tests.support.state import write_cached_state


@pytest.fixture
def cached(tmp_path: Path) -> Path:
    """A state file with a cached session, signed for this process's cache (Click's path reads
    it in-process), which the light path is told of in the environment it is given (`ENV`)."""
    path = tmp_path / "state.json"
    write_cached_state(path, "ASIAFAST", "fast/secret", "fast-token")
    return path


@pytest.fixture
def env() -> dict[str, str]:
    """What the light path reads: where the cache (and the key that signed the file) is."""
    return {"STS_MFA_CACHE_DIR": os.environ["STS_MFA_CACHE_DIR"]}


@pytest.mark.parametrize(
    "fmt", ["process", "json", "env", "env-no-export", "fish", "powershell", "windows-cmd"]
)
def test_the_answer_is_what_click_prints(cached: Path, env: dict[str, str], fmt: str, run: Cli) -> None:
    fast = cached_answer(["--state", str(cached), "assume", "--format", fmt], env)
    run.state = cached
    slow = run("assume", "--format", fmt)
    assert slow.exit_code == 0, slow.output
    assert fast is not None and fast + "\n" == slow.stdout


def test_both_spellings_and_the_state_from_the_environment(cached: Path, env: dict[str, str]) -> None:
    expected = cached_answer(["--state", str(cached), "assume", "--format", "process"], env)
    assert expected is not None
    assert cached_answer([f"--state={cached}", "assume", "--format=process"], env) == expected
    assert cached_answer(["assume", "--format", "process"], {"STS_MFA_STATE": str(cached), **env}) == expected


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["assume", "--format", "process", "--force"], {}),  # anything more: Click's job
        (["-v", "assume", "--format", "process"], {}),
        (["--endpoint-url", "http://x", "assume", "--format", "process"], {}),
        (["assume", "--format", "text"], {}),  # text is for people: Click renders it
        (["assume", "--format", "yaml"], {}),  # Click reports the bad choice
        (["assume"], {}),
        (["status"], {}),
        (["assume", "--format", "process"], {"_STS_MFA_COMPLETE": "bash_complete"}),
        (["assume", "--format", "process"], {"STS_MFA_REFRESH_MARGIN": "abc"}),
        (["assume", "--format", "process"], {"STS_MFA_REFRESH_MARGIN": "99999"}),
        (["assume", "--format", "process"], {"STS_MFA_REFRESH_MARGIN": "3600"}),  # too little left
        (["assume", "--format", "process"], {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}),  # other endpoint
    ],
)
def test_anything_else_is_left_to_click(
    cached: Path, env: dict[str, str], argv: list[str], environ: dict[str, str]
) -> None:
    assert cached_answer(["--state", str(cached), "assume", "--format", "process"], env) is not None
    assert cached_answer(argv, {"STS_MFA_STATE": str(cached), **env, **environ}) is None


def test_an_unsafe_or_broken_file_is_left_to_click(cached: Path, env: dict[str, str]) -> None:
    argv = ["--state", str(cached), "assume", "--format", "process"]
    cached.chmod(0o644)
    assert cached_answer(argv, env) is None  # Click's path refuses it with exit 4
    cached.chmod(0o600)
    cached.write_text("{not json")
    assert cached_answer(argv, env) is None
    assert (
        cached_answer(["--state", str(cached.parent / "missing.json"), "assume", "--format", "process"], env)
        is None
    )


def test_a_file_the_cache_directory_cannot_vouch_for_is_left_to_click(cached: Path, tmp_path: Path) -> None:
    """Another cache directory (no key, or another key), or none the light path can find without
    platformdirs: no answer, and Click's path says why (exit 4) or finds the right key."""
    argv = ["--state", str(cached), "assume", "--format", "process"]
    assert cached_answer(argv, {"STS_MFA_CACHE_DIR": str(tmp_path / "empty")}) is None
    assert cached_answer(argv, {"HOME": str(tmp_path), "XDG_CACHE_HOME": "relative"}) is None


def test_the_console_script_answers_without_importing_click(cached: Path, env: dict[str, str]) -> None:
    probe = (
        "import sys; sys.argv = ['sts-mfa', '--state', sys.argv[1], 'assume', '--format', 'process']\n"
        "from sts_mfa.cli import main\n"
        "main()\n"
        # and no OpenSSL: the state file's signature is checked with the built-in SHA-256
        "heavy = ('click', 'boto3', 'botocore', 'rich', '_hashlib', 'hmac', 'secrets', 'typing')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    result = run([sys.executable, "-c", probe, str(cached)], subprocess_env(cached.parent, **env))
    assert result.returncode == 0, result.stderr
    assert '"AccessKeyId": "ASIAFAST"' in result.stdout
    assert result.stderr.strip() == "[]"


@pytest.mark.parametrize("expiration", [float("nan"), 1e300, 253402300800, -1])
def test_an_impossible_expiry_is_left_to_click(cached: Path, env: dict[str, str], expiration: float) -> None:
    """Even when signed: the light path checks the values it hands out."""
    import json

    from sts_mfa.state import signature

    doc = json.loads(cached.read_text())
    doc["session"]["expiration"] = expiration
    doc[signature.FIELD] = signature.sign(doc, signature.key_for_writing(env["STS_MFA_CACHE_DIR"]))
    cached.write_text(json.dumps(doc))
    assert cached_answer(["--state", str(cached), "assume", "--format", "process"], env) is None
