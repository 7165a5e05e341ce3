"""AWS-shaped errors: the exact codes, messages, HTTP statuses and XML bodies AWS sends.

The point of the sandbox is that a tool's error handling meets what AWS really
returns, so every refusal the sandbox makes is built here, in one place, with the
code, message and HTTP status AWS uses for it (as the IAM, STS and S3 API
references document them and AWS returns them). What a reader needs to know:

* IAM and STS speak the Query protocol: an error is `<ErrorResponse>` holding
  `<Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/>`, in
  the service's XML namespace, with the request ID also in `x-amzn-RequestId`.
  `Sender` is the client's fault (throttling included), `Receiver` the service's
  (an internal failure).
* Organizations speaks JSON 1.1: an error is HTTP 400 with
  `{"__type": CODE, "Message": ...}` (`application/x-amz-json-1.1`), the request ID in
  `x-amzn-RequestId`; its throttling is `TooManyRequestsException`, also HTTP 400.
* S3 answers a bare `<Error><Code/><Message/><RequestId/><HostId/></Error>` (request
  ID in `x-amz-request-id`), uses its own codes where IAM/STS differ (an unknown key
  is `InvalidAccessKeyId` there, `InvalidClientTokenId` at IAM/STS; throttling is
  `SlowDown`, HTTP 503), and says only "Access Denied" when it refuses.
* A response to HEAD has no body, so botocore falls back to the HTTP status.
* IAM/STS refusals name the caller: "User: ARN is not authorized to perform:
  ACTION on resource: RESOURCE" (HTTP 403), and constraint violations are one
  `ValidationError` listing them all ("N validation errors detected: ...").
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from xml.sax.saxutils import escape

from sts_mfa.sandbox.http.wire import JSON_SERVICES

QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}


class AwsFault(Exception):
    """An error the sandbox answers with itself, instead of passing the request to moto."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int,
        *,
        sender: bool = True,
        fields: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender
        self.fields = fields or {}  # more members of a JSON-protocol error (Organizations' "Reason")


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status_line(self) -> str:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        return f"{self.status} {phrase}"


def new_request_id() -> str:
    return str(uuid.uuid4())


def render(service: str, fault: AwsFault, *, head: bool = False) -> HttpResponse:
    """Serialize `fault` the way `service` would (S3's shape for s3, Query otherwise)."""
    request_id = new_request_id()
    if service in JSON_SERVICES:
        return _render_json(fault, request_id)
    code, message = escape(fault.code), escape(fault.message)
    if service == "s3":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
        ).encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    else:
        namespace = QUERY_NAMESPACES.get(service, QUERY_NAMESPACES["iam"])
        kind = "Sender" if fault.sender else "Receiver"
        body = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    if head:  # HEAD responses carry no body; botocore falls back to the status code
        body = b""
    headers.append(("Content-Length", str(len(body))))
    return HttpResponse(fault.status, headers, body)


def _render_json(fault: AwsFault, request_id: str) -> HttpResponse:
    body = json.dumps({"__type": fault.code, "Message": fault.message, **fault.fields}).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", request_id),
        ("Content-Length", str(len(body))),
    ]
    return HttpResponse(fault.status, headers, body)


# --- authentication ------------------------------------------------------------------


def missing_authentication(service: str) -> AwsFault:
    if service == "s3":
        return AwsFault("AccessDenied", "Access Denied", 403)
    return AwsFault("MissingAuthenticationToken", "Request is missing Authentication Token", 403)


def invalid_access_key(service: str) -> AwsFault:
    """Unknown, deleted, inactive or not-yet-propagated access key."""
    if service == "s3":
        return AwsFault(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            403,
        )
    return AwsFault("InvalidClientTokenId", "The security token included in the request is invalid.", 403)


def invalid_session_token(service: str) -> AwsFault:
    """A session token that does not belong to the access key (or one sent with a long-term key)."""
    if service == "s3":
        return AwsFault("InvalidToken", "The provided token is malformed or otherwise invalid.", 400)
    return invalid_access_key(service)


def expired_token(service: str) -> AwsFault:
    if service == "s3":
        return AwsFault("ExpiredToken", "The provided token has expired.", 400)
    return AwsFault("ExpiredToken", "The security token included in the request is expired", 403)


def signature_mismatch(service: str) -> AwsFault:
    if service == "s3":
        return AwsFault(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            403,
        )
    return AwsFault(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details.",
        403,
    )


# --- authorization -------------------------------------------------------------------


def access_denied(service: str, caller_arn: str, action: str, resource: str) -> AwsFault:
    if service == "s3":
        return AwsFault("AccessDenied", "Access Denied", 403)
    if service == "organizations":
        return AwsFault("AccessDeniedException", "You don't have permissions to access this resource.", 400)
    return AwsFault(
        "AccessDenied",
        f"User: {caller_arn} is not authorized to perform: {action} on resource: {resource}",
        403,
    )


MFA_BOTH_REQUIRED = (
    "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
)
MFA_UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA "
    "serial number is valid and associated with this user."
)
MFA_INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."


def mfa_failed(message: str) -> AwsFault:
    return AwsFault("AccessDenied", message, 403)


def session_credentials_refused(action: str) -> AwsFault:
    """GetSessionToken (and GetFederationToken) take an IAM user's long-term key only."""
    return AwsFault("AccessDenied", f"Cannot call {action} with session credentials", 403)


# --- validation and entity state -------------------------------------------------------


def validation_error(messages: list[str]) -> AwsFault:
    """AWS's aggregated constraint report: 'N validation error(s) detected: ...; ...'."""
    noun = "error" if len(messages) == 1 else "errors"
    return AwsFault(
        "ValidationError", f"{len(messages)} validation {noun} detected: {'; '.join(messages)}", 400
    )


def validation_message(message: str) -> AwsFault:
    return AwsFault("ValidationError", message, 400)


def delete_conflict(message: str) -> AwsFault:
    return AwsFault("DeleteConflict", message, 409)


def no_such_entity(message: str) -> AwsFault:
    return AwsFault("NoSuchEntity", message, 404)


def entity_already_exists(message: str) -> AwsFault:
    return AwsFault("EntityAlreadyExists", message, 409)


def invalid_authentication_code() -> AwsFault:
    return AwsFault("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)


def invalid_principal(principal: str) -> AwsFault:
    return AwsFault("MalformedPolicyDocument", f'Invalid principal in policy: "AWS":"{principal}"', 400)


# --- the sandbox's own refusals and faults ----------------------------------------------


def unsupported(service: str, action: str) -> AwsFault:
    what = f"{service}:{action}" if action else service
    return AwsFault(
        "InvalidAction",
        f"The sts-mfa sandbox does not serve {what}: it enforces IAM, STS (AssumeRole, "
        "GetSessionToken, GetCallerIdentity, GetAccessKeyInfo), S3 and Organizations (ListAccounts, "
        "DescribeOrganization, RegisterDelegatedAdministrator, ListDelegatedAdministrators) only.",
        400,
    )


def throttled(service: str) -> AwsFault:
    if service == "s3":
        return AwsFault("SlowDown", "Please reduce your request rate.", 503, sender=False)
    if service == "organizations":
        return AwsFault(
            "TooManyRequestsException",
            "You have sent too many requests in too short a period of time. Try again later.",
            400,
        )
    return AwsFault("Throttling", "Rate exceeded", 400)


def injected(action: str, when: str) -> AwsFault:
    if when == "before":
        detail = "failed before reaching the service; it was NOT applied"
    else:
        detail = "failed after reaching the service; it WAS applied, the response was lost"
    return AwsFault("InjectedFault", f"Injected fault ({when}): {action} {detail}.", 400)
