"""A local AWS endpoint for the MFA scenario: moto, plus the enforcement AWS applies.

    from sts_mfa.sandbox import Sandbox, Faults
    with Sandbox() as sb:
        boto3.client("sts", endpoint_url=sb.endpoint, region_name=sb.region, ...)

Importing this package is cheap and does not need moto: moto and flask are loaded by
`Sandbox.start()`, which raises `SandboxUnavailable` if they are missing. See
`sts_mfa.sandbox.http.enforcer` for what is enforced and why the seam is where it is.
"""

from sts_mfa.sandbox.http.records import RequestRecord
from sts_mfa.sandbox.rules.faults import Faults
from sts_mfa.sandbox.server import Sandbox, SandboxAccount, SandboxUnavailable

__all__ = ["Faults", "RequestRecord", "Sandbox", "SandboxAccount", "SandboxUnavailable"]
