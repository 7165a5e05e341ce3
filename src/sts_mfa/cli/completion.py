"""Completing profile names from the AWS config and credentials files, on every TAB press.

Read with configparser, not botocore's loader: completion must not import boto3
(a test checks), and only the section names are needed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from click.shell_completion import CompletionItem


def aws_profile_names() -> list[str]:
    """Profile names from the AWS config and credentials files, read without boto3."""
    import configparser
    from pathlib import Path

    names: set[str] = set()
    config = Path(os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser()
    creds = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")).expanduser()
    from sts_mfa.errors import StsMfaError
    from sts_mfa.files.private import read_config_text

    for path, is_config in ((config, True), (creds, False)):
        parser = configparser.RawConfigParser()
        try:
            text = read_config_text(path)  # a FIFO or /dev/zero here must not hang a TAB press
            if text is None:
                continue
            parser.read_string(text)
        except (configparser.Error, StsMfaError):
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
