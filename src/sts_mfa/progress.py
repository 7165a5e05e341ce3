"""How core code reports progress without knowing how it is shown.

Core modules never print: they call a `Reporter`. The CLI's reporter draws
with rich on stderr (spinners, countdowns); tests use `RecordingReporter`.
"""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def step(self, message: str) -> None:
        """Something was done (a resource created, a call answered)."""

    def info(self, message: str) -> None:
        """Context a person may want (why we wait, what a finding means)."""

    def warn(self, message: str) -> None:
        """Something the user should act on."""

    def waiting(self, what: str, elapsed: float) -> None:
        """Still waiting for AWS to catch up with `what` (called once per poll)."""

    def countdown(self, what: str, remaining: float) -> None:
        """Waiting for a known moment (the next TOTP window)."""

    def done_waiting(self) -> None:
        """A wait ended: clear any spinner."""


class NullReporter:
    def step(self, message: str) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def waiting(self, what: str, elapsed: float) -> None:
        pass

    def countdown(self, what: str, remaining: float) -> None:
        pass

    def done_waiting(self) -> None:
        pass


class RecordingReporter(NullReporter):
    """Keeps every message, for tests and for the demo's summary."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def step(self, message: str) -> None:
        self.messages.append(("step", message))

    def info(self, message: str) -> None:
        self.messages.append(("info", message))

    def warn(self, message: str) -> None:
        self.messages.append(("warn", message))

    def waiting(self, what: str, elapsed: float) -> None:
        self.messages.append(("waiting", what))

    def countdown(self, what: str, remaining: float) -> None:
        self.messages.append(("countdown", what))

    def text(self, kind: str | None = None) -> str:
        return "\n".join(m for k, m in self.messages if kind is None or k == kind)
