"""alice, the identity `sandbox serve --example-profiles` makes, as the real AWS CLI meets her.

`make_alice(sandbox, tmp_path)` creates the identity (user alice, her key, an enabled MFA
device, roles Admin and ReadOnly that need MFA) in a running `Sandbox` on the real clock,
writes its files with a logging phone as `mfa_process` (`tests.support.sandbox.phone_profiles`:
codes counted by the "phone", not by sts-mfa, and an environment for child processes), and
adds `credential_process` profiles `cp-NAME` for the AWS CLI.
`with_user_profiles` adds a user profile `alice` and a role profile `prod` whose source it is.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.fixtures.examples import ExampleFiles, ExampleIdentity, create_identity
from tests.support.processes import STS_MFA, run
from tests.support.sandbox import phone_profiles

AWS = shutil.which("aws") or str(Path(sys.executable).parent / "aws")
TYPED = "sandbox-typed"  # a role profile with no mfa_process: a person types the code


@dataclass
class Alice:
    sb: Sandbox
    identity: ExampleIdentity
    files: ExampleFiles
    env: dict[str, str]
    phone_log: Path
    phone: Path

    def codes_given(self) -> int:
        return len(self.phone_log.read_text().splitlines()) if self.phone_log.exists() else 0

    def aws(
        self, profile: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run([AWS, "--profile", profile, *args, "--output", "json"], env or self.env, timeout=120)

    def caller_arn(self, profile: str, env: dict[str, str] | None = None) -> str:
        """The ARN the AWS CLI acts as with `profile`, asserting success."""
        done = self.aws(profile, "sts", "get-caller-identity", env=env)
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout)["Arn"])

    def caller(self, profile: str, env: dict[str, str] | None = None) -> str:
        """The role the AWS CLI acts as with `profile` (its name), asserting success."""
        return self.caller_arn(profile, env).split("/")[1]

    def popen_aws(self, profile: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [AWS, "--profile", profile, "sts", "get-caller-identity", "--output", "json"],
            env=env or self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def add_config(self, text: str) -> None:
        self.files.config.write_text(self.files.config.read_text() + text)

    @property
    def where(self) -> str:
        """The lines that put a profile on the sandbox."""
        return f"region = {self.sb.region}\nendpoint_url = {self.sb.endpoint}\n"


def make_alice(running: Sandbox, tmp_path: Path) -> Alice:
    """The example identity, its files (`phone_profiles`), credential_process profiles for the AWS CLI."""
    running.reset()
    identity = create_identity(running)
    where = f"region = {running.region}\nendpoint_url = {running.endpoint}\n"
    extra = (
        f"\n[profile {TYPED}]\nrole_arn = {identity.role_arns['sandbox-admin']}\n"
        f"source_profile = sandbox-alice\nmfa_serial = {identity.serial}\n{where}"
    )
    for name in ("sandbox-admin", "sandbox-readonly", TYPED):
        extra += (
            f"\n[profile cp-{name}]\ncredential_process = {STS_MFA} assume {name} --format process\n{where}"
        )
    made = phone_profiles(running, identity, tmp_path, extra)
    running.reset_log()
    return Alice(running, identity, made.files, made.env, made.phone_log, tmp_path / "phone.sh")


def with_user_profiles(made: Alice) -> Alice:
    """Also a user profile `alice` (her keys, her device) and a role profile `prod` (Admin) whose
    source it is, each with the logging phone, and `cp-alice`, `cp-prod` for the AWS CLI."""
    serial, where = made.identity.serial, made.where
    made.add_config(
        f"\n[profile alice]\nmfa_serial = {serial}\nmfa_process = {made.phone}\n{where}"
        f"\n[profile prod]\nrole_arn = {made.identity.role_arns['sandbox-admin']}\nsource_profile = alice\n"
        f"mfa_serial = {serial}\nmfa_process = {made.phone}\n{where}"
        f"\n[profile cp-alice]\ncredential_process = {STS_MFA} assume alice --format process\n{where}"
        f"\n[profile cp-prod]\ncredential_process = {STS_MFA} assume prod --format process\n{where}"
    )
    with made.files.credentials.open("a") as f:
        f.write(
            f"\n[alice]\naws_access_key_id = {made.identity.access_key_id}\n"
            f"aws_secret_access_key = {made.identity.secret_access_key}\n"
        )
    return made


def secrets_of(alice: Alice) -> list[str]:
    """alice's key and seed, then every session secret in the private cache."""
    cache = Path(alice.env["STS_MFA_CACHE_DIR"])
    found = [alice.identity.secret_access_key, alice.identity.seed]
    for path in cache.glob("*.json"):
        session = json.loads(path.read_text()).get("session")
        if session:
            found += [session["secret_access_key"], session["session_token"]]
    return found
