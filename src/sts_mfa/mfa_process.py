"""Running a profile's `mfa_process`: a command that prints the current MFA code.

aws-vault's name for it; `ykman oath accounts code -s NAME`, a password manager's CLI
or the sandbox's `python -m sts_mfa.sandbox.totp_code FILE` are typical. It is run
without a shell (the line is split like a shell would, but nothing is interpreted),
with a timeout, its stderr passed through to ours (a touch prompt reaches the
person), its stdin closed, and its output checked: exactly one 6-digit code.
"""

from __future__ import annotations

import math
import shlex
import subprocess
from collections.abc import Mapping

from sts_mfa.codes import code_problem, normalize_code
from sts_mfa.errors import CredentialsError, UsageError

DEFAULT_TIMEOUT = 60.0  # a person may have to touch a key or approve a push
TIMEOUT_VARIABLE = "STS_MFA_MFA_PROCESS_TIMEOUT"
MAX_OUTPUT = 4096


def timeout_from(environ: Mapping[str, str]) -> float:
    """STS_MFA_MFA_PROCESS_TIMEOUT (seconds, more than 0, at most 600), else 60."""
    text = environ.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 0 < seconds <= 600:
        raise UsageError(f"{TIMEOUT_VARIABLE} must be a number of seconds above 0 and at most 600")
    return seconds


def run(command: str, *, profile: str, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The code `command` prints, or a one-line error saying what went wrong."""
    try:
        argv = shlex.split(command)
    except ValueError as e:
        raise UsageError(f"profile {profile}: mfa_process is not a command line: {e}") from None
    if not argv:
        raise UsageError(f"profile {profile}: mfa_process is empty")
    try:
        done = subprocess.run(  # noqa: S603 - the user's own configured command, no shell
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=None, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise CredentialsError(f"profile {profile}: mfa_process {argv[0]}: command not found") from None
    except PermissionError:
        raise CredentialsError(f"profile {profile}: mfa_process {argv[0]}: permission denied") from None
    except subprocess.TimeoutExpired:
        raise CredentialsError(
            f"profile {profile}: mfa_process did not print a code within {timeout:.0f} s"
        ) from None
    except OSError as e:
        raise CredentialsError(f"profile {profile}: mfa_process {argv[0]}: {e.strerror or e}") from None
    if done.returncode != 0:
        raise CredentialsError(f"profile {profile}: mfa_process {argv[0]} failed (exit {done.returncode})")
    output = done.stdout[:MAX_OUTPUT].decode("utf-8", "replace").strip()
    problem = code_problem(output)
    if problem is not None:
        raise CredentialsError(f"profile {profile}: mfa_process {argv[0]} printed no code: {problem}")
    return normalize_code(output)
