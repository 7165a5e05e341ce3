"""`sts-mfa audit` on the strict sandbox: the corpus in one account, pages, filters, errors, proof.

The CLI runs in-process (`srun`) as the sandbox's admin; roles are created through
IAM's API, except bulk roles (`motoview.create_roles`, straight into moto's model:
hundreds of signed CreateRole calls would cost seconds and test nothing here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.seam import motoview
from tests.support.cli import Cli, assert_one_error_line
from tests.support.corpus import documents, substitute
from tests.support.sandbox import admin

pytestmark = pytest.mark.sandbox

ACCOUNT = "111111111111"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"  # the corpus' duplicate-key document names her so
MFA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ALICE},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ],
    }
)
OPEN_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "[bold red]Fake",
                "Effect": "Allow",
                "Principal": {"AWS": ALICE},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
UNDECIDED_TRUST = MFA_TRUST.replace('"Bool"', '"BoolMaybe"')


def _role(sb: Sandbox, name: str, trust: str, path: str = "/") -> str:
    arn: str = admin(sb, "iam").create_role(RoleName=name, AssumeRolePolicyDocument=trust, Path=path)["Role"][
        "Arn"
    ]
    return arn


def _alice(sb: Sandbox) -> None:
    admin(sb, "iam").create_user(UserName="alice")


def _audit_requests(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests if r.action == "GetAccountAuthorizationDetails")


def _by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {role["name"]: role for role in document["roles"]}


def test_the_corpus_in_one_account(sb: Sandbox, srun: Cli) -> None:
    _alice(sb)
    corpus = dict(documents())
    for name, entry in corpus.items():
        policy = substitute(entry["policy"], user_arn=ALICE)
        if isinstance(policy, str) and policy.startswith("%"):
            policy = unquote(
                policy
            )  # "as GetRole returns it": IAM stores the JSON, the audit reads it encoded
        _role(sb, name, policy if isinstance(policy, str) else json.dumps(policy))
    result = srun("audit", "--json")
    assert result.exit_code == 3, result.output
    found = _by_name(json.loads(result.stdout))
    assert set(found) == set(corpus)
    for name, entry in corpus.items():
        role = found[name]
        assert role["verdict"] == entry["expected"], (name, role["findings"])
        opened = {f["statement"] for f in role["findings"] if f["kind"] == "open"}
        if entry["expected"] == "open":  # every open way found, in the statements the corpus names
            assert opened and opened <= set(entry.get("open_statements") or opened), (name, role["findings"])
        else:  # no false finding
            assert not opened, (name, role["findings"])
        if entry["expected"] == "requires-mfa":
            assert role["findings"] == []
    summary = json.loads(result.stdout)["summary"]
    assert summary["roles"] == len(corpus) and summary["requests"] == 1 == _audit_requests(sb)


def test_pages_are_read_twice_and_agree(sb: Sandbox, srun: Cli) -> None:
    motoview.create_roles(ACCOUNT, ((f"bulk-{i:03d}", "/bulk/", MFA_TRUST) for i in range(250)))
    result = srun("audit", "--json", "--page-size", "100")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [r["name"] for r in report["roles"]] == [f"bulk-{i:03d}" for i in range(250)]
    assert report["summary"]["readings"] == 2 and report["summary"]["requests"] == 6 == _audit_requests(sb)
    assert "read page 3: 250 roles so far" in result.stderr  # the progress, on stderr


def test_two_thousand_roles_in_a_handful_of_requests(sb: Sandbox, srun: Cli) -> None:
    motoview.create_roles(ACCOUNT, ((f"bulk-{i:04d}", "/bulk/", MFA_TRUST) for i in range(2000)))
    report = srun.json("audit")
    assert report["summary"]["roles"] == 2000 and report["summary"]["requires-mfa"] == 2000
    assert _audit_requests(sb) == report["summary"]["requests"] <= 20


def test_filters_ignore_and_the_exit_code(sb: Sandbox, srun: Cli) -> None:
    _alice(sb)
    _role(sb, "good", MFA_TRUST, "/team/")
    legacy = _role(sb, "legacy", OPEN_TRUST, "/team/")
    _role(sb, "elsewhere", OPEN_TRUST, "/other/")
    assert srun("audit", "--path-prefix", "/team/").exit_code == 3
    ignored = srun("audit", "--path-prefix", "/team/", "--ignore", legacy, "--json")
    assert ignored.exit_code == 0, ignored.output
    roles = _by_name(json.loads(ignored.stdout))
    assert set(roles) == {"good", "legacy"}
    assert roles["legacy"]["verdict"] == "ignored" and roles["legacy"]["analysis_verdict"] == "open"
    assert roles["legacy"]["findings"]  # still shown, as an accepted exception
    only = srun.json("audit", "--role", "GOOD", "--role", legacy, "--ignore", legacy)
    assert {r["name"] for r in only["roles"]} == {"good", "legacy"}
    missing = srun("audit", "--role", "nope")
    assert "no such role in the account (--role): nope" in assert_one_error_line(missing, 1)
    bad = srun("audit", "--ignore", "legacy")
    assert bad.exit_code == 2 and "is not a role ARN" in bad.stderr


def test_undecided_fails_unless_allowed(sb: Sandbox, srun: Cli) -> None:
    _alice(sb)
    _role(sb, "odd", UNDECIDED_TRUST)
    assert srun("audit").exit_code == 3
    allowed = srun("audit", "--allow-undecided", "--json")
    assert allowed.exit_code == 0 and _by_name(json.loads(allowed.stdout))["odd"]["verdict"] == "undecided"


def test_service_roles_are_not_findings(sb: Sandbox, srun: Cli) -> None:
    service = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    _role(sb, "ec2-role", service)
    motoview.create_roles(
        ACCOUNT, [("AWSServiceRoleForSupport", "/aws-service-role/support.amazonaws.com/", service)]
    )
    result = srun("audit", "--json")
    assert result.exit_code == 0, result.output
    roles = _by_name(json.loads(result.stdout))
    assert roles["ec2-role"]["verdict"] == roles["AWSServiceRoleForSupport"]["verdict"] == "service"
    assert "service-linked" in roles["AWSServiceRoleForSupport"]["note"]


def test_a_caller_who_may_not_read_the_roles(sb: Sandbox, srun: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    iam = admin(sb, "iam")
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    line = assert_one_error_line(srun("audit"), 1)
    assert "GetAccountAuthorizationDetails" in line and "AccessDenied" in line
    assert key["SecretAccessKey"] not in line


def test_the_table_and_a_roles_trust_policy(sb: Sandbox, srun: Cli) -> None:
    _alice(sb)
    _role(sb, "legacy", OPEN_TRUST)
    result = srun("audit", "--role", "legacy", env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 3
    out = result.stdout
    assert "legacy" in out and "open" in out and "without MFA" in out
    assert "Trust policy of arn:aws:iam::111111111111:role/legacy (open)" in out
    marked = [line for line in out.splitlines() if line.lstrip().startswith("open ▌")]
    assert any('"Sid": "[bold red]Fake"' in line for line in marked)  # markup shown as text
    assert not any('"Version"' in line for line in marked)  # only the statement is marked
    assert "1 roles: 1 open" in out


def _alice_profile(sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    iam = admin(sb, "iam")
    iam.put_user_policy(
        UserName="alice",
        PolicyName="assume",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[alice]\naws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))


def test_prove_with_agrees(sb: Sandbox, srun: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _alice(sb)
    _alice_profile(sb, tmp_path, monkeypatch)
    _role(sb, "good", MFA_TRUST)
    _role(sb, "legacy", OPEN_TRUST)
    result = srun("audit", "--prove-with", "alice", "--json")
    assert result.exit_code == 3  # legacy is open (and not tried: only roles said to refuse are)
    report = json.loads(result.stdout)
    assert report["proof"]["roles"] == [
        {
            "arn": f"arn:aws:iam::{ACCOUNT}:role/good",
            "outcome": "refused",
            "detail": report["proof"]["roles"][0]["detail"],
        }
    ]
    assert report["summary"]["disagreements"] == 0
    assert sum(1 for r in sb.requests if r.action == "AssumeRole") == 1  # good only


def test_prove_with_reports_a_wrong_analysis(
    sb: Sandbox, srun: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Break the analysis (it calls the open role MFA-only): AWS's answer must expose it."""
    from sts_mfa.audit import classify
    from sts_mfa.trust.analysis import Analysis

    _alice(sb)
    _alice_profile(sb, tmp_path, monkeypatch)
    _role(sb, "legacy", OPEN_TRUST)
    monkeypatch.setattr(classify, "analyse", lambda _document, **_: Analysis("requires-mfa", (), ()))
    assert srun("audit").exit_code == 0  # the broken analysis alone is fooled
    result = srun("audit", "--prove-with", "alice", "--json")
    assert result.exit_code == 3, result.output
    role = _by_name(json.loads(result.stdout))["legacy"]
    assert role["verdict"] == "open" and "--prove-with" in role["findings"][0]["reason"]
    assert json.loads(result.stdout)["summary"]["disagreements"] == 1
