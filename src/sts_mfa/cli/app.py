"""The typed application object every command receives, and the error boundary.

`App` holds the global options and makes, on demand, the things commands need:
the `Aws` client factory (importing boto3 only then), the rich consoles, the
reporter, the clock. Tests inject a fake clock or a sandbox endpoint by passing
`obj=App(...)` to `CliRunner.invoke`; nothing in the shipped code checks for tests.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from sts_mfa.errors import ExitCode, StateError, StsMfaError
from sts_mfa.state import DEFAULT_STATE_FILE, State, Transaction, load, transaction
from sts_mfa.totp import Clock, SystemClock

if TYPE_CHECKING:
    from rich.console import Console

    from sts_mfa.aws import Aws, Keys
    from sts_mfa.scenario import Context

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    state_path: Path = Path(DEFAULT_STATE_FILE)
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    json: bool = False
    quiet: bool = False
    verbose: int = 0
    clock: Clock = field(default_factory=SystemClock)
    admin_keys: Keys | None = None  # explicit admin credentials (the demo's sandbox)
    role_admin_keys: Keys | None = None  # the same for the role's account (demo --two-accounts)
    _aws: Aws | None = field(default=None, repr=False)
    _role_aws: Aws | None = field(default=None, repr=False)
    _reporter: Any = field(default=None, repr=False)

    # -- AWS -----------------------------------------------------------------

    def aws(self) -> Aws:
        if self._aws is None:
            from sts_mfa.aws import Aws, AwsConfig

            self._aws = Aws(
                AwsConfig(
                    profile=self.profile,
                    region=self.region,
                    endpoint_url=self.endpoint_url,
                    admin_keys=self.admin_keys,
                ),
                now=self.clock.now,
            )
        return self._aws

    def effective_endpoint(self) -> str | None:
        return self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None

    def context(
        self,
        wait_timeout: float | None = None,
        *,
        role_profile: str | None = None,
        role_endpoint: str | None = None,
    ) -> Context:
        """The scenario's context; with a role profile/endpoint, a second Aws for the role's account."""
        from sts_mfa.aws import Aws, AwsConfig
        from sts_mfa.scenario import Context
        from sts_mfa.waits import DEFAULT_TIMEOUT

        role_aws = None
        if role_profile or role_endpoint or self.role_admin_keys:
            role_aws = Aws(
                AwsConfig(
                    profile=role_profile,
                    region=self.region,
                    endpoint_url=role_endpoint or self.endpoint_url,
                    admin_keys=self.role_admin_keys,
                ),
                now=self.clock.now,
            )
        self._role_aws = role_aws
        return Context(
            aws=self.aws(),
            clock=self.clock,
            report=self.reporter(),
            wait_timeout=DEFAULT_TIMEOUT if wait_timeout is None else wait_timeout,
            role_aws=role_aws,
        )

    def context_for(self, state: State, wait_timeout: float | None = None) -> Context:
        return self.context(wait_timeout, role_profile=state.role_profile, role_endpoint=state.role_endpoint)

    # -- output ----------------------------------------------------------------

    def reporter(self) -> Any:
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
        click.echo(f"sts-mfa: warning: {message}", err=True)

    def show_requests(self) -> None:
        """With -v: how many requests this command made, by operation."""
        sides = [a for a in (self._aws, self._role_aws) if a is not None]
        if self.verbose and sides:
            from collections import Counter

            requests: Counter[str] = Counter()
            for side in sides:
                requests.update(side.requests)
            counts = ", ".join(f"{op} {n}" for op, n in sorted(requests.items()))
            click.echo(f"sts-mfa: {sum(requests.values())} AWS requests ({counts or 'none'})", err=True)

    # -- state ---------------------------------------------------------------

    def load_state(self) -> State:
        state = load(self.state_path)
        if state is None:
            raise StateError(
                f"no state file at {self.state_path}",
                hint="run `sts-mfa setup` first, or point --state / STS_MFA_STATE at it",
            )
        self.check_matches(state)
        return state

    def check_matches(self, state: State) -> None:
        """Refuse to use a state file against another endpoint than the one it was made on."""
        current = self.effective_endpoint()
        if (state.endpoint or None) != current:
            raise StateError(
                f"the state file {self.state_path} was made against "
                f"{state.endpoint or 'AWS'}, but this run uses {current or 'AWS'}",
                hint="set --endpoint-url / AWS_ENDPOINT_URL as when it was made, or use another --state",
            )

    @contextmanager
    def transaction(self, *, must_exist: bool = True) -> Iterator[Transaction]:
        def waiting() -> None:
            if not self.quiet:
                click.echo("sts-mfa: waiting for another sts-mfa using this state file...", err=True)

        with transaction(self.state_path, clock=self.clock.now, on_wait=waiting) as txn:
            if txn.state is not None:
                self.check_matches(txn.state)
            elif must_exist:
                txn.require()
            yield txn


pass_app = click.make_pass_decorator(App)


def _fail(error: StsMfaError) -> NoReturn:
    click.echo(f"sts-mfa: error: {error}", err=True)
    sys.exit(int(error.exit_code))


class StsMfaGroup(click.Group):
    """A group that turns expected failures into one line and the documented exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # the order of the story, not the alphabet

    def invoke(self, ctx: click.Context) -> Any:
        debug = os.environ.get("STS_MFA_DEBUG", "") not in ("", "0")
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except StsMfaError as e:
            if debug:
                raise
            _fail(e)
        except KeyboardInterrupt:
            if debug:
                raise
            click.echo("\nsts-mfa: interrupted; the state file keeps what was done so far", err=True)
            sys.exit(130)
        except Exception as e:
            if debug:
                raise
            if type(e).__module__.startswith("botocore"):
                from sts_mfa.aws import translate

                _fail(translate(e, ctx.invoked_subcommand or "sts-mfa"))
            click.echo(
                f"sts-mfa: internal error: {type(e).__name__}: {e} (set STS_MFA_DEBUG=1 for the traceback)",
                err=True,
            )
            sys.exit(int(ExitCode.ERROR))


def json_option(f: F) -> F:
    """`--json` on a command, equivalent to the global one."""

    def set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.ensure_object(App).json = True
        return value

    return click.option(
        "--json",
        "json_flag",
        is_flag=True,
        expose_value=False,
        callback=set_json,
        help="Machine-readable output: one JSON document on stdout.",
    )(f)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()
