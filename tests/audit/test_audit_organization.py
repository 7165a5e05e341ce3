"""`sts-mfa audit --organization` on the strict sandbox, with long-term keys of the management account.

The CLI runs in-process (`srun`, the sandbox admin's keys in its environment) against an
organization made by `sandbox serve --organization`'s fixture: five members, each with
`OrganizationAccountAccessRole` as AWS creates it (trusting the management account without
MFA: an open role, found as one) and three roles that require MFA. What the caller's
credentials are (a role session, another account's) and what the organization's admins
changed (a role planted, an access role deleted) are made through AWS's API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from sts_mfa.sandbox import Faults, Sandbox
from sts_mfa.sandbox.fixtures.organization import Organization, create_organization
from sts_mfa.sandbox.seam import orgview
from tests.support.cli import Cli, assert_one_error_line
from tests.support.organization import ACCESS_ROLE, member_iam, plant_open_role, remove_access_role
from tests.support.sandbox import admin

pytestmark = pytest.mark.sandbox

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json").read_text())
MANAGEMENT = "111111111111"


@pytest.fixture
def org(sb: Sandbox) -> Organization:
    return create_organization(sb, members=5, roles_per_account=3)


def _members(org: Organization) -> list[str]:
    return [m.account_id for m in org.members]


def _verdicts(document: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(role["account"], role["name"]): role["verdict"] for role in document["roles"]}


def _statuses(document: dict[str, Any]) -> dict[str, str]:
    return {account["id"]: account["status"] for account in document["accounts"]}


def _access_roles(org: Organization) -> list[str]:
    return [a for account in _members(org) for a in ("--ignore", org.member_role_arn(account))]


def test_every_account_in_the_listings_order_with_its_roles(
    sb: Sandbox, srun: Cli, org: Organization
) -> None:
    result = srun("audit", "--organization", "--json")

    assert result.exit_code == 3, result.output  # each access role lets the management account in without MFA
    document = json.loads(result.stdout)  # stdout holds the document only
    assert [a["id"] for a in document["accounts"]] == [MANAGEMENT, *_members(org)]
    assert document["accounts"][0] == {
        "id": MANAGEMENT,
        "name": "sandbox-management",
        "status": "read",
        "note": None,
    }
    assert [a["name"] for a in document["accounts"][1:]] == [f"member-00{n}" for n in range(1, 6)]
    verdicts = _verdicts(document)
    for account in _members(org):
        assert verdicts[(account, ACCESS_ROLE)] == "open"
        assert [verdicts[(account, f"mfa-role-000{n}")] for n in (1, 2, 3)] == ["requires-mfa"] * 3
    opened = next(r for r in document["roles"] if r["verdict"] == "open")
    assert opened["arn"] == org.member_role_arn(opened["account"])
    assert opened["findings"][0]["principal"] == f"AWS arn:aws:iam::{MANAGEMENT}:root"
    summary = document["summary"]
    assert (summary["accounts"], summary["read"], summary["roles"], summary["open"]) == (6, 6, 20, 5)
    assert summary["requires-mfa"] == 15 and summary["throttles"] == 0
    assert "audited 6 of 6 accounts: 20 roles, 0 throttled" in result.stderr


def test_the_requests_are_the_listing_and_two_per_account(sb: Sandbox, srun: Cli, org: Organization) -> None:
    sb.reset_log()
    result = srun("-v", "audit", "--organization", "--json")
    counted = {action: sb.count(action) for action in {r.action for r in sb.requests}}

    assert counted == {
        "GetCallerIdentity": 1,
        "ListAccounts": 2,
        "AssumeRole": 5,
        "GetAccountAuthorizationDetails": 6,
    }
    # ListAccounts pages + 2 per account: the management account's AssumeRole is the GetCallerIdentity
    assert json.loads(result.stdout)["summary"]["requests"] == 2 + 2 * 6 == len(sb.requests)
    assert "sts-mfa: 14 AWS requests" in result.stderr


def test_an_account_whose_member_role_is_gone_is_unreadable(
    sb: Sandbox, srun: Cli, org: Organization
) -> None:
    broken = _members(org)[2]
    remove_access_role(sb, org, broken)
    result = srun("audit", "--organization", "--json", *_access_roles(org))

    assert result.exit_code == 3, result.output
    document = json.loads(result.stdout)
    entry = next(a for a in document["accounts"] if a["id"] == broken)
    assert entry["status"] == "unreadable"
    assert f"AssumeRole {org.member_role_arn(broken)}: AccessDenied" in entry["note"]
    assert not [r for r in document["roles"] if r["account"] == broken]
    assert document["summary"]["unreadable"] == 1 and document["summary"]["open"] == 0
    assert assert_one_error_line(result, 3).endswith(f"first unreadable: {broken} ({entry['note']})")

    allowed = srun("audit", "--organization", "--allow-unreadable", *_access_roles(org))
    assert allowed.exit_code == 0, allowed.output
    assert f"{broken} │ -" in allowed.stdout and "unreadable" in allowed.stdout


def test_open_roles_are_found_with_their_accounts_and_excluding_them_passes(
    sb: Sandbox, srun: Cli, org: Organization
) -> None:
    first, second = _members(org)[0], _members(org)[3]
    planted = {plant_open_role(sb, org, first, "legacy-ci"), plant_open_role(sb, org, second, "break-glass")}
    result = srun("audit", "--organization", "--json", *_access_roles(org))

    assert result.exit_code == 3, result.output
    found = {(r["account"], r["arn"]) for r in json.loads(result.stdout)["roles"] if r["verdict"] == "open"}
    assert found == {(first, planted_arn) for planted_arn in planted if first in planted_arn} | {
        (second, planted_arn) for planted_arn in planted if second in planted_arn
    }

    excluded = srun(
        "audit",
        "--organization",
        "--json",
        "--exclude-account",
        first,
        "--exclude-account",
        second,
        *_access_roles(org),
    )
    assert excluded.exit_code == 0, excluded.output
    statuses = _statuses(json.loads(excluded.stdout))
    assert statuses[first] == statuses[second] == "excluded"
    assert list(statuses.values()).count("read") == 4


def test_only_the_accounts_named(sb: Sandbox, srun: Cli, org: Organization) -> None:
    chosen = _members(org)[1]
    document = srun.json("audit", "--organization", "--account", chosen, *_access_roles(org))
    statuses = _statuses(document)
    assert statuses.pop(chosen) == "read" and set(statuses.values()) == {"excluded"}
    assert {r["account"] for r in document["roles"]} == {chosen}
    notes = {a["note"] for a in document["accounts"] if a["status"] == "excluded"}
    assert notes == {"not one of --account"}

    unknown = srun("audit", "--organization", "--account", "999999999999")
    line = assert_one_error_line(unknown, 1)
    assert "--account names no ACTIVE account of the organization: 999999999999" in line

    warned = srun("audit", "--organization", "--exclude-account", "999999999999", *_access_roles(org))
    assert warned.exit_code == 0, warned.output
    assert "--exclude-account 999999999999: no ACTIVE account" in warned.stderr


def test_suspended_accounts_are_listed_not_read(sb: Sandbox, srun: Cli, org: Organization) -> None:
    closed = _members(org)[4]
    orgview.set_status(MANAGEMENT, closed, "SUSPENDED")
    document = json.loads(srun("audit", "--organization", "--json").stdout)
    assert closed not in _statuses(document)
    assert document["summary"]["not_active"] == {"SUSPENDED": 1} and document["summary"]["accounts"] == 5
    line = assert_one_error_line(srun("audit", "--organization", "--account", closed), 1)
    assert f"{closed} (SUSPENDED)" in line


def test_a_member_account_cannot_list_the_organization(
    sb: Sandbox, srun: Cli, org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = org.member_role_arn(_members(org)[0])
    credentials = admin(sb, "sts").assume_role(RoleArn=role, RoleSessionName="member")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    line = assert_one_error_line(srun("audit", "--organization"), 1)
    assert "ListAccounts" in line and "AccessDeniedException" in line


def test_an_account_in_no_organization_is_told_so(
    sb: Sandbox, srun: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sb.env(1).items():
        monkeypatch.setenv(name, value)
    line = assert_one_error_line(srun("audit", "--organization"), 1)
    assert "AWSOrganizationsNotInUseException" in line


def test_a_role_session_of_the_management_account_reads_its_own_account_itself(
    sb: Sandbox, srun: Cli, org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam = admin(sb, "iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    role = iam.create_role(RoleName="auditor", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    everything = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )
    iam.put_role_policy(RoleName="auditor", PolicyName="all", PolicyDocument=everything)
    credentials = admin(sb, "sts").assume_role(RoleArn=role, RoleSessionName="auditor")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    sb.reset_log()

    document = json.loads(srun("audit", "--organization", "--json").stdout)
    assert set(_statuses(document).values()) == {"read"}
    assert _verdicts(document)[(MANAGEMENT, "auditor")] == "open"
    assert sb.count("AssumeRole") == 5  # the members only: its own account with its own session


def test_sarif_names_each_account_and_the_unreadable_ones(sb: Sandbox, srun: Cli, org: Organization) -> None:
    broken = _members(org)[1]
    remove_access_role(sb, org, broken)
    result = srun("audit", "--organization", "--format", "sarif")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert list(Draft202012Validator(SCHEMA).iter_errors(document)) == []
    run = document["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for found in run["results"]:
        assert rules[found["ruleIndex"]] == found["ruleId"]
        by_rule.setdefault(found["ruleId"], []).append(found)
    assert len(by_rule["open-without-mfa"]) == 4  # the four access roles it could read
    (unreadable,) = by_rule["account-unreadable"]
    assert unreadable["properties"]["account"] == broken and unreadable["level"] == "error"
    fingerprints = [next(iter(r["partialFingerprints"].values())) for r in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints)
    assert run["properties"]["summary"]["unreadable"] == 1


def test_the_table_has_a_row_per_role_and_a_summary(sb: Sandbox, srun: Cli, org: Organization) -> None:
    result = srun("audit", "--organization", "--exclude-account", _members(org)[0])
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    assert lines[-1].startswith(
        "6 accounts: 5 read, 0 unreadable, 1 excluded; 16 roles: 4 open, 0 undecided, 12 requires-mfa"
    )
    assert sum(1 for line in lines if "mfa-role-0001" in line) == 4
    assert f"{_members(org)[0]} │ -" in result.stdout


def test_concurrency_changes_nothing_but_the_time(sb: Sandbox, srun: Cli, org: Organization) -> None:
    remove_access_role(sb, org, _members(org)[3])
    one = srun("audit", "--organization", "--json", "--concurrency", "1")
    eight = srun("audit", "--organization", "--json", "--concurrency", "8")
    assert one.exit_code == eight.exit_code == 3
    assert one.stdout == eight.stdout  # the same document, byte for byte, in the listing's order


def test_throttled_calls_are_retried_and_change_no_verdict(sb: Sandbox, srun: Cli, org: Organization) -> None:
    calm = json.loads(srun("audit", "--organization", "--json").stdout)
    sb.set_faults(Faults(throttle_rate=0.3, seed=23))
    throttled = srun("audit", "--organization", "--json")
    assert throttled.exit_code == 3, throttled.output
    document = json.loads(throttled.stdout)
    assert _verdicts(document) == _verdicts(calm) and _statuses(document) == _statuses(calm)
    refused = sum(1 for r in sb.requests if r.error_code in ("Throttling", "TooManyRequestsException"))
    assert document["summary"]["throttles"] == refused > 0


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--member-role", "Auditor"], "--member-role goes with --organization"),
        (["--exclude-account", "123456789012"], "--exclude-account goes with --organization"),
        (["--concurrency", "4"], "--concurrency goes with --organization"),
        (["--organization", "--role", "admin"], "--role reads one account"),
        (["--organization", "--prove-with", "alice"], "--prove-with reads one account"),
        (["--organization", "--account", "12345"], "'12345' is not an AWS account ID"),
        (["--organization", "--account", "12345678901\uff12"], "is not an AWS account ID"),
        (["--organization", "--member-role", "bad name"], "is not a role name"),
        (["--organization", "--member-role", "/leading"], "is not a role name"),
        (["--organization", "--concurrency", "0"], "0 is not in the range 1<=x<=64"),
    ],
)
def test_usage_errors(sb: Sandbox, srun: Cli, args: list[str], said: str) -> None:
    result = srun("audit", *args)
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    assert not sb.requests  # refused before anything was asked


def test_a_member_role_with_a_path(sb: Sandbox, srun: Cli, org: Organization) -> None:
    account = _members(org)[0]
    iam = member_iam(sb, account)
    trust = iam.get_role(RoleName=ACCESS_ROLE)["Role"]["AssumeRolePolicyDocument"]
    iam.create_role(RoleName="Reader", Path="/audit/", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName="Reader", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    document = json.loads(srun("audit", "--organization", "--json", "--member-role", "audit/Reader").stdout)
    statuses = _statuses(document)
    assert statuses[account] == "read" and statuses[_members(org)[1]] == "unreadable"


def test_an_answer_about_another_accounts_roles_is_no_reading(
    sb: Sandbox, srun: Cli, org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sts_mfa.audit import organization
    from sts_mfa.audit.reading import Account, RoleSeen

    member = _members(org)[0]
    elsewhere = RoleSeen(f"arn:aws:iam::{MANAGEMENT}:role/sneaky", "sneaky", "/", "")

    def answered_elsewhere(iam: Any, **kwargs: Any) -> Account:  # an endpoint answering for another account
        return Account({elsewhere.arn: elsewhere}, {}, {}, 1, 1)

    monkeypatch.setattr(organization, "read_account", answered_elsewhere)
    document = json.loads(srun("audit", "--organization", "--json", "--account", member).stdout)
    entry = next(a for a in document["accounts"] if a["id"] == member)
    assert entry["status"] == "unreadable" and "roles of another account" in entry["note"]
    assert document["roles"] == []


def test_an_exception_accepted_in_every_account(sb: Sandbox, srun: Cli, org: Organization) -> None:
    everywhere = f"arn:aws:iam::*:role/{ACCESS_ROLE}"
    result = srun(
        "audit", "--organization", "--json", "--ignore", everywhere, "--ignore", "arn:aws:iam::*:role/gone"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    ignored = {r["account"] for r in document["roles"] if r["verdict"] == "ignored"}
    assert ignored == set(_members(org)) and document["summary"]["ignored"] == 5
    assert "--ignore arn:aws:iam::*:role/gone: no such role" in result.stderr
    assert "role/OrganizationAccountAccessRole: no such role" not in result.stderr
