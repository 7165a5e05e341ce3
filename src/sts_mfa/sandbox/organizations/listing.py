"""ListAccounts, paged as AWS pages it.

What AWS documents (Organizations API Reference, ListAccounts, and botocore's model):

* `MaxResults` 1..20; `NextToken` up to 100,000 characters, passed back as it came.
  Out of range, AWS answers `InvalidInputException` with a `Reason`
  (`MIN_VALUE_EXCEEDED`, `MAX_VALUE_EXCEEDED`; a token it did not issue: `INVALID_NEXT_TOKEN`).
* "When calling List* operations, always check the NextToken response parameter value,
  even if you receive an empty result set. These operations can occasionally return an
  empty set of results even when more results are available."
* Each `Account` carries `Id` (12 digits), `Arn`, `Email`, `Name`, `Status` (ACTIVE,
  SUSPENDED, PENDING_CLOSURE) and `State`, `JoinedMethod`, `JoinedTimestamp`; closed
  accounts stay listed (SUSPENDED) for 90 days.

The sandbox's reading is the least kind one AWS allows: the first page of every listing
is empty, with a `NextToken` (a client that stops at an empty page misses every account),
and a page holds `MaxResults` accounts (20 when absent: AWS documents no default; a best
guess) in the order they joined. The token is a position in the accounts as they are at
each call, like `GetAccountAuthorizationDetails`' marker.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from moto.organizations.models import FakeAccount

from sts_mfa.sandbox.http import errors as awserrors
from sts_mfa.sandbox.http.errors import AwsFault, HttpResponse
from sts_mfa.sandbox.seam import orgview

MAX_RESULTS = 20
_TOKEN_PREFIX = "sts-mfa-sandbox:accounts:"  # noqa: S105 - a paging token, no secret


def answer(document: dict[str, Any], accounts: list[FakeAccount]) -> HttpResponse:
    """One page of the organization's accounts."""
    size = _max_results(document.get("MaxResults"))
    token = document.get("NextToken")
    if token is None:  # a new listing: its first page is empty, as AWS allows
        return _response([], next_token(0))
    start = _position(token)
    page = accounts[start : start + size]
    following = start + size if start + size < len(accounts) else None
    return _response(
        [orgview.describe(a) for a in page], next_token(following) if following is not None else None
    )


def next_token(position: int) -> str:
    """The opaque NextToken for the page that starts at `position`."""
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{position}".encode()).decode("ascii")


def _max_results(value: object) -> int:
    if value is None:
        return MAX_RESULTS
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid("INVALID_ENUM", "You specified an invalid value.")
    if value < 1:
        raise _invalid(
            "MIN_VALUE_EXCEEDED", "You provided a numeric parameter that has a smaller value than allowed."
        )
    if value > MAX_RESULTS:
        raise _invalid(
            "MAX_VALUE_EXCEEDED", "You provided a numeric parameter that has a larger value than allowed."
        )
    return value


def _position(token: object) -> int:
    text = ""
    if isinstance(token, str) and token.isascii():
        try:
            text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
        except (UnicodeError, ValueError, binascii.Error):
            text = ""
    number = text[len(_TOKEN_PREFIX) :] if text.startswith(_TOKEN_PREFIX) else ""
    if not (number.isdigit() and number.isascii()):
        raise _invalid(
            "INVALID_NEXT_TOKEN", "You specified an invalid value for the nextToken request parameter."
        )
    return int(number)


def _invalid(reason: str, message: str) -> AwsFault:
    return AwsFault("InvalidInputException", message, 400, fields={"Reason": reason})


def _response(accounts: list[dict[str, Any]], token: str | None) -> HttpResponse:
    document: dict[str, Any] = {"Accounts": accounts}
    if token is not None:
        document["NextToken"] = token
    body = json.dumps(document, default=str).encode("utf-8")
    request_id = awserrors.new_request_id()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", request_id),
        ("Content-Length", str(len(body))),
    ]
    return HttpResponse(200, headers, body)
