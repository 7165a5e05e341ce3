"""Running a credentials endpoint for `serve` and `exec --server`: its sessions, its environment.

The command line hands in its `Caller`: the session source (`sts_mfa.session.source`),
its code sources, and where lines go. The first session comes as `assume` gets it (a
code from the flags, the software token, the profile's mfa_process or a prompt on the
terminal), every renewal from the same session machinery but with no prompt and no code
given: a request must never wait for a person, and a code given once (`--code`,
`STS_MFA_CODE`) cannot be sent twice. What a renewal cannot do without a person (a phone
device, an MFA session gone) it says on stderr, with the command to run; the endpoint
answers that message meanwhile.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sts_mfa.progress import NullReporter
from sts_mfa.session.model import Want

if TYPE_CHECKING:
    from sts_mfa.clock import Clock
    from sts_mfa.server.endpoint import CredentialServer
    from sts_mfa.server.keeper import Keeper
    from sts_mfa.session.model import Obtained, Settings
    from sts_mfa.session.source import CodeSources, SessionSource
    from sts_mfa.state.model import AnySession

DEFAULT_HOST = "127.0.0.1"
# Variables that would win over the endpoint in an SDK's credential chain (environment
# keys, profiles and web identity come before the container provider, whose relative URI
# (ECS, CodeBuild) botocore asks before the full one), or send it another token:
# `serve`'s output unsets them.
OUTRANKING = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)
# Every SDK reads the shared files before it asks a container endpoint (botocore; the Java,
# JavaScript and Go SDKs too), so a `[default]` profile there, which most people have, would
# win: a process using the endpoint gets them as /dev/null, an empty file, and its region
# from us instead (AWS_CREDENTIAL_PROFILES_FILE is the Java SDK v1's credentials file).
SHARED_FILES = ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CREDENTIAL_PROFILES_FILE")


class LineReporter(NullReporter):
    """A renewal's progress as log lines (a renewal runs in a thread: no spinner, no countdown)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self._log = log

    def step(self, message: str) -> None:
        self._log(message)

    def info(self, message: str) -> None:
        self._log(message)

    def warn(self, message: str) -> None:
        self._log(f"warning: {message}")


class Caller(Protocol):
    """What the command line hands the endpoint: its session source, code sources and output."""

    @property
    def source(self) -> SessionSource: ...

    region: str | None
    verbose: int
    clock: Clock

    def codes(self, code: str | None) -> CodeSources: ...

    def log(self, message: str) -> None:
        """One line on stderr, whatever the thread (a renewal runs in one)."""
        ...

    def warn(self, message: str) -> None: ...


def _logger(app: Caller) -> tuple[Callable[[str], None], Callable[[str], None]]:
    """(log, note): log always says its line; note only with -v."""

    def note(message: str) -> None:
        if app.verbose:
            app.log(message)

    return app.log, note


def _first_and_renew(
    app: Caller,
    profile: str | None,
    code: str | None,
    margin: float,
    options: Settings,
    note: Callable[[str], None],
) -> tuple[Obtained, Callable[[float], Obtained]]:
    """The first session (as `assume` gets it) and how to renew it (no prompt, no code given)."""
    source = app.source
    codes = app.codes(code)
    if profile is None:
        first = source.obtain(None, Want(margin=margin, for_sdk=True), codes)
        first.region = _state_region(source)  # the child may read no config file for one
        quiet = source.with_reporter(LineReporter(note))
        renew_codes = codes.for_state_file().without_a_person()
        return first, lambda left: quiet.state_sessions().get(Want(margin=left), renew_codes)
    sessions = source.profile_sessions(profile, options)  # once: it marks the profile as served
    first = source.obtain_with(
        sessions, Want(margin=margin, for_sdk=True), codes.for_profile(sessions.profile)
    )
    sessions.report = LineReporter(note)
    renew = codes.for_profile(sessions.profile).without_a_person()
    return first, lambda left: sessions.get(Want(margin=left), renew)


def _state_region(source: SessionSource) -> str | None:
    from sts_mfa.state.document import load

    state = load(source.state_path, key_dir=source.cache_root())
    return state.region if state is not None else None


@dataclass
class Running:
    """An endpoint serving: where, with which token, and the first session (its endpoint, region)."""

    server: CredentialServer
    token: str
    first: Obtained


@contextlib.contextmanager
def running_endpoint(
    app: Caller,
    profile: str | None,
    code: str | None,
    margin: float,
    options: Settings,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
) -> Iterator[Running]:
    """Serve the role's session on `host:port` for the block; every thread of it ends with it."""
    from sts_mfa.server.endpoint import CredentialServer, new_token
    from sts_mfa.server.keeper import RENEW_AHEAD_SECONDS, Keeper

    log, note = _logger(app)
    token = new_token()
    keepers: list[Keeper] = []

    def answer() -> AnySession:
        return keepers[0].current()

    # Listening comes first: a host that is not loopback, or a port taken, fails before a
    # code is spent. Nothing is answered before `start()`, once the keeper exists.
    server = CredentialServer(answer, token=token, log=log, host=host, port=port, verbose=bool(app.verbose))
    try:
        # At the start a person may be there to give a code: a session the keeper would renew
        # at once (under 16 minutes left, which an SDK would fetch again on every call) is
        # renewed now.
        start_margin = max(margin, RENEW_AHEAD_SECONDS)
        first, renew = _first_and_renew(app, profile, code, start_margin, options, note)
        keepers.append(Keeper(first.session, renew, now=app.clock.now, log=note, warn=app.warn))
        server.start()
        yield Running(server, token, first)
    finally:
        server.stop()
        if keepers:
            keepers[0].close()
            note(f"the endpoint served {server.served} requests and refused {server.refused}")


def endpoint_environment(app: Caller, running: Running) -> dict[str, str]:
    """What a process needs besides the token to use the endpoint and nothing else: its URL, the
    shared files as /dev/null (SHARED_FILES), the session's endpoint and a region.

    The region is the flag's, else the profile's or the state file's, else the one the
    caller's own AWS config gives (which the process no longer reads); a region the caller
    has in its environment stays, as plain `exec` leaves it."""
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": running.server.url}
    env.update(dict.fromkeys(SHARED_FILES, os.devnull))
    endpoint = app.source.effective_endpoint() or running.first.endpoint
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint  # the session is only valid where it was made
    region = app.region or running.first.region or _callers_region()
    if region:
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            env[name] = os.environ.get(name) or region
    return env


def _callers_region() -> str | None:
    """The region the caller's AWS config gives (AWS_PROFILE's, else [default]'s), as botocore reads it."""
    import botocore.session

    try:
        region = botocore.session.Session().get_config_variable("region")
    except Exception:  # an unknown AWS_PROFILE, a config that cannot be read: no region from it
        return None
    return region if isinstance(region, str) and region else None


def child_environment(app: Caller, running: Running) -> dict[str, str]:
    """`exec --server`'s child: the caller's environment minus every credential source, plus the endpoint.

    As plain `exec` scrubs it, and more: the shared files are /dev/null, as for `serve`
    (see `endpoint_environment`).
    """
    from sts_mfa.session.handoff import CHILD_SETTINGS, scrubbed

    env = scrubbed(dict(os.environ))
    env.update(CHILD_SETTINGS)
    env.update(endpoint_environment(app, running))
    env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = running.token
    return env


def run_with_endpoint(
    app: Caller,
    profile: str | None,
    code: str | None,
    margin: float,
    options: Settings,
    command: tuple[str, ...],
) -> int:
    """`exec --server`: the command run to its end with the endpoint serving it; its exit status."""
    from sts_mfa.server import child

    with running_endpoint(app, profile, code, margin, options) as running:
        return child.run(command, child_environment(app, running))
