"""The request log: one small record per request the sandbox answered.

Tests and the `demo` command read it to show (and assert) what crossed the wire:
how many AssumeRole calls were made, which were refused and with what code. It
holds no secrets: no keys, tokens, codes or bodies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RequestRecord:
    time: float  # the sandbox clock when the request arrived
    account: str | None  # the caller's account (None if not authenticated)
    service: str  # "iam" | "sts" | "s3" | whatever the signature named
    action: str  # the API operation: "AssumeRole", "ListBuckets", "PutObject", ...
    caller_arn: str | None
    status: int  # HTTP status sent
    error_code: str | None  # AWS error code sent, None on success
    # Whether the request is one that changes state, by the sandbox's own definition
    # (`WireRequest.mutating`: IAM writes, S3 PUT/POST/DELETE; never STS), whether or
    # not it succeeded; `Faults.fail` counts those of them that reach moto.
    mutating: bool = False

    def to_json(self) -> dict[str, Any]:
        """The record as `GET /_sandbox/requests` serves it (without `mutating`)."""
        data = asdict(self)
        del data["mutating"]
        return data
