"""`sts-mfa audit` attacked: a careless filter, an answer that is not about roles, a proof
made with credentials that carry MFA, SARIF messages that turn into links, alerts merged.

Fast: in-process, against hand-written answers where no sandbox is needed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from sts_mfa.audit import Filters, audit
from sts_mfa.audit.reading import read_account
from sts_mfa.audit.sarif import to_sarif
from sts_mfa.errors import AwsError
from sts_mfa.sandbox import Sandbox
from tests.support.cli import Cli, assert_one_error_line
from tests.support.sandbox import admin

ARN = "arn:aws:iam::111111111111:role/"
ALICE = "arn:aws:iam::111111111111:user/alice"


def _trust(principal: object, condition: dict[str, Any] | None = None, action: str = "sts:AssumeRole") -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


MFA_TRUST = _trust({"AWS": ALICE}, {"Bool": {"aws:MultiFactorAuthPresent": "true"}})
OPEN_TRUST = _trust({"AWS": ALICE})


class _Endpoint:
    """An IAM client whose single answer a test writes (an endpoint that is not AWS)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer

    def get_account_authorization_details(self, **_: Any) -> dict[str, Any]:
        return self.answer


def _role(name: str, trust: str, path: str = "/") -> dict[str, Any]:
    return {"Arn": ARN + name, "RoleName": name, "Path": path, "AssumeRolePolicyDocument": trust}


# --- what the endpoint answers ---------------------------------------------------------------


def test_an_answer_without_a_role_list_is_not_an_empty_account() -> None:
    """No RoleDetailList at all (an endpoint that is not IAM): not "0 roles, exit 0"."""
    with pytest.raises(AwsError, match="RoleDetailList"):
        read_account(_Endpoint({"IsTruncated": False}))
    with pytest.raises(AwsError, match="RoleDetailList"):
        read_account(_Endpoint({"RoleDetailList": "everything is fine", "IsTruncated": False}))
    assert read_account(_Endpoint({"RoleDetailList": [], "IsTruncated": False})).roles == {}


@pytest.mark.parametrize("entry", ["not a role", {"RoleName": "no-arn"}, {"Arn": ARN + "no-name"}])
def test_an_entry_that_names_no_role_is_never_dropped_silently(entry: object) -> None:
    """A role the answer holds but the audit cannot name would be a role never audited."""
    answer = {"RoleDetailList": [_role("good", MFA_TRUST), entry], "IsTruncated": False}
    with pytest.raises(AwsError, match="not a role with an Arn and a RoleName"):
        audit(_Endpoint(answer), Filters())


def test_a_service_linked_path_never_hides_an_open_role() -> None:
    """AWS refuses CreateRole under /aws-service-role/ ("can only be used for AWS Service linked
    Roles"), but an endpoint (or moto) may not: the path alone never turns open into service."""
    path = "/aws-service-role/support.amazonaws.com/"
    answer = {"RoleDetailList": [_role("AWSServiceRoleForSupport", OPEN_TRUST, path)], "IsTruncated": False}
    (result,) = audit(_Endpoint(answer), Filters()).results
    assert result.verdict == "open" and result.note is None


# --- SARIF -----------------------------------------------------------------------------------


def _sarif(*roles: dict[str, Any], ignore: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    report = audit(_Endpoint({"RoleDetailList": list(roles), "IsTruncated": False}), Filters(ignore=ignore))
    results: list[dict[str, Any]] = to_sarif(report, "0")["runs"][0]["results"]  # type: ignore[index]
    return results


def test_sarif_messages_carry_no_embedded_links() -> None:
    """SARIF 2.1.0 §3.11.6: `[text](target)` in a plain-text message is a link; literal brackets are escaped.

    A condition value is anyone's text (whoever can write a trust policy): in a CI code
    scanning view it must not become a link to wherever they like.
    """
    lure = "[sign in to fix](https://evil.example/phish)"
    trust = _trust({"AWS": ALICE}, {"StringEquals": {"aws:PrincipalTag/team": lure}})
    (result,) = _sarif(_role("lured", trust))
    text = result["message"]["text"]
    assert "](https://evil.example" not in text.replace("\\]", "")
    assert "\\[sign in to fix\\](https://evil.example/phish)" in text  # escaped, shown as it is


def test_sarif_fingerprints_tell_findings_apart() -> None:
    """Findings that share a statement and a principal are distinct alerts, not one merged."""
    everyone = _trust("*", action="sts:*")  # everyone, through each of the three assume actions
    odd = json.dumps({"Version": "2099-01-01", "Extra": 1, "Statement": json.loads(MFA_TRUST)["Statement"]})
    results = _sarif(_role("everyone", everyone), _role("odd", odd))
    assert len(results) == 5
    fingerprints = [r["partialFingerprints"]["roleFinding/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)
    again = _sarif(_role("odd", odd), _role("everyone", everyone))
    assert sorted(r["partialFingerprints"]["roleFinding/v1"] for r in again) == sorted(fingerprints)


# --- careless filters ------------------------------------------------------------------------


def _legacy(sb: Sandbox) -> None:
    iam = admin(sb, "iam")
    iam.create_user(UserName="alice")
    iam.create_role(RoleName="legacy", AssumeRolePolicyDocument=OPEN_TRUST, Path="/team/")


@pytest.mark.sandbox
def test_a_path_prefix_that_matches_no_role_is_an_error(sb: Sandbox, srun: Cli) -> None:
    """`--path-prefix /Team/` (a typo, or the wrong case) must not be a green CI run forever."""
    _legacy(sb)
    line = assert_one_error_line(srun("audit", "--path-prefix", "/Team/"), 1)
    assert "--path-prefix /Team/" in line
    assert srun("audit", "--path-prefix", "/team/").exit_code == 3


@pytest.mark.sandbox
def test_an_ignore_that_matches_no_role_is_said(sb: Sandbox, srun: Cli) -> None:
    """A stale or mistyped --ignore ARN (the path left out) is said, and ignores nothing."""
    _legacy(sb)
    result = srun("audit", "--ignore", ARN + "legacy")
    assert result.exit_code == 3
    assert f"sts-mfa: warning: --ignore {ARN}legacy: no such role" in result.stderr


# --- --prove-with ----------------------------------------------------------------------------


@pytest.mark.sandbox
def test_prove_with_refuses_credentials_that_may_carry_mfa(
    sb: Sandbox, srun: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An MFA session (GetSessionToken) gets into every MFA-only role: its "proof" would turn
    each into a false "open" saying AWS let the caller in WITHOUT MFA. A role profile with
    an mfa_serial would prompt for a code. Only long-term keys prove anything."""
    iam = admin(sb, "iam")
    iam.create_user(UserName="alice")
    iam.create_role(RoleName="good", AssumeRolePolicyDocument=MFA_TRUST)
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    sts = boto3.client(
        "sts",
        endpoint_url=sb.endpoint,
        region_name=sb.region,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    session = sts.get_session_token()["Credentials"]
    (tmp_path / "credentials").write_text(
        f"[alice]\naws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n"
        f"[session]\naws_access_key_id = {session['AccessKeyId']}\n"
        f"aws_secret_access_key = {session['SecretAccessKey']}\n"
        f"aws_session_token = {session['SessionToken']}\n"
    )
    (tmp_path / "config").write_text(
        "[profile chained]\nrole_arn = arn:aws:iam::111111111111:role/good\nsource_profile = alice\n"
        "mfa_serial = arn:aws:iam::111111111111:mfa/alice\n"
        f"[profile helper]\ncredential_process = touch {tmp_path / 'ran'}\n"  # never to be run
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    for profile in ("session", "chained", "helper"):
        line = assert_one_error_line(srun("audit", "--prove-with", profile, input=""), 2)
        assert f"--prove-with {profile}" in line and "long-term" in line
        assert session["SecretAccessKey"] not in line
    assert not any(r.action == "AssumeRole" for r in sb.requests) and not (tmp_path / "ran").exists()
    assert srun("audit", "--prove-with", "alice").exit_code == 0  # long-term keys: refused, agrees


@pytest.mark.sandbox
def test_prove_with_says_how_many_roles_it_could_not_try(
    sb: Sandbox, srun: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AssumeRole failing other than AccessDenied (throttled, invalid) proves nothing: the table says so."""
    from sts_mfa.audit import prove

    iam = admin(sb, "iam")
    iam.create_user(UserName="alice")
    iam.create_role(RoleName="good", AssumeRolePolicyDocument=MFA_TRUST)
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    (tmp_path / "credentials").write_text(
        f"[alice]\naws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setattr(prove, "SESSION_NAME", "x")  # too short: every AssumeRole fails locally
    result = srun("audit", "--prove-with", "alice", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "--prove-with alice: 0 refused without MFA (agrees), 1 not tried" in result.stdout
