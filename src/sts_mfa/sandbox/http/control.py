"""The sandbox's own HTTP endpoints, under `/_sandbox/` (never forwarded to moto).

* `GET /_sandbox/requests`: the request log as JSON (`RequestRecord.to_json`);
  `DELETE` clears it.
* `GET /_sandbox/faults`: the live `Faults` as JSON; `POST`/`PUT` installs new ones
  (unknown fields are a 400), which also restarts the mutating-call count.
* `/_sandbox/mfa-seed...`: always 403. MFA seeds are available in-process only
  (`Sandbox.mfa_seed`), never over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from sts_mfa.sandbox.http.errors import HttpResponse
from sts_mfa.sandbox.http.wire import read_body
from sts_mfa.sandbox.rules.bookkeeping import EnforcerState
from sts_mfa.sandbox.rules.faults import Faults, FaultState


class Enforcer(Protocol):
    """What these endpoints need of the enforcer (which calls them: it is not imported here)."""

    @property
    def lock(self) -> AbstractContextManager[Any, Any]: ...

    state: EnforcerState
    fault_state: FaultState

    def install_faults(self, faults: Faults) -> None: ...


Endpoint = Callable[[Enforcer, dict[str, Any]], HttpResponse]


def json_response(status: int, payload: object) -> HttpResponse:
    body = json.dumps(payload, indent=None).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return HttpResponse(status, headers, body)


def handle(enforcer: Enforcer, environ: dict[str, Any], path: str) -> HttpResponse:
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    endpoint = ENDPOINTS.get((method, path))
    if endpoint is not None:
        return endpoint(enforcer, environ)
    if path.startswith("/_sandbox/mfa-seed"):
        return json_response(403, {"error": "MFA seeds are never exposed over HTTP; use Sandbox.mfa_seed()"})
    return json_response(404, {"error": f"no such sandbox endpoint: {method} {path}"})


def _list_requests(enforcer: Enforcer, environ: dict[str, Any]) -> HttpResponse:
    with enforcer.lock:
        records = [record.to_json() for record in enforcer.state.log]
    return json_response(200, records)


def _clear_requests(enforcer: Enforcer, environ: dict[str, Any]) -> HttpResponse:
    with enforcer.lock:
        enforcer.state.log.clear()
    return json_response(200, {"status": "ok"})


def _get_faults(enforcer: Enforcer, environ: dict[str, Any]) -> HttpResponse:
    with enforcer.lock:
        return json_response(200, enforcer.fault_state.faults.to_json())


def _set_faults(enforcer: Enforcer, environ: dict[str, Any]) -> HttpResponse:
    try:
        faults = Faults.from_json(json.loads(read_body(environ) or b"{}"))
    except ValueError as exc:
        return json_response(400, {"error": str(exc)})
    enforcer.install_faults(faults)
    return json_response(200, faults.to_json())


# (method, path) -> endpoint
ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("GET", "/_sandbox/requests"): _list_requests,
    ("DELETE", "/_sandbox/requests"): _clear_requests,
    ("GET", "/_sandbox/faults"): _get_faults,
    ("POST", "/_sandbox/faults"): _set_faults,
    ("PUT", "/_sandbox/faults"): _set_faults,
}
