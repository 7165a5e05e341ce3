"""Profiles whose credentials lead back to themselves: refused at once, exit 2, in one line.

Two kinds of loop: `source_profile`s that come round again (botocore notices, and
used to make it exit 1), and a `credential_process` that runs `sts-mfa` for the very
profile being served (each sts-mfa says in STS_MFA_SERVING which profiles it serves,
so the second one refuses; a comma in a profile's name used to break that list, and
the second sts-mfa then waited on the first one's lock instead). Each runs the
installed `sts-mfa`, and the AWS CLI where a person would, as processes of their own
with a private home and cache and no terminal; a run that hangs is killed with its
whole process group.

No request reaches any endpoint: the profiles point at a port nothing listens on, and
every loop is refused before the first request would be sent.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from sts_mfa.errors import UsageError
from sts_mfa.session.profiles import SERVING, guard_recursion, served_by_parents
from tests.support.cli import ERROR_PREFIX, TRACEBACK
from tests.support.env import subprocess_env
from tests.support.processes import STS_MFA

pytestmark = [pytest.mark.e2e]

AWS = shutil.which("aws") or str(Path(sys.executable).parent / "aws")
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers
ROLE = "arn:aws:iam::111111111111:role/Admin"
SERIAL = "arn:aws:iam::111111111111:mfa/alice"
AT_ONCE = 15.0  # a start-up or three under load; the lock a loop used to wait on is held for 600 s


@dataclass(frozen=True)
class Ran:
    returncode: int | None  # None: it had to be killed
    stdout: str
    stderr: str
    seconds: float


def bounded(command: list[str], env: dict[str, str], timeout: float = 30) -> Ran:
    """`command` with no terminal; after `timeout` its whole process group is killed."""
    started = time.monotonic()
    child = subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(timeout=timeout)
        code: int | None = child.returncode
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        code = None
    return Ran(code, out, err, time.monotonic() - started)


def configured(tmp_path: Path, sections: dict[str, dict[str, str]]) -> dict[str, str]:
    """An environment whose AWS config holds `sections` (and an empty credentials file)."""
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text(
        "".join(
            f"[profile {name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) + "\n"
            for name, values in sections.items()
        )
    )
    credentials.write_text("")
    return subprocess_env(tmp_path, AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(credentials))


def mfa_role(source: str) -> dict[str, str]:
    return {
        "role_arn": ROLE,
        "source_profile": source,
        "mfa_serial": SERIAL,
        "region": "us-east-1",
        "endpoint_url": NOWHERE,
    }


def served_by_sts_mfa(profile: str) -> dict[str, str]:
    assert STS_MFA
    return {"credential_process": f"{STS_MFA} assume {profile} --format process", "region": "us-east-1"}


def one_error_line(ran: Ran) -> str:
    assert TRACEBACK not in ran.stderr and "internal error" not in ran.stderr, ran.stderr
    lines = [line for line in ran.stderr.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(lines) == 1, ran.stderr
    assert ran.stderr.rstrip("\n").splitlines()[-1] == lines[0], ran.stderr
    return lines[0]


# --- a comma in the name (the loop guard's list) ------------------------------------------------


def test_a_looping_profile_with_a_comma_in_its_name_fails_at_once(tmp_path: Path) -> None:
    """`a,b`'s source runs `sts-mfa assume a,b`: the second sts-mfa must see the loop, not wait."""
    env = configured(tmp_path, {"a,b": mfa_role("back"), "back": served_by_sts_mfa("a,b")})
    assert STS_MFA

    ran = bounded([STS_MFA, "assume", "a,b", "--format", "process"], env)

    assert ran.returncode == 2, (ran.returncode, ran.stderr)
    assert ran.seconds < AT_ONCE, ran.seconds
    line = one_error_line(ran)
    assert "a,b" in line and "refusing to loop" in line
    assert ran.stdout == ""


def test_the_aws_cli_through_credential_process_gets_the_refusal_at_once(tmp_path: Path) -> None:
    """The AWS CLI asks `sts-mfa assume a,b`, whose source asks it again: one refusal, passed on."""
    env = configured(
        tmp_path,
        {"a,b": mfa_role("back"), "back": served_by_sts_mfa("a,b"), "cli": served_by_sts_mfa("a,b")},
    )

    ran = bounded([AWS, "--profile", "cli", "sts", "get-caller-identity"], env)

    assert ran.returncode not in (None, 0), (ran.returncode, ran.stderr)
    assert ran.seconds < AT_ONCE, ran.seconds
    assert "refusing to loop" in ran.stderr
    assert TRACEBACK not in ran.stderr and "internal error" not in ran.stderr
    assert ran.stdout == ""


def test_names_that_share_pieces_are_not_taken_for_a_loop(tmp_path: Path) -> None:
    """Serving `a,b` is not serving `a` or `b`: a source served by `sts-mfa assume a` is no loop.

    `a`'s own source is a profile without credentials, so it fails, as a missing source does:
    exit 6, not the loop's exit 2."""
    env = configured(
        tmp_path,
        {
            "a,b": mfa_role("via-a"),
            "via-a": served_by_sts_mfa("a"),
            "a": mfa_role("empty"),
            "empty": {"region": "us-east-1"},
        },
    )
    assert STS_MFA

    ran = bounded([STS_MFA, "assume", "a,b", "--format", "process"], env)

    assert ran.returncode == 6, (ran.returncode, ran.stderr)
    line = one_error_line(ran)
    assert "refusing to loop" not in line
    assert "no credentials for its source_profile empty" in line


def test_each_name_served_is_kept_whole() -> None:
    environ: dict[str, str] = {}
    for name in ("a,b", 'q"uote', "c"):
        guard_recursion(name, environ)

    assert served_by_parents(environ) == ["a,b", 'q"uote', "c"]
    for again in ("a,b", 'q"uote'):
        with pytest.raises(UsageError, match="refusing to loop"):
            guard_recursion(again, dict(environ))
    for piece in ("a", "b", "a,b,c"):
        guard_recursion(piece, dict(environ))  # no loop: no such name is served


@pytest.mark.parametrize(
    ("value", "names"),
    [("a,b", ["a", "b"]), ("", []), ("[1, 2]", ["[1", " 2]"]), ("[not json", ["[not json"])],
    ids=["older-sts-mfa", "empty", "not-names", "not-json"],
)
def test_a_serving_list_that_is_not_a_json_list_of_names_reads_as_an_older_one(
    value: str, names: list[str]
) -> None:
    assert served_by_parents({SERVING: value}) == names


# --- source_profile loops ---------------------------------------------------------------------------


def test_a_source_profile_loop_is_a_usage_error(tmp_path: Path) -> None:
    """la's source is lb, whose source is la: exit 2 (a profile sts-mfa cannot serve), as documented."""
    env = configured(
        tmp_path,
        {"la": mfa_role("lb"), "lb": {"role_arn": ROLE, "source_profile": "la", "region": "us-east-1"}},
    )
    assert STS_MFA

    ran = bounded([STS_MFA, "assume", "la"], env)

    assert ran.returncode == 2, (ran.returncode, ran.stderr)
    line = one_error_line(ran)
    assert "la" in line and "lb" in line and "loop" in line


def test_a_loop_through_credential_process_is_a_usage_error(tmp_path: Path) -> None:
    """pa's source pb is `sts-mfa assume pa`: the inner sts-mfa refuses, and so does the outer, exit 2."""
    env = configured(tmp_path, {"pa": mfa_role("pb"), "pb": served_by_sts_mfa("pa")})
    assert STS_MFA

    ran = bounded([STS_MFA, "assume", "pa"], env)

    assert ran.returncode == 2, (ran.returncode, ran.stderr)
    line = one_error_line(ran)
    assert "refusing to loop" in line
    assert "\\n" not in line  # the inner line, passed on without its newline


@pytest.mark.parametrize("command", [["audit"], ["setup", "--software-token"]], ids=["audit", "setup"])
def test_an_admin_profile_in_a_source_profile_loop_is_a_usage_error(
    tmp_path: Path, command: list[str]
) -> None:
    """--profile c1, whose source c2 has c1 as its source: exit 2 before any request."""
    role = {"role_arn": ROLE, "region": "us-east-1", "endpoint_url": NOWHERE}
    env = configured(
        tmp_path, {"c1": {**role, "source_profile": "c2"}, "c2": {**role, "source_profile": "c1"}}
    )
    assert STS_MFA

    ran = bounded([STS_MFA, "--state", str(tmp_path / "state.json"), "--profile", "c1", *command], env)

    assert ran.returncode == 2, (ran.returncode, ran.stderr)
    line = one_error_line(ran)
    assert "c1" in line and "c2" in line and "loop" in line
    assert not (tmp_path / "state.json").exists()
