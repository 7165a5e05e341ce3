"""GetAccountAuthorizationDetails (Filter=Role): paginated and URL-encoded as AWS documents it.

IAM API Reference, GetAccountAuthorizationDetails
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html):
`MaxItems` (1-1000, default 100) bounds a page, `IsTruncated` and `Marker` say there is
more, and "Policies returned by this operation are URL-encoded compliant with RFC 3986".
Plain moto 5.2.5 answers every role in one page and sends the trust policy as plain
JSON: `test_pages_and_encoding_vs_moto` shows the gap.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.handlers import json_decode_policies

from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.seam import motoview
from tests.support.aws import ACCOUNT_1, Aws, Creds, identity_policy, plain_moto_server, refused, trust_policy
from tests.support.clock import START, FakeClock
from tests.support.env import subprocess_env
from tests.support.processes import run

pytestmark = pytest.mark.sandbox

ROOT = f"arn:aws:iam::{ACCOUNT_1}:root"


def _raw_iam(aws: Aws, creds: Creds | None = None) -> Any:
    """An IAM client that keeps policy documents as sent (botocore would json-decode them)."""
    client = aws.client("iam", creds)
    client.meta.events.unregister("after-call.iam", json_decode_policies)
    return client


def _roles(aws: Aws, count: int) -> list[str]:
    names = [f"role-{i:02d}" for i in range(count)]
    for name in names:
        aws.iam().create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy(ROOT), Path="/team/")
    return names


@pytest.fixture
def plain_moto() -> Iterator[Aws]:
    with plain_moto_server() as endpoint:
        motoview.reset_everything()
        key_id, secret, _ = motoview.create_admin(ACCOUNT_1, "us-east-1", "sandbox-admin", "/sandbox/")
        yield Aws(endpoint, "us-east-1", [Creds(key_id, secret)], [ACCOUNT_1], FakeClock(START), False)


def _unlike_aws(page: dict[str, Any]) -> list[str]:
    """How a page asked for with MaxItems=2, of five roles, differs from what AWS documents."""
    problems = []
    if len(page["RoleDetailList"]) > 2 or page["IsTruncated"] is not True or not page.get("Marker"):
        problems.append("MaxItems ignored: not a page of 2 with IsTruncated and a Marker")
    document = page["RoleDetailList"][0]["AssumeRolePolicyDocument"]
    if not document.startswith("%7B") or json.loads(unquote(document)) != json.loads(trust_policy(ROOT)):
        problems.append("the trust policy is not URL-encoded")
    return problems


@pytest.mark.parametrize("target", ["plain moto", "sandbox"])
def test_pages_and_encoding_vs_moto(target: str, request: pytest.FixtureRequest) -> None:
    """Plain moto answers all five roles at once, as plain JSON; the sandbox as AWS documents."""
    aws: Aws = request.getfixturevalue("plain_moto" if target == "plain moto" else "aws")
    _roles(aws, 5)
    page = _raw_iam(aws).get_account_authorization_details(Filter=["Role"], MaxItems=2)
    if aws.strict:
        assert _unlike_aws(page) == []
        assert [r["RoleName"] for r in page["RoleDetailList"]] == ["role-00", "role-01"]
    else:
        assert _unlike_aws(page) == [
            "MaxItems ignored: not a page of 2 with IsTruncated and a Marker",
            "the trust policy is not URL-encoded",
        ]


def test_pages_cover_every_role_once_in_name_order(aws: Aws) -> None:
    names = _roles(aws, 7)
    paginator = _raw_iam(aws).get_paginator("get_account_authorization_details")
    pages = list(paginator.paginate(Filter=["Role"], PaginationConfig={"PageSize": 3}))
    assert [len(p["RoleDetailList"]) for p in pages] == [3, 3, 1]
    assert [r["RoleName"] for p in pages for r in p["RoleDetailList"]] == names
    assert "Marker" not in pages[-1] and pages[-1]["IsTruncated"] is False


def test_default_page_is_100_roles(aws: Aws) -> None:
    motoview.create_roles(ACCOUNT_1, ((f"bulk-{i:03d}", "/", trust_policy(ROOT)) for i in range(101)))
    page = _raw_iam(aws).get_account_authorization_details(Filter=["Role"])
    assert len(page["RoleDetailList"]) == 100 and page["IsTruncated"] is True


def test_role_detail_fields(aws: Aws) -> None:
    iam = aws.iam()
    iam.create_role(
        RoleName="full",
        AssumeRolePolicyDocument=trust_policy(ROOT),
        Path="/p/",
        Tags=[{"Key": "k", "Value": "<&>"}],
    )
    iam.put_role_policy(RoleName="full", PolicyName="inline", PolicyDocument=identity_policy("s3:*", "*"))
    iam.create_instance_profile(InstanceProfileName="holder")
    iam.add_role_to_instance_profile(InstanceProfileName="holder", RoleName="full")
    (role,) = _raw_iam(aws).get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    assert role["Path"] == "/p/" and role["Arn"] == f"arn:aws:iam::{ACCOUNT_1}:role/p/full"
    assert role["RoleId"].startswith("AROA") and role["Tags"] == [{"Key": "k", "Value": "<&>"}]
    assert role["RolePolicyList"][0]["PolicyName"] == "inline"
    assert unquote(role["RolePolicyList"][0]["PolicyDocument"]) == identity_policy("s3:*", "*")
    assert role["InstanceProfileList"][0]["InstanceProfileName"] == "holder"
    assert role["InstanceProfileList"][0]["Roles"][0]["RoleName"] == "full"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"Filter": ["Role"], "Marker": "not-ours"}, "ValidationError"),
        ({"Filter": ["Role"], "MaxItems": 1001}, "ValidationError"),
        ({"Filter": ["User"]}, "InvalidAction"),
    ],
)
def test_bad_requests(aws: Aws, params: dict[str, Any], code: str) -> None:
    assert refused(_raw_iam(aws).get_account_authorization_details, **params)["Code"] == code


def test_needs_the_permission(aws: Aws) -> None:
    iam = aws.iam()
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    reader = Creds(key["AccessKeyId"], key["SecretAccessKey"])
    error = refused(_raw_iam(aws, reader).get_account_authorization_details, Filter=["Role"])
    assert error["Code"] == "AccessDenied" and "iam:GetAccountAuthorizationDetails" in error["Message"]
    iam.put_user_policy(
        UserName="reader",
        PolicyName="read",
        PolicyDocument=identity_policy("iam:GetAccountAuthorizationDetails", "*"),
    )
    assert _raw_iam(aws, reader).get_account_authorization_details(Filter=["Role"])["IsTruncated"] is False


def test_the_aws_cli_follows_the_pages(aws: Aws, sb: Sandbox, tmp_path: Path) -> None:
    """A real client: the AWS CLI's own paginator walks the Markers to the last page."""
    names = _roles(aws, 7)
    cli = shutil.which("aws") or str(Path(sys.executable).parent / "aws")
    admin = aws.admins[0]
    env = subprocess_env(
        tmp_path,
        AWS_ENDPOINT_URL=aws.endpoint,
        AWS_ACCESS_KEY_ID=admin.access_key_id,
        AWS_SECRET_ACCESS_KEY=admin.secret_access_key,
        AWS_DEFAULT_REGION=aws.region,
    )
    command = [cli, "iam", "get-account-authorization-details", "--filter", "Role", "--page-size", "2"]
    result = run(command, env)
    assert result.returncode == 0, result.stderr
    roles = json.loads(result.stdout)["RoleDetailList"]
    assert [r["RoleName"] for r in roles] == names
    pages = [r for r in sb.requests if r.action == "GetAccountAuthorizationDetails"]
    assert len(pages) == 4 and all(r.status == 200 for r in pages)
