"""`Sandbox`: a local AWS endpoint that refuses what AWS refuses.

moto serves IAM, STS and S3 faithfully enough to create things, but enforces almost
nothing (AssumeRole without MFA succeeds, any TOTP code is accepted, users delete
with their keys still attached). A tool that demonstrates "this role can only be
assumed with MFA" must be tested against something that fails when the tool is
wrong, so the sandbox serves moto's own WSGI app behind
`sts_mfa.sandbox.http.enforcer.Enforcer`, which applies AWS's checks first.

It runs werkzeug's threaded server on 127.0.0.1 in a daemon thread, like
`moto.server.ThreadedMotoServer`, with moto's own IAM auth forced off. moto's state
is process-global, so only one Sandbox may run per process, and starting (and
stopping) one wipes moto's state.

moto and flask are imported lazily, in `start()`: importing this module costs
nothing and works without the `sandbox` extra installed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sts_mfa.sandbox.http.records import RequestRecord
from sts_mfa.sandbox.rules.faults import Faults

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

    from sts_mfa.sandbox.http.enforcer import Enforcer

INSTALL_HINT = "the embedded sandbox needs the 'sandbox' extra: pip install 'sts-mfa[sandbox]'"
ADMIN_USER = "sandbox-admin"
ADMIN_PATH = "/sandbox/"
DEFAULT_ACCOUNTS = ("111111111111", "222222222222")

# Environment the sandbox sets while it runs (restored on stop): nothing in moto or
# botocore may reach for the network, and nothing may pin every request to one
# account (MOTO_ACCOUNT_ID would override the account each access key belongs to).
_ENV_SET = {"AWS_EC2_METADATA_DISABLED": "true"}
_ENV_REMOVE = ("MOTO_ACCOUNT_ID",)

_active_lock = threading.Lock()
_active: Sandbox | None = None


class SandboxUnavailable(Exception):
    """moto/flask are not installed: the `sandbox` extra is missing."""


@dataclass(frozen=True)
class SandboxAccount:
    """An admin identity (IAM user `sandbox-admin`, path `/sandbox/`, allowed `*`)."""

    account_id: str
    access_key_id: str
    secret_access_key: str
    arn: str


def _load_moto() -> None:
    """Import the server half of moto, or explain in one line what to install."""
    try:
        import flask  # noqa: F401
        import moto.moto_server.werkzeug_app  # noqa: F401
    except ImportError as exc:
        raise SandboxUnavailable(INSTALL_HINT) from exc


class Sandbox:
    """A strict local AWS endpoint. See the module docstring.

    `accounts[0]` is the identity account and `accounts[1]` the resource account in
    cross-account scenarios; each gets an admin identity and, for each name in
    `sample_buckets`, a bucket named `NAME-ACCOUNTID` (bucket names are global).
    `clock` drives TOTP windows, fault delays, session expiry, MFA age and the HTTP
    `Date` header, so tests can move time instead of waiting for it.
    """

    def __init__(
        self,
        port: int = 0,
        region: str = "us-east-1",
        accounts: Sequence[str] = DEFAULT_ACCOUNTS,
        clock: Callable[[], float] = time.time,
        faults: Faults | None = None,
        sample_buckets: Sequence[str] = ("reports", "logs"),
        host: str = "127.0.0.1",
    ) -> None:
        account_ids = tuple(accounts)
        if not account_ids:
            raise ValueError("a Sandbox needs at least one account")
        for account in account_ids:
            if len(account) != 12 or not account.isdigit():
                raise ValueError(f"account IDs are 12 digits, got {account!r}")
        if len(set(account_ids)) != len(account_ids):
            raise ValueError("account IDs must be distinct")
        self.region = region
        self._port = port
        self._host = host
        self._account_ids = account_ids
        self._clock = clock
        self._faults = faults if faults is not None else Faults()
        self._sample_buckets = tuple(sample_buckets)
        self._accounts: list[SandboxAccount] = []
        self._enforcer: Enforcer | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._saved_env: dict[str, str | None] = {}
        self._saved_auth_count: float | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Sandbox:
        global _active  # noqa: PLW0603 - one sandbox per process, by design
        if self._server is not None:
            raise RuntimeError("this Sandbox is already running")
        _load_moto()
        with _active_lock:
            if _active is not None:
                raise RuntimeError(
                    "another Sandbox is already running in this process; moto's state is "
                    "process-global, so only one may run at a time"
                )
            _active = self
        try:
            self._start()
        except BaseException:
            self._restore()
            with _active_lock:
                _active = None
            raise
        return self

    def _start(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        from sts_mfa.sandbox.http.enforcer import Enforcer
        from sts_mfa.sandbox.seam import motoview, structure

        problems = structure.structural_problems()
        if problems:
            raise RuntimeError(
                "moto has moved under the sandbox (it reads moto's models and is pinned to "
                f"moto {structure.PINNED_MOTO}): " + "; ".join(problems)
            )
        for name, value in _ENV_SET.items():
            self._saved_env[name] = os.environ.get(name)
            os.environ[name] = value
        for name in _ENV_REMOVE:
            self._saved_env[name] = os.environ.pop(name, None)
        self._saved_auth_count = motoview.moto_auth_count()
        motoview.set_moto_auth_count(float("inf"))

        moto_app = DomainDispatcherApplication(create_backend_app)
        self._enforcer = Enforcer(
            moto_app,
            clock=self._clock,
            region=self.region,
            accounts=self._account_ids,
            faults=self._faults,
        )
        self._bootstrap()
        from sts_mfa.sandbox.federation.endpoint import Federation  # console sign-in, in front of the rest

        server = make_server(
            self._host,
            self._port,
            Federation(self._enforcer, self._clock),
            threaded=True,
            request_handler=_handler_class(self._clock),
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so that stop() returns promptly
            name="sts-mfa-sandbox",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        global _active  # noqa: PLW0603 - one sandbox per process, by design
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        self._server = self._thread = None
        from sts_mfa.sandbox.seam import motoview

        motoview.reset_everything()  # leave nothing behind for the next user of moto
        self._restore()
        with _active_lock:
            if _active is self:
                _active = None

    def _restore(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        if self._saved_auth_count is not None:
            from sts_mfa.sandbox.seam import motoview

            motoview.set_moto_auth_count(self._saved_auth_count)
            self._saved_auth_count = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Wipe moto and the sandbox's own memory, re-create the admin identities (new
        keys: read `accounts` again) and sample buckets, switch faults off and clear
        the log. Much cheaper than a restart; the endpoint stays the same."""
        enforcer = self._require_enforcer()
        with enforcer.lock:
            self._faults = Faults()
            enforcer.install_faults(self._faults)
            self._bootstrap()

    def _bootstrap(self) -> None:
        """Reset moto, then create admin identities and buckets through moto's backends."""
        from sts_mfa.sandbox.rules.bookkeeping import EnforcerState
        from sts_mfa.sandbox.seam import motoview

        enforcer = self._require_enforcer()
        with enforcer.lock:
            motoview.reset_everything()
            enforcer.state = EnforcerState()
            accounts = []
            for account in self._account_ids:
                key_id, secret, arn = motoview.create_admin(account, self.region, ADMIN_USER, ADMIN_PATH)
                accounts.append(SandboxAccount(account, key_id, secret, arn))
                for name in self._sample_buckets:
                    motoview.create_bucket(account, f"{name}-{account}", self.region)
            self._accounts = accounts

    # --- what clients need --------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("the Sandbox is not running: call start() first")
        return f"http://{self._host}:{self._server.server_port}"

    @property
    def accounts(self) -> list[SandboxAccount]:
        return list(self._accounts)

    def env(self, index: int = 0) -> dict[str, str]:
        """Environment for a program (the AWS CLI, the tool) to act as admin `index`."""
        account = self._accounts[index]
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": account.access_key_id,
            "AWS_SECRET_ACCESS_KEY": account.secret_access_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    # --- faults -------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The live Faults: changing a field takes effect on the next request."""
        if self._enforcer is not None:
            return self._enforcer.fault_state.faults
        return self._faults

    def set_faults(self, faults: Faults) -> None:
        """Install `faults`, which also restarts the mutating-call count and the PRNG."""
        self._faults = faults
        if self._enforcer is not None:
            self._enforcer.install_faults(faults)

    # --- request log --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        enforcer = self._require_enforcer()
        with enforcer.lock:
            return list(enforcer.state.log)

    def count(self, action: str, status: int | None = None) -> int:
        """How many `action` requests were answered (with HTTP `status`, if given)."""
        return sum(
            1
            for record in self.requests
            if record.action == action and (status is None or record.status == status)
        )

    def reset_log(self) -> None:
        enforcer = self._require_enforcer()
        with enforcer.lock:
            enforcer.state.log.clear()

    # --- MFA (a phone's view) -----------------------------------------------------------------

    def mfa_seed(self, serial: str) -> str:
        """The base32 seed of a virtual MFA device, for tests standing in for a phone.
        In-process only: the HTTP control API never exposes seeds."""
        from sts_mfa.sandbox.seam import motoview

        enforcer = self._require_enforcer()
        with enforcer.lock:
            device = motoview.find_mfa_device(serial)
            if device is None:
                raise KeyError(f"no virtual MFA device {serial}")
            return str(device.base32_string_seed)

    def last_accepted_step(self, serial: str) -> int | None:
        """The last TOTP time-step (floor(t/30)) accepted for the device, if any."""
        enforcer = self._require_enforcer()
        with enforcer.lock:
            return enforcer.state.last_step.get(serial)

    def _require_enforcer(self) -> Enforcer:
        if self._enforcer is None:
            raise RuntimeError("the Sandbox has not been started")
        return self._enforcer

    def __repr__(self) -> str:
        where = self.endpoint if self._server is not None else "stopped"
        return f"Sandbox({where}, accounts={list(self._account_ids)})"


def _handler_class(clock: Callable[[], float]) -> Any:
    """moto's request handler, with the `Date` header taken from the sandbox clock
    (so a client can detect skew against it) and the per-request access log muted."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    from sts_mfa.sandbox.http.enforcer import http_date

    class SandboxRequestHandler(MotoRequestHandler):
        def date_time_string(self, timestamp: float | None = None) -> str:
            return http_date(clock())

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    return SandboxRequestHandler
