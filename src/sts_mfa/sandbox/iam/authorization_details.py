"""GetAccountAuthorizationDetails for roles, paginated and URL-encoded as AWS answers it.

What AWS documents (IAM API Reference, GetAccountAuthorizationDetails,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html,
and the same text in botocore's IAM model):

* `MaxItems` 1..1000, 100 when absent; "If additional items exist beyond the maximum
  you specify, the IsTruncated response element is true", and then `Marker` "contains
  a value to include in the subsequent call"; `Marker` is 1..320 characters of
  `[\\u0020-\\u00FF]`. "IAM might return fewer results, even when there are more
  results available": a client must follow `IsTruncated`, never count items.
* "Policies returned by this operation are URL-encoded compliant with RFC 3986":
  each role's `AssumeRolePolicyDocument` and its inline policies' `PolicyDocument`.
* A `RoleDetail` holds Path, RoleName, RoleId, Arn, CreateDate,
  AssumeRolePolicyDocument, InstanceProfileList, RolePolicyList,
  AttachedManagedPolicies, PermissionsBoundary, Tags and RoleLastUsed.
* The caller needs `iam:GetAccountAuthorizationDetails` (resource `*`): the identity
  check every IAM call goes through (`iam_rules.authorize`) applies it.

moto 5.2.5 ignores `MaxItems` and `Marker` (every role in one answer, `IsTruncated`
always false), sends the trust policy as plain JSON, and takes about 5 s to answer
for 10,000 roles. So the sandbox answers this call itself, from moto's models (a
read: moto is not asked and nothing changes), for `Filter=Role`; with any other
filter it refuses (`InvalidAction`) rather than answer unlike AWS.

The marker: AWS says only where to pass it. The sandbox's is a position in the
account's roles in name order, as they are at each call: the reading least kind to
a client. A role created or deleted before that position between two pages shifts
the rest, so the next page repeats a role or skips one; a client cannot take the
pages for one consistent snapshot. A marker the sandbox did not issue is refused
with `ValidationError` (AWS's code here is not documented: a best guess).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from urllib.parse import quote
from xml.sax.saxutils import escape

from moto.iam.models import InstanceProfile, Role

from sts_mfa.sandbox.http import errors as awserrors
from sts_mfa.sandbox.http.errors import QUERY_NAMESPACES, AwsFault, HttpResponse
from sts_mfa.sandbox.rules import constraints
from sts_mfa.sandbox.rules.authorization import Call
from sts_mfa.sandbox.rules.bookkeeping import AfterSuccess
from sts_mfa.sandbox.seam import motoview

DEFAULT_MAX_ITEMS = 100
PARAMETERS: dict[str, constraints.Text | constraints.Integer] = {
    "Marker": constraints.Text("marker", min_length=1, max_length=320, pattern=r"[\u0020-\u00FF]+"),
    "MaxItems": constraints.Integer("maxItems", minimum=1, maximum=1000),
}
_MARKER_PREFIX = "sts-mfa-sandbox:roles:"


def answer(call: Call) -> AfterSuccess:
    """One page of the account's roles, answered from moto's models."""
    params = call.request.params
    constraints.validate(params, PARAMETERS)
    filters = {value for name, value in params.items() if name.startswith("Filter.member.")}
    if filters != {"Role"}:
        raise _only_roles()
    start = _position(params.get("Marker"))
    size = int(params.get("MaxItems") or DEFAULT_MAX_ITEMS)
    roles = motoview.roles_by_name(call.account)
    page = roles[start : start + size]
    following = start + size if start + size < len(roles) else None
    profiles = motoview.instance_profiles_by_role(call.account)
    request_id = awserrors.new_request_id()  # one ID, in the header and in the body, as AWS sends
    body = _response(page, profiles, following, request_id)
    headers = [
        ("Content-Type", "text/xml"),
        ("x-amzn-RequestId", request_id),
        ("Content-Length", str(len(body))),
    ]
    return AfterSuccess(answer=HttpResponse(200, headers, body))


def marker(position: int) -> str:
    """The opaque Marker for the page that starts at `position`."""
    return base64.urlsafe_b64encode(f"{_MARKER_PREFIX}{position}".encode()).decode("ascii")


def _position(given: str | None) -> int:
    if given is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(given.encode("ascii")).decode("ascii")
    except (UnicodeError, ValueError, binascii.Error):
        text = ""
    number = text[len(_MARKER_PREFIX) :] if text.startswith(_MARKER_PREFIX) else ""
    if not number.isdigit() or not number.isascii():
        raise awserrors.validation_message("Invalid Marker")
    return int(number)


def _only_roles() -> AwsFault:
    return AwsFault(
        "InvalidAction",
        "The sts-mfa sandbox answers GetAccountAuthorizationDetails with Filter=Role only "
        "(roles and their policies, paginated and URL-encoded as AWS does).",
        400,
    )


# --- the XML, in the order of IAM's API model ---------------------------------------------


def _response(
    page: list[Role], profiles: dict[str, list[InstanceProfile]], following: int | None, request_id: str
) -> bytes:
    namespace = QUERY_NAMESPACES["iam"]
    roles = "".join(_role(role, profiles.get(role.id, [])) for role in page)
    truncated = "true" if following is not None else "false"
    next_marker = _text("Marker", marker(following)) if following is not None else ""
    text = (
        f'<GetAccountAuthorizationDetailsResponse xmlns="{namespace}">'
        "<GetAccountAuthorizationDetailsResult>"
        f"<UserDetailList/><GroupDetailList/><RoleDetailList>{roles}</RoleDetailList><Policies/>"
        f"<IsTruncated>{truncated}</IsTruncated>{next_marker}"
        "</GetAccountAuthorizationDetailsResult>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        "</GetAccountAuthorizationDetailsResponse>"
    )
    return text.encode("utf-8")


def _role(role: Role, profiles: list[InstanceProfile]) -> str:
    inline = "".join(
        f"<member>{_text('PolicyName', name)}{_text('PolicyDocument', _encoded(document))}</member>"
        for name, document in role.policies.items()
    )
    attached = "".join(
        f"<member>{_text('PolicyName', policy.name)}{_text('PolicyArn', policy.arn)}</member>"
        for policy in role.managed_policies.values()
    )
    tags = "".join(
        f"<member>{_text('Key', tag.get('Key', ''))}{_text('Value', tag.get('Value', ''))}</member>"
        for tag in role.tags or []
    )
    boundary = ""
    if role.permissions_boundary_arn:
        boundary = (
            "<PermissionsBoundary><PermissionsBoundaryType>PermissionsBoundaryPolicy"
            f"</PermissionsBoundaryType>{_text('PermissionsBoundaryArn', role.permissions_boundary_arn)}"
            "</PermissionsBoundary>"
        )
    return (
        f"<member>{_basics(role)}"
        f"<InstanceProfileList>{''.join(_profile(p) for p in profiles)}</InstanceProfileList>"
        f"<RolePolicyList>{inline}</RolePolicyList>"
        f"<AttachedManagedPolicies>{attached}</AttachedManagedPolicies>"
        f"{boundary}<Tags>{tags}</Tags>{_last_used(role)}</member>"
    )


def _basics(role: Role) -> str:
    """Path, RoleName, RoleId, Arn, CreateDate and the URL-encoded trust policy."""
    return (
        f"{_text('Path', role.path)}{_text('RoleName', role.name)}{_text('RoleId', role.id)}"
        f"{_text('Arn', role.arn)}{_text('CreateDate', _date(role.create_date))}"
        f"{_text('AssumeRolePolicyDocument', _encoded(motoview.role_trust_policy(role)))}"
    )


def _profile(profile: InstanceProfile) -> str:
    roles = "".join(f"<member>{_basics(role)}</member>" for role in profile.roles)
    return (
        f"<member>{_text('Path', profile.path)}{_text('InstanceProfileName', profile.name)}"
        f"{_text('InstanceProfileId', profile.id)}{_text('Arn', profile.arn)}"
        f"{_text('CreateDate', _date(profile.create_date))}<Roles>{roles}</Roles></member>"
    )


def _last_used(role: Role) -> str:
    parts = ""
    if role.last_used is not None:
        parts += _text("LastUsedDate", _date(role.last_used))
    region: object = role.last_used_region  # moto types it None; it is set to a str when used
    if region:
        parts += _text("Region", region)
    return f"<RoleLastUsed>{parts}</RoleLastUsed>"


def _encoded(document: object) -> str:
    """RFC 3986 percent-encoding: everything but the unreserved characters."""
    return quote(str(document), safe="")


def _date(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _text(tag: str, value: object) -> str:
    return f"<{tag}>{escape(str(value))}</{tag}>"
