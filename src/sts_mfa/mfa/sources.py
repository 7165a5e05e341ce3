"""Where an MFA code comes from: one list of sources, in one order, for a state file and a profile alike.

In the order they are tried: a code *given* (`--code`, a line of stdin for `--code -`,
`STS_MFA_CODE`), the state file's software token (which makes its own codes), a
profile's `mfa_process`, a *prompt* on the terminal (set only where a person can answer
it), a desktop *dialog* (`sts_mfa.mfa.dialog`: with no terminal, or when named by
STS_MFA_PROMPT); else `missing()`, the error that says what to run instead. The CLI fills the sources in
(`sts_mfa.cli.code_sources`); the session machinery asks them only when a code is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from sts_mfa.errors import NoCode, StsMfaError

Kind = Literal["given", "software", "process", "prompt", "dialog", "none"]
PEOPLE: tuple[Kind, ...] = ("prompt", "dialog")  # the kinds that ask a person


@dataclass(frozen=True)
class Codes:
    given: Callable[[], str] | None = None
    process: Callable[[], str] | None = None
    prompt: Callable[[], str] | None = None
    dialog: Callable[[], str] | None = None
    missing: Callable[[], StsMfaError] | None = None

    def source(self, *, software: bool = False) -> tuple[Kind, Callable[[], str] | None]:
        """The first source that can serve, and how to get its code (None: the software token's own).

        With no source at all, the getter raises `NoneToBeHad(missing())` when asked, so the
        error is said only once a code is really needed (a cached session may still do).
        """
        if self.given is not None:
            return "given", self.given
        if software:
            return "software", None
        if self.process is not None:
            return "process", self.process
        if self.prompt is not None:
            return "prompt", self.prompt
        if self.dialog is not None:
            return "dialog", self.dialog
        missing = self.missing or _no_code

        def none_to_be_had() -> str:
            raise NoneToBeHad(missing())

        return "none", none_to_be_had

    def without_a_person(self) -> Codes:
        """The same sources, but none that waits for a person or spends a code given once
        (a credentials endpoint renewing a session on its own)."""
        return replace(self, given=None, prompt=None, dialog=None)


class NoneToBeHad(StsMfaError):
    """No source could give a code: carries the error the caller chose to say so (`error`),
    which a session falls back from (a cached session that will still do) or raises."""

    def __init__(self, error: StsMfaError) -> None:
        super().__init__(error.message, hint=error.hint)
        self.error = error
        self.exit_code = error.exit_code


def _no_code() -> StsMfaError:
    return NoCode("an MFA code is needed and there is no way to get one here")
