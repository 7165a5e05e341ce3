"""The enforcement middleware: AWS's checks, in front of moto's WSGI app.

Why a WSGI middleware in front of moto's own server app
(`DomainDispatcherApplication(create_backend_app)`), rather than patching moto or
turning on its IAM checks:

* It sees exactly what AWS's front door sees: the HTTP request as signed by the
  client (SigV4 header, Query-protocol form or S3 REST path). Whatever a tool does
  wrong on the wire, the sandbox sees it the way AWS would.
* It is independent of moto's evaluator internals (`moto/iam/access_control.py`,
  `policy_conditions.py`), which are where moto is looser than AWS; those stay
  switched off (moto's no-auth request count is forced to infinity while a
  sandbox runs).
* It only *reads* moto's models (looked up through `sts_mfa.sandbox.seam.motoview`), so moto stays
  the single source of truth for state: every change still happens in moto's own
  request handlers.

The pipeline, one request at a time (`Enforcer.__call__`, `_serve`, `_handle`):

1. route: `/_sandbox/...` to the control endpoints (`control`); moto's own control
   paths (`/moto-api`, its dashboard) are never reachable; anything else is an
   AWS request, parsed by `wire`;
2. `_refuse_unsupported`: services other than IAM, STS, S3 and Organizations, and
   STS actions other than those of `sts_rules.STS_RULES` (Organizations' own rules
   refuse the actions they do not serve);
3. `_throttle`: fault injection (`Faults.throttle_rate`);
4. `authenticate` (`authentication`): access key -> account, user or session;
5. `_authorize`: what AWS refuses the credentials outright (a GetSessionToken
   session's limits, `Caller.refusal`), then by service (`AUTHORIZERS`:
   `iam_rules`, `sts_rules`, `s3_rules`, `organizations.rules`): identity policies with the request
   context of `authorization`, and AWS's own rules for the action (AssumeRole's
   MFA and trust, IAM's entity state);
6. `_forward` to moto (with the injected `Faults.fail` failures around it) and,
   after success, remember what moto does not (`bookkeeping.record_success`). A
   caller whose key moto does not know (a GetSessionToken session: the sandbox
   issued it) is presented to moto as its user (`_present_to_moto`);
7. record the request in the log (`bookkeeping.log_record`).

Any refusal is answered in AWS's own shape (`awserrors`) without reaching moto.

moto's backends are not thread-safe and the decisions here read several of them,
so one lock serializes every request through the middleware, moto call included.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlencode

from sts_mfa.sandbox.http import control
from sts_mfa.sandbox.http import errors as awserrors
from sts_mfa.sandbox.http.errors import AwsFault, HttpResponse
from sts_mfa.sandbox.http.wire import WireRequest, parse
from sts_mfa.sandbox.iam import rules as iam_rules
from sts_mfa.sandbox.organizations import rules as organizations_rules
from sts_mfa.sandbox.rules.authentication import authenticate
from sts_mfa.sandbox.rules.authorization import Call, require_allowed_caller
from sts_mfa.sandbox.rules.bookkeeping import (
    AfterSuccess,
    EnforcerState,
    log_record,
    moto_error_code,
    record_success,
)
from sts_mfa.sandbox.rules.callers import Caller, UserSessionCaller
from sts_mfa.sandbox.rules.faults import Faults, FaultState
from sts_mfa.sandbox.s3 import rules as s3_rules
from sts_mfa.sandbox.sts import rules as sts_rules

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
TimeSource = Callable[[], float]  # the sandbox clock: seconds since the epoch

# The services served, and how each authorizes a request.
AUTHORIZERS: dict[str, Callable[[Call], AfterSuccess]] = {
    "iam": iam_rules.authorize,
    "sts": sts_rules.authorize,
    "s3": s3_rules.authorize,
    "organizations": organizations_rules.authorize,
}


@dataclass
class _Outcome:
    response: HttpResponse
    caller: Caller | None = None
    error_code: str | None = None


class Enforcer:
    """The WSGI middleware. Construct with moto's app; serve it with werkzeug."""

    def __init__(
        self,
        moto_app: WsgiApp,
        *,
        clock: TimeSource,
        region: str,
        accounts: Iterable[str],
        faults: Faults,
    ) -> None:
        self._moto = moto_app
        self._clock = clock
        self._region = region
        self._accounts = tuple(accounts)
        self.lock = threading.RLock()
        self.state = EnforcerState()
        self.fault_state = FaultState(faults)

    def install_faults(self, faults: Faults) -> None:
        with self.lock:
            self.fault_state = FaultState(faults)

    # --- route, then the pipeline -----------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith("/_sandbox"):
            response = control.handle(self, environ, path)
        elif path.startswith("/moto-api") or path == "/favicon.ico":
            # moto's dashboard exposes every model (MFA seeds included) and can reset
            # or re-enable moto's auth: never reachable through the sandbox.
            response = control.json_response(404, {"error": "not available through the sandbox"})
        else:
            latency = self.fault_state.faults.latency
            if latency > 0:
                time.sleep(latency)  # the round trip, outside the lock: requests overlap as on AWS
            with self.lock:
                response = self._serve(environ)
        start_response(response.status_line, response.headers)
        return [response.body]

    def _serve(self, environ: dict[str, Any]) -> HttpResponse:
        now = self._clock()
        try:
            request = parse(environ, self._region)
        except ValueError:  # e.g. a Content-Length that is not a number
            return control.json_response(400, {"error": "malformed HTTP request"})
        environ.pop("HTTP_X_MOTO_ACCOUNT_ID", None)  # no choosing the account by header
        outcome = self._handle(request, environ, now)
        self.state.log.append(log_record(request, outcome.caller, now, outcome.response, outcome.error_code))
        return outcome.response

    def _handle(self, request: WireRequest, environ: dict[str, Any], now: float) -> _Outcome:
        caller: Caller | None = None
        try:
            _refuse_unsupported(request)
            self._throttle(request)
            caller = authenticate(request, now, self.state, self.fault_state.faults)
            after = self._authorize(request, caller, now)
            return self._forward(request, environ, caller, now, after)
        except AwsFault as fault:
            head = request.method == "HEAD"
            return _Outcome(awserrors.render(request.service, fault, head=head), caller, fault.code)
        except Exception as exc:  # a bug here must not look like an AWS refusal or kill the server
            failure = AwsFault(
                "InternalFailure", f"sandbox error: {type(exc).__name__}: {exc}", 500, sender=False
            )
            return _Outcome(awserrors.render(request.service, failure), caller, failure.code)

    def _throttle(self, request: WireRequest) -> None:
        if self.fault_state.throttle_now():
            raise awserrors.throttled(request.service)

    def _authorize(self, request: WireRequest, caller: Caller, now: float) -> AfterSuccess:
        call = Call(request, caller, now, self.state, self.fault_state.faults, self._accounts)
        require_allowed_caller(call)
        return AUTHORIZERS[request.service](call)

    # --- forward to moto, remember what succeeded ------------------------------------------------

    def _forward(
        self, request: WireRequest, environ: dict[str, Any], caller: Caller, now: float, after: AfterSuccess
    ) -> _Outcome:
        if after.answer is not None:  # a read the rule answered from moto's models itself
            return _Outcome(after.answer, caller)
        fail = self.fault_state.next_mutation() if request.mutating else None
        if fail == "before":
            raise awserrors.injected(request.action, "before")
        _present_to_moto(environ, request, caller)
        response = self._call_moto(environ)
        if response.status < 300:
            response = record_success(self.state, request, now, after, response)
        if fail == "after":
            raise awserrors.injected(request.action, "after")
        return _Outcome(response, caller, moto_error_code(response))

    def _call_moto(self, environ: dict[str, Any]) -> HttpResponse:
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        try:
            iterable = self._moto(environ, start_response)
            try:
                body = b"".join(iterable)
            finally:
                close = getattr(iterable, "close", None)
                if close is not None:
                    close()
        except Exception as exc:  # moto crashed: answer like AWS's 500, keep serving
            raise AwsFault(
                "InternalFailure", f"moto failed: {type(exc).__name__}: {exc}", 500, sender=False
            ) from exc
        status = int(str(captured["status"]).split(" ", 1)[0])
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "date"]
        return HttpResponse(status, headers, body)


def _refuse_unsupported(request: WireRequest) -> None:
    if request.service not in AUTHORIZERS:
        raise awserrors.unsupported(request.service, "")
    if request.service == "sts" and request.action not in sts_rules.STS_RULES:
        raise awserrors.unsupported("sts", request.action)


def _present_to_moto(environ: dict[str, Any], request: WireRequest, caller: Caller) -> None:
    """moto knows a caller by its access key. For a key it does not know (one the
    sandbox issued for GetSessionToken) it would act in its default account as a
    "default_user": name the account (moto's own X-Moto-Account-Id, which clients
    cannot send) and, for IAM calls that default to the calling user, the user."""
    if not isinstance(caller, UserSessionCaller):
        return
    environ["HTTP_X_MOTO_ACCOUNT_ID"] = caller.account
    if request.service != "iam" or request.action not in iam_rules.SELF_USER_ACTIONS:
        return
    if "UserName" in request.params:
        return
    extra = urlencode({"UserName": caller.user.name})
    query = str(environ.get("QUERY_STRING", ""))
    if "Action" in parse_qs(query):  # a Query-protocol GET: the parameters are in the URL
        environ["QUERY_STRING"] = f"{query}&{extra}"
    else:
        body = request.body + (b"&" if request.body else b"") + extra.encode()
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))


def http_date(timestamp: float) -> str:
    """RFC 7231 IMF-fixdate, as AWS sends in its `Date` header."""
    return formatdate(timestamp, usegmt=True)
