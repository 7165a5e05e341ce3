"""What an adversarial review of the hardening found, each with a test that failed before its fix.

A false proof through duplicate JSON keys or terminal escapes; files deleted that the tool
did not write (a planted QR code path, sweep decoys without the hex prefix); a merge that
changed how another profile reads; a secret echoed; waits that never end (a TOTP step in
the future, NaN margins); tracebacks from out-of-range state values and wrong-shaped answers.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sts_mfa.errors import WouldOverwrite
from sts_mfa.files import ini as inifiles
from sts_mfa.sandbox import Sandbox
from sts_mfa.state.document import load
from sts_mfa.state.version import SCHEMA_VERSION
from sts_mfa.trust import analysis as trust
from tests.support.cli import Cli
from tests.support.env import subprocess_env as isolated_env
from tests.support.sandbox import admin, leftovers
from tests.support.state import write_document

MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def role_and_user(cli: Cli) -> tuple[str, str]:
    state = load(cli.state)
    assert state and state.role and state.user and state.user.arn
    return state.role.name, state.user.arn


# ---------------------------------------------------------------- false proofs


def test_duplicate_keys_in_a_live_trust_policy_are_never_proven(software: Cli, sb: Sandbox) -> None:
    """botocore's json.loads would keep the last "Effect"; the raw text is analysed instead."""
    role, user = role_and_user(software)
    statement = (
        f'{{"Effect":"Allow","Principal":{{"AWS":"{user}"}},"Action":"sts:AssumeRole",'
        '"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}},"Effect":"Deny"}'
    )
    text = f'{{"Version":"2012-10-17","Statement":[{statement}]}}'
    admin(sb, "iam").update_assume_role_policy(RoleName=role, PolicyDocument=text)
    result = software("check-deny", "--json")
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout)["trust_policy_verdict"] == "undecided"


def test_escape_sequences_in_a_statement_cannot_paint_a_proof(software: Cli, sb: Sandbox) -> None:
    role, user = role_and_user(software)
    sid = "\r\x1b[2KProven\x1b[8m"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": user}, "Action": "sts:AssumeRole", "Condition": MFA},
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": "accounts.google.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            },
        ],
    }
    admin(sb, "iam").update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(document))
    result = software("check-deny")
    assert result.exit_code == 3
    assert "\x1b" not in result.output and "\r" not in result.output
    assert "\\x1b[2K" in result.stdout  # shown, not obeyed


ALLOW_U = {
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111111111111:user/u"},
    "Action": "sts:AssumeRole",
}


def test_a_deny_that_does_not_really_cover_the_way_closes_nothing() -> None:
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": "arn:aws-cn:iam::111111111111:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    }
    assert trust.analyse({"Version": "2012-10-17", "Statement": [ALLOW_U, deny]}).verdict == "open"


def test_a_deny_with_a_look_alike_action_neither_closes_nor_leaves_open() -> None:
    # The long s (U+017F) upper-cases to `S`: a case-insensitive comparison may take the action for
    # sts:AssumeRole (the Deny then refuses every request without MFA) or may not.
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sts:Assume\u017fRole",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    }
    found = trust.analyse({"Version": "2012-10-17", "Statement": [ALLOW_U, deny]})
    assert found.verdict == "undecided"
    assert all(f.witness is None for f in found.findings)
    assert any("statement 2 may refuse it or not" in f.reason for f in found.findings)


def test_exposure_is_reported_even_when_the_trust_policy_cannot_be_read(software: Cli, sb: Sandbox) -> None:
    role, user = role_and_user(software)
    iam = admin(sb, "iam")
    open_policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": user}, "Action": "sts:AssumeRole"}],
    }
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(open_policy))
    deny_get_role = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:GetRole", "Resource": "*"}],
    }
    iam.put_user_policy(
        UserName="sandbox-admin", PolicyName="no-get-role", PolicyDocument=json.dumps(deny_get_role)
    )
    result = software("check-deny")
    assert result.exit_code == 3, result.output
    assert "EXPOSED" in result.stderr.splitlines()[-1]


# --------------------------------------------------------- deleting what is not ours


def test_a_state_naming_some_file_as_its_qr_png_never_gets_it_deleted(srun: Cli, tmp_path: Path) -> None:
    """Even with the right SHA-256: only this device's own QR code, regenerated from its seed, goes."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"# a dotfile everyone has the same copy of\n")
    victim.chmod(0o600)
    planted = {
        "version": SCHEMA_VERSION,
        "tool": "sts-mfa",
        "prefix": "sts-mfa-0123abcd",
        "iam_path": "/sts-mfa/",
        "mode": "phone",
        "endpoint": os.environ["AWS_ENDPOINT_URL"],
        "qr_png": str(victim),
        "qr_png_sha256": hashlib.sha256(victim.read_bytes()).hexdigest(),
    }
    write_document(srun.state, planted)  # signed: an adopted file, say; the QR code rule must hold
    result = srun("teardown")
    assert result.exit_code == 0, result.output
    assert victim.exists(), "a file the tool did not write was deleted"
    assert f"left {victim} in place" in result.stderr


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("user", "sts-mfa-admin"),
        ("user", "sts-mfa-DEADBEEF-user"),
        ("role", "sts-mfa-prod-deploy"),
        ("policy", "sts-mfa-shared"),
    ],
)
def test_sweep_spares_names_that_only_start_with_the_prefix(
    srun: Cli, sb: Sandbox, kind: str, name: str
) -> None:
    iam = admin(sb, "iam")
    tags = [{"Key": "created-by", "Value": "sts-mfa"}]
    if kind == "user":
        iam.create_user(UserName=name, Path="/sts-mfa/", Tags=tags)
    elif kind == "role":
        iam.create_role(
            RoleName=name,
            Path="/sts-mfa/",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
            Tags=tags,
        )
    else:
        doc = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
        }
        iam.create_policy(PolicyName=name, Path="/sts-mfa/", PolicyDocument=json.dumps(doc), Tags=tags)
    result = srun("teardown", "--sweep")
    assert result.exit_code == 0, result.output
    assert name in {**leftovers(sb)}[f"{kind}s" if kind != "policy" else "policies"]


def test_sweep_spares_an_unassigned_device_without_the_hex_prefix(srun: Cli, sb: Sandbox) -> None:
    admin(sb, "iam").create_virtual_mfa_device(VirtualMFADeviceName="sts-mfa-someone", Path="/sts-mfa/")
    assert srun("teardown", "--sweep").exit_code == 0
    assert any(s.endswith("/sts-mfa-someone") for s in leftovers(sb)["mfa_devices"])


def test_a_second_qr_png_does_not_forget_the_first(srun: Cli, sb: Sandbox, tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert srun("setup", "--qr-png", str(a)).exit_code == 2
    again = srun("setup", "--qr-png", str(b))
    assert again.exit_code == 2
    assert not a.exists(), "the first QR code (the seed) was left on disk and forgotten"
    assert f"Removed {a}" in again.stderr
    assert srun("teardown").exit_code == 0
    assert not b.exists()


# ------------------------------------------------------------------- INI merges


def read(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return {s: dict(parser.items(s)) for s in parser.sections()}


OURS = {"sandbox-identity": inifiles.section("sandbox-identity", {"aws_access_key_id": "AKIANEW"})}


@pytest.mark.parametrize(
    "text",
    [
        # an indented look-alike header is a continuation of the value above it
        "[prod]\naws_access_key_id = AKIAPROD\ndescription = do not confuse with\n  [sandbox-identity]\n"
        "aws_secret_access_key = PRODSECRET\nregion = eu-west-1\n",
        # a header with a comment after it is still that section
        "[prod]\nregion = x\n[sandbox-identity]   ; the old sandbox\naws_access_key_id = OLD\n",
        # a section with spaces in its name is another section
        "[ sandbox-identity ]\nkeep = me\n",
        # a form feed and U+2028 inside values are not line breaks
        "[prod]\nnote = a\x0cb\u2028c\naws_access_key_id = AKIAPROD\n",
        "[prod]\r\nregion = a\r\n[other]\rkey = v\r",
    ],
    ids=["indented-look-alike", "header-with-comment", "spaces-in-name", "form-feed", "cr-line-ends"],
)
def test_a_merge_reads_every_other_section_exactly_as_before(text: str) -> None:
    merged = inifiles.checked_merge(text, OURS, "credentials file")
    before, after = read(text), read(merged)
    assert {k: v for k, v in after.items() if k != "sandbox-identity"} == {
        k: v for k, v in before.items() if k != "sandbox-identity"
    }
    assert after["sandbox-identity"] == {"aws_access_key_id": "AKIANEW"}


def test_a_file_the_aws_cli_cannot_read_is_not_merged_into() -> None:
    with pytest.raises(WouldOverwrite, match="cannot be read the way the AWS CLI reads it"):
        inifiles.checked_merge("[a]\nx = 1\n[a]\ny = 2\n", OURS, "credentials file")


# ----------------------------------------------------------- secrets, waits, crashes


def test_a_secret_in_the_access_key_id_field_is_never_echoed(software: Cli) -> None:
    data = json.loads(software.state.read_text())
    secret = data["access_key"]["secret_access_key"]
    data["access_key"]["access_key_id"] = secret
    write_document(software.state, data)
    result = software("status")
    assert result.exit_code == 4
    assert secret not in result.output


def test_a_time_step_far_in_the_future_is_not_waited_for(software: Cli) -> None:
    data = json.loads(software.state.read_text())
    for record in data["totp"].values():
        record["last_step"] = int(software.clock.now() // 30) + 100_000
    write_document(software.state, data)
    before = software.clock.now()
    result = software("assume", "--force")
    assert result.exit_code == 0, result.output
    assert software.clock.now() - before < 35, "waited for the recorded future step"
    assert "in the future" in result.stderr


@pytest.mark.parametrize(
    "args", [["assume", "--refresh-margin", "nan"], ["setup", "--software-token", "--wait-timeout", "nan"]]
)
def test_nan_is_not_a_number_of_seconds(srun: Cli, args: list[str]) -> None:
    result = srun(*args)
    assert result.exit_code == 2
    assert "not a finite number" in result.stderr


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (("session", "expiration"), -253402300799),
        (("max_session_duration",), -5),
        (("seed",), "not base32 !!"),
        (("role_endpoint",), "not a url"),
    ],
)
def test_values_the_tool_cannot_use_are_refused_when_the_state_is_read(
    software: Cli, field: tuple[str, ...], value: object
) -> None:
    assert software("assume").exit_code == 0
    data = json.loads(software.state.read_text())
    target = data
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    write_document(software.state, data)
    result = software("status", "--offline")
    assert result.exit_code == 4, result.output
    assert "internal error" not in result.output
    assert ".".join(field) in result.stderr


def test_completion_never_blocks_on_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "credentials"
    os.mkfifo(fifo)
    env = isolated_env(
        tmp_path,
        AWS_SHARED_CREDENTIALS_FILE=str(fifo),
        _STS_MFA_COMPLETE="bash_complete",
        COMP_WORDS="sts-mfa --profile ",
        COMP_CWORD="2",
    )
    done = subprocess.run(
        [sys.executable, "-m", "sts_mfa"], env=env, capture_output=True, text=True, timeout=20, check=False
    )
    assert "Traceback" not in done.stderr


def test_a_state_name_too_long_for_its_temp_files_is_refused_before_anything(
    srun: Cli, tmp_path: Path
) -> None:
    result = srun("--state", str(tmp_path / ("s" * 240 + ".json")), "setup", "--software-token")
    assert result.exit_code == 2
    assert "longer than" in result.stderr


def test_demo_checks_the_svg_directory_first(tmp_path: Path, srun: Cli) -> None:
    started = time.monotonic()
    result = srun("demo", "--svg", str(tmp_path / "nodir" / "x.svg"))
    assert result.exit_code == 2 and time.monotonic() - started < 5


def test_exec_runs_the_child_with_stderr_closed(software: Cli, tmp_path: Path) -> None:
    assert software("assume").exit_code == 0
    env = dict(os.environ)
    command = [
        sys.executable,
        "-m",
        "sts_mfa",
        "--state",
        str(software.state),
        "exec",
        "--",
        "sh",
        "-c",
        "exit 7",
    ]
    done = subprocess.run(
        command,
        env=env,
        stderr=subprocess.DEVNULL,
        timeout=60,
        check=False,
        close_fds=True,
        preexec_fn=lambda: os.close(2),
    )
    assert done.returncode == 7


def test_ctrl_c_while_starting_is_one_line_and_130(tmp_path: Path) -> None:
    """Once sts_mfa's first module runs, Ctrl-C is one line and exit 130 (never a traceback)."""
    state = tmp_path / "none.json"
    command = [sys.executable, "-m", "sts_mfa", "--state", str(state), "status"]
    # How long a whole run takes on this machine now (a loaded CI machine is slower): the
    # signals are timed as fractions of it, so some land mid-run however fast it starts.
    started = time.monotonic()
    subprocess.run(command, capture_output=True, env=isolated_env(tmp_path), timeout=30, check=False)
    whole = time.monotonic() - started
    results = []
    for delay in (0.03, 0.08, *(whole * f for f in (0.3, 0.45, 0.6, 0.75, 0.9))):
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=isolated_env(tmp_path),
        )
        timer = threading.Timer(delay, proc.send_signal, args=(2,))
        timer.start()
        _, err = proc.communicate(timeout=30)
        timer.cancel()
        results.append((delay, proc.returncode, err))
    for delay, code, err in results:
        # Before sts_mfa's first module runs (a slow start), Python's own start-up may still
        # print its traceback; once any of sts_mfa runs, never.
        assert "sts_mfa" not in err.partition("Traceback")[2], (delay, err)
        if "Traceback" not in err:  # -2: the signal came before Python's own handler existed
            assert code in (0, 130, -2), (delay, code, err)
        if code == 130:  # 0: it finished first (a missing state file is quick to report)
            assert (
                err.strip().splitlines()[-1]
                == "sts-mfa: interrupted; the state file keeps what was done so far"
            )
    assert any(code == 130 for _, code, _ in results), results  # at least one landed mid-run
