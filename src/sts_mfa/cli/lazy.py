"""The command table, loaded on demand: `--help` and TAB never import a command's module.

The group lists and completes commands from `COMMANDS` alone; running a command
imports only its own module (and what it imports), and gives it the global -q and -v
(`cli.options.add_global_flags`), so they work after the command as before it. Every run goes through
`boundary.guarded`, so failures end as one line and an exit code.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# The commands, in the order of the story: (module under sts_mfa.cli.commands, one-line help).
COMMANDS: dict[str, tuple[str, str]] = {
    "setup": ("setup", "Create the user, MFA device, key, and the MFA-only role."),
    "check-deny": ("check_deny", "Show that AssumeRole WITHOUT MFA is refused."),
    "audit": ("audit", "Every role's trust policy: which can be assumed without MFA."),
    "assume": ("assume", "Assume the role with an MFA code; cache the session."),
    "list-buckets": ("list_buckets", "List S3 buckets with the role session."),
    "exec": ("exec_", "Run a command with the role session in its environment."),
    "serve": ("serve", "Serve the role session to SDKs on a local endpoint until Ctrl-C."),
    "console": ("console", "Open the AWS console signed in as the role (--print: the URL)."),
    "teardown": ("teardown", "Delete everything setup created, in AWS's order."),
    "demo": ("demo", "The whole story in one go (embedded sandbox by default)."),
    "status": ("status", "What the state file holds and what exists, or a PROFILE's sessions."),
    "adopt": ("adopt", "Sign a state file sts-mfa did not write, so it is used again."),
    "keys": ("keys", "A profile's long-term key in the OS keyring; rotated (add|list|remove|rotate)."),
    "sandbox": ("sandbox", "A local strict AWS endpoint (moto + MFA enforcement)."),
}


def short_help(name: str) -> str:
    return COMMANDS[name][1]


class LazyGroup(click.Group):
    """The top-level group: commands load on demand, failures become one line and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)  # the order of the story, not the alphabet

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            from sts_mfa.cli.options import add_global_flags  # -q/-v after the command too

            module = importlib.import_module(f"sts_mfa.cli.commands.{COMMANDS[cmd_name][0]}")
            self.add_command(add_global_flags(getattr(module, module.__name__.rsplit(".", 1)[1])), cmd_name)
        return self.commands[cmd_name]

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Click's, but a mistyped command is offered the closest of the whole table.

        (Click suggests only among the commands it has loaded, and a lazy group loads none.)
        """
        name = args[0] if args else ""
        if name and name not in COMMANDS and not name.startswith("-") and not ctx.resilient_parsing:
            from difflib import get_close_matches

            close = get_close_matches(name, list(COMMANDS), n=1)
            suggestion = f" Did you mean {close[0]!r}?" if close else ""
            raise click.UsageError(f"No such command {name!r}.{suggestion}", ctx)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        names = [CompletionItem(n, help=h) for n, (_, h) in COMMANDS.items() if n.startswith(incomplete)]
        # Options of the group itself (only offered for an incomplete starting with "-").
        return names + click.Command.shell_complete(self, ctx, incomplete)

    def invoke(self, ctx: click.Context) -> Any:
        from sts_mfa.cli.boundary import guarded  # only a run that does something needs it

        return guarded(lambda: super(LazyGroup, self).invoke(ctx), doing=ctx.invoked_subcommand or "sts-mfa")
