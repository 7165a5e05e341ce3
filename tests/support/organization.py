"""An organization on the sandbox, changed the way its administrators would: through AWS's API.

`sandbox serve --organization`'s fixture (`create_organization`) makes the accounts; these
helpers then work in a member account as the management account's admin does, through the
member's `OrganizationAccountAccessRole`: plant a role anyone in the management account can
assume without MFA, delete the access role itself (an account the audit cannot get into),
or require MFA on it (a well-protected organization). Call them before anything makes the
access role require MFA: the sandbox admin's long-term key has none.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.fixtures.organization import Organization, mfa_trust
from tests.support.sandbox import admin

ACCESS_ROLE = "OrganizationAccountAccessRole"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


def member_iam(sb: Sandbox, account: str, role_name: str = ACCESS_ROLE) -> Any:
    """IAM in a member account, as the management account's admin gets there (through `role_name`)."""
    role = f"arn:aws:iam::{account}:role/{role_name}"
    credentials = admin(sb, "sts").assume_role(RoleArn=role, RoleSessionName="org-admin")["Credentials"]
    return boto3.client(
        "iam",
        endpoint_url=sb.endpoint,
        region_name=sb.region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def open_trust(management: str) -> str:
    """Anyone in the management account allowed sts:AssumeRole, MFA or not."""
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{management}:root"},
        "Action": "sts:AssumeRole",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def plant_open_role(sb: Sandbox, org: Organization, account: str, name: str) -> str:
    """A role in `account` that the management account enters without MFA; its ARN."""
    role = member_iam(sb, account).create_role(
        RoleName=name, AssumeRolePolicyDocument=open_trust(org.management)
    )
    return str(role["Role"]["Arn"])


def remove_access_role(sb: Sandbox, org: Organization, account: str) -> None:
    """Delete the member's OrganizationAccountAccessRole, as an admin of the account does.

    Not with its own session, which detaching AdministratorAccess leaves with no permission
    (the sandbox, like AWS, authorizes every call anew): with a role made for the job."""
    inside = member_iam(sb, account)
    inside.create_role(RoleName="org-cleanup", AssumeRolePolicyDocument=open_trust(org.management))
    inside.attach_role_policy(RoleName="org-cleanup", PolicyArn=ADMINISTRATOR_ACCESS)
    iam = member_iam(sb, account, "org-cleanup")
    iam.detach_role_policy(RoleName=ACCESS_ROLE, PolicyArn=ADMINISTRATOR_ACCESS)
    iam.delete_role(RoleName=ACCESS_ROLE)


def protect_access_role(sb: Sandbox, org: Organization, account: str) -> None:
    """Make the member's OrganizationAccountAccessRole require MFA (then only MFA sessions get in)."""
    member_iam(sb, account).update_assume_role_policy(
        RoleName=ACCESS_ROLE, PolicyDocument=mfa_trust(org.management)
    )
