"""Reading a request as it crosses the wire: what AWS's front door sees.

A SigV4 `Authorization` header names the access key and, in its credential scope,
the region and service. IAM and STS speak the Query protocol (a form body with
`Action=...`); Organizations speaks JSON 1.1 (the operation in the `X-Amz-Target`
header, `AWSOrganizationsV20161128.ListAccounts`, its parameters a JSON body); S3 is
REST (method + path + sub-resource query). From that this module derives the API
operation, the IAM action that authorizes it, and whether it mutates anything. No
moto here: the same parsing would work in front of real AWS.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

STS_ACTIONS = frozenset(
    {
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "AssumeRoot",
        "DecodeAuthorizationMessage",
        "GetAccessKeyInfo",
        "GetCallerIdentity",
        "GetDelegatedAccessToken",
        "GetFederationToken",
        "GetSessionToken",
        "GetWebIdentityToken",
    }
)
_IAM_READ_PREFIXES = ("Get", "List", "Simulate", "Generate")
_JSON_READ_PREFIXES = ("Describe", "List")
JSON_SERVICES = frozenset({"organizations"})  # the JSON-protocol services the sandbox reads


@dataclass(frozen=True)
class SigV4:
    """The parts of an `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> SigV4 | None:
    """Parse a SigV4 Authorization header; None if it is not one."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme != "AWS4-HMAC-SHA256":
        return None
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, val = item.strip().partition("=")
        if sep:
            parts[name] = val
    scope = parts.get("Credential", "").split("/")
    if len(scope) != 5 or not parts.get("Signature") or not parts.get("SignedHeaders"):
        return None
    key_id, date, region, service, terminator = scope
    if terminator != "aws4_request" or not key_id:
        return None
    return SigV4(
        access_key_id=key_id,
        date=date,
        region=region,
        service=service.lower(),
        signed_headers=tuple(h for h in parts["SignedHeaders"].lower().split(";") if h),
        signature=parts["Signature"],
    )


@dataclass
class WireRequest:
    """One HTTP request, decoded enough to authenticate and authorize it."""

    method: str
    path: str  # decoded path
    raw_uri: str  # path and query exactly as sent (what SigV4 signed)
    host: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    auth: SigV4 | None
    service: str
    region: str
    action: str  # the API operation: "AssumeRole", "ListBuckets", "PutObject", ...
    iam_action: str  # what authorizes it: "sts:AssumeRole", "s3:ListAllMyBuckets", ...
    params: dict[str, str] = field(default_factory=dict)  # Query-protocol params / S3 query
    document: dict[str, Any] = field(default_factory=dict)  # a JSON-protocol body (Organizations)
    bucket: str | None = None
    key: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def mutating(self) -> bool:
        """IAM writes and S3 PUT/POST/DELETE; STS never mutates (it only issues sessions)."""
        if self.service == "iam":
            return not self.action.startswith(_IAM_READ_PREFIXES)
        if self.service == "s3":
            return self.method in ("PUT", "POST", "DELETE")
        if self.service in JSON_SERVICES:
            return not self.action.startswith(_JSON_READ_PREFIXES)
        return False


def headers_from_environ(environ: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            headers[name[5:].replace("_", "-").lower()] = str(value)
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            headers[name.replace("_", "-").lower()] = str(environ[name])
    return headers


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the whole body and put it back, so moto can read it again."""
    stream = environ.get("wsgi.input")
    body = b""
    if stream is not None:
        length = environ.get("CONTENT_LENGTH")
        if length:
            body = stream.read(int(length))
        elif environ.get("wsgi.input_terminated"):
            body = stream.read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("wsgi.input_terminated", None)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


def parse(environ: dict[str, Any], default_region: str) -> WireRequest:
    """Decode a WSGI request (consumes and restores its body)."""
    body = read_body(environ)
    headers = headers_from_environ(environ)
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    path = str(environ.get("PATH_INFO", "/")) or "/"
    query = str(environ.get("QUERY_STRING", ""))
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if not raw_uri:
        raw_uri = path + (f"?{query}" if query else "")
    host = headers.get("host", "")
    auth = parse_authorization(headers.get("authorization", ""))
    query_params = dict(parse_qsl(query, keep_blank_values=True))
    form: dict[str, str] = {}
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    if auth is not None:
        service, region = auth.service, auth.region
    elif "Action" in form or "Action" in query_params:
        action_name = form.get("Action") or query_params.get("Action", "")
        service, region = ("sts" if action_name in STS_ACTIONS else "iam"), default_region
    else:
        service, region = "s3", default_region

    request = WireRequest(
        method=method,
        path=path,
        raw_uri=raw_uri,
        host=host,
        headers=headers,
        body=body,
        auth=auth,
        service=service,
        region=region,
        action="",
        iam_action="",
    )
    if service == "s3":
        request.params = query_params
        _resolve_s3(request)
    elif service in JSON_SERVICES:
        request.action = headers.get("x-amz-target", "").rpartition(".")[2]
        request.iam_action = f"{service}:{request.action}"
        request.document = _json_document(body)
    else:
        request.params = {**query_params, **form}
        request.action = request.params.get("Action", "")
        request.iam_action = f"{service}:{request.action}"
    return request


def _json_document(body: bytes) -> dict[str, Any]:
    """A JSON-protocol body as an object; anything else (not JSON, not an object) is no parameters."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


# --- S3 REST operations -------------------------------------------------------------------

# bucket sub-resource (query key) -> the name in GetBucketX/PutBucketX/DeleteBucketX
_BUCKET_SUBRESOURCES = {
    "acl": "Acl",
    "cors": "Cors",
    "encryption": "Encryption",
    "lifecycle": "Lifecycle",
    "location": "Location",
    "logging": "Logging",
    "notification": "Notification",
    "ownershipControls": "OwnershipControls",
    "policy": "Policy",
    "policyStatus": "PolicyStatus",
    "publicAccessBlock": "PublicAccessBlock",
    "replication": "Replication",
    "requestPayment": "RequestPayment",
    "tagging": "Tagging",
    "versioning": "Versioning",
    "website": "Website",
    "object-lock": "ObjectLockConfiguration",
    "accelerate": "AccelerateConfiguration",
}


def _bucket_and_key(request: WireRequest) -> tuple[str | None, str | None]:
    """Path-style (`/bucket/key`) or virtual-hosted (`bucket.host/key`) addressing."""
    hostname = request.host.split(":")[0]
    labels = hostname.split(".")
    virtual = (
        len(labels) > 1
        and not hostname.replace(".", "").isdigit()
        and labels[0] not in ("s3", "localhost")
        and (hostname.endswith(".localhost") or ".s3." in hostname or ".s3-" in hostname)
    )
    path = request.path
    if virtual:
        key = path[1:] if len(path) > 1 else None
        return labels[0], key
    stripped = path.lstrip("/")
    if not stripped:
        return None, None
    bucket, _, key = stripped.partition("/")
    return bucket, (key or None)


# method -> operation, for a bucket request without a sub-resource, and for an object.
_BUCKET_METHODS = {
    "PUT": ("CreateBucket", "s3:CreateBucket"),
    "DELETE": ("DeleteBucket", "s3:DeleteBucket"),
    "HEAD": ("HeadBucket", "s3:ListBucket"),
}
_OBJECT_METHODS = {
    "GET": ("GetObject", "s3:GetObject"),
    "HEAD": ("HeadObject", "s3:GetObject"),
    "PUT": ("PutObject", "s3:PutObject"),
    "DELETE": ("DeleteObject", "s3:DeleteObject"),
}
# (method, query key) -> multipart-upload operation on an object
_MULTIPART = {
    ("POST", "uploads"): ("CreateMultipartUpload", "s3:PutObject"),
    ("POST", "uploadId"): ("CompleteMultipartUpload", "s3:PutObject"),
    ("PUT", "partNumber"): ("UploadPart", "s3:PutObject"),
    ("DELETE", "uploadId"): ("AbortMultipartUpload", "s3:AbortMultipartUpload"),
}


def _resolve_s3(request: WireRequest) -> None:
    bucket, key = _bucket_and_key(request)
    request.bucket, request.key = bucket, key
    if bucket is None:
        request.action, request.iam_action = "ListBuckets", "s3:ListAllMyBuckets"
    elif key is None:
        request.action, request.iam_action = _bucket_operation(request.method, request.params)
    else:
        request.action, request.iam_action = _object_operation(request)


def _bucket_operation(method: str, q: dict[str, str]) -> tuple[str, str]:
    sub = next((s for s in _BUCKET_SUBRESOURCES if s in q), None)
    if sub is not None and method in ("GET", "PUT", "DELETE"):
        verb = method.capitalize()
        name = _BUCKET_SUBRESOURCES[sub]
        return f"{verb}Bucket{name}", f"s3:{verb}Bucket{name}"
    if method == "POST" and "delete" in q:
        return "DeleteObjects", "s3:DeleteObject"
    if method in _BUCKET_METHODS:
        return _BUCKET_METHODS[method]
    if "versions" in q:
        return "ListObjectVersions", "s3:ListBucketVersions"
    if "uploads" in q:
        return "ListMultipartUploads", "s3:ListBucketMultipartUploads"
    version = "V2" if q.get("list-type") == "2" else ""
    return f"ListObjects{version}", "s3:ListBucket"


def _object_operation(request: WireRequest) -> tuple[str, str]:
    method, q = request.method, request.params
    for sub, name, methods in (
        ("tagging", "Tagging", ("GET", "PUT", "DELETE")),
        ("acl", "Acl", ("GET", "PUT")),
    ):
        if sub in q and method in methods:
            verb = method.capitalize()
            return f"{verb}Object{name}", f"s3:{verb}Object{name}"
    multipart = next((op for (m, sub), op in _MULTIPART.items() if m == method and sub in q), None)
    if multipart is not None:
        return multipart
    if method == "PUT" and request.header("x-amz-copy-source"):
        return "CopyObject", "s3:PutObject"
    fallback = (f"{method.capitalize()}Object", f"s3:{method.capitalize()}Object")
    return _OBJECT_METHODS.get(method, fallback)
