"""The endpoint with the state file's role: `exec --server` without a PROFILE, and its renewals.

* A real child (boto3) under the installed `sts-mfa exec --server`, after a software-token
  setup on a strict Sandbox on the real clock: it acts as the state's role, and sees
  neither the administrator's keys and profile in the caller's environment nor the
  caller's AWS files.
(How such a session is renewed, the software token by itself and a phone device not at
all, is in test_credential_server.py, on the fake-clock sandbox.)
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.session.handoff import KEPT_SETTINGS
from tests.support.cli import setup_behind
from tests.support.env import subprocess_env
from tests.support.processes import BIN, sts_mfa

CHILD = (
    "import json, os, boto3\n"
    "session = boto3.Session()\n"
    "arn = session.client('sts').get_caller_identity()['Arn']\n"
    "print(json.dumps({'arn': arn, 'method': session.get_credentials().method, 'env': dict(os.environ)}))\n"
)


@pytest.fixture(scope="module")
def real_sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.mark.e2e
def test_exec_server_with_the_state_file_serves_its_role_and_nothing_else(
    real_sandbox: Sandbox, tmp_path: Path
) -> None:
    env = subprocess_env(tmp_path)
    credentials = tmp_path / "credentials"
    admin = real_sandbox.env(0)
    credentials.write_text(  # the administrator's own: the child must not act as them
        f"[default]\naws_access_key_id = {admin['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {admin['AWS_SECRET_ACCESS_KEY']}\n"
    )
    env.update(
        real_sandbox.env(0),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),  # a [default] profile would outrank the endpoint
        AWS_PROFILE="default",
        STS_MFA_STATE=str(tmp_path / "state.json"),
    )
    role_arn = setup_behind(tmp_path / "state.json", env)["role_arn"]
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):  # the child's region: the state file's
        env.pop(name)

    done = sts_mfa(env, "exec", "--server", "--", sys.executable, "-c", CHILD)

    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert f":assumed-role/{role_arn.rsplit('/', 1)[-1]}/" in seen["arn"]
    assert seen["method"] == "container-role"
    child_env = seen["env"]
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} & set(
        child_env
    )
    assert not [k for k in child_env if k.startswith("STS_MFA_") and k not in KEPT_SETTINGS]
    files = ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CREDENTIAL_PROFILES_FILE")
    assert [child_env[name] for name in files] == [os.devnull] * 3  # the Java SDK v1's file too
    assert child_env["AWS_REGION"] == child_env["AWS_DEFAULT_REGION"] == real_sandbox.region
    assert child_env["AWS_CONTAINER_CREDENTIALS_FULL_URI"].startswith("http://127.0.0.1:")
    assert child_env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] not in done.stderr
    assert real_sandbox.env(0)["AWS_SECRET_ACCESS_KEY"] not in done.stdout
