"""Endpoint URLs: validated while parsing, compared in one normal form.

`--endpoint-url`, `AWS_ENDPOINT_URL` and the endpoint recorded in a state file
are all input. A malformed one must be a clear usage error, not botocore's
`ValueError` deep in a client constructor; and `http://h:p`, `http://h:p/` and
`HTTP://H:p` name the same endpoint, so they are compared after normalising
(scheme and host lower-case, default port and trailing slash dropped).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sts_mfa.errors import UsageError

MAX_URL_LENGTH = 2048


def shown(text: str, limit: int = 60) -> str:
    """`text` for an error message: repr'd, and cut to `limit` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text)} characters)"


def endpoint_problem(url: str) -> str | None:
    """Why `url` is not an endpoint URL sts-mfa can use, or None."""
    if not url:
        return "it is empty"
    if len(url) > MAX_URL_LENGTH:
        return f"it is {len(url)} characters long"
    if not url.isprintable() or any(c.isspace() for c in url):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as e:
        return str(e)
    if parts.scheme.lower() not in ("http", "https"):
        return "it must start with http:// or https://"
    if not parts.hostname:
        return "it has no host name"
    if parts.username is not None or parts.password is not None:
        return "it must not carry a user name or password"
    if parts.query or parts.fragment:
        return "it must not have a query (?...) or fragment (#...)"
    if port == 0:
        return "port 0 is not a port"
    return None


def normalize(url: str) -> str:
    """The one form an endpoint is stored and compared in; UsageError if it is not one."""
    problem = endpoint_problem(url)
    if problem is not None:
        raise UsageError(f"{shown(url)} is not an endpoint URL: {problem}")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    return f"{scheme}://{netloc}{path}"


def same(a: str | None, b: str | None) -> bool:
    """Whether two endpoints (None: AWS itself) are the same, whatever their spelling."""
    if a is None or b is None:
        return a is b
    if a == b:
        return True
    try:
        return normalize(a) == normalize(b)
    except UsageError:
        return False
