"""`sts-mfa audit --policy-file`: trust policies judged before they are deployed, by the console script.

Each run is the installed `sts-mfa` in a private home with no AWS credentials and an
endpoint that refuses every connection: a file audit that called AWS would fail. The
fixtures (tests/data/policy_files/) are a bare GitHub OIDC trust policy, a SAM template in
YAML and the same in JSON, and `terraform show -json` of a plan; each role's verdict is
checked against the analysis of its document, and every open finding carries a witness.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from sts_mfa.trust.analysis import analyse
from tests.support.env import subprocess_env
from tests.support.policy_files import PLAN, POLICY, SAM_JSON, SAM_YAML
from tests.support.processes import sts_mfa

pytestmark = pytest.mark.e2e

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json").read_text())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A home with no AWS config or keys, and an endpoint nothing listens on."""
    environ = subprocess_env(tmp_path / "home", AWS_ENDPOINT_URL=f"http://127.0.0.1:{_closed_port()}")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        environ.pop(name, None)
    return environ


def _audit(env: dict[str, str], *args: str, input: str | None = None) -> tuple[int, dict[str, Any], str]:
    done = sts_mfa(env, "audit", "--json", *args, input=input)
    return done.returncode, json.loads(done.stdout) if done.stdout else {}, done.stderr


def _roles(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {role["name"]: role for role in document["roles"]}


def test_a_bare_trust_policy_is_one_role_named_by_its_path(env: dict[str, str]) -> None:
    code, document, _ = _audit(env, "--policy-file", str(POLICY))
    assert code == 3  # the GitHub OIDC statement lets a workflow in without MFA
    (role,) = document["roles"]
    assert role["name"] == str(POLICY) and role["file"] == str(POLICY) and role["arn"] is None
    assert role["verdict"] == analyse(json.loads(Path(POLICY).read_text())).verdict == "open"
    witness = role["findings"][0]["witness"]
    assert witness["principal"]["type"] == "Federated"
    assert witness["action"] == "sts:AssumeRoleWithWebIdentity"
    assert witness["context"]["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"


@pytest.mark.parametrize("template", [SAM_YAML, SAM_JSON], ids=["yaml", "json"])
def test_a_cloudformation_template_gives_every_role_by_logical_id(
    env: dict[str, str], template: Path
) -> None:
    code, document, stderr = _audit(env, "--policy-file", str(template))
    roles = _roles(document)
    assert f"{template}#AdminRole" in roles, sorted(roles)
    assert all(name.startswith(f"{template}#") for name in roles)
    assert roles[f"{template}#AdminRole"]["verdict"] == "requires-mfa"
    assert roles[f"{template}#FunctionRole"]["verdict"] == "service"
    assert code == (3 if any(r["verdict"] in ("open", "undecided") for r in roles.values()) else 0), stderr


def test_yaml_and_json_templates_get_the_same_verdicts(env: dict[str, str]) -> None:
    def verdicts(path: str) -> dict[str, str]:
        _, document, _ = _audit(env, "--policy-file", str(path))
        return {r["name"].split("#", 1)[1]: r["verdict"] for r in document["roles"]}

    assert verdicts(SAM_YAML) == verdicts(SAM_JSON)


def test_a_terraform_plan_gives_every_aws_iam_role_by_address(env: dict[str, str]) -> None:
    code, document, _ = _audit(env, "--policy-file", str(PLAN))
    roles = _roles(document)
    assert code == 3
    assert roles[f"{PLAN}#aws_iam_role.admin"]["verdict"] == "requires-mfa"
    opened = roles[f'{PLAN}#aws_iam_role.team["ops"]']
    assert opened["verdict"] == "open"
    assert opened["findings"][0]["witness"]["principal"] == {
        "type": "AWS",
        "value": "arn:aws:iam::444455556666:role/ops",
    }
    unknown = roles[f"{PLAN}#module.ci.aws_iam_role.deploy"]  # known only after apply
    assert unknown["verdict"] == "undecided"


def test_standard_input_and_several_files_in_one_run(env: dict[str, str]) -> None:
    code, document, _ = _audit(
        env, "--policy-file", "-", "--policy-file", str(PLAN), input=Path(POLICY).read_text()
    )
    names = [r["name"] for r in document["roles"]]
    assert "<stdin>" in names and any(n.startswith(f"{PLAN}#") for n in names)
    assert code == 3


def test_a_policy_that_requires_mfa_exits_0(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ],
    }
    path.write_text(json.dumps(policy))
    code, document, stderr = _audit(env, "--policy-file", str(path))
    assert code == 0, stderr
    assert document["roles"][0]["verdict"] == "requires-mfa"


def test_sarif_names_the_file_and_carries_the_witness(env: dict[str, str]) -> None:
    done = sts_mfa(env, "audit", "--policy-file", str(POLICY), "--format", "sarif")
    sarif = json.loads(done.stdout)
    assert not list(Draft202012Validator(SCHEMA).iter_errors(sarif))
    (result,) = sarif["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == str(POLICY)
    assert result["properties"]["witness"]["action"] == "sts:AssumeRoleWithWebIdentity"
    assert "gets in without MFA" in result["message"]["text"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"not json: [", "neither JSON nor YAML"),
        (b'{"Resources": {}}', "a CloudFormation template with no IAM role"),
        (b'{"Name": "x"}', "no trust policy, CloudFormation role or Terraform aws_iam_role found"),
        (b"\x00\x01\x02", "policy file"),
        (b"[" * 100_000, "policy file"),
    ],
    ids=["not-json-or-yaml", "template-without-roles", "nothing-known", "binary", "deep"],
)
def test_a_bad_file_is_one_line_and_exit_2(
    env: dict[str, str], tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    done = sts_mfa(env, "audit", "--policy-file", str(path))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("sts-mfa: error: policy file") and words in lines[0], lines
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_huge_file_is_refused_before_it_is_read_whole(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: 200 MiB of zeros on no disk
    done = sts_mfa(env, "audit", "--policy-file", str(path))
    assert done.returncode == 2 and "policy file" in done.stderr and "Traceback" not in done.stderr


def test_account_options_do_not_mix_with_files(env: dict[str, str]) -> None:
    done = sts_mfa(env, "audit", "--policy-file", str(POLICY), "--role", "deploy")
    assert done.returncode == 2 and "--policy-file audits files" in done.stderr
