"""Every lookup in moto's Organizations models (and the organization the sandbox builds), in one place.

The twin of `motoview` for AWS Organizations: the rules of `sts_mfa.sandbox.organizations`
read moto's models only through these functions, and only the attributes of `RELIED_ON`,
which `structural_problems()` checks on real objects at every start. What is read from
moto 5.2.5 (pinned):

* `moto.organizations.models.organizations_backends`: `[account][partition]` is an
  `OrganizationsBackend` per account; `.master_accounts` maps each member account to
  `(management account, partition)`. The management account's backend holds `.org`
  (a `FakeOrganization`, `None` elsewhere), `.accounts` (every `FakeAccount` of the
  organization, the management account first) and `.admins` (`FakeDelegatedAdministrator`s).
* `FakeAccount`: `.id .name .email .arn .status .state .joined_method .create_time`.
* `FakeDelegatedAdministrator`: `.account` (its `FakeAccount`).

The writes are the bootstrap's (`create_organization`, `create_member`, before any client
talks to the sandbox) and `set_status` for tests: moto's `CreateOrganization` and
`CreateAccount` make the organization and the accounts; moto's `OrganizationAccountAccessRole`
gets no permissions, so the AWS managed policy `AdministratorAccess`, which AWS attaches to
it, is put into the member account's IAM and attached (moto loads AWS's managed policies only
when `MOTO_IAM_LOAD_MANAGED_POLICIES` is set, which would cost every account a thousand
policies).

This module imports moto at import time; it is itself imported lazily.
"""

from __future__ import annotations

from typing import Any

from moto.iam.models import AWSManagedPolicy
from moto.organizations.models import (
    FakeAccount,
    OrganizationsBackend,
    organizations_backends,
)

from sts_mfa.sandbox.seam import motoview

PARTITION = motoview.PARTITION
ACCESS_ROLE = "OrganizationAccountAccessRole"  # what AWS names the role it creates in a new account
ADMINISTRATOR_ACCESS = {  # the AWS managed policy AdministratorAccess, as AWS publishes it
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
_PUBLISHED = "2015-02-06T18:39:46+00:00"

RELIED_ON: dict[str, tuple[str, ...]] = {
    "OrganizationsBackend": ("org", "accounts", "admins", "create_organization", "create_account"),
    "FakeAccount": ("id", "name", "email", "arn", "status", "state", "joined_method", "create_time"),
    "FakeDelegatedAdministrator": ("account",),
    "OrganizationsBackendDict": ("master_accounts",),
}


def _backend(account: str) -> OrganizationsBackend:
    return organizations_backends[account][PARTITION]


def management_of(account: str) -> str | None:
    """The management account of the organization `account` is in (itself if it manages one)."""
    if _backend(account).org is not None:
        return account
    found = organizations_backends.master_accounts.get(account)
    return found[0] if found is not None else None


def accounts(management: str) -> list[FakeAccount]:
    """The organization's accounts, in the order they joined (the management account first)."""
    return list(_backend(management).accounts)


def delegated_administrators(management: str) -> set[str]:
    """The accounts registered as a delegated administrator of the organization, for any service."""
    return {str(admin.account.id) for admin in _backend(management).admins}


def describe(account: FakeAccount) -> dict[str, Any]:
    """An `Account` of ListAccounts, with the fields and enums of botocore's model."""
    described: dict[str, Any] = account.describe()
    return described


# --- the bootstrap ----------------------------------------------------------------------------


def create_organization(management: str, region: str, name: str) -> str:
    """An organization (all features) managed by `management`; its ID."""
    backend = _backend(management)
    created = backend.create_organization(region, FeatureSet="ALL")
    backend.accounts[0].name = name  # moto names the management account "master"
    return str(created["Organization"]["Id"])


def create_member(management: str, name: str, email: str, region: str) -> str:
    """A member account made by CreateAccount, its access role given AdministratorAccess as on AWS."""
    status = _backend(management).create_account(AccountName=name, Email=email)["CreateAccountStatus"]
    account = str(status["AccountId"])
    iam = motoview.iam(account)
    policy = AWSManagedPolicy.from_data(
        "AdministratorAccess",
        account,
        region,
        {
            "DefaultVersionId": "v1",
            "Path": "/",
            "Document": ADMINISTRATOR_ACCESS,
            "CreateDate": _PUBLISHED,
            "UpdateDate": _PUBLISHED,
        },
    )
    iam.managed_policies.setdefault(policy.arn, policy)
    iam.attach_role_policy(policy.arn, ACCESS_ROLE)
    return account


def set_status(management: str, account: str, status: str) -> None:
    """Give a member account a status of ListAccounts (SUSPENDED, PENDING_CLOSURE), for tests."""
    for member in _backend(management).accounts:
        if member.id == account:
            member.status = member.state = status
            return
    raise KeyError(f"no account {account} in the organization of {management}")


# --- is moto still what this module reads? ---------------------------------------------------


def structural_problems() -> list[str]:
    """Every attribute of `RELIED_ON`, on real objects of a throwaway organization, and what they mean."""
    from moto.organizations.models import FakeDelegatedAdministrator, FakeOrganization

    backend = OrganizationsBackend(region_name=PARTITION, account_id="000000000000")
    backend.org = FakeOrganization("000000000000", "us-east-1", "ALL")
    member = FakeAccount(backend.org, AccountName="selftest", Email="selftest@example.com")
    motoview.forget_account(member.id)  # moto made its access role in the shared IAM registry
    objects: dict[str, Any] = {
        "OrganizationsBackend": backend,
        "FakeAccount": member,
        "FakeDelegatedAdministrator": FakeDelegatedAdministrator(member),
        "OrganizationsBackendDict": organizations_backends,
    }
    problems = [
        f"moto {name}.{attribute} is missing"
        for name, attributes in RELIED_ON.items()
        for attribute in attributes
        if not hasattr(objects[name], attribute)
    ]
    if problems:
        return problems
    described = member.describe()
    if not (described.get("Id") == member.id and described.get("Status") == "ACTIVE"):
        problems.append("FakeAccount.describe() no longer answers Id and Status")
    members: object = organizations_backends.master_accounts
    if not isinstance(members, dict):
        problems.append("organizations_backends.master_accounts is not a dict")
    return problems
