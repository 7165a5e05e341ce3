"""The session as a shell's assignments, line for line what `aws configure export-credentials` prints.

The AWS CLI v2's formats (`awscli/customizations/configure/exportcreds.py`), in its order
(`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
`AWS_CREDENTIAL_EXPIRATION`), each line ending in "\\n" alone:

| format          | a line                            | for                         |
|-----------------|-----------------------------------|-----------------------------|
| `env`           | `export NAME=value`               | sh, bash, zsh (`eval`)      |
| `env-no-export` | `NAME=value`                      | a dotenv file, `env $(...)` |
| `fish`          | `set -gx NAME "value"`            | fish (`| source`)           |
| `powershell`    | `$Env:NAME="value"`               | PowerShell (`| iex`)        |
| `windows-cmd`   | `set NAME=value`                  | cmd.exe                     |

The AWS CLI writes the values as they are; AWS's keys, secrets, tokens and times are made
of characters no shell reads specially (letters, digits, `+/=:-.`), so for them these lines
are byte for byte the AWS CLI's. A value with any other character (only a hostile endpoint
could send one) must not become code: the POSIX formats quote it as the shell would read it
(`shlex.quote`), fish escapes what its double quotes read specially, and PowerShell and
cmd.exe, whose quoting cannot be made safe in every context, refuse it. One difference stays:
the expiry is `...Z` (as in every other sts-mfa format) where the AWS CLI writes `+00:00`;
both are ISO 8601 and read alike by every SDK.
"""

from __future__ import annotations

import re

from sts_mfa.errors import AwsError

SHELL_FORMATS = ("env", "env-no-export", "fish", "powershell", "windows-cmd")
# What AWS's credentials are made of: nothing any of these shells reads specially.
_PLAIN = re.compile(r"[A-Za-z0-9+/=:._-]*", re.ASCII)
_FISH_SPECIAL = re.compile(r'(["$\\])')


def lines(variables: dict[str, str], fmt: str) -> str:
    """`variables` as `fmt`'s assignment lines (without the last newline, as every format here)."""
    return "\n".join(_line(name, value, fmt) for name, value in variables.items())


def _line(name: str, value: str, fmt: str) -> str:
    if fmt in ("env", "env-no-export"):
        import shlex

        quoted = shlex.quote(value)  # the value itself whenever it is plain, as the AWS CLI prints it
        return f"export {name}={quoted}" if fmt == "env" else f"{name}={quoted}"
    if fmt == "fish":
        escaped = _FISH_SPECIAL.sub(r"\\\1", value)  # inside "...", fish reads only \", \$ and \\
        return f'set -gx {name} "{escaped}"'
    if not _PLAIN.fullmatch(value):
        raise AwsError(
            f"the session's {name} holds characters that {fmt} would read as code; "
            "AWS's credentials never do, so the endpoint that sent them is not AWS",
            hint="check --endpoint-url / AWS_ENDPOINT_URL; --format json or process carry any value safely",
        )
    if fmt == "powershell":
        return f'$Env:{name}="{value}"'
    if fmt == "windows-cmd":
        return f"set {name}={value}"
    raise ValueError(f"unknown shell format {fmt!r}")
