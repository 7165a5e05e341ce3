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

from typing import TYPE_CHECKING, Any

import click

from sts_mfa import DEFAULT_STATE_FILE

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from rich.console import Console

    from sts_mfa.aws.clients import Keys
    from sts_mfa.clock import Clock
    from sts_mfa.errors import StsMfaError
    from sts_mfa.progress import Reporter
    from sts_mfa.session.model import Obtained, Settings, Want
    from sts_mfa.session.source import CodeSources, SessionSource

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
        self._source: SessionSource | None = None

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
        return self.source.cache_root()

    # -- sessions and clients: the session source's ----------------------------------------------

    @property
    def source(self) -> SessionSource:
        """Where this run's sessions and clients come from (`sts_mfa.session.source`), made once."""
        if self._source is None:
            from sts_mfa.cli.code_sources import FlagCodes
            from sts_mfa.session.source import Hooks, RunConfig, SessionSource

            config = RunConfig(
                state_file=self.state_file,
                profile=self.profile,
                region=self.region,
                endpoint_url=self.endpoint_url,
                clock=self.clock,
                cache_dir=self.cache_dir,
                admin_keys=self.admin_keys,
                role_admin_keys=self.role_admin_keys,
            )
            hooks = Hooks(
                report=self.reporter(),
                codes=FlagCodes(self.state_file, None),
                warn=self.warn,
                note=self.note,
                waiting=self._waiting,
                no_state=self._no_state_file,
                on_close=_on_close,
            )
            self._source = SessionSource(config, hooks)
        return self._source

    def obtain(
        self, profile: str | None, want: Want, code: str | None, settings: Settings | None = None
    ) -> Obtained:
        """The state file's role session, or PROFILE's, with this command's --code."""
        return self.source.obtain(profile, want, self.codes(code), settings)

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

    def log(self, message: str) -> None:
        """One line on stderr, one at a time whatever the thread (a credentials endpoint's log)."""
        import contextlib

        from sts_mfa.text import one_line

        with _log_lock(), contextlib.suppress(OSError, ValueError):
            click.echo(f"sts-mfa: {one_line(message)}", err=True)

    def codes(self, code: str | None) -> CodeSources:
        """This command's code sources: its --code (or STS_MFA_CODE), the terminal."""
        from sts_mfa.cli.code_sources import FlagCodes

        return FlagCodes(self.state_file, code)

    def note(self, message: str) -> None:
        """Said with -v only: how a session was obtained."""
        if self.verbose:
            click.echo(f"sts-mfa: {message}", err=True)

    def show_requests(self) -> None:
        """With -v: how many requests this command made, by operation."""
        if self.verbose and self._source is not None and self._source.made_requests():
            requests = self._source.requests()
            counts = ", ".join(f"{op} {n}" for op, n in sorted(requests.items()))
            click.echo(f"sts-mfa: {sum(requests.values())} AWS requests ({counts or 'none'})", err=True)

    # -- what the command line makes of the state file's errors ----------------------------------

    def _waiting(self) -> None:
        if not self.quiet:
            click.echo("sts-mfa: waiting for another sts-mfa using this state file...", err=True)

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


_LOCK: list[Any] = []


def _log_lock() -> Any:
    """One lock for every log line of the run (made on first use: threading is not on every path)."""
    if not _LOCK:
        import threading

        _LOCK.append(threading.Lock())
    return _LOCK[0]


def _on_close(callback: Callable[[], None]) -> None:
    """Run `callback` when the command ends (Click's context closes); at once if there is none."""
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(callback)


pass_app = click.make_pass_decorator(App)
