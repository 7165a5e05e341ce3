"""SigV4 verification: recompute the signature the client should have sent.

(Also the constant-time comparison of the other secrets a client presents.)

The same approach as moto's `iam/access_control.py`: rebuild the request from the
headers the client listed as signed, let botocore's `SigV4Auth`/`S3SigV4Auth`
compute the signature with the secret the sandbox knows for that key, and compare.
Nothing here is sandbox-specific; it is what AWS does at its front door.
"""

from __future__ import annotations

import hmac

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sts_mfa.sandbox.http.wire import WireRequest


def signature_matches(request: WireRequest, secret_access_key: str, token: str | None) -> bool:
    auth_header = request.auth
    if auth_header is None:
        return False
    signed = {name: value for name, value in request.headers.items() if name in auth_header.signed_headers}
    timestamp = signed.get("x-amz-date")
    if timestamp is None or not timestamp.startswith(auth_header.date):
        return False
    credentials = Credentials(auth_header.access_key_id, secret_access_key, token)
    signer_class = S3SigV4Auth if auth_header.service == "s3" else SigV4Auth
    signer = signer_class(credentials, auth_header.service, auth_header.region)
    aws_request = AWSRequest(
        method=request.method,
        url=f"http://{request.host}{request.raw_uri}",
        data=request.body,
        headers=signed,
    )
    aws_request.context["timestamp"] = timestamp
    canonical = signer.canonical_request(aws_request)
    string_to_sign = signer.string_to_sign(aws_request, canonical)
    expected = signer.signature(string_to_sign, aws_request)
    return hmac.compare_digest(expected, auth_header.signature)


def secrets_equal(presented: str, expected: str) -> bool:
    """Compare a secret the client presented (a session token, an MFA code) in constant time."""
    return hmac.compare_digest(presented.encode(), expected.encode())
