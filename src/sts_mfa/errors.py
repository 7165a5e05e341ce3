"""Typed errors that cross from the core into the CLI.

Every expected failure is a `StsMfaError` carrying its exit code (the table in the README);
the CLI prints `str(error)` as one line on stderr and exits with `error.exit_code`.
Nothing here imports botocore: translation of botocore's exceptions lives in
`sts_mfa.aws.clients`, which is the only module that knows about them.
"""

from __future__ import annotations

import os


class ExitCode:
    """The exit codes the README documents (plain ints: an Enum would cost start-up time on every run)."""

    OK = 0
    ERROR = 1  # an AWS or environment error
    USAGE = 2  # Click's own usage errors
    EXPOSED = 3  # check-deny: the role was assumable WITHOUT MFA
    STATE = 4  # state file missing/corrupt/unsafe/from elsewhere/stale, or a step run too early
    CODE_REFUSED = 5  # the MFA code was refused
    CREDENTIALS = 6  # no credentials, expired, or rejected


class StsMfaError(Exception):
    """Base class for every failure the CLI reports as one line."""

    exit_code: int = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class AwsError(StsMfaError):
    """AWS answered with an error, or could not be reached."""

    exit_code = ExitCode.ERROR

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        operation: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.operation = operation


class PropagationTimeout(AwsError):
    """A bounded wait for IAM's eventual consistency ran out."""


class UsageError(StsMfaError):
    """Input that Click cannot check while parsing (exit 2, like Click's own)."""

    exit_code = ExitCode.USAGE


class WouldOverwrite(UsageError):
    """A file the tool was asked to write already exists: it never overwrites one (exit 2)."""


class NoCode(UsageError):
    """An MFA code is needed and there is no way to get one (no code given, no terminal)."""


class RoleExposed(StsMfaError):
    """check-deny: AWS handed out credentials without MFA."""

    exit_code = ExitCode.EXPOSED


class StateError(StsMfaError):
    """The state file is missing, unreadable, corrupt or unsafe, or a prerequisite is missing."""

    exit_code = ExitCode.STATE


class NotSigned(StateError):
    """A valid state file this user's sts-mfa did not sign: used for nothing until adopted."""


class CodeRefused(StsMfaError):
    """The MFA code was refused (by AWS, or locally because it was already used)."""

    exit_code = ExitCode.CODE_REFUSED


class CommandFailed(StsMfaError):
    """`exec`: the command could not be run; the shell's codes (127 not found, 126 not runnable)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    @classmethod
    def starting(cls, program: str, error: OSError) -> CommandFailed:
        """Why `program` could not be started, as a shell says it (127 not found, else 126)."""
        if isinstance(error, FileNotFoundError):
            if os.sep in program and os.path.exists(program):  # there, but its #! interpreter is not
                return cls(f"cannot run {program}: its interpreter (#! line) was not found", 126)
            return cls(f"command not found: {program}", 127)
        if isinstance(error, PermissionError):
            return cls(f"permission denied: {program}", 126)
        # not executable as it is (no shebang, a directory...): the shell's 126
        return cls(f"cannot run {program}: {error.strerror}", 126)


class CredentialsError(StsMfaError):
    """No credentials, expired or rejected credentials, or a session that cannot be renewed here."""

    exit_code = ExitCode.CREDENTIALS


# The words of every loop refusal (a source_profile chain, a credential_process back to the
# profile being served), also when a child sts-mfa says them and botocore passes them on.
LOOP = "refusing to loop"
