"""How things look: rich consoles, the progress reporter, tables.

Imported only by commands that print more than a line, never by `--help`,
completion or the cached-credentials path. Everything but data goes to stderr;
rich itself honours NO_COLOR, TERM=dumb and non-terminal output.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.status import Status
from rich.table import Table

from sts_mfa.text import one_line


def safe(value: object) -> str:
    """Text from AWS, a state file or a user, for a rich console: never markup, never a control character.

    Control characters (a carriage return, an escape sequence) could repaint the
    terminal, say to make "Proven:" appear where there is none: they are shown as escapes.
    """
    return escape(one_line(str(value)))


def _environment() -> dict[str, str]:
    """The environment rich reads, with COLUMNS/LINES it cannot use removed or clamped."""
    import os

    from sts_mfa.cli.terminal import sane_columns

    environ = dict(os.environ)
    for name in ("COLUMNS", "LINES"):
        if name in environ:
            value = sane_columns(environ[name])
            if value is None:
                del environ[name]
            else:
                environ[name] = str(value)
    return environ


def make_console(*, stderr: bool, record: bool = False) -> Console:
    # soft_wrap: long ARNs stay on one line, so logs can be grepped.
    # A recording (demo --svg) wraps instead: the SVG export would crop long lines.
    return Console(
        stderr=stderr, highlight=False, soft_wrap=not record, record=record, _environ=_environment()
    )


class CliReporter:
    """A `Reporter` drawing on stderr: ticks for steps, a spinner while waiting."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self._status: Status | None = None
        self._announced: set[str] = set()

    def _print(self, text: str) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        self.console.print(text)

    def step(self, message: str) -> None:
        if not self.quiet:
            self._print(f"[green]✓[/] {safe(message)}")

    def info(self, message: str) -> None:
        if not self.quiet:
            self._print(f"[dim]·[/] {safe(message)}")

    def warn(self, message: str) -> None:
        from sts_mfa.cli.boundary import warning_text

        self._print(safe(warning_text(message)))

    def _spin(self, text: str, key: str) -> None:
        if self.quiet:
            return
        if not self.console.is_terminal:
            # No spinner in a log: say it once per thing waited for.
            if key not in self._announced:
                self._announced.add(key)
                self.console.print(f"… {safe(text)}")
            return
        if self._status is None:
            self._status = self.console.status(safe(text))
            self._status.start()
        else:
            self._status.update(safe(text))

    def waiting(self, what: str, elapsed: float) -> None:
        self._spin(f"waiting for {what} ({elapsed:.0f} s)", f"wait:{what}")

    def countdown(self, what: str, remaining: float) -> None:
        self._spin(f"waiting for {what}: {remaining:.0f} s", f"countdown:{what}")

    def done_waiting(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        self._announced.clear()


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> Table:
    """A plain table; every title, header and cell is text, never markup."""
    t = Table(title=escape(title) if title else None, title_justify="left", show_edge=False, pad_edge=False)
    for c in columns:
        t.add_column(safe(c), overflow="fold")
    for r in rows:
        t.add_row(*("-" if v is None else safe(v) for v in r))
    return t
