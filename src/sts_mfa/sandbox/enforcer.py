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
* It only *reads* moto's models (through `sts_mfa.sandbox.motoview`, which lists
  every attribute it touches in `RELIED_ON`), so moto stays the single source of
  truth for state: every change still happens in moto's own request handlers.

Per request the middleware: refuses unsupported services and moto's control paths;
throttles (fault injection); authenticates (access key -> account, user or
assumed-role session, session token and expiry, SigV4 signature); authorizes with
`sts_mfa.sandbox.policy` (identity policies; for AssumeRole also the trust policy,
MFA/TOTP and AWS's same-/cross-account rules); applies AWS's entity-state checks
(DeleteConflict, EnableMFADevice codes, principals that must exist); then either
answers with an AWS-shaped error itself or passes the request on to moto, and
finally records what happened.

moto's backends are not thread-safe and the decisions here read several of them,
so one lock serializes every request through the middleware, moto call included.

What it relies on in moto 5.2.5 (pinned; `selftest` checks each on real objects):

* `moto.iam.models.iam_backends[account]["aws"]` (an `IAMBackend`): `.users`
  (name -> User), `.roles` (id -> Role), `.groups`, `.access_keys` (key id ->
  AccessKey, long-term and temporary alike; its account is the key's account),
  `.virtual_mfa_devices` (serial -> VirtualMfaDevice), `.managed_policies`,
  `.instance_profiles`.
* `User`: `.name .path .arn .account_id .id .access_keys .mfa_devices .policies
  .managed_policies .password` (login profile) `.signing_certificates
  .ssh_public_keys`. `AccessKey`: `.access_key_id .secret_access_key .status
  .user_name .role_arn`. `Role`: `.name .path .arn .account_id .id
  .assume_role_policy_document .policies .managed_policies .max_session_duration`.
  `Group`: `.name .arn .users .policies .managed_policies`. `ManagedPolicy`:
  `.arn .versions`; `PolicyVersion`: `.document .is_default`.
  `VirtualMfaDevice`: `.serial_number .base32_string_seed .user .enable_date`.
  `InstanceProfile`: `.name .roles`.
* `moto.sts.models.sts_backends[account]["aws"].assumed_roles` (list of
  `AssumedRole`: `.access_key_id .secret_access_key .session_token .role_arn
  .session_name .account_id`); `moto.s3.models.s3_backends.bucket_accounts`
  (bucket -> (partition, account)).
* Outside the request path: `moto.settings.INITIAL_NO_AUTH_ACTION_COUNT` (forced to
  infinity: moto's own checks off), `BackendDict.reset()` and
  `moto.core.model_instances.reset_model_data()` (isolation), and for the bootstrap
  `IAMBackend.create_user/put_user_policy/create_access_key` and
  `S3Backend.create_bucket`.
"""

from __future__ import annotations

import hmac
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import pyotp
from moto.iam.models import User

from sts_mfa.sandbox import awserrors, motoview
from sts_mfa.sandbox.awserrors import AwsFault, HttpResponse
from sts_mfa.sandbox.faults import Faults, FaultState
from sts_mfa.sandbox.policy import (
    Decision,
    Principal,
    Request,
    TrustDecision,
    evaluate,
    evaluate_trust,
    principal_values,
    statements,
)
from sts_mfa.sandbox.records import RequestRecord
from sts_mfa.sandbox.signing import signature_matches
from sts_mfa.sandbox.wire import WireRequest, parse, read_body

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Clock = Callable[[], float]

TOTP_STEP = 30
DEFAULT_SESSION_SECONDS = 3600
ROLE_CHAINING_LIMIT = 3600
SUPPORTED_STS = frozenset({"AssumeRole", "GetCallerIdentity", "GetAccessKeyInfo"})
# Actions that act on the calling user when UserName is omitted.
SELF_USER_ACTIONS = frozenset(
    {
        "GetUser",
        "CreateAccessKey",
        "ListAccessKeys",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "ListMFADevices",
        "ListSigningCertificates",
        "ListSSHPublicKeys",
        "ChangePassword",
    }
)
# AWS's parameter patterns; ASCII, as in AWS's API models (`\w` is [A-Za-z0-9_]).
_SESSION_NAME = re.compile(r"[\w+=,.@-]*", re.ASCII)
_SERIAL = re.compile(r"[\w+=/:,.@-]*", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]*", re.ASCII)
_DIGITS = re.compile(r"[0-9]*")


def _xml_value(body: bytes, tag: str) -> str | None:
    """The text of the first `<tag>` in a response body (enough for moto's flat XML)."""
    pattern = f"<{re.escape(tag)}>([^<]*)</{re.escape(tag)}>"
    match = re.search(pattern, body.decode("utf-8", "replace"))
    return match.group(1) if match else None


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


@dataclass
class Session:
    """What the sandbox remembers about an assumed-role session (moto keeps the keys)."""

    access_key_id: str
    account: str
    role_arn: str
    session_name: str
    expires_at: float
    mfa_at: float | None
    chained: bool


@dataclass(frozen=True)
class Caller:
    """An authenticated principal."""

    account: str
    arn: str
    access_key_id: str
    kind: str  # "user" | "session"
    user: User | None = None  # the moto User, for kind == "user"
    session: Session | None = None

    @property
    def principal(self) -> Principal:
        aliases = (self.session.role_arn,) if self.session else ()
        return Principal(arn=self.arn, account=self.account, aliases=aliases)

    @property
    def principal_arn(self) -> str:
        """aws:PrincipalArn: the role ARN for a session, the user ARN for a user."""
        return self.session.role_arn if self.session else self.arn


@dataclass
class _Pending:
    """What to record once moto has accepted the request."""

    enable_step: tuple[str, int] | None = None
    session: Session | None = None
    forget_device: str | None = None


@dataclass
class _Outcome:
    response: HttpResponse
    caller: Caller | None = None
    error_code: str | None = None


@dataclass
class EnforcerState:
    """Everything the sandbox knows that moto does not (all reset with moto)."""

    sessions: dict[str, Session] = field(default_factory=dict)
    key_created: dict[str, float] = field(default_factory=dict)
    user_created: dict[str, float] = field(default_factory=dict)
    role_created: dict[str, float] = field(default_factory=dict)
    last_step: dict[str, int] = field(default_factory=dict)
    log: list[RequestRecord] = field(default_factory=list)


class Enforcer:
    """The WSGI middleware. Construct with moto's app; serve it with werkzeug."""

    def __init__(
        self,
        moto_app: WsgiApp,
        *,
        clock: Clock,
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

    # --- WSGI entry ---------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith("/_sandbox"):
            response = self._control(environ, path)
        elif path.startswith("/moto-api") or path == "/favicon.ico":
            # moto's dashboard exposes every model (MFA seeds included) and can reset
            # or re-enable moto's auth: never reachable through the sandbox.
            response = _json_response(404, {"error": "not available through the sandbox"})
        else:
            with self.lock:
                response = self._serve(environ)
        start_response(response.status_line, response.headers)
        return [response.body]

    def _serve(self, environ: dict[str, Any]) -> HttpResponse:
        now = self._clock()
        try:
            request = parse(environ, self._region)
        except ValueError:  # e.g. a Content-Length that is not a number
            return _json_response(400, {"error": "malformed HTTP request"})
        environ.pop("HTTP_X_MOTO_ACCOUNT_ID", None)  # no choosing the account by header
        outcome = self._handle(request, environ, now)
        caller = outcome.caller
        self.state.log.append(
            RequestRecord(
                time=now,
                account=caller.account if caller else None,
                service=request.service,
                action=request.action,
                caller_arn=caller.arn if caller else None,
                status=outcome.response.status,
                error_code=outcome.error_code,
            )
        )
        return outcome.response

    def _handle(self, request: WireRequest, environ: dict[str, Any], now: float) -> _Outcome:
        caller: Caller | None = None
        try:
            self._check_supported(request)
            if self.fault_state.throttle_now():
                raise awserrors.throttled(request.service)
            caller = self._authenticate(request, now)
            pending = self._authorize(request, caller, now)
            return self._forward(request, environ, caller, now, pending)
        except AwsFault as fault:
            head = request.method == "HEAD"
            return _Outcome(awserrors.render(request.service, fault, head=head), caller, fault.code)
        except Exception as exc:  # a bug here must not look like an AWS refusal or kill the server
            failure = AwsFault(
                "InternalFailure", f"sandbox error: {type(exc).__name__}: {exc}", 500, sender=False
            )
            return _Outcome(awserrors.render(request.service, failure), caller, failure.code)

    def _check_supported(self, request: WireRequest) -> None:
        if request.service not in ("iam", "sts", "s3"):
            raise awserrors.unsupported(request.service, "")
        if request.service == "sts" and request.action not in SUPPORTED_STS:
            raise awserrors.unsupported("sts", request.action)

    # --- authentication -----------------------------------------------------------------------

    def _authenticate(self, request: WireRequest, now: float) -> Caller:
        service = request.service
        auth = request.auth
        if auth is None:
            raise awserrors.missing_authentication(service)
        found = motoview.find_access_key(auth.access_key_id)
        if found is None:
            raise awserrors.invalid_access_key(service)
        account, key = found
        if key.status != "Active":
            raise awserrors.invalid_access_key(service)
        created = self.state.key_created.get(auth.access_key_id)
        if created is not None and 0 <= now - created < self.fault_state.faults.key_delay:
            raise awserrors.invalid_access_key(service)  # not propagated yet
        token = request.header("x-amz-security-token")

        if key.role_arn is None:
            user = motoview.key_owner(account, key)
            if user is None:
                raise awserrors.invalid_access_key(service)
            if token is not None:
                raise awserrors.invalid_session_token(service)
            if not signature_matches(request, key.secret_access_key, None):
                raise awserrors.signature_mismatch(service)
            return Caller(account, user.arn, auth.access_key_id, "user", user=user)

        moto_session = motoview.assumed_role(account, auth.access_key_id)
        session = self.state.sessions.get(auth.access_key_id)
        if moto_session is None or session is None or token is None:
            raise awserrors.invalid_access_key(service)
        if not _same(token, moto_session.session_token):
            raise awserrors.invalid_session_token(service)
        if not signature_matches(request, moto_session.secret_access_key, token):
            raise awserrors.signature_mismatch(service)
        if now >= session.expires_at:
            raise awserrors.expired_token(service)
        role_name = session.role_arn.rsplit("/", 1)[-1]
        arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session.session_name}"
        return Caller(account, arn, auth.access_key_id, "session", session=session)

    # --- authorization ------------------------------------------------------------------------

    def _context(self, caller: Caller, request: WireRequest, now: float) -> dict[str, str]:
        """The request context keys AWS supplies for this caller."""
        context = {
            "aws:PrincipalArn": caller.principal_arn,
            "aws:PrincipalAccount": caller.account,
            "aws:PrincipalType": "User" if caller.kind == "user" else "AssumedRole",
            "aws:CurrentTime": _iso(now),
            "aws:EpochTime": str(int(now)),
            "aws:SecureTransport": "false",
            "aws:RequestedRegion": request.region,
        }
        if caller.user is not None:
            context["aws:username"] = caller.user.name
            context["aws:userid"] = caller.user.id
        if caller.session is not None:
            # Session credentials carry whether MFA was used to get them.
            mfa_at = caller.session.mfa_at
            context["aws:MultiFactorAuthPresent"] = "true" if mfa_at is not None else "false"
            if mfa_at is not None:
                context["aws:MultiFactorAuthAge"] = str(max(0, int(now - mfa_at)))
        return context

    def _identity_policies(self, caller: Caller) -> list[str]:
        if caller.user is not None:
            return motoview.user_policy_documents(caller.account, caller.user)
        assert caller.session is not None
        role = motoview.role_by_arn(caller.session.role_arn)
        return motoview.role_policy_documents(role) if role is not None else []

    def _require_identity(self, request: WireRequest, caller: Caller, resource: str, now: float) -> None:
        question = Request(request.iam_action, resource, self._context(caller, request, now))
        if evaluate(self._identity_policies(caller), question) is not Decision.ALLOW:
            raise awserrors.access_denied(request.service, caller.arn, request.iam_action, resource)

    def _authorize(self, request: WireRequest, caller: Caller, now: float) -> _Pending:
        if request.service == "sts":
            if request.action == "GetCallerIdentity":
                return _Pending()  # always allowed, even under an explicit Deny
            if request.action == "AssumeRole":
                return self._assume_role(request, caller, now)
            self._require_identity(request, caller, "*", now)
            return _Pending()
        if request.service == "s3":
            self._authorize_s3(request, caller, now)
            return _Pending()
        resource = self._iam_resource(request, caller)
        self._require_identity(request, caller, resource, now)
        return self._iam_entity_checks(request, caller, now)

    def _authorize_s3(self, request: WireRequest, caller: Caller, now: float) -> None:
        if request.bucket is None:
            # ListBuckets: S3 authorizes it against every bucket, so both "*" and AWS's
            # own documented "arn:aws:s3:::*" allow it (a single bucket's ARN does not).
            resource = "arn:aws:s3:::*"
        elif request.key is None:
            resource = f"arn:aws:s3:::{request.bucket}"
        else:
            resource = f"arn:aws:s3:::{request.bucket}/{request.key}"
        self._require_identity(request, caller, resource, now)
        if request.bucket is not None:
            owner = motoview.bucket_owner(request.bucket)
            # CreateBucket on a taken name gets moto's BucketAlreadyExists, as on AWS.
            if owner is not None and owner != caller.account and request.action != "CreateBucket":
                # Cross-account S3 needs a bucket policy; the sandbox evaluates none.
                raise awserrors.access_denied("s3", caller.arn, request.iam_action, resource)

    def _iam_resource(self, request: WireRequest, caller: Caller) -> str:
        """The ARN AWS authorizes an IAM call against (`*` where it is not easy to tell)."""
        params, account = request.params, caller.account
        path = params.get("Path", "/") or "/"
        if "UserName" in params:
            user = motoview.user_by_name(account, params["UserName"])
            return user.arn if user else f"arn:aws:iam::{account}:user{path}{params['UserName']}"
        if request.action in SELF_USER_ACTIONS and caller.user is not None:
            return str(caller.user.arn)
        if "RoleName" in params:
            role = motoview.role_by_name(account, params["RoleName"])
            return role.arn if role else f"arn:aws:iam::{account}:role{path}{params['RoleName']}"
        if "GroupName" in params:
            group = motoview.group_by_name(account, params["GroupName"])
            return group.arn if group else f"arn:aws:iam::{account}:group{path}{params['GroupName']}"
        if "PolicyArn" in params:
            return params["PolicyArn"]
        if "SerialNumber" in params:
            return params["SerialNumber"]
        if "VirtualMFADeviceName" in params:
            return f"arn:aws:iam::{account}:mfa{path}{params['VirtualMFADeviceName']}"
        if "InstanceProfileName" in params:
            name = params["InstanceProfileName"]
            return f"arn:aws:iam::{account}:instance-profile{path}{name}"
        listed = {"ListUsers": "user", "ListRoles": "role", "ListGroups": "group"}.get(request.action)
        if listed is not None:  # AWS names the path prefix: "...:user/" for all users
            return f"arn:aws:iam::{account}:{listed}{params.get('PathPrefix', '/') or '/'}"
        return "*"

    # --- IAM entity-state checks ---------------------------------------------------------------

    def _iam_entity_checks(self, request: WireRequest, caller: Caller, now: float) -> _Pending:
        action, params, account = request.action, request.params, caller.account
        if action == "DeleteUser":
            self._check_delete_user(account, params.get("UserName", ""))
        elif action == "DeleteRole":
            self._check_delete_role(account, params.get("RoleName", ""))
        elif action == "DeletePolicy":
            self._check_delete_policy(account, params.get("PolicyArn", ""))
        elif action == "DeleteGroup":
            self._check_delete_group(account, params.get("GroupName", ""))
        elif action == "DeleteInstanceProfile":
            if motoview.instance_profile_has_roles(account, params.get("InstanceProfileName", "")):
                raise awserrors.delete_conflict(
                    "Cannot delete entity, must remove roles from instance profile first."
                )
        elif action == "DeleteVirtualMFADevice":
            serial = params.get("SerialNumber", "")
            device = motoview.mfa_device(account, serial)
            if device is not None and motoview.device_in_use(device):
                raise awserrors.delete_conflict("MFA Device is still in use")
            return _Pending(forget_device=serial)
        elif action == "EnableMFADevice":
            return self._check_enable_mfa(account, params, now)
        elif action in ("CreateRole", "UpdateAssumeRolePolicy"):
            self._check_principals(
                params.get("AssumeRolePolicyDocument") or params.get("PolicyDocument", ""), now
            )
        return _Pending()

    def _check_delete_user(self, account: str, name: str) -> None:
        user = motoview.user_by_name(account, name)
        if user is None:
            return  # moto answers NoSuchEntity
        conflicts = [
            (motoview.user_has_login_profile(user), "must delete login profile first."),
            (bool(user.access_keys), "must delete access keys first."),
            (bool(user.signing_certificates), "must delete signing certificates first."),
            (bool(user.ssh_public_keys), "must delete SSH public keys first."),
            (bool(user.mfa_devices), "must delete MFA device first."),
            (bool(user.policies), "must delete policies first."),
            (bool(user.managed_policies), "must detach all policies first."),
            (bool(motoview.groups_of(account, user)), "must remove users from group first."),
        ]
        for present, what in conflicts:
            if present:
                raise awserrors.delete_conflict(f"Cannot delete entity, {what}")

    def _check_delete_role(self, account: str, name: str) -> None:
        role = motoview.role_by_name(account, name)
        if role is None:
            return
        if motoview.role_in_instance_profiles(account, role):
            raise awserrors.delete_conflict(
                "Cannot delete entity, must remove roles from instance profile first."
            )
        if role.policies:
            raise awserrors.delete_conflict("Cannot delete entity, must delete policies first.")
        if role.managed_policies:
            raise awserrors.delete_conflict("Cannot delete entity, must detach all policies first.")

    def _check_delete_group(self, account: str, name: str) -> None:
        group = motoview.group_by_name(account, name)
        if group is None:
            return
        if group.users:
            raise awserrors.delete_conflict("Cannot delete entity, must remove users from group first.")
        if group.policies:
            raise awserrors.delete_conflict("Cannot delete entity, must delete policies first.")
        if group.managed_policies:
            raise awserrors.delete_conflict("Cannot delete entity, must detach all policies first.")

    def _check_delete_policy(self, account: str, arn: str) -> None:
        policy = motoview.managed_policy(account, arn)
        if policy is None:
            return
        if motoview.policy_is_attached(account, arn):
            raise awserrors.delete_conflict("Cannot delete a policy attached to entities.")
        if len(policy.versions) > 1:
            raise awserrors.delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy."
            )

    def _check_enable_mfa(self, account: str, params: dict[str, str], now: float) -> _Pending:
        serial = params.get("SerialNumber", "")
        codes = (params.get("AuthenticationCode1", ""), params.get("AuthenticationCode2", ""))
        problems = [
            f"Value '{code}' at 'authenticationCode{i}' failed to satisfy constraint: {why}"
            for i, code in enumerate(codes, start=1)
            for why in _code_problems(code, "[\\d]+")
        ]
        if problems:
            raise awserrors.validation_error(problems)
        if motoview.user_by_name(account, params.get("UserName", "")) is None:
            return _Pending()  # moto answers NoSuchEntity for the user
        device = motoview.mfa_device(account, serial)
        if device is None:
            raise awserrors.no_such_entity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
        if motoview.device_in_use(device):
            raise awserrors.entity_already_exists("MFA Device is already in use.")
        totp = pyotp.TOTP(device.base32_string_seed)
        last = self.state.last_step.get(serial)
        current = math.floor(now / TOTP_STEP)
        for second in (current - 1, current, current + 1):
            if last is not None and second - 1 <= last:  # both codes must be unspent
                continue
            if _same(totp.generate_otp(second - 1), codes[0]) and _same(totp.generate_otp(second), codes[1]):
                return _Pending(enable_step=(serial, second))
        raise awserrors.invalid_authentication_code()

    def _check_principals(self, document: str, now: float) -> None:
        """AWS refuses a trust policy naming a principal that does not exist (yet)."""
        delay = self.fault_state.faults.principal_delay
        for statement in statements(document):
            for element in ("Principal", "NotPrincipal"):
                for value in principal_values(statement.get(element)):
                    if not self._principal_exists(value):
                        raise awserrors.invalid_principal(value)
                    created = self.state.user_created.get(value)
                    if created is not None and 0 <= now - created < delay:
                        raise awserrors.invalid_principal(value)

    def _principal_exists(self, value: str) -> bool:
        known = set(self._accounts) | set(motoview.known_accounts())
        if value == "*":
            return True
        if re.fullmatch(r"\d{12}", value):
            return value in known
        match = re.fullmatch(r"arn:aws:(iam|sts)::(\d{12}):(.+)", value)
        if match is None:
            return motoview.principal_id_exists(value)
        service, account, rest = match.groups()
        if account not in known:
            return False
        if service == "iam" and rest == "root":
            return True
        if service == "iam" and rest.startswith("user/"):
            return motoview.user_by_arn(value) is not None
        if service == "iam" and rest.startswith("role/"):
            return motoview.role_by_arn(value) is not None
        if service == "sts" and rest.startswith("assumed-role/"):
            parts = rest.split("/")
            return len(parts) == 3 and motoview.role_by_name(account, parts[1]) is not None
        return False

    # --- AssumeRole -----------------------------------------------------------------------------

    def _assume_role(self, request: WireRequest, caller: Caller, now: float) -> _Pending:
        params = request.params
        role_arn = params.get("RoleArn")
        duration_text = params.get("DurationSeconds")
        serial = params.get("SerialNumber")
        code = params.get("TokenCode")
        _validate_assume_role(params)
        duration = int(duration_text) if duration_text else DEFAULT_SESSION_SECONDS
        assert role_arn is not None

        # MFA first: a valid code is consumed even if the call is refused afterwards,
        # which is why every retry needs a fresh 30-second window.
        mfa_at: float | None = None
        if (serial is None) != (code is None):
            raise awserrors.mfa_failed(awserrors.MFA_BOTH_REQUIRED)
        if serial is not None and code is not None:
            self._verify_totp(caller, serial, code, now)
            mfa_at = now

        denied = awserrors.access_denied("sts", caller.arn, "sts:AssumeRole", role_arn)
        role = motoview.role_by_arn(role_arn)
        if role is None:
            raise denied
        created = self.state.role_created.get(role_arn)
        if created is not None and 0 <= now - created < self.fault_state.faults.role_delay:
            raise denied  # the new role has not propagated yet

        context = self._context(caller, request, now)
        for key in ("aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge"):
            context.pop(key, None)  # only this request's own MFA counts here
        if mfa_at is not None:
            context["aws:MultiFactorAuthPresent"] = "true"
            context["aws:MultiFactorAuthAge"] = "0"
        if params.get("ExternalId") is not None:
            context["sts:ExternalId"] = params["ExternalId"]
        context["sts:RoleSessionName"] = params.get("RoleSessionName", "")
        question = Request("sts:AssumeRole", role_arn, context, caller.principal)

        trust = evaluate_trust(motoview.role_trust_policy(role), question)
        identity = evaluate(self._identity_policies(caller), question)
        if trust is TrustDecision.DENY or identity is Decision.DENY:
            raise denied
        same_account = role.account_id == caller.account
        if same_account and trust is TrustDecision.ALLOW_PRINCIPAL:
            allowed = True
        else:
            trusted = trust in (TrustDecision.ALLOW_PRINCIPAL, TrustDecision.ALLOW_ACCOUNT)
            allowed = trusted and identity is Decision.ALLOW
        if not allowed:
            raise denied

        chained = caller.session is not None
        if chained and duration > ROLE_CHAINING_LIMIT:
            raise awserrors.validation_message(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining."
            )
        if duration > motoview.role_max_session(role):
            raise awserrors.validation_message(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        session = Session(
            access_key_id="",
            account=role.account_id,
            role_arn=role.arn,
            session_name=params.get("RoleSessionName", ""),
            expires_at=now + duration,
            mfa_at=mfa_at,
            chained=chained,
        )
        return _Pending(session=session)

    def _verify_totp(self, caller: Caller, serial: str, code: str, now: float) -> None:
        user = caller.user
        device = motoview.mfa_device(caller.account, serial) if user is not None else None
        if device is None or user is None or not motoview.device_enabled_for(device, user):
            raise awserrors.mfa_failed(awserrors.MFA_UNKNOWN_DEVICE)
        totp = pyotp.TOTP(device.base32_string_seed)
        last = self.state.last_step.get(serial)
        current = math.floor(now / TOTP_STEP)
        for step in (current - 1, current, current + 1):
            if last is not None and step <= last:
                continue  # a code already used (or older) is refused like a wrong one
            if _same(totp.generate_otp(step), code):
                self.state.last_step[serial] = step
                return
        raise awserrors.mfa_failed(awserrors.MFA_INVALID_CODE)

    # --- forwarding to moto ---------------------------------------------------------------------

    def _forward(
        self,
        request: WireRequest,
        environ: dict[str, Any],
        caller: Caller,
        now: float,
        pending: _Pending,
    ) -> _Outcome:
        fail = self.fault_state.next_mutation() if request.mutating else None
        if fail == "before":
            raise awserrors.injected(request.action, "before")
        response = self._call_moto(environ)
        if response.status < 300:
            response = self._after_success(request, now, pending, response)
        if fail == "after":
            raise awserrors.injected(request.action, "after")
        error_code = _xml_value(response.body, "Code") if response.status >= 300 else None
        if response.status >= 300 and error_code is None:
            error_code = str(response.status)
        return _Outcome(response, caller, error_code)

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

    def _after_success(
        self, request: WireRequest, now: float, pending: _Pending, response: HttpResponse
    ) -> HttpResponse:
        state, body, action = self.state, response.body, request.action
        if request.service == "iam":
            if action == "CreateAccessKey":
                key_id = _xml_value(body, "AccessKeyId")
                if key_id:
                    state.key_created[key_id] = now
            elif action == "CreateUser":
                arn = _xml_value(body, "Arn")
                if arn:
                    state.user_created[arn] = now
            elif action == "CreateRole":
                arn = _xml_value(body, "Arn")
                if arn:
                    state.role_created[arn] = now
            elif pending.enable_step is not None:
                serial, step = pending.enable_step
                state.last_step[serial] = step
            elif pending.forget_device is not None:
                state.last_step.pop(pending.forget_device, None)
            return response
        if request.service == "sts" and pending.session is not None:
            key_id = _xml_value(body, "AccessKeyId")
            if key_id:
                pending.session.access_key_id = key_id
                state.sessions[key_id] = pending.session
            # moto stamps the expiry with the real time; the sandbox's clock is the truth.
            text = re.sub(
                r"<Expiration>[^<]*</Expiration>",
                f"<Expiration>{_iso(pending.session.expires_at)}</Expiration>",
                body.decode("utf-8"),
            )
            return _replace_body(response, text.encode("utf-8"))
        return response

    # --- control API ----------------------------------------------------------------------------

    def _control(self, environ: dict[str, Any], path: str) -> HttpResponse:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if path == "/_sandbox/requests" and method == "GET":
            with self.lock:
                records = [record.to_json() for record in self.state.log]
            return _json_response(200, records)
        if path == "/_sandbox/requests" and method == "DELETE":
            with self.lock:
                self.state.log.clear()
            return _json_response(200, {"status": "ok"})
        if path == "/_sandbox/faults" and method == "GET":
            with self.lock:
                return _json_response(200, self.fault_state.faults.to_json())
        if path == "/_sandbox/faults" and method in ("POST", "PUT"):
            try:
                faults = Faults.from_json(json.loads(read_body(environ) or b"{}"))
            except ValueError as exc:
                return _json_response(400, {"error": str(exc)})
            self.install_faults(faults)
            return _json_response(200, faults.to_json())
        if path.startswith("/_sandbox/mfa-seed"):
            return _json_response(
                403, {"error": "MFA seeds are never exposed over HTTP; use Sandbox.mfa_seed()"}
            )
        return _json_response(404, {"error": f"no such sandbox endpoint: {method} {path}"})

    def install_faults(self, faults: Faults) -> None:
        with self.lock:
            self.fault_state = FaultState(faults)


# --- helpers ------------------------------------------------------------------------------------


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _code_problems(code: str, pattern: str) -> list[str]:
    problems = []
    if len(code) < 6:
        problems.append("Member must have length greater than or equal to 6")
    elif len(code) > 6:
        problems.append("Member must have length less than or equal to 6")
    if not _DIGITS.fullmatch(code):
        problems.append(f"Member must satisfy regular expression pattern: {pattern}")
    return problems


def _validate_assume_role(params: dict[str, str]) -> None:
    """AWS's parameter constraints for AssumeRole, reported the way AWS reports them."""
    problems: list[str] = []

    def null(name: str) -> None:
        problems.append(f"Value null at '{name}' failed to satisfy constraint: Member must not be null")

    def bad(value: str, name: str, why: str) -> None:
        problems.append(f"Value '{value}' at '{name}' failed to satisfy constraint: {why}")

    role_arn = params.get("RoleArn")
    if role_arn is None:
        null("roleArn")
    elif len(role_arn) < 20:
        bad(role_arn, "roleArn", "Member must have length greater than or equal to 20")
    name = params.get("RoleSessionName")
    if name is None:
        null("roleSessionName")
    else:
        if len(name) < 2:
            bad(name, "roleSessionName", "Member must have length greater than or equal to 2")
        if len(name) > 64:
            bad(name, "roleSessionName", "Member must have length less than or equal to 64")
        if not _SESSION_NAME.fullmatch(name):
            bad(name, "roleSessionName", "Member must satisfy regular expression pattern: [\\w+=,.@-]*")
    duration = params.get("DurationSeconds")
    if duration is not None:
        try:
            seconds = int(duration)
        except ValueError:
            seconds = None
            bad(duration, "durationSeconds", "Member must be an integer")
        if seconds is not None and seconds < 900:
            bad(duration, "durationSeconds", "Member must have value greater than or equal to 900")
        if seconds is not None and seconds > 43200:
            bad(duration, "durationSeconds", "Member must have value less than or equal to 43200")
    serial = params.get("SerialNumber")
    if serial is not None:
        if len(serial) < 9:
            bad(serial, "serialNumber", "Member must have length greater than or equal to 9")
        if len(serial) > 256:
            bad(serial, "serialNumber", "Member must have length less than or equal to 256")
        if not _SERIAL.fullmatch(serial):
            bad(serial, "serialNumber", "Member must satisfy regular expression pattern: [\\w+=/:,.@-]*")
    code = params.get("TokenCode")
    if code is not None:
        for why in _code_problems(code, "[\\d]*"):
            bad(code, "tokenCode", why)
    external = params.get("ExternalId")
    if external is not None:
        if len(external) < 2:
            bad(external, "externalId", "Member must have length greater than or equal to 2")
        if len(external) > 1224:
            bad(external, "externalId", "Member must have length less than or equal to 1224")
        if not _EXTERNAL_ID.fullmatch(external):
            bad(external, "externalId", "Member must satisfy regular expression pattern: [\\w+=,.@:/-]*")
    if problems:
        raise awserrors.validation_error(problems)


def _replace_body(response: HttpResponse, body: bytes) -> HttpResponse:
    headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    return HttpResponse(response.status, headers, body)


def _json_response(status: int, payload: object) -> HttpResponse:
    body = json.dumps(payload, indent=None).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return HttpResponse(status, headers, body)


def http_date(timestamp: float) -> str:
    """RFC 7231 IMF-fixdate, as AWS sends in its `Date` header."""
    return formatdate(timestamp, usegmt=True)
