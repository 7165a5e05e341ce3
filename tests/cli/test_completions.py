"""Shell completion: the checked-in scripts are Click's own, and TAB really completes.

Every test runs the installed `sts-mfa` console script as a subprocess, the way a
shell runs it on each TAB press. Profile names come from the AWS config and
credentials files alone (read with configparser, not boto3), and completing must
not import boto3: it runs on every key press.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from scripts.gen_completions import COMPLETIONS, FILES

from tests.support.env import subprocess_env
from tests.support.processes import STS_MFA, run

HEAVY = ("boto3", "botocore", "moto", "rich")

pytestmark = pytest.mark.skipif(STS_MFA is None, reason="the sts-mfa console script is not installed")


def complete(words: str, cword: int, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """What bash asks the program for on TAB: `COMP_WORDS`/`COMP_CWORD` and `bash_complete`."""
    assert STS_MFA
    run_env = env if env is not None else subprocess_env()
    run_env.update(_STS_MFA_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword))
    return run([STS_MFA], run_env, timeout=60)


def values(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The `plain` items of a bash_complete answer (lines of `type,value`)."""
    assert result.returncode == 0, result.stderr
    items = [line.split(",", 1) for line in result.stdout.splitlines() if line]
    return [value for kind, value in items if kind == "plain"]


@pytest.fixture
def aws_files(tmp_path: Path) -> dict[str, str]:
    """An AWS config and credentials file with profiles of every kind the files allow."""
    config = tmp_path / "config"
    config.write_text(
        "[default]\nregion = us-east-1\n\n"
        "[profile admin]\nregion = eu-west-1\n\n"
        "[profile mfa]\ncredential_process = sts-mfa assume --format process\n\n"
        "[sso-session corp]\nsso_region = us-east-1\n"  # not a profile
    )
    credentials = tmp_path / "credentials"
    credentials.write_text("[ci-bot]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n")
    return subprocess_env(AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(credentials))


@pytest.mark.parametrize("shell", sorted(FILES))
def test_checked_in_script_is_what_click_generates(shell: str) -> None:
    """completions/ holds exactly what `_STS_MFA_COMPLETE=<shell>_source sts-mfa` prints today.

    If this fails, a Click upgrade or a rename changed the script: run
    `python scripts/gen_completions.py` and commit the result.
    """
    assert STS_MFA
    result = run([STS_MFA], subprocess_env(_STS_MFA_COMPLETE=f"{shell}_source"), timeout=60)
    assert result.returncode == 0, result.stderr
    checked_in = (COMPLETIONS / FILES[shell]).read_text()
    assert result.stdout == checked_in, (
        f"completions/{FILES[shell]} is stale: python scripts/gen_completions.py"
    )


def test_a_subcommand_prefix_completes_to_the_subcommands() -> None:
    """`sts-mfa as<TAB>` gives `assume`; `sts-mfa s<TAB>` gives every command starting with s."""
    assert values(complete("sts-mfa as", 1)) == ["assume"]
    assert sorted(values(complete("sts-mfa s", 1))) == ["sandbox", "serve", "setup", "status"]


def test_option_choices_complete() -> None:
    """`sts-mfa assume --format <TAB>` offers the formats, in the order of the help."""
    assert values(complete("sts-mfa assume --format ", 3)) == [
        *("text", "json", "env", "process"),
        *("env-no-export", "fish", "powershell", "windows-cmd"),
    ]
    assert values(complete("sts-mfa assume --format p", 3)) == ["process", "powershell"]


def test_profile_values_come_from_the_aws_config_and_credentials_files(aws_files: dict[str, str]) -> None:
    """`--profile <TAB>` lists the profiles of AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE.

    `[default]`, `[profile NAME]` from the config file, bare `[NAME]` from the
    credentials file; an `[sso-session ...]` section is not a profile.
    """
    assert values(complete("sts-mfa --profile ", 2, aws_files)) == ["admin", "ci-bot", "default", "mfa"]
    assert values(complete("sts-mfa --profile a", 2, aws_files)) == ["admin"]
    assert values(complete("sts-mfa --profile m", 2, aws_files)) == ["mfa"]


@pytest.mark.parametrize(
    ("line", "cword"),
    [
        ("sts-mfa assume ", 2),
        ("sts-mfa exec ", 2),
        ("sts-mfa list-buckets ", 2),
        ("sts-mfa check-deny ", 2),
        ("sts-mfa status ", 2),
        ("sts-mfa check-deny prod --policy-profile ", 4),
    ],
)
def test_a_command_taking_a_profile_completes_its_names(
    aws_files: dict[str, str], line: str, cword: int
) -> None:
    """The PROFILE argument of `assume`, `exec`, ... offers the AWS config's profiles."""
    assert values(complete(line, cword, aws_files)) == ["admin", "ci-bot", "default", "mfa"]


def test_profile_completion_without_aws_files_offers_nothing(tmp_path: Path) -> None:
    """No config files at all is not an error: just nothing to offer, and no traceback."""
    env = subprocess_env(
        AWS_CONFIG_FILE=str(tmp_path / "missing-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "missing-credentials"),
    )
    result = complete("sts-mfa --profile ", 2, env)
    assert values(result) == []
    assert "Traceback" not in result.stderr, result.stderr


def test_a_garbled_aws_config_file_does_not_break_completion(tmp_path: Path) -> None:
    """A config file that configparser cannot read is skipped; the credentials file still counts."""
    config = tmp_path / "config"
    config.write_bytes(b"this is not ini\n[profile ok\n\xff\xfe")
    credentials = tmp_path / "credentials"
    credentials.write_text("[ci-bot]\naws_access_key_id = AKIAEXAMPLE\n")
    env = subprocess_env(AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(credentials))
    result = complete("sts-mfa --profile ", 2, env)
    assert values(result) == ["ci-bot"], result.stderr


def test_the_bash_script_completes_in_a_real_bash(aws_files: dict[str, str]) -> None:
    """Source completions/sts-mfa.bash in bash and call its completion function as TAB does."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    assert STS_MFA
    script = COMPLETIONS / FILES["bash"]
    probe = (
        f"source {script}\n"
        "COMP_WORDS=(sts-mfa as); COMP_CWORD=1; COMPREPLY=()\n"
        "_sts_mfa_completion sts-mfa\n"
        'echo "subcommand: ${COMPREPLY[*]}"\n'
        "COMP_WORDS=(sts-mfa --profile a); COMP_CWORD=2; COMPREPLY=()\n"
        "_sts_mfa_completion sts-mfa\n"
        'echo "profile: ${COMPREPLY[*]}"\n'
    )
    env = dict(aws_files, PATH=f"{Path(STS_MFA).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    result = run([bash, "-c", probe], env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["subcommand: assume", "profile: admin"], result.stderr


@pytest.mark.parametrize(
    ("words", "cword"),
    [("sts-mfa as", 1), ("sts-mfa --profile ", 2), ("sts-mfa assume --format ", 3)],
)
def test_completion_does_not_import_boto3(words: str, cword: int, aws_files: dict[str, str]) -> None:
    """A TAB press loads neither boto3/botocore nor moto nor rich.

    Python's own import log (PYTHONPROFILEIMPORTTIME) of the installed console
    script is the witness: it names every module the process imported.
    """
    env = dict(aws_files, PYTHONPROFILEIMPORTTIME="1")
    result = complete(words, cword, env)
    assert result.returncode == 0, result.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "click" in imported, "the import log is missing: is PYTHONPROFILEIMPORTTIME honoured?"
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
