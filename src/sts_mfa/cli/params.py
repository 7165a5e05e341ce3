"""Parameter types that validate while parsing, so bad input never reaches AWS."""

from __future__ import annotations

import configparser
import os
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from sts_mfa.totp import code_problem, normalize_code


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


def aws_profile_names() -> list[str]:
    """Profile names from the AWS config and credentials files, read without boto3."""
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
    return [CompletionItem(n) for n in aws_profile_names() if n.startswith(incomplete)]
