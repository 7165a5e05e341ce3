"""Identity policies are evaluated on every request: default deny, explicit Deny wins.

A user's permissions are its inline and attached policies plus its groups'; an
assumed-role session's are the role's. The refusal names the caller, the action and
the resource, the way AWS does (S3 just says "Access Denied").
"""

from __future__ import annotations

import json

import pytest

from tests.support.aws import (
    ACCOUNT_1,
    ACCOUNT_2,
    Aws,
    Creds,
    MfaUser,
    assume,
    create_mfa_user,
    create_role,
    identity_policy,
    refused,
    trust_policy,
)

pytestmark = pytest.mark.sandbox


def _grant(aws: Aws, user: MfaUser, document: str, name: str = "grant") -> None:
    aws.iam().put_user_policy(UserName=user.name, PolicyName=name, PolicyDocument=document)


def test_a_user_without_policies_may_do_nothing(aws: Aws) -> None:
    user = create_mfa_user(aws)

    error = refused(aws.client("iam", user.creds).list_users)

    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: {user.arn} is not authorized to perform: iam:ListUsers on resource: "
        f"arn:aws:iam::{ACCOUNT_1}:user/"
    )
    assert error["HTTPStatusCode"] == "403"
    assert refused(aws.client("s3", user.creds).list_buckets)["Message"] == "Access Denied"


def test_get_caller_identity_needs_no_permission_even_under_deny(aws: Aws) -> None:
    user = create_mfa_user(aws)
    _grant(aws, user, identity_policy("*", "*", effect="Deny"))

    assert aws.client("sts", user.creds).get_caller_identity()["Arn"] == user.arn


def test_actions_match_with_wildcards_and_ignoring_case(aws: Aws) -> None:
    user = create_mfa_user(aws)
    _grant(aws, user, identity_policy("IAM:list*", "*"))
    iam = aws.client("iam", user.creds)

    assert iam.list_users()["Users"]
    assert iam.list_roles()["Roles"] == []
    assert refused(iam.create_user, UserName="eve")["Code"] == "AccessDenied"


def test_not_action_allows_everything_else(aws: Aws) -> None:
    user = create_mfa_user(aws)
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
    }
    _grant(aws, user, json.dumps(document))

    assert aws.client("s3", user.creds).list_buckets()["Buckets"]
    assert refused(aws.client("iam", user.creds).list_users)["Code"] == "AccessDenied"


def test_an_explicit_deny_wins_over_an_allow(aws: Aws) -> None:
    user = create_mfa_user(aws)
    _grant(aws, user, identity_policy("iam:*", "*"), "everything")
    _grant(aws, user, identity_policy("iam:CreateUser", "*", effect="Deny"), "but-not-this")
    iam = aws.client("iam", user.creds)

    assert iam.list_users()
    assert refused(iam.create_user, UserName="eve")["Code"] == "AccessDenied"


def test_resources_are_real_arns_with_paths(aws: Aws) -> None:
    """A policy scoped to the user's own ARN (path included) allows only that user."""
    user = create_mfa_user(aws, path="/sts-mfa/")
    create_mfa_user(aws, "bob")
    _grant(aws, user, identity_policy("iam:GetUser", user.arn))
    iam = aws.client("iam", user.creds)

    assert iam.get_user(UserName="alice")["User"]["Arn"] == user.arn
    error = refused(iam.get_user, UserName="bob")
    assert error["Message"] == (
        f"User: {user.arn} is not authorized to perform: iam:GetUser on resource: "
        f"arn:aws:iam::{ACCOUNT_1}:user/sts-mfa/bob"
    )


def test_policy_variables_name_the_caller(aws: Aws) -> None:
    user = create_mfa_user(aws)
    create_mfa_user(aws, "bob")
    _grant(aws, user, identity_policy("iam:ListAccessKeys", "arn:aws:iam::*:user/*/${aws:username}"))
    iam = aws.client("iam", user.creds)

    assert iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert refused(iam.list_access_keys, UserName="bob")["Code"] == "AccessDenied"


def test_group_and_managed_policies_count_default_version_only(aws: Aws) -> None:
    user = create_mfa_user(aws)
    admin = aws.iam()
    policy = admin.create_policy(
        PolicyName="list-users", PolicyDocument=identity_policy("iam:ListUsers", "*")
    )["Policy"]
    admin.create_group(GroupName="readers")
    admin.add_user_to_group(GroupName="readers", UserName="alice")
    admin.attach_group_policy(GroupName="readers", PolicyArn=policy["Arn"])
    iam = aws.client("iam", user.creds)
    assert iam.list_users()["Users"]

    admin.create_policy_version(
        PolicyArn=policy["Arn"],
        PolicyDocument=identity_policy("iam:ListRoles", "*"),
        SetAsDefault=False,
    )
    assert iam.list_users()["Users"]  # v1 is still the default
    admin.set_default_policy_version(PolicyArn=policy["Arn"], VersionId="v2")
    assert refused(iam.list_users)["Code"] == "AccessDenied"


def test_attached_user_policies_count(aws: Aws) -> None:
    user = create_mfa_user(aws)
    admin = aws.iam()
    arn = admin.create_policy(
        PolicyName="list-buckets", PolicyDocument=identity_policy("s3:ListAllMyBuckets", "*")
    )["Policy"]["Arn"]
    s3 = aws.client("s3", user.creds)
    assert refused(s3.list_buckets)["Code"] == "AccessDenied"

    admin.attach_user_policy(UserName="alice", PolicyArn=arn)

    assert s3.list_buckets()["Buckets"]


def test_s3_permissions_are_per_bucket_and_per_object(aws: Aws) -> None:
    user = create_mfa_user(aws)
    reports = f"reports-{ACCOUNT_1}"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{reports}"},
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{reports}/public/*",
            },
        ],
    }
    _grant(aws, user, json.dumps(document))
    s3 = aws.client("s3", user.creds)

    s3.put_object(Bucket=reports, Key="public/a.txt", Body=b"hello")
    assert s3.get_object(Bucket=reports, Key="public/a.txt")["Body"].read() == b"hello"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=reports)["Contents"]] == ["public/a.txt"]
    error = refused(s3.put_object, Bucket=reports, Key="private/b.txt", Body=b"x")
    assert (error["Code"], error["Message"]) == ("AccessDenied", "Access Denied")
    assert refused(s3.list_objects_v2, Bucket=f"logs-{ACCOUNT_1}")["Code"] == "AccessDenied"


def test_buckets_of_another_account_need_more_than_an_identity_policy(aws: Aws) -> None:
    """Cross-account S3 needs a bucket policy too; the sandbox grants none."""
    error = refused(aws.client("s3").list_objects_v2, Bucket=f"reports-{ACCOUNT_2}")
    assert (error["Code"], error["Message"]) == ("AccessDenied", "Access Denied")


def test_a_session_has_the_roles_permissions_only(aws: Aws) -> None:
    user = create_mfa_user(aws)
    _grant(aws, user, identity_policy("iam:*", "*"))
    role = create_role(aws, "mfa-only", trust_policy(user.arn))  # may list buckets only
    aws.advance(30)
    session = Creds.of_session(assume(aws, user, role, mfa=True)["Credentials"])

    assert aws.client("s3", session).list_buckets()["Buckets"]
    error = refused(aws.client("iam", session).list_users)
    assert error["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT_1}:assumed-role/mfa-only/demo is not authorized to "
        f"perform: iam:ListUsers on resource: arn:aws:iam::{ACCOUNT_1}:user/"
    )


def test_a_session_without_mfa_carries_mfa_present_false(aws: Aws) -> None:
    user = create_mfa_user(aws)
    role = create_role(aws, "no-mfa", trust_policy(user.arn, condition=None), list_buckets=False)
    needs_mfa = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
            },
            {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
        ],
    }
    aws.iam().put_role_policy(RoleName="no-mfa", PolicyName="needs-mfa", PolicyDocument=json.dumps(needs_mfa))
    aws.advance(30)

    without = Creds.of_session(assume(aws, user, role)["Credentials"])
    assert refused(aws.client("s3", without).list_buckets)["Code"] == "AccessDenied"
    with_mfa = Creds.of_session(assume(aws, user, role, mfa=True)["Credentials"])
    assert aws.client("s3", with_mfa).list_buckets()["Buckets"]


@pytest.mark.parametrize(
    ("operator", "key", "value"),
    [
        ("DateGreaterThan", "aws:CurrentTime", "2020-01-01T00:00:00Z"),
        ("IpAddress", "aws:SourceIp", "127.0.0.0/8"),
        ("DateLessThan", "aws:CurrentTime", "2100-01-01T00:00:00Z"),
    ],
)
def test_an_unimplemented_condition_operator_never_grants(
    aws: Aws, operator: str, key: str, value: str
) -> None:
    """Fail closed: AWS would allow each of these, the sandbox does not implement the
    operator, so it refuses rather than guess (a Deny with one would apply)."""
    user = create_mfa_user(aws)
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:ListAllMyBuckets",
                "Resource": "*",
                "Condition": {operator: {key: value}},
            }
        ],
    }
    _grant(aws, user, json.dumps(document))

    assert refused(aws.client("s3", user.creds).list_buckets)["Code"] == "AccessDenied"


@pytest.mark.parametrize(
    ("operator", "granted"), [("ForAnyValue:StringEquals", True), ("ForAnyValue:StringNotEquals", False)]
)
def test_a_set_operator_compares_a_single_valued_keys_one_value(
    aws: Aws, operator: str, granted: bool
) -> None:
    """IAM's set operators, implemented: a single-valued key is a set of one value."""
    user = create_mfa_user(aws)
    statement = {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
    document = {
        "Version": "2012-10-17",
        "Statement": [{**statement, "Condition": {operator: {"aws:username": "alice"}}}],
    }
    _grant(aws, user, json.dumps(document))

    if granted:
        assert aws.client("s3", user.creds).list_buckets()["Buckets"]
    else:
        assert refused(aws.client("s3", user.creds).list_buckets)["Code"] == "AccessDenied"


def test_a_taken_bucket_name_is_taken_whoever_owns_it(aws: Aws) -> None:
    error = refused(aws.client("s3").create_bucket, Bucket=f"reports-{ACCOUNT_2}")
    assert error["Code"] == "BucketAlreadyExists"


def test_head_requests_are_refused_without_a_body(aws: Aws) -> None:
    """HEAD responses carry no body, so botocore reports the bare status (as on AWS)."""
    error = refused(aws.client("s3").head_bucket, Bucket=f"reports-{ACCOUNT_2}")
    assert (error["Code"], error["HTTPStatusCode"]) == ("403", "403")


@pytest.mark.parametrize("resource", ["*", "arn:aws:s3:::*"])
def test_list_buckets_is_allowed_by_the_documented_resources(aws: Aws, resource: str) -> None:
    """AWS's own examples grant s3:ListAllMyBuckets on "arn:aws:s3:::*"; "*" works too."""
    user = create_mfa_user(aws)
    _grant(aws, user, identity_policy("s3:ListAllMyBuckets", resource))

    assert aws.client("s3", user.creds).list_buckets()["Buckets"]


def test_list_buckets_is_not_allowed_by_one_buckets_arn(aws: Aws) -> None:
    user = create_mfa_user(aws)
    _grant(aws, user, identity_policy("s3:ListAllMyBuckets", f"arn:aws:s3:::reports-{ACCOUNT_1}"))

    assert refused(aws.client("s3", user.creds).list_buckets)["Code"] == "AccessDenied"
