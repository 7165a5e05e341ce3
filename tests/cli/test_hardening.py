"""The four things a security tool must never do, each with a test that failed before the fix.

1. Say "proven" when another way in needs no MFA (web identity, SAML, a service...).
2. Delete what it did not create (see also the `teardown-*` and `state-name-*` rows of
   docs/bad-inputs.md, run by tests/reliability/test_rel_bad_inputs.py).
3. Delete, or keep, the wrong QR code file when a later run starts in another directory.
4. Overwrite a user's file (`sandbox serve --credentials-file ~/.aws/credentials`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.state.document import load
from tests.support.cli import Cli
from tests.support.env import subprocess_env
from tests.support.processes import run
from tests.support.sandbox import admin, leftovers, phone_codes

pytestmark = pytest.mark.sandbox

GOOD = {
    "Effect": "Allow",
    "Principal": {"AWS": "USER"},
    "Action": "sts:AssumeRole",
    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
}
GITHUB = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
SAML = "arn:aws:iam::111111111111:saml-provider/Okta"

# A second statement, next to the good one, that opens the role without MFA.
OTHER_WAYS_IN: dict[str, dict[str, Any]] = {
    "github-actions-oidc": {
        "Effect": "Allow",
        "Principal": {"Federated": GITHUB},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/*"}},
    },
    "saml": {
        "Effect": "Allow",
        "Principal": {"Federated": SAML},
        "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
    },
    "a-service": {
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole",
    },
    "bool-if-exists": {
        "Effect": "Allow",
        "Principal": {"AWS": "USER"},
        "Action": "sts:AssumeRole",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
    },
}


def trust(sb: Sandbox, cli: Cli, *statements: dict[str, Any]) -> None:
    state = load(cli.state)
    assert state and state.role and state.user and state.user.arn
    text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)}).replace(
        "USER", state.user.arn
    )
    admin(sb, "iam").update_assume_role_policy(RoleName=state.role.name, PolicyDocument=text)


@pytest.mark.parametrize("way", sorted(OTHER_WAYS_IN))
def test_another_way_in_without_mfa_is_never_proven(software: Cli, sb: Sandbox, way: str) -> None:
    """AWS still refuses the user's key without MFA, but the role is open another way: exit 3."""
    trust(sb, software, GOOD, OTHER_WAYS_IN[way])
    result = software("check-deny", "--json")
    assert result.exit_code == 3, result.output
    verdict = json.loads(result.stdout)
    # AWS refuses the user's key without MFA (except through BoolIfExists, where it hands out
    # credentials): a refusal alone would have looked like proof.
    assert verdict["denied"] is (way != "bool-if-exists")
    assert verdict["proven"] is False and verdict["trust_policy_verdict"] == "open"
    assert any(f["message"].startswith("statement 2") for f in verdict["findings"]), verdict["findings"]
    if verdict["denied"]:
        assert "statement 2" in result.stderr.splitlines()[-1]
    # every open way shows the request that gets in: a principal of the way's kind, its action
    opened = [f for f in verdict["findings"] if f["kind"] == "open"]
    assert opened and all(f["witness"]["action"] == f["action"] for f in opened)
    kind = {"github-actions-oidc": "Federated", "saml": "Federated", "a-service": "Service"}.get(way, "AWS")
    assert any(f["witness"]["principal"]["type"] == kind for f in opened), opened
    text = software("check-deny")
    assert "gets in without MFA: " in text.stdout.replace("\n", " ")


@pytest.mark.parametrize(
    "condition",
    [
        {"Bool": {"aws:MultiFactorAuthPresent": "yes"}},  # a value Bool cannot compare
        {"NumericLessThan": {"aws:MultiFactorAuthAge": "abc"}},
        {"Bool": {"aws:MultiFactorAuthPresent": "${aws:username}"}},  # a policy variable
    ],
)
def test_an_undecidable_trust_policy_is_not_proven(
    software: Cli, sb: Sandbox, condition: dict[str, Any]
) -> None:
    trust(sb, software, GOOD, {**GOOD, "Condition": condition})
    result = software("check-deny", "--json")
    assert result.exit_code == 3, result.output
    verdict = json.loads(result.stdout)
    assert verdict["denied"] is True
    assert verdict["proven"] is False and verdict["trust_policy_verdict"] == "undecided"
    assert "cannot decide" in result.stderr.splitlines()[-1]


def test_the_tools_own_trust_policy_is_proven(software: Cli) -> None:
    result = software("check-deny", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["trust_policy_verdict"] == "requires-mfa"


# ----------------------------------------------------------------- 3. the QR code PNG


def test_a_relative_qr_png_is_removed_where_it_was_written_not_where_the_next_run_is(
    srun: Cli, sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    monkeypatch.chdir(first)
    assert srun("setup", "--qr-png", "qr.png").exit_code == 2  # no terminal: QR written, stop
    assert (first / "qr.png").exists()
    unrelated = later / "qr.png"
    unrelated.write_bytes(b"someone's own picture")
    monkeypatch.chdir(later)
    done = srun("setup", "--codes", *phone_codes(sb, srun))
    assert done.exit_code == 0, done.output
    assert not (first / "qr.png").exists(), "the seed PNG was left on disk"
    assert unrelated.read_bytes() == b"someone's own picture", "an unrelated file was deleted"
    assert f"Removed {first / 'qr.png'}" in done.stderr


def test_a_qr_png_replaced_by_another_file_is_left_and_said_so(
    srun: Cli, sb: Sandbox, tmp_path: Path
) -> None:
    png = tmp_path / "qr.png"
    assert srun("setup", "--qr-png", str(png)).exit_code == 2
    png.unlink()
    png.write_bytes(b"not the QR code any more")
    done = srun("setup", "--codes", *phone_codes(sb, srun))
    assert done.exit_code == 0, done.output
    assert png.read_bytes() == b"not the QR code any more"
    assert f"left {png} in place: it" in done.stderr and "not the" in done.stderr
    assert "Removed" not in done.stderr


def test_teardown_of_an_unfinished_phone_setup_removes_its_qr_png(
    srun: Cli, sb: Sandbox, tmp_path: Path
) -> None:
    png = tmp_path / "qr.png"
    assert srun("setup", "--qr-png", str(png)).exit_code == 2
    result = srun("teardown")
    assert result.exit_code == 0, result.output
    assert not png.exists()
    assert leftovers(sb)["users"] == []


# ------------------------------------------------------------ 4. the credentials file

OTHERS = (
    "# my real keys\n"
    "[default]\n"
    "aws_access_key_id = AKIAREALKEYDONOTLOSE\n"
    "aws_secret_access_key =   real/secret+value   \n"
    "\n"
    "[work]   ; with a comment\n"
    "aws_access_key_id=AKIAWORK\r\n"
    "aws_secret_access_key=work-secret\n"
    "[sandbox-identity]\n"
    "aws_access_key_id = OLD\n"
    "; a comment that belongs to the next section\n"
    "[last]\n"
    "region = eu-west-1"
)


def serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = subprocess_env(tmp_path, STS_MFA_SANDBOX_LOG=str(tmp_path / "sandbox.log"))
    return run([sys.executable, "-m", "sts_mfa", "sandbox", "serve", "--background", *args], env, timeout=60)


def stop(exports: str) -> None:
    for line in exports.splitlines():
        if line.startswith("export STS_MFA_SANDBOX_PID="):
            os.kill(int(line.partition("=")[2]), 15)


def test_an_existing_credentials_file_is_refused_without_merge(tmp_path: Path) -> None:
    creds = tmp_path / "credentials"
    creds.write_text(OTHERS)
    result = serve(tmp_path, "--credentials-file", str(creds))
    stop(result.stdout)
    assert result.returncode == 2, result.stderr
    assert "already exists" in result.stderr and "--merge" in result.stderr
    assert creds.read_bytes() == OTHERS.encode()


def test_merge_keeps_every_other_profile_byte_for_byte(tmp_path: Path) -> None:
    creds = tmp_path / "credentials"
    creds.write_bytes(OTHERS.encode())
    result = serve(tmp_path, "--credentials-file", str(creds), "--merge")
    try:
        assert result.returncode == 0, result.stderr
        merged = creds.read_bytes().decode()
        for kept in (
            "# my real keys\n[default]\naws_access_key_id = AKIAREALKEYDONOTLOSE\n"
            "aws_secret_access_key =   real/secret+value   \n\n",
            "[work]   ; with a comment\naws_access_key_id=AKIAWORK\r\naws_secret_access_key=work-secret\n",
            "; a comment that belongs to the next section\n[last]\nregion = eu-west-1",
        ):
            assert kept in merged, (kept, merged)
        assert "OLD" not in merged  # the tool's own section is replaced, not duplicated
        assert merged.count("[sandbox-identity]") == 1 and merged.count("[sandbox-resource]") == 1
        assert f"export AWS_SHARED_CREDENTIALS_FILE={creds}" in result.stdout
    finally:
        stop(result.stdout)
