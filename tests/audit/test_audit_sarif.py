"""`sts-mfa audit --format sarif`, validated against the SARIF 2.1.0 schema with `jsonschema`.

The schema is vendored in tests/data/ (its source and licence are in tests/data/README.md).
One run of the installed console script, as CI would run it, and one in-process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from sts_mfa.sandbox import Sandbox
from tests.support.cli import Cli
from tests.support.env import subprocess_env
from tests.support.processes import sts_mfa
from tests.support.sandbox import admin

pytestmark = pytest.mark.sandbox

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
ALICE = "arn:aws:iam::111111111111:user/alice"


def _trust(condition: dict[str, Any] | None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "sts:AssumeRole"}
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


MFA_TRUST = _trust({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
OPEN_TRUST = _trust(None)
UNDECIDED_TRUST = _trust({"BoolMaybe": {"aws:MultiFactorAuthPresent": "true"}})


def _account(sb: Sandbox) -> str:
    iam = admin(sb, "iam")
    iam.create_user(UserName="alice")
    for name, trust in (
        ("good", MFA_TRUST),
        ("legacy", OPEN_TRUST),
        ("odd", UNDECIDED_TRUST),
        ("old", OPEN_TRUST),
    ):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    return ALICE.replace(":user/alice", ":role/old")


def _errors(document: Any) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(document)]


def test_the_validator_is_real() -> None:
    assert _errors({"version": "2.1.0", "runs": []}) == []
    assert _errors({"version": "2.0.0", "runs": []})  # a wrong version
    assert _errors({"version": "2.1.0", "runs": [{"results": []}]})  # a run needs its tool


def test_sarif_from_the_installed_script(sb: Sandbox, tmp_path: Path) -> None:
    ignored = _account(sb)
    env = subprocess_env(tmp_path, **sb.env(0))
    result = sts_mfa(env, "audit", "--format", "sarif", "--ignore", ignored)
    assert result.returncode == 3, result.stderr
    document = json.loads(result.stdout)
    assert _errors(document) == []
    (run,) = document["runs"]
    by_role = {r["locations"][0]["logicalLocations"][0]["name"]: r for r in run["results"]}
    assert set(by_role) == {"legacy", "odd", "old"}  # good requires MFA: no result
    assert by_role["legacy"]["ruleId"] == "open-without-mfa" and by_role["legacy"]["level"] == "error"
    assert by_role["odd"]["ruleId"] == "undecided" and by_role["odd"]["level"] == "warning"
    assert by_role["old"]["suppressions"] == [{"kind": "external", "justification": "accepted with --ignore"}]
    assert "suppressions" not in by_role["legacy"]
    assert run["tool"]["driver"]["name"] == "sts-mfa"
    # GitHub code scanning drops a result without a physical location: each names the role's stand-in
    for name, found in by_role.items():
        (location,) = found["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        arn = location["logicalLocations"][0]["fullyQualifiedName"]
        assert uri == f"aws-iam/{arn.split(':')[4]}/{arn.split(':', 5)[5]}" and uri.endswith(f"/{name}")


def test_sarif_when_every_role_requires_mfa(sb: Sandbox, srun: Cli) -> None:
    admin(sb, "iam").create_user(UserName="alice")
    admin(sb, "iam").create_role(RoleName="good", AssumeRolePolicyDocument=MFA_TRUST)
    result = srun("audit", "--format", "sarif")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert _errors(document) == [] and document["runs"][0]["results"] == []


def test_the_stand_in_artifact_is_a_relative_uri_for_any_role_name() -> None:
    from sts_mfa.audit.sarif import artifact_uri

    assert artifact_uri("arn:aws:iam::111111111111:role/teams/a+b=c,d.e@f_g-h") == (
        "aws-iam/111111111111/role/teams/a%2Bb%3Dc%2Cd.e%40f_g-h"
    )
    assert not artifact_uri("arn:aws:iam::1:role/x").startswith("/")
