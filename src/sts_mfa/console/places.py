"""Where a console sign-in goes: the federation endpoint, the console, the page to land on.

Everything here is input: `STS_MFA_FEDERATION_URL` and `STS_MFA_CONSOLE_URL` from the
environment, a region from a flag, a profile or a state file, `--destination` from the
command line. Each is checked before any session is obtained (a bad variable must not
cost an MFA code), and a refusal is a `UsageError` naming what was wrong.

Defaults, by the region's partition (as the AWS documentation for each partition names
its sign-in and console hosts):

| partition | federation endpoint | console |
|---|---|---|
| aws | `https://signin.aws.amazon.com/federation` | `https://console.aws.amazon.com` |
| aws-cn (`cn-*`) | `https://signin.amazonaws.cn/federation` | `https://console.amazonaws.cn` |
| aws-us-gov (`us-gov-*`) | `https://signin.amazonaws-us-gov.com/federation` |
  `https://console.amazonaws-us-gov.com` |

The isolated partitions (`us-iso*`, `eu-isoe-*`) and the European Sovereign Cloud
(`eusc-*`) have no public federation endpoint sts-mfa knows: there both variables are
required. The default page is the console home of the region
(`CONSOLE/console/home?region=R`); a service name gives `CONSOLE/SERVICE/home?region=R`.

The federation endpoint receives the role's secret key and session token, so it must be
`https://`, or `http://` to a loopback address only (the rule botocore applies to the
container credentials endpoint): credentials never cross a network unencrypted.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlencode, urlsplit

from sts_mfa.aws.endpoints import endpoint_problem, normalize, shown
from sts_mfa.errors import UsageError

FEDERATION_ENV = "STS_MFA_FEDERATION_URL"
CONSOLE_ENV = "STS_MFA_CONSOLE_URL"
DEFAULT_REGION = "us-east-1"
MAX_DESTINATION_LENGTH = 2048

# region prefix -> (federation endpoint, console), longest prefix first; "" is the aws partition.
_PARTITIONS: tuple[tuple[str, str, str], ...] = (
    ("us-gov-", "https://signin.amazonaws-us-gov.com/federation", "https://console.amazonaws-us-gov.com"),
    ("cn-", "https://signin.amazonaws.cn/federation", "https://console.amazonaws.cn"),
    ("", "https://signin.aws.amazon.com/federation", "https://console.aws.amazon.com"),
)
_NO_PUBLIC_ENDPOINT = ("us-iso", "eu-iso", "eusc-")
_REGION = re.compile(r"[a-z]{2,5}(-[a-z]+)+-[0-9]{1,2}")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A host name read the same way by Python and by a browser: ASCII letters, digits, `-`, `_`, dots.
# (`evil.example\.console.aws.amazon.com` is a subdomain of the console to urlsplit, and
# evil.example to a browser, which reads the backslash as a slash; `%2f`, IDN likewise.)
_HOST = re.compile(r"[a-z0-9_]([a-z0-9_-]*)(\.[a-z0-9_]([a-z0-9_-]*))*")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class Places:
    """The federation endpoint and the console's base URL (no trailing slash), both checked."""

    federation: str
    console: str


def check_region(region: str) -> str:
    """`region` if it looks like an AWS region name (it goes into URLs), else a UsageError."""
    if not _REGION.fullmatch(region):
        raise UsageError(f"{shown(region)} is not an AWS region name (like us-east-1)")
    return region


def places(environ: Mapping[str, str], region: str) -> Places:
    """The endpoints for `region`: the variables when set (empty counts as unset), else the partition's."""
    check_region(region)
    federation = (environ.get(FEDERATION_ENV) or "").strip()
    console = (environ.get(CONSOLE_ENV) or "").strip()
    if not (federation and console):
        if region.startswith(_NO_PUBLIC_ENDPOINT):
            raise UsageError(
                f"sts-mfa knows no public console sign-in for region {region}: "
                f"set {FEDERATION_ENV} and {CONSOLE_ENV} to your partition's"
            )
        _, default_federation, default_console = next(p for p in _PARTITIONS if region.startswith(p[0]))
        federation = federation or default_federation
        console = console or default_console
    return Places(_checked(federation, FEDERATION_ENV), _checked(console, CONSOLE_ENV))


def _checked(url: str, name: str) -> str:
    problem = endpoint_problem(url)
    if problem is not None:
        raise UsageError(f"{name}: {shown(url)} is not a URL sts-mfa can use: {problem}")
    normal = normalize(url)
    parts = urlsplit(normal)
    host = parts.hostname or ""
    if not (_HOST.fullmatch(host) or _is_address(host)):
        raise UsageError(
            f"{name}: {shown(url)} is not a URL sts-mfa can use: its host name is not plain ASCII "
            "letters, digits, dashes and dots, nor an IP address (a browser could read it as another host)"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        raise UsageError(
            f"{name}: {shown(url)} is plain http to a host that is not this machine: the role's "
            "credentials would cross the network unencrypted; use https:// (http:// only for a "
            "loopback address, such as the sandbox's)"
        )
    return normal


def check_session_endpoint(where: Places, endpoint: str | None) -> None:
    """A plain-http federation endpoint (on this machine: a sandbox's) exchanges only a session
    of an endpoint on this machine too (None: AWS itself), else a UsageError.

    A stale STS_MFA_FEDERATION_URL, left by a sandbox since stopped, must not receive an AWS
    role session's secret key and token: any user of the machine can listen on that port now."""
    if urlsplit(where.federation).scheme != "http":
        return
    if endpoint is None or not is_loopback(urlsplit(endpoint).hostname or ""):
        source = "AWS's" if endpoint is None else f"from {shown(endpoint)}"
        raise UsageError(
            f"{FEDERATION_ENV} {where.federation} is plain http on this machine (a sandbox's?), but "
            f"the role session is {source}: "
            "its secret key and token would go to whatever listens on that port now; unset "
            f"{FEDERATION_ENV} and {CONSOLE_ENV}, or use the sandbox's endpoint"
        )


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost (a name that resolves elsewhere is its resolver's problem)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def destination(where: Places, region: str, wanted: str | None) -> str:
    """The console page to land on: `wanted` (a URL of the console, or a service name), else its home."""
    if wanted is None or wanted == "":
        return f"{where.console}/console/home?{urlencode({'region': region})}"
    if "://" not in wanted:
        if not _SERVICE.fullmatch(wanted):
            raise UsageError(
                f"--destination {shown(wanted)} is neither a console URL nor a service name "
                "(lower-case letters, digits and dashes, like s3 or cloudwatch)"
            )
        return f"{where.console}/{wanted}/home?{urlencode({'region': region})}"
    return _console_page(where.console, wanted)


def _console_page(console: str, url: str) -> str:
    """`url` if it is a page of `console` (its host, or a region's subdomain of it), else a UsageError."""
    if (
        len(url) > MAX_DESTINATION_LENGTH
        or not url.isprintable()
        or any(c.isspace() for c in url)
        or "\\" in url
    ):
        raise UsageError(
            f"--destination {shown(url)}: too long, or it contains spaces, backslashes or control characters"
        )
    try:
        parts, base = urlsplit(url), urlsplit(console)
        port, base_port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower()), base.port
    except ValueError as e:
        raise UsageError(f"--destination {shown(url)} is not a URL: {e}") from None
    host, base_host = (parts.hostname or "").lower(), (base.hostname or "").lower()
    same_site = parts.scheme.lower() == base.scheme and port == (base_port or _DEFAULT_PORTS[base.scheme])
    subdomain = host.removesuffix("." + base_host) if host.endswith("." + base_host) else ""
    on_host = host == base_host or (bool(_LABEL.fullmatch(subdomain)) and not is_loopback(base_host))
    # under the console's path, once a browser has undone `..` (percent-encoded too)
    climbs = any(segment in (".", "..") for segment in unquote(parts.path).split("/"))
    under = (parts.path + "/").startswith(base.path + "/") and not climbs
    if not (same_site and on_host and under) or parts.username is not None or parts.password is not None:
        raise UsageError(
            f"--destination {shown(url)} is not a page of the console {console}: the sign-in "
            f"lands on the console only (set {CONSOLE_ENV} for another console)"
        )
    return url
