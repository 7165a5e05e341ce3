"""`credential_process` with the real AWS CLI: the tool as the credential helper it claims to be.

Against a strict `Sandbox` on the real clock, `sts-mfa` is set up, then the AWS
CLI (v1, `aws` on PATH) is given a config file whose only profile runs the
installed `sts-mfa ... assume --format process`, and an environment with no AWS
keys at all: whatever the AWS CLI can do, it does as the assumed role.

The software-token setups run in-process (the same `cli`, through Click's runner)
on a clock 28 s behind real time, so the codes that enable the device belong to
the previous 30 s TOTP window (the sandbox, like AWS, accepts one step of drift
either side) and the helper's first assume, on the real clock, can use the
current window at once instead of waiting for the next one. (In the last 2 s of
a window the enable codes are the current window's, and the first assume waits
for the next, less than 2 s away.) The phone-mode setup runs as subprocesses,
as a script would.
"""

from __future__ import annotations

import json
import os
import pty
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.state.document import parse
from tests.support.cli import setup_behind
from tests.support.env import cache_dir, subprocess_env
from tests.support.processes import BIN, STS_MFA, run
from tests.support.state import write_state

pytestmark = [pytest.mark.e2e]

AWS = shutil.which("aws")
ACCOUNT = "111111111111"
BUCKETS = sorted(f"{name}-{ACCOUNT}" for name in ("reports", "logs"))


def base_env(tmp: Path) -> dict[str, str]:
    """The caller's environment minus every AWS/sts-mfa variable; no real config can be read."""
    return subprocess_env(tmp, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


@dataclass
class Setup:
    """A completed `sts-mfa setup`: its state file and what it created."""

    state: Path
    role_arn: str
    serial: str

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(sample_buckets=("reports", "logs")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("credential-process")


def admin_env(sb: Sandbox, tmp: Path, state: Path) -> dict[str, str]:
    """How an administrator runs the admin-side steps: the sandbox's admin keys, a state file."""
    return {**base_env(tmp), **sb.env(0), "STS_MFA_STATE": str(state)}


def software_setup(sb: Sandbox, tmp: Path, name: str) -> Setup:
    """`sts-mfa setup --software-token --json` as the administrator, in-process on a clock behind real time.

    The environment is exactly the administrator's (`admin_env`): every AWS/sts-mfa
    variable of this process is removed for the run and those of `admin_env` set.
    """
    state = tmp / f"{name}.json"
    out = setup_behind(state, admin_env(sb, tmp, state))
    assert json.loads(state.read_text())["session"] is None
    return Setup(state=state, role_arn=out["role_arn"], serial=out["mfa_serial"])


@pytest.fixture(scope="module")
def software(sb: Sandbox, tmp: Path) -> Setup:
    """One software-token setup shared by the module (its first assume uses the current TOTP window)."""
    return software_setup(sb, tmp, "software")


@pytest.fixture(scope="module")
def phone(sb: Sandbox, tmp: Path) -> Setup:
    """A phone-mode setup, finished the way a script does: `--qr-png`, then `--codes`.

    The sandbox hands out the device's seed (in-process only), standing in for the
    phone that scanned the QR code; no role session is ever cached for it.
    """
    state = tmp / "phone.json"
    env = admin_env(sb, tmp, state)
    qr = tmp / "qr.png"
    first = run([STS_MFA, "setup", "--qr-png", str(qr)], env)
    assert first.returncode != 0, "with no terminal, setup must stop and ask for --codes"
    assert "--codes" in first.stderr, first.stderr
    serial = json.loads(state.read_text())["mfa_device"]["serial"]
    totp = pyotp.TOTP(sb.mfa_seed(serial))
    step = int(time.time() // 30)
    codes = [totp.at(30 * (step - 1)), totp.at(30 * step)]
    done = run([STS_MFA, "setup", "--codes", *codes, "--json"], env)
    assert done.returncode == 0, done.stderr
    assert not qr.exists(), "the QR code PNG holds the seed: setup removes it once the device is enabled"
    out = json.loads(done.stdout)
    return Setup(state=state, role_arn=out["role_arn"], serial=out["mfa_serial"])


def aws_config(tmp: Path, profiles: dict[str, Setup], region: str = "us-east-1") -> Path:
    """An AWS config file whose only profiles get their credentials from `sts-mfa assume --format process`."""
    path = tmp / f"config-{'-'.join(profiles)}"
    blocks = [
        f"[profile {name}]\n"
        f"credential_process = sts-mfa --state {shlex.quote(str(setup.state))} assume --format process\n"
        f"region = {region}\n"
        for name, setup in profiles.items()
    ]
    path.write_text("\n".join(blocks))
    return path


def cli_env(sb: Sandbox, tmp: Path, config: Path, **extra: str) -> dict[str, str]:
    """The AWS CLI's environment: the config file and the endpoint, and NO credentials or region."""
    env = {**base_env(tmp), "AWS_CONFIG_FILE": str(config), "AWS_ENDPOINT_URL": sb.endpoint, **extra}
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_REGION"} & set(extra)
    return env


def caller_arn(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["Arn"])


needs_aws = pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed (pip install awscli)")


@needs_aws
def test_first_use_with_an_empty_cache_goes_through_mfa(sb: Sandbox, software: Setup, tmp: Path) -> None:
    """`AWS_PROFILE=mfa aws sts get-caller-identity` with nothing cached: the helper assumes the role.

    This is the software token's first assume (its step is the current real
    window, newer than the enable codes' step). The region comes from the profile
    (AWS_PROFILE is inherited by the helper too), and the helper does not
    recurse into its own profile for admin credentials.
    """
    assert AWS
    assert json.loads(software.state.read_text())["session"] is None, "the cache must start empty"
    before = sb.count("AssumeRole", status=200)
    env = cli_env(sb, tmp, aws_config(tmp, {"mfa": software}))
    env["AWS_PROFILE"] = "mfa"
    arn = caller_arn(run([AWS, "sts", "get-caller-identity"], env))
    assert arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{software.role_name}/"), arn
    assert sb.count("AssumeRole", status=200) == before + 1


@needs_aws
def test_get_caller_identity_with_the_profile_reports_the_assumed_role(
    sb: Sandbox, software: Setup, tmp: Path
) -> None:
    """`aws sts get-caller-identity --profile mfa` is the role session, answered from the cache."""
    assert AWS
    config = aws_config(tmp, {"mfa": software})
    caller_arn(run([AWS, "sts", "get-caller-identity", "--profile", "mfa"], cli_env(sb, tmp, config)))
    before = sb.count("AssumeRole")
    arn = caller_arn(run([AWS, "sts", "get-caller-identity", "--profile", "mfa"], cli_env(sb, tmp, config)))
    assert arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{software.role_name}/"), arn
    assert sb.count("AssumeRole") == before, "a second AWS CLI call must be served from the cache"


@needs_aws
def test_list_buckets_with_the_profile_lists_the_sample_buckets(
    sb: Sandbox, software: Setup, tmp: Path
) -> None:
    """`aws s3api list-buckets --profile mfa`: the role's s3:ListAllMyBuckets, through the helper."""
    assert AWS
    config = aws_config(tmp, {"mfa": software})
    result = run([AWS, "s3api", "list-buckets", "--profile", "mfa"], cli_env(sb, tmp, config))
    assert result.returncode == 0, result.stderr
    names = sorted(b["Name"] for b in json.loads(result.stdout)["Buckets"])
    assert names == BUCKETS


@needs_aws
def test_eval_env_exports_then_the_aws_cli_is_the_role(sb: Sandbox, software: Setup, tmp: Path) -> None:
    """`eval "$(sts-mfa assume --format env)" && aws sts get-caller-identity` in bash shows the role."""
    assert AWS
    env = {
        **base_env(tmp),
        "AWS_ENDPOINT_URL": sb.endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "STS_MFA_STATE": str(software.state),
    }
    script = 'set -e\neval "$(sts-mfa assume --format env)"\naws sts get-caller-identity\n'
    arn = caller_arn(run(["bash", "-c", script], env))
    assert arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{software.role_name}/"), arn


@needs_aws
def test_phone_mode_without_a_session_fails_fast_and_says_how_to_refresh(
    sb: Sandbox, phone: Setup, tmp: Path
) -> None:
    """No cached session and no way to get a code: the AWS CLI fails at once, with our hint.

    botocore runs the helper with its stderr captured, so a helper that prompted
    would look hung; instead the AWS CLI's error carries our one line, which
    names the command that refreshes the session (`assume --code`).
    """
    assert AWS
    before = sb.count("AssumeRole")
    env = cli_env(sb, tmp, aws_config(tmp, {"phone": phone}))
    t0 = time.monotonic()
    result = run([AWS, "sts", "get-caller-identity", "--profile", "phone"], env, timeout=60)
    elapsed = time.monotonic() - t0
    assert result.returncode != 0, result.stdout
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert "assume --code" in result.stderr, result.stderr
    assert str(phone.state) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert sb.count("AssumeRole") == before, "no code, so nothing may reach AWS"


@needs_aws
def test_after_refreshing_with_a_code_the_phone_profile_works(sb: Sandbox, phone: Setup, tmp: Path) -> None:
    """What the hint says works: `sts-mfa assume --code CODE`, then the AWS CLI is the role."""
    assert AWS
    env = {**base_env(tmp), "AWS_ENDPOINT_URL": sb.endpoint, "AWS_REGION": "us-east-1"}
    totp = pyotp.TOTP(sb.mfa_seed(phone.serial))
    code = totp.at(time.time() + 30)  # the next window's code: the enable codes used this one
    refreshed = run([STS_MFA, "--state", str(phone.state), "assume", "--code", code], env)
    assert refreshed.returncode == 0, refreshed.stderr
    config = aws_config(tmp, {"phone": phone})
    arn = caller_arn(run([AWS, "sts", "get-caller-identity", "--profile", "phone"], cli_env(sb, tmp, config)))
    assert arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{phone.role_name}/"), arn


@needs_aws
def test_region_from_the_profile_is_enough_on_a_cache_miss(sb: Sandbox, tmp: Path) -> None:
    """`aws --profile mfa2 ...` with the region only in the profile and nothing cached yet.

    The AWS CLI does not pass `--profile` or the profile's region to the helper,
    so the helper sees no region; the state file records the one setup used,
    and that is all AssumeRole needs. (A fresh setup, so the cache is empty.)
    """
    assert AWS
    fresh = software_setup(sb, tmp, "software-region")
    config = aws_config(tmp, {"mfa2": fresh})
    result = run([AWS, "sts", "get-caller-identity", "--profile", "mfa2"], cli_env(sb, tmp, config))
    arn = caller_arn(result)
    assert arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{fresh.role_name}/"), arn


@needs_aws
def test_a_terminal_on_stdin_does_not_make_the_helper_prompt(sb: Sandbox, phone: Setup, tmp: Path) -> None:
    """A person types `aws ... --profile phone` at a terminal: the helper inherits that stdin.

    botocore captures the helper's stderr, so a prompt there is invisible and
    the AWS CLI looks hung. `--format process` output is for a program, never a
    person: the helper should fail fast with its hint as it does without a
    terminal. (Needs a phone setup with no valid session: a fresh state copy.)
    """
    assert AWS
    state = parse(phone.state.read_text())
    state.session = None
    stale = tmp / "phone-no-session.json"
    write_state(stale, state, cache_dir(tmp))  # as sts-mfa writes it: signed for the helper's cache
    config = aws_config(tmp, {"phone": Setup(stale, phone.role_arn, phone.serial)})
    env = cli_env(sb, tmp, config)
    master, slave = pty.openpty()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [AWS, "sts", "get-caller-identity", "--profile", "phone"],
        env=env,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    os.close(slave)
    try:
        _, err = proc.communicate(timeout=12)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the AWS CLI and the helper it started
        proc.communicate()
        pytest.fail(f"the AWS CLI was still waiting after {time.monotonic() - t0:.0f} s: the helper prompted")
    finally:
        os.close(master)
    assert proc.returncode != 0
    assert time.monotonic() - t0 < 10
    assert "assume --code" in err, err
