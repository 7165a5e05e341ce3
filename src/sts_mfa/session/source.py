"""One source of sessions and clients for a run: the state file's role or a PROFILE's, the same way.

Everything a command needs from AWS comes from here, configured once from the run's
options (`RunConfig`): the admin side's clients (`aws`, `context`), the state file
(`load_state`, `transaction`, `state_sessions`), a profile's sessions (`profile_sessions`),
and "a usable session, please" for either target (`obtain`). An admin-side profile that
assumes a role with MFA is served here too (`_serve_admin`), through the same cache, MFA
session and ledger as `assume PROFILE`, never through botocore's own prompt.

What belongs to the command line comes in through `Hooks`: where progress goes, how a
warning or a -v note is said, where codes come from (`CodeSources`, built from the
flags and the terminal), what "no state file" means for this command. Nothing here
imports click or prints.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from sts_mfa.session.model import DEFAULT_MFA_SESSION_SECONDS, Obtained, Settings, Want

if TYPE_CHECKING:
    from pathlib import Path

    from sts_mfa.aws.clients import Aws, Keys, ServedProfile
    from sts_mfa.clock import Clock
    from sts_mfa.errors import StsMfaError
    from sts_mfa.mfa.ledger import Entry
    from sts_mfa.mfa.sources import Codes
    from sts_mfa.progress import Reporter
    from sts_mfa.scenario import Context
    from sts_mfa.session.profile import ProfileSessions
    from sts_mfa.session.profiles import Profile
    from sts_mfa.session.state_file import Sessions
    from sts_mfa.state.document import Transaction
    from sts_mfa.state.model import State


@dataclass(frozen=True)
class RunConfig:
    """The run's options that decide where sessions and clients come from."""

    state_file: str
    profile: str | None  # the admin side's profile (--profile, AWS_PROFILE)
    region: str | None
    endpoint_url: str | None  # --endpoint-url as given
    clock: Clock
    cache_dir: str | None = None  # the private cache (None: STS_MFA_CACHE_DIR, else the platform's)
    admin_keys: Keys | None = None  # explicit admin credentials (the demo's sandbox)
    role_admin_keys: Keys | None = None  # the same for the role's account (demo --two-accounts)


class CodeSources(Protocol):
    """Where codes come from for this run (the CLI's flags and terminal)."""

    def for_state_file(self) -> Codes: ...

    def for_profile(self, profile: Profile, *, admin: bool = False) -> Codes:
        """A profile's code sources; `admin`: it gives another command its credentials (`--profile`),
        whose own --code is not for it."""
        ...


@dataclass(frozen=True)
class Hooks:
    """What the command line supplies: output, code sources, and what its errors say."""

    report: Reporter
    codes: CodeSources  # for an admin-side profile (a command's own codes come with `obtain`)
    warn: Callable[[str], None]
    note: Callable[[str], None]  # said with -v only
    waiting: Callable[[], None]  # another sts-mfa holds the state file's lock
    no_state: Callable[[], StsMfaError]  # "no state file", with what this command line meant
    on_close: Callable[[Callable[[], None]], None]  # run this when the command ends


class SessionSource:
    """Sessions and clients for one run (see the module docstring)."""

    def __init__(self, config: RunConfig, hooks: Hooks) -> None:
        self.config = config
        self.hooks = hooks
        self.clock = config.clock
        self._aws: Aws | None = None
        self._role_aws: Aws | None = None
        self._helpers: list[Aws] = []  # the sources of admin profiles served here (-v counts them)
        self._serving: set[str] = set()  # profiles this run said it serves (STS_MFA_SERVING)
        self._profiles: dict[str, Profile] = {}  # read once per run: botocore parses both files

    def with_reporter(self, report: Reporter) -> SessionSource:
        """The same source with progress going elsewhere (a renewal's log lines)."""
        return SessionSource(self.config, replace(self.hooks, report=report))

    # -- where -------------------------------------------------------------------------------

    def cache_root(self) -> str:
        """The private cache directory this run uses (the demo's sandbox has one of its own)."""
        from sts_mfa.files import cache

        return self.config.cache_dir or cache.root()

    def effective_endpoint(self) -> str | None:
        """The endpoint override in force (the flag, else the variable boto3 reads itself), normalised.

        A malformed AWS_ENDPOINT_URL is a usage error here, before boto3 trips on it.
        """
        from sts_mfa.aws.endpoints import normalize
        from sts_mfa.errors import UsageError

        if self.config.endpoint_url:
            return normalize(self.config.endpoint_url)
        value = os.environ.get("AWS_ENDPOINT_URL") or None
        if value is None:
            return None
        try:
            return normalize(value)
        except UsageError as e:
            raise UsageError(f"AWS_ENDPOINT_URL: {e}") from None

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

    # -- the admin side's clients ------------------------------------------------------------

    def aws(self, fallback_region: str | None = None) -> Aws:
        if self._aws is None:
            endpoint = self.effective_endpoint()
            self._aws = self._make_aws(self.config.profile, endpoint, self.config.admin_keys, fallback_region)
        return self._aws

    def _make_aws(
        self, profile: str | None, endpoint: str | None, keys: Keys | None, fallback_region: str | None
    ) -> Aws:
        from sts_mfa.aws.clients import Aws, AwsConfig

        config = AwsConfig(
            profile=profile,
            region=self.config.region,
            endpoint_url=endpoint,
            admin_keys=keys,
            fallback_region=fallback_region,
            serve_profile=self._serve_admin,
            stored_keys=self._stored_keys,
        )
        return Aws(config, now=self.clock.now)

    def _make_aws_in(
        self, profile: str | None, region: str, endpoint: str | None = None, *, serve: bool = True
    ) -> Aws:
        from sts_mfa.aws.clients import Aws, AwsConfig

        config = AwsConfig(
            profile=profile,
            region=region,
            endpoint_url=endpoint or self.effective_endpoint(),
            serve_profile=self._serve_admin if serve else None,
            stored_keys=self._stored_keys,
        )
        return Aws(config, now=self.clock.now)

    def clients_in(self, region: str, endpoint: str | None) -> Aws:
        """Clients for explicit keys only (`sts_with`, `iam_with`), in this region and at this endpoint."""
        aws = self._make_aws_in(None, region, endpoint, serve=False)
        self._helpers.append(aws)  # -v counts its requests
        return aws

    def _stored_keys(self, name: str | None) -> Keys | None:
        """A profile's key from the OS keyring, if sts-mfa keeps it there (`sts-mfa keys add`)."""
        name = name or _implicit_profile()
        if name is None:
            return None
        from sts_mfa.session.keys import stored_keys

        return stored_keys(name, self.cache_root())

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
        if role_profile or role_endpoint or self.config.role_admin_keys:
            endpoint = role_endpoint or self.effective_endpoint()
            role_aws = self._make_aws(role_profile, endpoint, self.config.role_admin_keys, fallback_region)
        self._role_aws = role_aws
        return Context(
            aws=self.aws(fallback_region),
            clock=self.clock,
            report=self.hooks.report,
            wait_timeout=DEFAULT_TIMEOUT if wait_timeout is None else wait_timeout,
            role_aws=role_aws,
            ledger=self.ledger,
        )

    def context_for(self, state: State, wait_timeout: float | None = None) -> Context:
        return self.context(
            wait_timeout,
            role_profile=state.role_profile,
            role_endpoint=state.role_endpoint,
            fallback_region=state.region,
        )

    def context_for_profile(self, name: str) -> Context:
        """A context whose clients reach the profile's region and endpoint with explicit keys only."""
        from sts_mfa.scenario import Context

        profile = self.config_profile(name)
        region = self.config.region or profile.region or "us-east-1"
        aws = self._make_aws_in(None, region, self.effective_endpoint() or self.profile_endpoint(profile))
        return Context(aws=aws, clock=self.clock, report=self.hooks.report)

    def policy_reader(self, name: str) -> Aws:
        """Clients with an AWS profile's credentials, to read a role's trust policy (iam:GetRole).

        A profile that assumes a role with MFA is served by sts-mfa, when a client is first made."""
        reader = self._make_aws_in(name, self.config.region or "us-east-1")
        self._helpers.append(reader)
        return reader

    def ledger(self, serial: str) -> AbstractContextManager[Entry]:
        """The device's entry in the ledger every state file and profile shares (see sts_mfa.mfa.ledger)."""
        from sts_mfa.mfa.ledger import Ledger

        return Ledger(self.cache_root(), self.effective_endpoint(), serial).held()

    def requests(self) -> Counter[str]:
        """How many AWS requests this run made, by operation (for -v)."""
        counted: Counter[str] = Counter()
        for side in (self._aws, self._role_aws, *self._helpers):
            if side is not None:
                counted.update(side.requests)
        return counted

    def made_requests(self) -> bool:
        return any(side is not None for side in (self._aws, self._role_aws, *self._helpers))

    # -- the state file ------------------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        from pathlib import Path

        return Path(self.config.state_file)

    def load_state(self) -> State:
        from sts_mfa.state.document import load

        state = load(self.state_path, key_dir=self.cache_root())
        if state is None:
            raise self.hooks.no_state()
        self.check_matches(state)
        return state

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

        with transaction(self.state_path, key_dir=self.cache_root(), on_wait=self.hooks.waiting) as txn:
            if txn.state is not None:
                self.check_matches(txn.state)
            elif must_exist:
                raise self.hooks.no_state()
            yield txn

    def state_sessions(self) -> Sessions:
        """Role sessions for this state file (see `sts_mfa.session.state_file`)."""
        from sts_mfa.session.state_file import Sessions

        return Sessions(
            state_path=self.config.state_file,
            endpoint=self.effective_endpoint(),
            key_dir=self.cache_root(),
            clock=self.clock,
            transaction=self.transaction,
            context_for=self.context_for,
        )

    # -- profiles ------------------------------------------------------------------------------

    def config_profile(self, name: str) -> Profile:
        """The profile `name` of the AWS config, loaded (and checked) once for the run."""
        if name not in self._profiles:
            from sts_mfa.session import profiles

            self._profiles[name] = profiles.load(name)
        return self._profiles[name]

    def profile_sessions(self, name: str, settings: Settings) -> ProfileSessions:
        """Role sessions for a profile of the AWS config (see `sts_mfa.session.profile`)."""
        sessions = self._sessions_of(name, settings)
        self._aws = sessions.source  # -v counts its requests
        return sessions

    def _sessions_of(self, name: str, settings: Settings) -> ProfileSessions:
        from sts_mfa.session.profile import ProfileSessions

        profile = self.config_profile(name)
        self._serve(name)
        requested = self.effective_endpoint()
        endpoint = requested or self.profile_endpoint(profile)
        # STS answers in any region: the flag's, the profile's, else one that always exists.
        region = self.config.region or profile.region or "us-east-1"
        source = self._make_aws_in(profile.source_profile, region, endpoint, serve=False)
        return ProfileSessions(
            profile,
            source=source,
            clock=self.clock,
            report=self.hooks.report,
            cache_root=self.cache_root(),
            endpoint=endpoint,
            requested_endpoint=requested,
            settings=settings,
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

        self.hooks.on_close(restore)

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

        name = name or _implicit_profile()
        every = profiles.all_profiles() if name else {}
        if name is None or name not in every:
            return None  # keys from the environment, or a profile botocore reports as not found
        mfa = profiles.mfa_role_in_chain(name, every)
        if mfa is None:
            return None
        if mfa != name:
            raise UsageError(profiles.chained_mfa(name, mfa))
        sessions = self._sessions_of(name, Settings.of(False, DEFAULT_MFA_SESSION_SECONDS))
        self._helpers.append(sessions.source)
        codes = self.hooks.codes.for_profile(sessions.profile, admin=True)
        found = self.obtain_with(sessions, Want(margin=DEFAULT_REFRESH_MARGIN), codes).session
        return ServedProfile(
            Keys(found.access_key_id, found.secret_access_key, found.session_token), sessions.endpoint
        )

    # -- a usable session, for either target -----------------------------------------------------

    def obtain(
        self, profile: str | None, want: Want, codes: CodeSources, settings: Settings | None = None
    ) -> Obtained:
        """The role session of the state file (`profile` None), or of the profile; what happened said."""
        if profile is None:
            return self.obtain_state(want, codes.for_state_file())
        sessions = self.profile_sessions(profile, settings or Settings())
        return self.obtain_with(sessions, want, codes.for_profile(sessions.profile))

    def obtain_state(self, want: Want, codes: Codes) -> Obtained:
        """The state file's role session, with these code sources; its warnings said."""
        got = self.state_sessions().get(want, codes)
        for warning in got.warnings:
            self.hooks.warn(warning)
        return got

    def obtain_with(self, sessions: ProfileSessions, want: Want, codes: Codes) -> Obtained:
        """A profile's session from its ProfileSessions (kept by a caller that renews); what happened said."""
        got = sessions.get(want, codes)
        got.endpoint, got.region = sessions.endpoint, sessions.profile.region
        for warning in got.warnings:
            self.hooks.warn(warning)
        for note in sessions.notes:
            self.hooks.note(note)
        return got


def _implicit_profile() -> str | None:
    """The profile botocore takes its credentials from when none is named, unless keys in the
    environment come first (as they do for botocore when no profile is given)."""
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return None
    return os.environ.get("AWS_DEFAULT_PROFILE") or os.environ.get("AWS_PROFILE") or "default"
