"""`assume --format env|env-no-export|fish|powershell|windows-cmd`: what `aws configure export-credentials`
prints, read back by the real shells where Debian has them (bash, fish), by their syntax otherwise.

The model is the AWS CLI v2's `awscli/customizations/configure/exportcreds.py`: its line
templates are copied below (`AWS_CLI_LINES`) and every plain session must come out exactly so.
A hostile value (quotes, `$`, a backslash, a newline: only an endpoint that is not AWS could
send one) must come back from the shell as the very same string, never run as code.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from sts_mfa.errors import AwsError
from sts_mfa.session.handoff import environment, render
from sts_mfa.state.model import Session
from tests.support.env import subprocess_env
from tests.support.system_tools import tool

# awscli/customizations/configure/exportcreds.py (v2): `_VAR_FORMAT` of each formatter.
AWS_CLI_LINES = {
    "env": "export {var_name}={var_value}",
    "env-no-export": "{var_name}={var_value}",
    "powershell": '$Env:{var_name}="{var_value}"',
    "windows-cmd": "set {var_name}={var_value}",
    "fish": 'set -gx {var_name} "{var_value}"',
}
PLAIN = Session(
    "ASIAEXAMPLEEXAMPLE12",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "IQoJb3JpZ2luX2VjEJv//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example=",
    1_800_003_600.0,
    "arn:aws:iam::123456789012:role/r",
)
HOSTILE = Session(
    "ASIA$(touch pwned)",
    'it\'s a "secret" with $HOME and `id` and \\n',
    "line one\nline two; rm -rf ~ #",
    1_800_003_600.0,
    "arn:aws:iam::123456789012:role/r",
)


@pytest.mark.parametrize("fmt", sorted(AWS_CLI_LINES))
def test_a_plain_session_is_byte_for_byte_the_aws_clis(fmt: str) -> None:
    expected = [AWS_CLI_LINES[fmt].format(var_name=k, var_value=v) for k, v in environment(PLAIN).items()]
    assert render(PLAIN, fmt, now=0, cached=True) == "\n".join(expected)
    assert [line.split("AWS_")[1].split("=")[0].split(" ")[0] for line in expected] == [
        "ACCESS_KEY_ID",
        "SECRET_ACCESS_KEY",
        "SESSION_TOKEN",
        "CREDENTIAL_EXPIRATION",
    ]


def shell_reads(command: list[str], script: str, tmp_path: Path) -> dict[str, str]:
    """Run `script` in the shell; it prints NAME=<value>\\0 for each variable it then has."""
    done = subprocess.run(
        command,
        input=script,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=tmp_path,
        env=subprocess_env(),  # no AWS_* variable at all
    )
    assert done.returncode == 0, done.stderr
    assert not list(tmp_path.glob("pwned")), "the shell ran part of a value as a command"
    return dict(item.split("=", 1) for item in done.stdout.split("\0") if item)


NAMES = " ".join(environment(PLAIN))


@pytest.mark.parametrize("session", [PLAIN, HOSTILE], ids=["plain", "hostile"])
@pytest.mark.parametrize("fmt", ["env", "env-no-export"])
def test_bash_sources_the_lines_and_has_the_values(session: Session, fmt: str, tmp_path: Path) -> None:
    (tmp_path / "session.sh").write_text(render(session, fmt, now=0, cached=True) + "\n")
    bash = tool("bash")
    script = f'. ./session.sh\nfor n in {NAMES}; do printf \'%s=%s\\0\' "$n" "${{!n}}"; done\n'
    assert shell_reads([bash, "--norc", "--noprofile"], script, tmp_path) == environment(session)
    child = shell_reads([bash, "-c", ". ./session.sh; env -0 | { grep -z '^AWS_' || true; }"], "", tmp_path)
    assert child == (environment(session) if fmt == "env" else {})  # exported, or not


@pytest.mark.parametrize("session", [PLAIN, HOSTILE], ids=["plain", "hostile"])
def test_fish_sources_the_lines_and_exports_the_values(session: Session, tmp_path: Path) -> None:
    (tmp_path / "session.fish").write_text(render(session, "fish", now=0, cached=True) + "\n")
    script = "source ./session.fish\nenv -0 | grep -z '^AWS_'\n"
    assert shell_reads([tool("fish"), "--no-config"], script, tmp_path) == environment(session)


POWERSHELL_LINE = re.compile(r'\$Env:AWS_[A-Z_]+="[A-Za-z0-9+/=:._-]*"')
CMD_LINE = re.compile(r"set AWS_[A-Z_]+=[A-Za-z0-9+/=:._-]*")


@pytest.mark.parametrize(("fmt", "line"), [("powershell", POWERSHELL_LINE), ("windows-cmd", CMD_LINE)])
def test_powershell_and_cmd_lines_are_plain_assignments(fmt: str, line: re.Pattern[str]) -> None:
    """No shell here to run them: each line is one assignment whose value holds nothing either
    shell reads specially (no `$`, backtick or quote for PowerShell; no `%&|<>^"` for cmd)."""
    text = render(PLAIN, fmt, now=0, cached=True)
    assert all(line.fullmatch(each) for each in text.split("\n")), text
    assert "\r" not in text


@pytest.mark.parametrize("fmt", ["powershell", "windows-cmd"])
def test_a_value_they_would_run_is_refused_not_written(fmt: str) -> None:
    with pytest.raises(AwsError, match=f"that {fmt} would read as code"):
        render(HOSTILE, fmt, now=0, cached=True)
