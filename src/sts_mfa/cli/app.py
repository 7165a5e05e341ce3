"""The typed application object every command receives, and the error boundary.

`App` holds the global options and makes, on demand, the things commands need:
the `Aws` client factory (importing boto3 only then), the rich consoles, the
reporter, the clock. Tests inject a fake clock or a sandbox endpoint by passing
`obj=App(...)` to `CliRunner.invoke`; nothing in the shipped code checks for tests.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from sts_mfa import DEFAULT_STATE_FILE

if TYPE_CHECKING:
    from pathlib import Path

    from click.shell_completion import CompletionItem
    from rich.console import Console

    from sts_mfa.aws import Aws, Keys
    from sts_mfa.clock import Clock
    from sts_mfa.errors import StsMfaError
    from sts_mfa.scenario import Context
    from sts_mfa.state import State, Transaction

# The commands, in the order of the story: (module under sts_mfa.cli.commands, one-line help).
# The group imports a command's module only when that command runs, so `--help`
# and TAB completion never pay for the others (nor for what they import).

COMMANDS: dict[str, tuple[str, str]] = {
    "setup": ("setup", "Create the user, MFA device, key, and the MFA-only role."),
    "check-deny": ("check_deny", "Show that AssumeRole WITHOUT MFA is refused."),
    "assume": ("assume", "Assume the role with an MFA code; cache the session."),
    "list-buckets": ("list_buckets", "List S3 buckets with the role session."),
    "exec": ("exec_", "Run a command with the role session in its environment."),
    "teardown": ("teardown", "Delete everything setup created, in AWS's order."),
    "demo": ("demo", "The whole story in one go (embedded sandbox by default)."),
    "status": ("status", "What the state file holds and what exists (no secrets)."),
    "sandbox": ("sandbox", "A local strict AWS endpoint (moto + MFA enforcement)."),
}


def short_help(name: str) -> str:
    return COMMANDS[name][1]


MIN_COLUMNS, MAX_COLUMNS = 40, 1000


def sane_columns(value: str | None) -> int | None:
    """A terminal width from COLUMNS: None if unusable (unset, 0, negative, junk), else clamped."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 6 or int(value) == 0:
        return None
    return max(MIN_COLUMNS, min(MAX_COLUMNS, int(value)))


def aws_profile_names() -> list[str]:
    """Profile names from the AWS config and credentials files, read without boto3."""
    import configparser
    from pathlib import Path

    names: set[str] = set()
    config = Path(os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser()
    creds = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")).expanduser()
    for path, is_config in ((config, True), (creds, False)):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in parser.sections():
            if is_config:
                if section == "default":
                    names.add("default")
                elif section.startswith("profile "):
                    names.add(section[len("profile ") :].strip())
            else:
                names.add(section.strip())
    return sorted(names)


def complete_profile(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(n) for n in aws_profile_names() if n.startswith(incomplete)]


F = TypeVar("F", bound=Callable[..., Any])


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
    ) -> None:
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
        self._aws: Aws | None = None
        self._role_aws: Aws | None = None
        self._reporter: Any = None

    @property
    def state_path(self) -> Path:
        from pathlib import Path

        return Path(self.state_file)

    # -- AWS -----------------------------------------------------------------

    def aws(self, fallback_region: str | None = None) -> Aws:
        if self._aws is None:
            from sts_mfa.aws import Aws, AwsConfig

            self._aws = Aws(
                AwsConfig(
                    profile=self.profile,
                    region=self.region,
                    endpoint_url=self.effective_endpoint(),
                    admin_keys=self.admin_keys,
                    fallback_region=fallback_region,
                ),
                now=self.clock.now,
            )
        return self._aws

    def effective_endpoint(self) -> str | None:
        """The endpoint override in force (the flag, else the variable boto3 reads itself), normalised.

        A malformed AWS_ENDPOINT_URL is a usage error here, before boto3 trips on it.
        """
        from sts_mfa.endpoints import normalize
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

    def context(
        self,
        wait_timeout: float | None = None,
        *,
        role_profile: str | None = None,
        role_endpoint: str | None = None,
        fallback_region: str | None = None,
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
                    endpoint_url=role_endpoint or self.effective_endpoint(),
                    admin_keys=self.role_admin_keys,
                    fallback_region=fallback_region,
                ),
                now=self.clock.now,
            )
        self._role_aws = role_aws
        return Context(
            aws=self.aws(fallback_region),
            clock=self.clock,
            report=self.reporter(),
            wait_timeout=DEFAULT_TIMEOUT if wait_timeout is None else wait_timeout,
            role_aws=role_aws,
        )

    def context_for(self, state: State, wait_timeout: float | None = None) -> Context:
        return self.context(
            wait_timeout,
            role_profile=state.role_profile,
            role_endpoint=state.role_endpoint,
            fallback_region=state.region,
        )

    # -- output ----------------------------------------------------------------

    def use_reporter(self, reporter: Any) -> None:
        """Report through `reporter` from now on (the demo narrates on its own console)."""
        self._reporter = reporter

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
        from sts_mfa.errors import StateError
        from sts_mfa.state import load

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
        from sts_mfa.endpoints import same
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
        from sts_mfa.state import transaction

        def waiting() -> None:
            if not self.quiet:
                click.echo("sts-mfa: waiting for another sts-mfa using this state file...", err=True)

        with transaction(self.state_path, on_wait=waiting) as txn:
            if txn.state is not None:
                self.check_matches(txn.state)
            elif must_exist:
                txn.require()
            yield txn


pass_app = click.make_pass_decorator(App)


def one_line(text: str) -> str:
    """`text` on one line: newlines, tabs and other control characters shown as escapes.

    Messages quote input (paths, names, URLs); a newline or a terminal escape in it
    must not break "one line on stderr", nor reach the terminal raw.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _fail(error: StsMfaError) -> NoReturn:
    click.echo(f"sts-mfa: error: {one_line(str(error))}", err=True)
    sys.exit(int(error.exit_code))


INTERRUPTED = "sts-mfa: interrupted; the state file keeps what was done so far"


def interrupted() -> NoReturn:
    """Ctrl-C anywhere, or Ctrl-C/Ctrl-D at a prompt: one line, exit 130, state resumable."""
    click.echo("", err=True)  # end the line the prompt or spinner was on
    click.echo(INTERRUPTED, err=True)
    sys.exit(130)


def output_gone() -> NoReturn:
    """stdout was closed, or its reader went away (`| head -1`): say so once, exit 1."""
    import contextlib

    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing more can fail at exit's flush
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.write("sts-mfa: error: standard output was closed before everything was written\n")
        sys.stderr.flush()
    os._exit(1)


class LazyGroup(click.Group):
    """The top-level group: commands load on demand, failures become one line and an exit code.

    `--help` and completion of command names read `COMMANDS` above and
    import no command module; running a command imports only its own.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)  # the order of the story, not the alphabet

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            module = importlib.import_module(f"sts_mfa.cli.commands.{COMMANDS[cmd_name][0]}")
            self.add_command(getattr(module, module.__name__.rsplit(".", 1)[1]), cmd_name)
        return self.commands[cmd_name]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        names = [CompletionItem(n, help=h) for n, (_, h) in COMMANDS.items() if n.startswith(incomplete)]
        # Options of the group itself (only offered for an incomplete starting with "-").
        return names + click.Command.shell_complete(self, ctx, incomplete)

    def invoke(self, ctx: click.Context) -> Any:
        debug = os.environ.get("STS_MFA_DEBUG", "") not in ("", "0")
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except (KeyboardInterrupt, click.exceptions.Abort):  # Abort: Ctrl-C or Ctrl-D at a prompt
            if debug:
                raise
            interrupted()
        except BrokenPipeError:
            output_gone()
        except Exception as e:
            if debug:
                raise
            from sts_mfa.errors import ExitCode, StsMfaError  # only a failing run pays for it

            if isinstance(e, StsMfaError):
                _fail(e)
            if type(e).__module__.startswith("botocore"):
                from sts_mfa.aws import translate

                _fail(translate(e, ctx.invoked_subcommand or "sts-mfa"))
            click.echo(
                f"sts-mfa: internal error: {type(e).__name__}: {one_line(str(e))} "
                "(set STS_MFA_DEBUG=1 for the traceback)",
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


def _is_terminal(stream: Any) -> bool:
    """Whether `stream` is an open terminal (a closed or missing stream is not)."""
    try:
        return stream is not None and not stream.closed and bool(stream.isatty())
    except (OSError, ValueError, AttributeError):
        return False


def stdin_is_terminal() -> bool:
    return _is_terminal(sys.stdin)


def stderr_is_terminal() -> bool:
    return _is_terminal(sys.stderr)
