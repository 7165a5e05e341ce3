"""S3: the resource a request is authorized against, and the one cross-account rule.

S3 authorizes ListBuckets against every bucket, a bucket operation against
`arn:aws:s3:::BUCKET` and an object operation against `arn:aws:s3:::BUCKET/KEY`.
A bucket of another account is refused even where the caller's identity policies
allow it: that takes a bucket policy, and the sandbox evaluates none.
"""

from __future__ import annotations

from sts_mfa.sandbox.http import errors as awserrors
from sts_mfa.sandbox.http.wire import WireRequest
from sts_mfa.sandbox.rules.authorization import Call, require_identity
from sts_mfa.sandbox.rules.bookkeeping import NOTHING, AfterSuccess
from sts_mfa.sandbox.seam import motoview


def authorize(call: Call) -> AfterSuccess:
    request = call.request
    resource = s3_resource(request)
    require_identity(call, resource)
    if request.bucket is not None:
        owner = motoview.bucket_owner(request.bucket)
        # CreateBucket on a taken name gets moto's BucketAlreadyExists, as on AWS.
        if owner is not None and owner != call.account and request.action != "CreateBucket":
            raise awserrors.access_denied("s3", call.caller.arn, request.iam_action, resource)
    return NOTHING


def s3_resource(request: WireRequest) -> str:
    if request.bucket is None:
        # ListBuckets: S3 authorizes it against every bucket, so both "*" and AWS's
        # own documented "arn:aws:s3:::*" allow it (a single bucket's ARN does not).
        return "arn:aws:s3:::*"
    if request.key is None:
        return f"arn:aws:s3:::{request.bucket}"
    return f"arn:aws:s3:::{request.bucket}/{request.key}"
