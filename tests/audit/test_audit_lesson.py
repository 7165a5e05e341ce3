"""The lesson: setup, demo and check-deny show the policy documents, with the MFA condition marked.

Through the CLI (in-process, on the sandbox). The marks are text (`MFA ▶`, `open ▌`),
so they are checked under NO_COLOR; whatever a document holds is shown as text, never
as rich markup.
"""

from __future__ import annotations

import json

import pytest

from sts_mfa.sandbox import Sandbox
from tests.support.cli import Cli
from tests.support.sandbox import admin

pytestmark = pytest.mark.sandbox

PLAIN = {"NO_COLOR": "1", "COLUMNS": "200"}
TITLES = ("Trust policy of the role", "Permission policy", "Inline user policy")


def _marked(text: str, mark: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith(mark)]


def test_setup_shows_the_three_documents(srun: Cli) -> None:
    result = srun("setup", "--software-token", env=PLAIN)
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert all(title in err for title in TITLES)
    assert "only when the request carries MFA" in err and "list the account's buckets" in err
    (mfa,) = _marked(err, "MFA ▶")
    assert '"aws:MultiFactorAuthPresent": "true"' in mfa
    assert '"s3:ListAllMyBuckets"' in err and '"Action": "sts:AssumeRole"' in err
    assert "Trust policy" not in result.stdout  # the lesson is narration: stderr


def test_quiet_hides_the_lesson(srun: Cli) -> None:
    result = srun("-q", "setup", "--software-token", env=PLAIN)
    assert result.exit_code == 0, result.output
    assert not any(title in result.output for title in TITLES) and "MFA ▶" not in result.output
    quiet_check = srun("-q", "check-deny", env=PLAIN)
    assert quiet_check.exit_code == 0 and "Trust policy of" not in quiet_check.output


def test_check_deny_marks_the_statements_behind_its_findings(sb: Sandbox, software: Cli) -> None:
    proven = software("check-deny", env=PLAIN)
    assert proven.exit_code == 0, proven.output
    assert "Trust policy of arn:aws:iam::" in proven.stdout and len(_marked(proven.stdout, "MFA ▶")) == 1
    assert not _marked(proven.stdout, "open ▌")
    state = json.loads(software.state.read_text())
    role, user = state["role"]["name"], state["user"]["arn"]
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": user},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            },
            {"Sid": "[red]Sneaky", "Effect": "Allow", "Principal": {"AWS": user}, "Action": "sts:AssumeRole"},
        ],
    }
    admin(sb, "iam").update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(document))
    exposed = software("check-deny", env=PLAIN)
    assert exposed.exit_code == 3
    opened = _marked(exposed.stdout, "open ▌")
    assert any('"Sid": "[red]Sneaky"' in line for line in opened)  # markup shown as text
    assert not any("aws:MultiFactorAuthPresent" in line for line in opened)  # statement 1 is not marked
    assert len(_marked(exposed.stdout, "MFA ▶")) == 1
