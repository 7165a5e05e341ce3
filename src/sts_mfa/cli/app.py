"""The typed application object every command receives.

`App` holds the global options and makes, on demand, the things commands need:
the `Aws` client factory (importing boto3 only then), the scenario's `Context`,
the `Sessions` that answer "a usable session, please", the reporter, the state
transaction. The group builds it once, from the parsed options plus whatever a
test injected (`CliRunner.invoke(..., obj=App(clock=..., endpoint_url=...))`): an
injected field always wins, so nothing a test set is silently reset. `derive()`
makes a changed copy (the demo's sandbox-bound App) instead of mutating this one.
Nothing in the shipped code checks for tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

import click

from sts_mfa import DEFAULT_STATE_FILE

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from sts_mfa.aws.clients import Aws, Keys, ServedProfile
    from sts_mfa.clock import Clock
    from sts_mfa.errors import StsMfaError
    from sts_mfa.mfa.ledger import Entry
    from sts_mfa.progress import Reporter
    from sts_mfa.scenario import Context
    from sts_mfa.session.profile import ProfileSessions
    from sts_mfa.session.profiles import Profile
    from sts_mfa.session.state_file import Sessions
    from sts_mfa.session.state_file import Settings as ProfileSettings
    from sts_mfa.state.document import Transaction
    from sts_mfa.state.model import State

FIELDS = (
    "state_file",
    "profile",
    "region",
    "endpoint_url",
    "json",
    "quiet",
    "verbose",
    "clock",
    "admin_keys",
    "role_admin_keys",
    "cache_dir",
    "reporter",
)


DEFAULTS: dict[str, object] = {"state_file": DEFAULT_STATE_FILE, "json": False, "quiet": False, "verbose": 0}


def _system_clock() -> Clock:
    from sts_mfa.clock import SystemClock

    return SystemClock()


class App:
    """The global options and what commands make from them (a plain class: it is on every path)."""

    def __init__(
        self,
        *,
        state_file: str = DEFAULT_STATE_FILE,  # a str: pathlib costs start-up time the fast path need not pay
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        json: bool = False,
        quiet: bool = False,
        verbose: int = 0,
        clock: Clock | None = None,
        admin_keys: Keys | None = None,  # explicit admin credentials (the demo's sandbox)
        role_admin_keys: Keys | None = None,  # the same for the role's account (demo --two-accounts)
        cache_dir: str | None = None,  # the private cache (None: STS_MFA_CACHE_DIR, else the platform's)
        reporter: Reporter | None = None,  # where progress goes (default: rich, on stderr)
    ) -> None:
        values = dict(locals())
        # What was given (differs from the default): those fields win over the options later.
        self._given = {name for name in FIELDS if values[name] != DEFAULTS.get(name)}
        self.state_file = state_file
        self.profile = profile
        self.region = region
        self.endpoint_url = endpoint_url
        self.json = json
        self.quiet = quiet
        self.verbose = verbose
        self.clock: Clock = clock if clock is not None else _system_clock()
        self.admin_keys = admin_keys
        self.role_admin_keys = role_admin_keys
        self.cache_dir = cache_dir
        self._reporter: Reporter | None = reporter
        self._aws: Aws | None = None
        self._role_aws: Aws | None = None
        self._helpers: list[Aws] = []  # the sources of admin profiles sts-mfa served (-v counts them)
        self._serving: set[str] = set()  # profiles this run said it serves (STS_MFA_SERVING)
        self._profiles: dict[str, Profile] = {}  # read once per run: botocore parses both files

    @classmethod
    def from_options(cls, injected: object, **options: Any) -> App:
        """The App for this run: the parsed options, except where a test injected a value."""
        if isinstance(injected, App):
            for name in injected._given:
                options[name] = getattr(injected, name if name != "reporter" else "_reporter")
        return cls(**options)

    def derive(self, **changes: Any) -> App:
        """A copy with `changes` (fresh clients, the same clock unless changed)."""
        fields: dict[str, Any] = {name: getattr(self, name) for name in FIELDS if name != "reporter"}
        fields["reporter"] = self._reporter
        return App(**{**fields, **changes})

    @property
    def state_path(self) -> Path:
        from pathlib import Path

        return Path(self.state_file)

    def cache_root(self) -> str:
        """The private cache directory this run uses (the demo's sandbox has one of its own)."""
        from sts_mfa.files import cache

        return self.cache_dir or cache.root()

    # -- AWS -----------------------------------------------------------------

    def effective_endpoint(self) -> str | None:
        """The endpoint override in force (the flag, else the variable boto3 reads itself), normalised.

        A malformed AWS_ENDPOINT_URL is a usage error here, before boto3 trips on it.
        """
        from sts_mfa.aws.endpoints import normalize
        from sts_mfa.errors import UsageError

        if self.endpoint_url:
            return normalize(self.endpoint_url)
        value = os.environ.get("AWS_ENDPOINT_URL") or None
        if value is None:
            return None
        try:
            return normalize(value)
        except UsageError as e:
            raise UsageError(f"AWS_ENDPOINT_URL: {e}") from None

    def aws(self, fallback_region: str | None = None) -> Aws:
        if self._aws is None:
            endpoint = self.effective_endpoint()
            self._aws = self._make_aws(self.profile, endpoint, self.admin_keys, fallback_region)
        return self._aws

    def _make_aws(
        self, profile: str | None, endpoint: str | None, keys: Keys | None, fallback_region: str | None
    ) -> Aws:
        from sts_mfa.aws.clients import Aws, AwsConfig

        config = AwsConfig(
            profile=profile,
            region=self.region,
            endpoint_url=endpoint,
            admin_keys=keys,
            fallback_region=fallback_region,
            serve_profile=self._serve_admin,
        )
        return Aws(config, now=self.clock.now)

    def context(
        self,
        wait_timeout: float | None = None,
        *,
        role_profile: str | None = None,
        role_endpoint: str | None = None,
        fallback_region: str | None = None,
    ) -> Context:
        """The scenario's context; with a role profile/endpoint, a second Aws for the role's account."""
        from sts_mfa.aws.waits import DEFAULT_TIMEOUT
        from sts_mfa.scenario import Context

        role_aws = None
        if role_profile or role_endpoint or self.role_admin_keys:
            endpoint = role_endpoint or self.effective_endpoint()
            role_aws = self._make_aws(role_profile, endpoint, self.role_admin_keys, fallback_region)
        self._role_aws = role_aws
        return Context(
            aws=self.aws(fallback_region),
            clock=self.clock,
            report=self.reporter(),
            wait_timeout=DEFAULT_TIMEOUT if wait_timeout is None else wait_timeout,
            role_aws=role_aws,
            ledger=self.ledger,
        )

    def ledger(self, serial: str) -> AbstractContextManager[Entry]:
        """The device's entry in the ledger every state file and profile shares (see sts_mfa.mfa.ledger)."""
        from sts_mfa.mfa.ledger import Ledger

        return Ledger(self.cache_root(), self.effective_endpoint(), serial).held()

    def context_for(self, state: State, wait_timeout: float | None = None) -> Context:
        return self.context(
            wait_timeout,
            role_profile=state.role_profile,
            role_endpoint=state.role_endpoint,
            fallback_region=state.region,
        )

    def config_profile(self, name: str) -> Profile:
        """The profile `name` of the AWS config, loaded (and checked) once for the run."""
        if name not in self._profiles:
            from sts_mfa.session import profiles

            self._profiles[name] = profiles.load(name)
        return self._profiles[name]

    def profile_sessions(self, name: str, settings: ProfileSettings) -> ProfileSessions:
        """Role sessions for a profile of the AWS config (see `sts_mfa.session.profile`)."""
        sessions = self._sessions_of(name, settings)
        self._aws = sessions.source  # -v counts its requests
        return sessions

    def _sessions_of(self, name: str, settings: ProfileSettings) -> ProfileSessions:
        from sts_mfa.session.profile import ProfileSessions

        profile = self.config_profile(name)
        self._serve(name)
        requested = self.effective_endpoint()
        endpoint = requested or self.profile_endpoint(profile)
        # STS answers in any region: the flag's, the profile's, else one that always exists.
        region = self.region or profile.region or "us-east-1"
        source = self._make_aws_in(profile.source_profile, region, endpoint, serve=False)
        return ProfileSessions(
            profile,
            source=source,
            clock=self.clock,
            report=self.reporter(),
            cache_root=self.cache_root(),
            endpoint=endpoint,
            requested_endpoint=requested,
            settings=settings,
        )

    @staticmethod
    def profile_endpoint(profile: Profile) -> str | None:
        """The profile's endpoint_url (its own, else its source profile's), normalised."""
        from sts_mfa.aws.endpoints import normalize
        from sts_mfa.errors import UsageError

        if profile.endpoint_url is None:
            return None
        try:
            return normalize(profile.endpoint_url)
        except UsageError as e:
            raise UsageError(f"profile {profile.name}: endpoint_url: {e}") from None

    def _serve_admin(self, name: str | None) -> ServedProfile | None:
        """An admin-side profile that assumes a role with MFA, served as `assume PROFILE` serves it.

        The same cache entries, MFA session and ledger, so a code is never spent twice and
        `assume PROFILE` right after needs none; the code from STS_MFA_CODE, the profile's
        mfa_process or a prompt on the terminal, else one line and exit 2. A profile whose
        source assumes a role with MFA, or a loop of source_profiles, is refused (exit 2):
        botocore would prompt, or loop. Any other profile is botocore's (None).
        """
        from sts_mfa.aws.clients import Keys, ServedProfile
        from sts_mfa.errors import UsageError
        from sts_mfa.session import profiles
        from sts_mfa.session.handoff import DEFAULT_REFRESH_MARGIN
        from sts_mfa.session.state_file import DEFAULT_MFA_SESSION_SECONDS, Want
        from sts_mfa.session.targets import obtain_from, settings

        name = name or _implicit_profile()
        every = profiles.all_profiles() if name else {}
        if name is None or name not in every:
            return None  # keys from the environment, or a profile botocore reports as not found
        mfa = profiles.mfa_role_in_chain(name, every)
        if mfa is None:
            return None
        if mfa != name:
            raise UsageError(profiles.chained_mfa(name, mfa))
        sessions = self._sessions_of(name, settings(False, DEFAULT_MFA_SESSION_SECONDS))
        self._helpers.append(sessions.source)
        got = obtain_from(
            self, sessions, Want(margin=DEFAULT_REFRESH_MARGIN), _code_from_environment(), admin=True
        )
        found = got.session
        return ServedProfile(
            Keys(found.access_key_id, found.secret_access_key, found.session_token), sessions.endpoint
        )

    def _serve(self, name: str) -> None:
        """Say, for the processes this one starts, that it serves `name` (see profiles.guard_recursion).

        Undone when the command ends, so an in-process caller running several commands
        is not taken for a loop; a second use of one profile in a run is not one either."""
        from sts_mfa.session import profiles

        if name in self._serving:
            return
        self._serving.add(name)
        before = os.environ.get(profiles.SERVING)
        profiles.guard_recursion(name)

        def restore() -> None:
            if before is None:
                os.environ.pop(profiles.SERVING, None)
            else:
                os.environ[profiles.SERVING] = before

        context = click.get_current_context(silent=True)
        if context is not None:
            context.call_on_close(restore)

    def policy_reader(self, name: str) -> Aws:
        """Clients with an AWS profile's credentials, to read a role's trust policy (iam:GetRole).

        A profile that assumes a role with MFA is served by sts-mfa, when a client is first made."""
        reader = self._make_aws_in(name, self.region or "us-east-1")
        self._helpers.append(reader)
        return reader

    def context_for_profile(self, name: str) -> Context:
        """A context whose clients reach the profile's region and endpoint with explicit keys only."""
        from sts_mfa.scenario import Context

        profile = self.config_profile(name)
        region = self.region or profile.region or "us-east-1"
        aws = self._make_aws_in(None, region, self.effective_endpoint() or self.profile_endpoint(profile))
        return Context(aws=aws, clock=self.clock, report=self.reporter())

    def _make_aws_in(
        self, profile: str | None, region: str, endpoint: str | None = None, *, serve: bool = True
    ) -> Aws:
        from sts_mfa.aws.clients import Aws, AwsConfig

        config = AwsConfig(
            profile=profile,
            region=region,
            endpoint_url=endpoint or self.effective_endpoint(),
            serve_profile=self._serve_admin if serve else None,
        )
        return Aws(config, now=self.clock.now)

    def sessions(self) -> Sessions:
        """Role sessions for this state file (see `sts_mfa.session.state_file`)."""
        from sts_mfa.session.state_file import Sessions

        return Sessions(
            state_path=self.state_file,
            endpoint=self.effective_endpoint(),
            key_dir=self.cache_root(),
            clock=self.clock,
            transaction=self.transaction,
            context_for=self.context_for,
        )

    # -- output ----------------------------------------------------------------

    def reporter(self) -> Reporter:
        if self._reporter is None:
            from sts_mfa.cli.output import CliReporter

            self._reporter = CliReporter(self.err_console(), quiet=self.quiet)
        return self._reporter

    def err_console(self) -> Console:
        from sts_mfa.cli.output import make_console

        return make_console(stderr=True)

    def out_console(self) -> Console:
        from sts_mfa.cli.output import make_console

        return make_console(stderr=False)

    def echo_json(self, data: Any) -> None:
        import json

        click.echo(json.dumps(data, indent=2, default=str))

    def warn(self, message: str) -> None:
        from sts_mfa.cli.boundary import warn

        warn(message)

    def show_requests(self) -> None:
        """With -v: how many requests this command made, by operation."""
        sides = [a for a in (self._aws, self._role_aws, *self._helpers) if a is not None]
        if self.verbose and sides:
            from collections import Counter

            requests: Counter[str] = Counter()
            for side in sides:
                requests.update(side.requests)
            counts = ", ".join(f"{op} {n}" for op, n in sorted(requests.items()))
            click.echo(f"sts-mfa: {sum(requests.values())} AWS requests ({counts or 'none'})", err=True)

    # -- state ---------------------------------------------------------------

    def load_state(self) -> State:
        from sts_mfa.state.document import load

        state = load(self.state_path, key_dir=self.cache_root())
        if state is None:
            raise self._no_state_file()
        self.check_matches(state)
        return state

    def _no_state_file(self) -> StsMfaError:
        """ "No state file": the command meant, when --profile / AWS_PROFILE names an MFA role profile."""
        from sts_mfa.errors import StateError

        hint = "run `sts-mfa setup` first, or point --state / STS_MFA_STATE at it"
        meant = self._command_with_profile()
        if meant is not None:
            hint = (
                f"did you mean `{meant}`? A role profile goes after the command; --profile and "
                f"AWS_PROFILE name the credentials setup and teardown use. Otherwise {hint}"
            )
        return StateError(f"no state file at {self.state_path}", hint=hint)

    def _command_with_profile(self) -> str | None:
        """This command with `self.profile` as its PROFILE, if it takes one and that is an MFA role profile.

        Only this error path reads the AWS config; a config that cannot be read loses the hint, never
        the error it belongs to.
        """
        ctx = click.get_current_context(silent=True)
        if not self.profile or ctx is None or ctx.info_name is None:
            return None
        if ctx.params.get("profile") or not any(p.name == "profile" for p in ctx.command.params):
            return None
        try:
            from sts_mfa.session.profiles import all_profiles

            found = all_profiles().get(self.profile) or {}
        except Exception:  # a hint is never worth a different error
            return None
        if not (found.get("role_arn") and found.get("mfa_serial")):
            return None
        import shlex

        words = ["sts-mfa", ctx.info_name, self.profile]
        if ctx.params.get("command"):  # exec: the program and its arguments, after --
            words += ["--", *ctx.params["command"]]
        return shlex.join(words)

    def check_matches(self, state: State) -> None:
        """Refuse to use a state file against another endpoint than the one it was made on."""
        from sts_mfa.aws.endpoints import same
        from sts_mfa.errors import StateError

        current = self.effective_endpoint()
        if not same(state.endpoint or None, current):
            raise StateError(
                f"the state file {self.state_path} was made against "
                f"{state.endpoint or 'AWS'}, but this run uses {current or 'AWS'}",
                hint="set --endpoint-url / AWS_ENDPOINT_URL as when it was made, or use another --state",
            )

    @contextmanager
    def transaction(self, *, must_exist: bool = True) -> Iterator[Transaction]:
        from sts_mfa.state.document import transaction

        def waiting() -> None:
            if not self.quiet:
                click.echo("sts-mfa: waiting for another sts-mfa using this state file...", err=True)

        with transaction(self.state_path, key_dir=self.cache_root(), on_wait=waiting) as txn:
            if txn.state is not None:
                self.check_matches(txn.state)
            elif must_exist:
                raise self._no_state_file()
            yield txn


def _implicit_profile() -> str | None:
    """The profile botocore takes its credentials from when none is named, unless keys in the
    environment come first (as they do for botocore when no profile is given)."""
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return None
    return os.environ.get("AWS_DEFAULT_PROFILE") or os.environ.get("AWS_PROFILE") or "default"


def _code_from_environment() -> str | None:
    """STS_MFA_CODE, checked as --code checks it (the admin side's commands have no --code)."""
    from sts_mfa.errors import UsageError
    from sts_mfa.mfa.codes import code_problem, normalize_code

    value = os.environ.get("STS_MFA_CODE")
    if value is None or value == "":
        return None
    problem = code_problem(value)
    if problem is not None:
        raise UsageError(f"STS_MFA_CODE: {problem}")
    return normalize_code(value)


pass_app = click.make_pass_decorator(App)
