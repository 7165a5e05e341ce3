"""Organizations: who may list the accounts, how the list is paged, the member accounts' access role.

Each contrast runs against plain moto (an organization made through moto's own API:
CreateOrganization, CreateAccount) and against the Sandbox (`sandbox serve --organization`'s
fixture). On plain moto each thing AWS refuses SUCCEEDS; on the Sandbox it is refused with
AWS's error. The rest is what the sandbox adds: AWS's paging, AdministratorAccess on
`OrganizationAccountAccessRole`, throttling with Organizations' own error code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sts_mfa.sandbox import Faults, Sandbox
from sts_mfa.sandbox.fixtures.organization import create_organization
from sts_mfa.sandbox.seam import motoview, orgview
from tests.support.aws import (
    ACCOUNT_1,
    ACCOUNT_2,
    SUCCEEDED,
    Aws,
    Creds,
    identity_policy,
    outcome,
    plain_moto_server,
    refused,
)
from tests.support.clock import START, FakeClock

pytestmark = pytest.mark.sandbox

DENIED = ("AccessDeniedException", "You don't have permissions to access this resource.")
NOT_IN_USE = ("AWSOrganizationsNotInUseException", "Your account isn't a member of an organization.")
ACCESS_ROLE = "OrganizationAccountAccessRole"


@dataclass
class Org:
    """An endpoint with an organization of three members: the management account is ACCOUNT_1."""

    aws: Aws
    members: list[str]

    def member_session(self, account: str) -> Creds:
        role = f"arn:aws:iam::{account}:role/{ACCESS_ROLE}"
        return Creds.of(self.aws.client("sts").assume_role(RoleArn=role, RoleSessionName="org-test"))


def _plain_moto_org(endpoint: str) -> Org:
    """moto's own organization: CreateOrganization and CreateAccount through its API."""
    motoview.reset_everything()
    admins = []
    for account in (ACCOUNT_1, ACCOUNT_2):
        key_id, secret, _ = motoview.create_admin(account, "us-east-1", "sandbox-admin", "/sandbox/")
        admins.append(Creds(key_id, secret))
    aws = Aws(endpoint, "us-east-1", admins, [ACCOUNT_1, ACCOUNT_2], FakeClock(START), strict=False)
    organizations = aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    members = [
        organizations.create_account(AccountName=f"member-{n}", Email=f"member-{n}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        for n in range(3)
    ]
    return Org(aws, members)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with plain_moto_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["plain moto", "sandbox"])
def org(request: pytest.FixtureRequest) -> Org:
    if request.param == "plain moto":
        return _plain_moto_org(request.getfixturevalue("moto_endpoint"))
    aws: Aws = request.getfixturevalue("aws")
    assert aws.sandbox is not None
    made = create_organization(aws.sandbox, members=3, roles_per_account=2)
    return Org(aws, [m.account_id for m in made.members])


def expect(org: Org, result: str | tuple[str, str], refusal: tuple[str, str]) -> None:
    assert result == (refusal if org.aws.strict else SUCCEEDED)


# --- who may list the accounts ------------------------------------------------------------------


def test_a_member_account_may_not_list_the_accounts(org: Org) -> None:
    member = org.aws.client("organizations", org.member_session(org.members[0]))
    expect(org, outcome(member.list_accounts), DENIED)
    assert member.describe_organization()["Organization"]["MasterAccountId"] == ACCOUNT_1  # still a member


def test_an_account_in_no_organization_is_told_so(org: Org) -> None:
    outsider = org.aws.client("organizations", org.aws.admins[1])
    expect(org, outcome(outsider.list_accounts), NOT_IN_USE)


def test_the_callers_identity_policy_must_allow_list_accounts(org: Org) -> None:
    iam = org.aws.iam()
    iam.create_user(UserName="reader")
    iam.put_user_policy(
        UserName="reader", PolicyName="iam-only", PolicyDocument=identity_policy("iam:*", "*")
    )
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    reader = org.aws.client("organizations", Creds(key["AccessKeyId"], key["SecretAccessKey"]))
    expect(org, outcome(reader.list_accounts), DENIED)


def test_max_results_is_one_to_twenty(org: Org) -> None:
    organizations = org.aws.client("organizations")
    result = outcome(organizations.list_accounts, MaxResults=21)
    expect(
        org,
        result,
        ("InvalidInputException", "You provided a numeric parameter that has a larger value than allowed."),
    )


# --- what only the sandbox does (AWS's behaviour, where moto has none) ----------------------------


def test_the_access_role_trusts_the_management_account_with_administrator_access(org: Org) -> None:
    member = org.members[0]
    iam = org.aws.client("iam", org.member_session(member))
    attached = [
        p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=ACCESS_ROLE)["AttachedPolicies"]
    ]
    assert attached == (["AdministratorAccess"] if org.aws.strict else [])
    trust = iam.get_role(RoleName=ACCESS_ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_1}:root"},
            "Action": "sts:AssumeRole",
        }
    ]


def test_pages_of_at_most_max_results_every_account_once(aws: Aws, sb: Sandbox) -> None:
    made = create_organization(sb, members=45)
    organizations = aws.client("organizations")
    pages = list(organizations.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 20}))
    sizes = [len(page["Accounts"]) for page in pages]
    assert sizes[0] == 0 and "NextToken" in pages[0]  # AWS: "can occasionally return an empty set"
    assert max(sizes) == 20 and "NextToken" not in pages[-1]
    ids = [account["Id"] for page in pages for account in page["Accounts"]]
    assert ids == [ACCOUNT_1, *(m.account_id for m in made.members)]
    first = pages[1]["Accounts"][0]
    assert (first["Name"], first["Status"], first["State"]) == ("sandbox-management", "ACTIVE", "ACTIVE")
    assert sb.count("ListAccounts") == len(pages) == 4


def test_closed_accounts_stay_listed_with_their_status(aws: Aws, sb: Sandbox) -> None:
    made = create_organization(sb, members=2)
    orgview.set_status(ACCOUNT_1, made.members[1].account_id, "SUSPENDED")
    listed = [
        (a["Id"], a["Status"])
        for page in aws.client("organizations").get_paginator("list_accounts").paginate()
        for a in page["Accounts"]
    ]
    assert (made.members[1].account_id, "SUSPENDED") in listed and len(listed) == 3


def test_a_token_it_did_not_issue_is_refused(aws: Aws, sb: Sandbox) -> None:
    create_organization(sb, members=1)
    error = refused(aws.client("organizations").list_accounts, NextToken="forged")
    assert error["Code"] == "InvalidInputException" and error["HTTPStatusCode"] == "400"


def test_a_delegated_administrator_may_list_the_accounts(aws: Aws, sb: Sandbox) -> None:
    made = create_organization(sb, members=2)
    delegated = made.members[0].account_id
    org = Org(aws, [m.account_id for m in made.members])
    member = aws.client("organizations", org.member_session(delegated))
    assert refused(member.list_accounts)["Code"] == "AccessDeniedException"
    registering = aws.client("organizations", org.member_session(made.members[1].account_id))
    assert (
        refused(
            registering.register_delegated_administrator,
            AccountId=delegated,
            ServicePrincipal="access-analyzer.amazonaws.com",
        )["Code"]
        == "AccessDeniedException"
    )  # the management account only

    aws.client("organizations").register_delegated_administrator(
        AccountId=delegated, ServicePrincipal="access-analyzer.amazonaws.com"
    )
    listed = member.list_accounts(NextToken=member.list_accounts()["NextToken"])["Accounts"]
    assert len(listed) == 3


def test_the_mfa_roles_refuse_long_term_keys(aws: Aws, sb: Sandbox) -> None:
    made = create_organization(sb, members=1, roles_per_account=3)
    account = made.members[0].account_id
    role = made.member_role_arn(account, "mfa-role-0002")
    assert (
        refused(aws.client("sts").assume_role, RoleArn=role, RoleSessionName="no-mfa")["Code"]
        == "AccessDenied"
    )
    session = Org(aws, [account]).member_session(account)
    names = [r["RoleName"] for r in aws.client("iam", session).list_roles()["Roles"]]
    assert sorted(names) == sorted([ACCESS_ROLE, "mfa-role-0001", "mfa-role-0002", "mfa-role-0003"])


def test_throttled_with_organizations_own_code_which_botocore_retries(aws: Aws, sb: Sandbox) -> None:
    create_organization(sb, members=1)
    sb.set_faults(Faults(throttle_rate=1.0))
    retrying = Config(retries={"mode": "standard", "total_max_attempts": 2})
    organizations = aws.client("organizations", config=retrying)
    with pytest.raises(ClientError) as info:
        organizations.list_accounts()
    error: dict[str, Any] = info.value.response["Error"]
    assert error["Code"] == "TooManyRequestsException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["ResponseMetadata"]["MaxAttemptsReached"] is True  # retried as a throttle
    assert sb.count("ListAccounts", status=400) == 2


def test_organizations_actions_it_does_not_serve_are_refused(aws: Aws, sb: Sandbox) -> None:
    create_organization(sb, members=1)
    error = refused(aws.client("organizations").list_roots)
    assert error["Code"] == "InvalidAction" and "ListRoots" in error["Message"]
