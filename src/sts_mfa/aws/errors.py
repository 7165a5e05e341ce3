"""botocore's failures as ours: one line, the right exit code, never a traceback.

`translate` maps a botocore exception (an AWS error, no credentials, no region, an
endpoint that cannot be reached or does not answer like AWS) to one of
`sts_mfa.errors`; `not_aws_problem` tells a successful answer that is not AWS's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import botocore.exceptions as bx

from sts_mfa.errors import LOOP, AwsError, CredentialsError, StsMfaError, UsageError

MAX_MESSAGE = 500  # an error message from an endpoint is quoted at most this long
PROFILE_HINT = "check the profile's name (--profile, AWS_PROFILE, --role-profile) and AWS_CONFIG_FILE"
# Error codes that mean "these credentials are not (or no longer) valid".
CREDENTIAL_ERROR_CODES = {
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "TokenRefreshRequired",
    "InvalidToken",
}


# ------------------------------------------------------------ not-AWS answers

_FIRST_TAG = re.compile(
    rb"\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*|<![Dd][Oo][Cc][Tt][Yy][Pp][Ee][^>]*>\s*)*<([A-Za-z_][\w:.-]*)",
    re.S,
)


def not_aws_problem(protocol: str, operation: str, body: bytes | None) -> str | None:
    """What is wrong with a successful response body for `protocol`, or None if it looks like AWS's."""
    if protocol not in ("query", "rest-xml"):
        return None
    body = body or b""
    if not body.strip():
        return None if protocol == "rest-xml" else "an empty body"
    match = _FIRST_TAG.match(body[:4096])
    if match is None:
        return "a body that is not XML"
    root = match.group(1).decode("ascii", "replace")
    if root.lower() in ("html", "head", "body"):
        return "an HTML page"
    if protocol == "query" and root != f"{operation}Response":
        return f"an XML document <{root}>, not <{operation}Response>"
    return None


# --------------------------------------------------------------- error mapping


def error_code(e: BaseException) -> str | None:
    if isinstance(e, bx.ClientError):
        return str(e.response.get("Error", {}).get("Code", "")) or None
    return None


def error_message(e: BaseException) -> str:
    if isinstance(e, bx.ClientError):
        return str(e.response.get("Error", {}).get("Message", "")) or str(e)
    return str(e)


def translate(e: BaseException, doing: str) -> StsMfaError:
    """Turn a botocore exception into one of ours, with a one-line message."""
    if isinstance(e, StsMfaError):
        return e
    if isinstance(e, bx.ClientError):
        status = str(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        code = (error_code(e) or status or "Unknown")[:100]
        msg = error_message(e) if error_code(e) else (_reason(status) or error_message(e))
        msg = msg if len(msg) <= MAX_MESSAGE else f"{msg[:MAX_MESSAGE]}… ({len(msg)} characters)"
        op = e.operation_name
        if code.isdigit():  # botocore's generic error: an HTTP status with no AWS error in the body
            return AwsError(
                f"{doing}: the endpoint answered HTTP {code} ({msg}) without an AWS error; "
                "it does not look like an AWS endpoint",
                code=code,
                operation=op,
                hint="check --endpoint-url / AWS_ENDPOINT_URL",
            )
        if code in CREDENTIAL_ERROR_CODES:
            return CredentialsError(f"{doing}: AWS rejected the credentials ({code}: {msg})")
        return AwsError(f"{doing}: {code}: {msg}", code=code, operation=op)
    if (problem := _credentials_problem(e, doing)) is not None:
        return problem
    if isinstance(e, bx.NoRegionError):
        return AwsError(f"{doing}: no AWS region configured", hint="pass --region or set AWS_REGION")
    if isinstance(e, (bx.EndpointConnectionError, bx.ConnectTimeoutError)):
        url = getattr(e, "kwargs", {}).get("endpoint_url", "")
        return AwsError(
            f"{doing}: cannot reach the AWS endpoint {url}".rstrip(),
            hint="check --endpoint-url / AWS_ENDPOINT_URL and the network",
        )
    if isinstance(e, bx.ParamValidationError):
        return AwsError(f"{doing}: invalid request: {e}")
    if isinstance(e, bx.BotoCoreError):
        return AwsError(f"{doing}: {e}")
    if _is_parser_error(e):
        return AwsError(
            f"{doing}: the endpoint's answer could not be read: it does not look like an AWS endpoint",
            hint="check --endpoint-url / AWS_ENDPOINT_URL",
        )
    raise e


def _credentials_problem(e: BaseException, doing: str) -> StsMfaError | None:
    """botocore's failures to find credentials, as ours (None: not one of those)."""
    if isinstance(e, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return CredentialsError(
            f"{doing}: no AWS credentials found",
            hint="set AWS_PROFILE or pass --profile, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        )
    if isinstance(e, bx.ProfileNotFound):
        return CredentialsError(f"{doing}: {e}", hint=PROFILE_HINT)
    if isinstance(e, bx.InfiniteLoopConfigError):  # source_profiles in a loop: a profile we cannot serve
        return UsageError(f"{doing}: {e}: {LOOP}")
    if isinstance(e, bx.CredentialRetrievalError) and LOOP in str(e):
        # A credential_process that is sts-mfa, refusing to serve the profile again: its line, exit 2.
        return UsageError(f"{doing}: {str(e).split('sts-mfa: error: ', 1)[-1].strip()}")
    if isinstance(e, (bx.CredentialRetrievalError, bx.TokenRetrievalError, bx.SSOError)):
        return CredentialsError(f"{doing}: {e}")
    return None


def _reason(status: str) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(int(status)).phrase
    except ValueError:
        return ""


def _is_parser_error(e: BaseException) -> bool:
    from botocore.parsers import ResponseParserError

    return isinstance(e, ResponseParserError)


@contextmanager
def translate_errors(doing: str) -> Iterator[None]:
    from botocore.parsers import ResponseParserError

    try:
        yield
    except (bx.BotoCoreError, bx.ClientError, ResponseParserError) as e:
        raise translate(e, doing) from e
