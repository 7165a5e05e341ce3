"""Parameter types that validate while parsing, so bad input never reaches AWS."""

from __future__ import annotations

from typing import Any

import click

from sts_mfa.codes import code_problem, normalize_code


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
        problem = code_problem(text)
        if problem is not None:
            self.fail(problem, param, ctx)
        return normalize_code(text)


MFA_CODE = MfaCode()
MFA_CODE_OR_STDIN = MfaCode(allow_stdin=True)


def read_code_from_stdin(stream: Any) -> str:
    """One line from stdin, validated like --code; a usage error (exit 2) otherwise."""
    line = stream.readline()
    problem = code_problem(line.strip())
    if problem is not None:
        raise click.BadParameter(f"from stdin: {problem}", param_hint="'--code -'")
    return normalize_code(line.strip())
