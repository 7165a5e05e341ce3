"""End to end: the installed `sts-mfa` console script, one process per step, as a shell script runs it.

The endpoint is `sts-mfa sandbox serve`, itself a separate process, and the
only configuration is the `export` lines it prints. These tests use the real
clock; the software-token chain waits for one real TOTP window (up to 30 s).
"""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyotp
import pytest

from tests.support.env import subprocess_env
from tests.support.processes import STS_MFA, parse_exports, run, sts_mfa

pytestmark = pytest.mark.e2e

READY = "# sts-mfa sandbox ready"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`sts-mfa sandbox serve` in its own process; yields the variables it exported."""
    assert STS_MFA, "the sts-mfa console script is not installed (pip install -e '.[test]')"
    proc = subprocess.Popen(
        [STS_MFA, "sandbox", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(tmp_path_factory.mktemp("serve-home")),
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        if line.strip() == READY:
            break
        lines.append(line.strip())
    try:
        yield parse_exports(lines)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def env(served: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        **subprocess_env(tmp_path),
        **{k: v for k, v in served.items() if k.startswith("AWS_")},
        "STS_MFA_STATE": str(tmp_path / "state.json"),
    }


def admin_iam(env: dict[str, str]) -> Any:
    return boto3.client(
        "iam",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def nothing_left(env: dict[str, str]) -> bool:
    iam = admin_iam(env)
    return not (
        iam.list_users(PathPrefix="/sts-mfa/")["Users"]
        or iam.list_roles(PathPrefix="/sts-mfa/")["Roles"]
        or iam.list_policies(Scope="Local", PathPrefix="/sts-mfa/")["Policies"]
        or [
            d
            for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]
            if ":mfa/sts-mfa/" in d["SerialNumber"]
        ]
    )


def private(env: dict[str, str]) -> bool:
    path = Path(env["STS_MFA_STATE"])
    return not path.exists() or stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.slow
def test_the_five_steps_as_separate_processes(env: dict[str, str]) -> None:
    """What a newcomer's script does: each step its own process; all exit 0; nothing left."""
    for args in (
        ["setup", "--software-token"],
        ["check-deny"],
        ["assume"],  # waits for the next real TOTP window: the enable codes used this one
        ["list-buckets", "--json"],
        ["status"],
        ["teardown"],
    ):
        result = sts_mfa(env, *args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert private(env), args
        if args[0] == "list-buckets":
            names = sorted(b["name"] for b in json.loads(result.stdout)["buckets"])
            assert names == ["logs-111111111111", "reports-111111111111"]
    assert nothing_left(env)
    again = sts_mfa(env, "teardown")
    assert again.returncode == 0 and "Nothing to tear down" in again.stderr


def test_wrong_code_exits_5_and_a_weakened_trust_policy_exits_3(env: dict[str, str]) -> None:
    assert sts_mfa(env, "setup", "--software-token").returncode == 0
    state = json.loads(Path(env["STS_MFA_STATE"]).read_text())
    totp = pyotp.TOTP(state["seed"])
    import time

    now = time.time()
    valid = {totp.at(now + d) for d in (-60, -30, 0, 30, 60)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)
    refused = sts_mfa(env, "assume", "--code", wrong)
    assert refused.returncode == 5, refused.stderr
    assert "invalid MFA one time pass code" in refused.stderr

    user_arn = state["user"]["arn"]
    iam = admin_iam(env)
    for condition in (None, {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}):
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": user_arn},
            "Action": "sts:AssumeRole",
        }
        if condition:
            statement["Condition"] = condition
        iam.update_assume_role_policy(
            RoleName=state["role"]["name"],
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )
        exposed = sts_mfa(env, "check-deny")
        assert exposed.returncode == 3, (condition, exposed.stdout, exposed.stderr)
        assert "EXPOSED" in exposed.stderr
    assert sts_mfa(env, "teardown").returncode == 0
    assert nothing_left(env)


def test_background_serve_exports_work_in_a_shell_script(tmp_path: Path) -> None:
    """The README's script: eval the exports, chain the steps with &&, stop the sandbox."""
    assert STS_MFA
    script = tmp_path / "chain.sh"
    script.write_text(
        "set -eu\n"
        'eval "$(sts-mfa sandbox serve --background)"\n'
        "trap 'kill \"$STS_MFA_SANDBOX_PID\"' EXIT\n"
        "export STS_MFA_STATE=" + str(tmp_path / "state.json") + "\n"
        "sts-mfa -q setup --software-token --json > setup.json\n"
        "sts-mfa -q check-deny\n"
        "sts-mfa -q teardown\n"
        'echo "chain ok"\n'
    )
    env = subprocess_env(tmp_path)
    env["PATH"] = f"{Path(STS_MFA).parent}:{env['PATH']}"
    result = run(["bash", str(script)], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("chain ok")
    assert json.loads((tmp_path / "setup.json").read_text())["role_arn"].endswith("-role")


@pytest.mark.slow
def test_demo_on_the_embedded_sandbox(tmp_path: Path) -> None:
    """The README's first command, minus the install: no AWS configuration at all."""
    result = sts_mfa(subprocess_env(tmp_path), "demo", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["check_deny_proven"] is True
    assert "is not authorized to perform: sts:AssumeRole" in summary["denial_message"]
    assert ":assumed-role/" in summary["assumed_role_arn"]
    assert sorted(summary["buckets"]) == ["logs-111111111111", "reports-111111111111"]
    assert summary["resources_deleted"] == 6  # as many as setup made
    assert "AWS refused it, as it should" in result.stderr
