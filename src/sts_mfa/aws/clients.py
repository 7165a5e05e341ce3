"""The one place boto3 sessions and clients are made.

Everything that talks to AWS gets its clients from an `Aws` object: the admin
side (the configured profile/credentials), and clients built from explicit
keys (the demo user's access key, the role session). Each client gets:

- the profile, region and endpoint from the command line (boto3 reads
  `AWS_ENDPOINT_URL` itself when no `--endpoint-url` is given);
- a retry policy assembled from botocore's own standard-mode parts, choosing what
  is safe to retry (`sts_mfa.aws.retries`);
- a request counter (a `before-send` event hook, shown with `-v`) and a count of
  throttled answers (what the retry policy backs off from), both safe to update from
  many threads, and a read of each response's `Date` header, to warn when the local clock, which TOTP
  codes depend on, is far from the server's.

A profile whose long-term key sts-mfa keeps in the OS keyring (`keys add`) gets it from
`AwsConfig.stored_keys`: botocore would find nothing in the files.

A profile that assumes a role with MFA is never left to botocore, whose own
prompt (getpass) would spend a code outside sts-mfa's ledger, or die on an
EOFError without a terminal: the admin side's keys then come from
`AwsConfig.serve_profile` (sts-mfa's own cache, MFA session and code sources),
and every session made here has botocore's prompt replaced by a refusal.

No client is created at import time, and this module itself is imported only
by the commands that call AWS: `--help`, completion and the cached-credentials
path never load boto3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions as bx
from botocore.config import Config

from sts_mfa.aws.errors import PROFILE_HINT, not_aws_problem, translate_errors
from sts_mfa.aws.json_answers import json_answer_problem
from sts_mfa.aws.retries import install_retry_policy, on_throttle
from sts_mfa.errors import AwsError, CredentialsError, UsageError

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

DEFAULT_MAX_ATTEMPTS = 8
SKEW_WARNING_SECONDS = 20.0
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:  # never let a secret reach a log through repr()
        return f"Keys(access_key_id={self.access_key_id!r}, secret_access_key='***')"


@dataclass(frozen=True)
class ServedProfile:
    """An MFA role profile's session, obtained by sts-mfa, and the endpoint it is valid at."""

    keys: Keys
    endpoint_url: str | None


@dataclass(frozen=True)
class AwsConfig:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    admin_keys: Keys | None = None  # explicit admin credentials (the demo's sandbox), else boto3's chain
    # Used when neither --region, the environment nor the profile names one: the
    # state file's region (the AWS CLI does not pass a profile's region to a
    # credential_process helper).
    fallback_region: str | None = None
    # Asked once, when the admin side's credentials are first needed, with `profile`: the
    # session sts-mfa obtained for it if it assumes a role with MFA, else None (botocore's chain).
    serve_profile: Callable[[str | None], ServedProfile | None] | None = None
    # Asked once, when the session is made, with `profile`: its long-term key if sts-mfa keeps it
    # (the OS keyring, after `keys add`), else None (botocore finds the credentials).
    stored_keys: Callable[[str | None], Keys | None] | None = None


def _refuse_botocore_prompts(session: boto3.Session) -> None:
    """botocore's AssumeRoleProvider asks for an MFA code with getpass: here it refuses instead.

    sts-mfa serves the profiles that assume a role with MFA itself (and refuses chains
    through one) before botocore gets to them; this is the guarantee that no path it
    missed ever prompts outside the ledger, or dies on an EOFError without a terminal.
    """
    try:
        resolver = session._session.get_component("credential_provider")
    except bx.BotoCoreError:
        return  # a setting botocore cannot use: it says so again when it looks for credentials
    provider = resolver.get_provider("assume-role") if resolver is not None else None
    if provider is not None:
        provider._prompter = _no_prompt


def _no_prompt(prompt: str) -> str:
    asked = prompt.strip().rstrip(":").removeprefix("Enter ")
    raise UsageError(
        f"botocore would ask for an {asked}: a profile in the credential chain assumes a role with MFA, "
        "and sts-mfa gets codes only for a profile it serves itself",
        hint="name that profile directly (role_arn, source_profile, mfa_serial)",
    )


class Aws:
    """Clients for one command run, all sharing configuration, counters and clock."""

    def __init__(self, config: AwsConfig, *, now: Callable[[], float] | None = None) -> None:
        import threading
        import time

        self.config = config
        self._now = now or time.time
        self._session: boto3.Session | None = None
        self._admin: dict[str, Any] = {}
        self._served: ServedProfile | None = None
        self._asked_to_serve = False
        self.requests: Counter[str] = Counter()
        self.throttles = 0  # answers botocore took for throttling (each then retried, within limits)
        self._counting = threading.Lock()  # clients made for worker threads count here too
        self.clock_skew: float | None = None  # server minus local, seconds

    # -- sessions and clients -----------------------------------------------

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            keys = self.config.admin_keys
            if keys is None and self.config.stored_keys is not None:
                keys = self.config.stored_keys(self.config.profile)
            try:
                self._session = boto3.Session(
                    profile_name=self.config.profile,
                    region_name=self.config.region,
                    aws_access_key_id=keys.access_key_id if keys else None,
                    aws_secret_access_key=keys.secret_access_key if keys else None,
                    aws_session_token=keys.session_token if keys else None,
                )
            except bx.ProfileNotFound as e:
                raise CredentialsError(str(e), hint=PROFILE_HINT) from None
            if keys is None:
                _refuse_botocore_prompts(self._session)
        return self._session

    @property
    def region(self) -> str:
        region = self.session.region_name or self.config.fallback_region
        if not region:
            raise AwsError("no AWS region configured", hint="pass --region or set AWS_REGION")
        return region

    def _client_config(self) -> Config:
        return Config(
            region_name=self.region,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"mode": "standard", "total_max_attempts": self.config.max_attempts},
        )

    def _make(
        self,
        service: str,
        keys: Keys | None,
        spends_mfa_code: bool,
        endpoint_url: str | None = None,
        session: boto3.Session | None = None,
    ) -> Any:
        kwargs: dict[str, Any] = {"config": self._client_config()}
        if self.config.endpoint_url or endpoint_url:
            kwargs["endpoint_url"] = self.config.endpoint_url or endpoint_url
        if keys is not None:
            kwargs.update(
                aws_access_key_id=keys.access_key_id,
                aws_secret_access_key=keys.secret_access_key,
                aws_session_token=keys.session_token,
            )
        with translate_errors(f"creating the {service} client"):
            client = (session or self.session).client(service, **kwargs)  # type: ignore[call-overload]
        install_retry_policy(client, self.config.max_attempts, spends_mfa_code=spends_mfa_code)
        on_throttle(client, self._throttled)
        if service == "iam":
            # Policy documents stay the text AWS sent: botocore's decoding (json.loads) would
            # keep only the last of duplicate keys, hiding what the trust analysis must see.
            from botocore.handlers import json_decode_policies

            client.meta.events.unregister("after-call.iam", json_decode_policies)
        client.meta.events.register("before-send", self._count)
        client.meta.events.register("before-parse", self._read_date)
        client.meta.events.register("before-parse", self._looks_like_aws)
        return client

    def served(self) -> ServedProfile | None:
        """The admin side's MFA role session, if sts-mfa serves its profile (asked once)."""
        if not self._asked_to_serve and self.config.admin_keys is None and self.config.serve_profile:
            self._served = self.config.serve_profile(self.config.profile)
        self._asked_to_serve = True
        return self._served

    def _make_admin(self, service: str, spends_mfa_code: bool) -> Any:
        served = self.served()
        if served is None:
            return self._make(service, None, spends_mfa_code)
        return self._make(service, served.keys, spends_mfa_code, served.endpoint_url)

    def admin(self, service: str) -> Any:
        """A client with the configured (admin-side) credentials, cached per service."""
        if service not in self._admin:
            self._admin[service] = self._make_admin(service, False)
        return self._admin[service]

    def iam(self) -> IAMClient:
        client: IAMClient = self.admin("iam")
        return client

    def iam_for_mfa(self) -> IAMClient:
        """The admin IAM client for EnableMFADevice: codes are spent, so only throttles retry."""
        if "iam+mfa" not in self._admin:
            self._admin["iam+mfa"] = self._make_admin("iam", True)
        client: IAMClient = self._admin["iam+mfa"]
        return client

    def admin_sts(self) -> STSClient:
        client: STSClient = self.admin("sts")
        return client

    def organizations(self) -> Any:
        """The admin side's Organizations client (ListAccounts)."""
        return self.admin("organizations")

    def worker_sessions(self) -> Callable[[], boto3.Session]:
        """Call on the main thread: what makes a boto3 Session for a worker thread.

        Sessions are not thread-safe, clients are: each worker thread gets a Session of its own,
        with the same profile's settings as the admin side (its clients get explicit keys).
        They share the admin Session's data loader, botocore's cache of the service models
        it reads from disk and never changes: a Session of its own would load them again
        (about 0.1 s and 8 MB per Session, measured; 6 ms and 0.2 MB with the loader shared).
        """
        import botocore.session

        loader = self.session._session.get_component("data_loader")
        profile, region = self.config.profile, self.region

        def make() -> boto3.Session:
            base = botocore.session.Session()
            base.register_component("data_loader", loader)
            try:
                return boto3.Session(botocore_session=base, profile_name=profile, region_name=region)
            except bx.ProfileNotFound as e:
                raise CredentialsError(str(e), hint=PROFILE_HINT) from None

        return make

    def iam_in(self, session: boto3.Session, keys: Keys) -> IAMClient:
        """An IAM client with `keys`, made from a worker thread's own Session, at the admin's endpoint."""
        served = self.served()
        endpoint = served.endpoint_url if served is not None else None
        client: IAMClient = self._make("iam", keys, False, endpoint, session)
        return client

    def account(self) -> str:
        """The admin side's account, from GetCallerIdentity (which needs no permission)."""
        answer = self.admin_sts().get_caller_identity()
        account = str(answer.get("Account", ""))
        if not (len(account) == 12 and account.isascii() and account.isdigit()):
            where = self.config.endpoint_url or "the endpoint"
            raise AwsError(
                f"{where} does not look like an AWS endpoint: GetCallerIdentity answered the account "
                f"{account[:40]!r}, not 12 digits",
                hint="check --endpoint-url / AWS_ENDPOINT_URL",
            )
        return account

    def sts_with(self, keys: Keys, *, spends_mfa_code: bool = False) -> STSClient:
        client: STSClient = self._make("sts", keys, spends_mfa_code)
        return client

    def iam_with(self, keys: Keys) -> IAMClient:
        client: IAMClient = self._make("iam", keys, False)
        return client

    def s3_with(self, keys: Keys) -> S3Client:
        client: S3Client = self._make("s3", keys, False)
        return client

    # -- event hooks ---------------------------------------------------------

    def _count(self, request: Any = None, event_name: str = "", **_: Any) -> None:
        # event_name is "before-send.<service>.<Operation>"
        parts = event_name.split(".")
        with self._counting:
            self.requests[parts[-1] if len(parts) >= 3 else event_name] += 1

    def _throttled(self) -> None:
        with self._counting:
            self.throttles += 1

    def _read_date(self, response_dict: Any = None, **_: Any) -> None:
        headers = (response_dict or {}).get("headers") or {}
        date = headers.get("Date") or headers.get("date")
        if not date:
            return
        try:
            server = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        self.clock_skew = server - self._now()

    def _looks_like_aws(self, response_dict: Any = None, operation_model: Any = None, **_: Any) -> None:
        """Refuse a successful answer that is not AWS's (an empty page, HTML from a web server,
        JSON whose members have other types than botocore's model says).

        botocore would otherwise hand back an empty result, or fail deep in its parser
        with an error that is not one of its own. Only answers below 300 are judged:
        errors and 5xx go to botocore's own handling (and its retries).
        """
        if not response_dict or operation_model is None or response_dict.get("status_code", 0) >= 300:
            return
        protocol, body = operation_model.metadata.get("protocol", ""), response_dict.get("body")
        problem = not_aws_problem(protocol, operation_model.name, body)
        if problem is None and protocol == "json":
            problem = json_answer_problem(body, operation_model.output_shape)
        if problem is not None:
            where = self.config.endpoint_url or "the endpoint"
            raise AwsError(
                f"{where} does not look like an AWS endpoint: {operation_model.name} was answered with "
                f"{problem} (HTTP {response_dict.get('status_code')})",
                hint="check --endpoint-url / AWS_ENDPOINT_URL",
            )

    def skew_warning(self) -> str | None:
        skew = self.clock_skew
        if skew is None or abs(skew) < SKEW_WARNING_SECONDS:
            return None
        direction = "behind" if skew > 0 else "ahead of"
        return (
            f"this machine's clock is {abs(skew):.0f} s {direction} the server's; "
            "TOTP codes depend on the time, so fix the clock (e.g. enable NTP)"
        )

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())
