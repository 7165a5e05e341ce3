"""Parameter types that validate while parsing, so bad input never reaches AWS."""

from __future__ import annotations

from typing import Any

import click

# Longer paths and file names than Linux allows (PATH_MAX 4096, NAME_MAX 255 bytes).
MAX_PATH_BYTES = 4095
MAX_NAME_BYTES = 255


class MfaCode(click.ParamType):  # type: ignore[type-arg]  # generic only in newer Click
    """Exactly six digits ('123 456' and '123-456' are accepted as typed from an app).

    With `allow_stdin`, '-' means "read the code from standard input".
    """

    name = "code"

    def __init__(self, *, allow_stdin: bool = False) -> None:
        self.allow_stdin = allow_stdin

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if self.allow_stdin and text == "-":
            return "-"
        from sts_mfa.mfa.codes import code_problem, normalize_code  # not loaded for --help

        problem = code_problem(text)
        if problem is not None:
            self.fail(problem, param, ctx)
        return normalize_code(text)


MFA_CODE = MfaCode()
MFA_CODE_OR_STDIN = MfaCode(allow_stdin=True)


def read_code_from_stdin(stream: Any) -> str:
    """One line from stdin, validated like --code; a usage error (exit 2) otherwise."""
    from sts_mfa.errors import NoCode

    if stream is None or getattr(stream, "closed", False):
        raise NoCode("--code -: standard input is closed, so there is no code to read")
    try:
        line = stream.readline(64)  # a code is 6 digits: never read (or echo) more than a line's worth
    except (OSError, ValueError) as e:
        raise NoCode(f"--code -: cannot read standard input: {e}") from None
    from sts_mfa.mfa.codes import code_problem, normalize_code

    problem = code_problem(line.strip())
    if problem is not None:
        raise click.BadParameter(f"from stdin: {problem}", param_hint="'--code -'")
    return normalize_code(line.strip())


class EndpointUrl(click.ParamType):  # type: ignore[type-arg]
    """An http(s) endpoint URL, normalised (see `sts_mfa.aws.endpoints`)."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from sts_mfa.aws.endpoints import normalize
        from sts_mfa.errors import UsageError

        try:
            return normalize(str(value))
        except UsageError as e:
            self.fail(str(e), param, ctx)


def path_problem(text: str) -> str | None:
    """Why `text` cannot name a file on this system, or None."""
    import os

    if not text:
        return "the path is empty"
    if "\x00" in text:
        return "the path contains a NUL character"
    raw = os.fsencode(text)
    if len(raw) > MAX_PATH_BYTES:
        return f"the path is {len(raw)} bytes long (at most {MAX_PATH_BYTES})"
    if any(len(part) > MAX_NAME_BYTES for part in raw.split(b"/")):
        return f"a name in the path is longer than {MAX_NAME_BYTES} bytes"
    if text.endswith("/"):
        return "the path ends in '/': it names a directory"
    return None


# A state file's temporary files are named `.<name>.<16 hex>.tmp`: 22 bytes more than its name.
STATE_NAME_BYTES = MAX_NAME_BYTES - len("..0123456789abcdef.tmp")


class FilePath(click.Path):
    """A path to a file the tool will read or write: not empty, not too long, not a directory.

    `name_bytes` bounds the file name (less for the state file, whose temporary and
    lock files add to it).
    """

    def __init__(self, name_bytes: int = MAX_NAME_BYTES) -> None:
        super().__init__(dir_okay=False)
        self.name_bytes = name_bytes

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import os

        text = str(value)
        problem = path_problem(text)
        if problem is None and len(os.fsencode(os.path.basename(text))) > self.name_bytes:
            problem = f"the file name is longer than {self.name_bytes} bytes"
        if problem is not None:
            self.fail(f"{_shown(text)}: {problem}", param, ctx)
        try:
            return super().convert(value, param, ctx)
        except OSError as e:  # e.g. a component that is not a directory
            self.fail(f"{_shown(text)}: {e.strerror or e}", param, ctx)


def _shown(text: str) -> str:
    """`text` as an error may show it (imported only then: urllib.parse costs ~4 ms at every TAB)."""
    from sts_mfa.aws.endpoints import shown

    return shown(text)


ENDPOINT_URL = EndpointUrl()


class FiniteFloatRange(click.FloatRange):
    """click.FloatRange, refusing NaN and infinities (which every comparison would let through)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number
