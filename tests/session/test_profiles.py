"""Profiles of the AWS config as targets: the MFA session, the shared ledger, code sources, errors.

In-process against the strict sandbox on the shared fake clock. The identity is the
one `sandbox serve --example-profiles` makes (alice, her device, roles Admin and
ReadOnly that need MFA), and the profiles are read by botocore from files of the
test's own. Their `mfa_process` is a stand-in phone: a small Python program that
prints the device's code for the time the fake clock shows (the test writes it to a
file before each command and whenever the tool sleeps) and logs each time-step it
gave, so "how many codes, on which steps" is counted by the phone, not by the tool.

The real AWS CLI, a pseudo-terminal and parallel processes on the real clock are in
test_profiles_aws_cli.py.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import Result

from sts_mfa.sandbox import Sandbox
from sts_mfa.sandbox.fixtures.examples import ExampleIdentity, create_identity
from sts_mfa.state.document import load
from tests.support.cli import Cli, assert_one_error_line, no_traceback
from tests.support.clock import FakeClock, ShiftedClock
from tests.support.sandbox import admin

pytestmark = [pytest.mark.sandbox]

PHONE = textwrap.dedent(
    """
    import sys, pyotp
    seed, clock, log = sys.argv[1:4]
    now = float(open(clock).read())
    with open(log, "a") as f:
        f.write(f"{int(now // 30)}\\n")
    print(pyotp.TOTP(open(seed).read().strip()).at(now))
    """
)


@dataclass
class Profiles:
    """alice's profiles, her phone, and a CLI whose clock the phone reads."""

    sb: Sandbox
    identity: ExampleIdentity
    cli: Cli
    clock: FakeClock
    home: Path
    config: Path
    credentials: Path
    clock_file: Path
    log: Path

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        self.sync()
        return self.cli(*args, env=env)

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def sync(self) -> None:
        self.clock_file.write_text(repr(self.clock.now()))

    def steps(self) -> list[int]:
        """The time-steps of the codes the phone gave, in order."""
        return [int(line) for line in self.log.read_text().split()] if self.log.exists() else []

    def phone(self, seed: str | None = None) -> str:
        """The mfa_process line of a phone holding `seed` (alice's by default)."""
        seed_file = self.home / f"seed-{len(list(self.home.glob('seed-*')))}"
        seed_file.write_text(seed or self.identity.seed)
        script = self.home / "phone.py"
        script.write_text(PHONE)
        return shlex.join([sys.executable, str(script), str(seed_file), str(self.clock_file), str(self.log)])

    def write_config(self, **sections: dict[str, str]) -> None:
        """`[profile NAME]` sections (the identity's, plus these), as a person's config file."""
        text = "".join(
            f"[profile {name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) + "\n"
            for name, values in {**self.base_sections(), **sections}.items()
        )
        self.config.write_text(text)

    def base_sections(self) -> dict[str, dict[str, str]]:
        common = {"region": self.sb.region, "endpoint_url": self.sb.endpoint}
        role = {
            "source_profile": "sandbox-alice",
            "mfa_serial": self.identity.serial,
            "mfa_process": self.phone(),
            **common,
        }
        return {
            "sandbox-alice": common,
            "sandbox-admin": {"role_arn": self.identity.role_arns["sandbox-admin"], **role},
            "sandbox-readonly": {"role_arn": self.identity.role_arns["sandbox-readonly"], **role},
        }

    def cache_files(self) -> list[Path]:
        return sorted(Path(os.environ["STS_MFA_CACHE_DIR"]).iterdir())


@pytest.fixture
def profiles(
    sb: Sandbox, shared_clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Profiles:
    identity = create_identity(sb, clock=shared_clock)
    home = tmp_path / "home"
    home.mkdir()
    config, credentials = home / "config", home / "credentials"
    credentials.write_text(
        "[sandbox-alice]\n"
        f"aws_access_key_id = {identity.access_key_id}\n"
        f"aws_secret_access_key = {identity.secret_access_key}\n"
    )
    for var in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)  # everything comes from the profiles
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    made = Profiles(
        sb=sb,
        identity=identity,
        cli=Cli(state=tmp_path / "state.json", clock=shared_clock, app_kwargs={}),
        clock=shared_clock,
        home=home,
        config=config,
        credentials=credentials,
        clock_file=home / "now",
        log=home / "steps.log",
    )
    made.write_config()
    sleep = shared_clock.sleep

    def sleep_and_tell_the_phone(seconds: float) -> None:
        sleep(seconds)
        made.sync()

    monkeypatch.setattr(shared_clock, "sleep", sleep_and_tell_the_phone)
    sb.reset_log()
    return made


def acting_as(profiles: Profiles, doc: dict[str, Any]) -> str:
    """The role name AWS (the sandbox) says credentials printed by `assume --json` act as."""
    sts = boto3.client(
        "sts",
        endpoint_url=profiles.sb.endpoint,
        region_name=profiles.sb.region,
        aws_access_key_id=doc["AccessKeyId"],
        aws_secret_access_key=doc["SecretAccessKey"],
        aws_session_token=doc["SessionToken"],
    )
    return str(sts.get_caller_identity()["Arn"]).split("/")[1]


# --- one code for many roles ------------------------------------------------------------------


def test_one_code_serves_two_roles_through_the_mfa_session(profiles: Profiles) -> None:
    readonly = profiles.json("assume", "sandbox-readonly")
    admin_doc = profiles.json("assume", "sandbox-admin")

    assert (acting_as(profiles, readonly), acting_as(profiles, admin_doc)) == ("ReadOnly", "Admin")
    assert len(profiles.steps()) == 1  # one code from the phone
    assert profiles.sb.count("GetSessionToken", 200) == 1
    assert profiles.sb.count("AssumeRole", 200) == 2
    assert profiles.sb.count("AssumeRole") == 2  # nothing refused on the way


def test_without_the_mfa_session_each_role_costs_a_code_on_a_step_of_its_own(profiles: Profiles) -> None:
    assert profiles("assume", "sandbox-readonly", "--no-mfa-session").exit_code == 0
    result = profiles("assume", "sandbox-admin", env={"STS_MFA_NO_MFA_SESSION": "1"})
    assert result.exit_code == 0, result.output

    steps = profiles.steps()
    assert len(steps) == 2 and steps[0] < steps[1]  # the second waited for the next window
    assert profiles.sb.count("GetSessionToken") == 0
    assert profiles.sb.count("AssumeRole") == profiles.sb.count("AssumeRole", 200) == 2
    assert "already sent" in result.stderr


def test_a_cached_role_session_costs_nothing(profiles: Profiles) -> None:
    first = profiles.json("assume", "sandbox-readonly")
    profiles.sb.reset_log()
    again = profiles.json("assume", "sandbox-readonly")

    assert again["AccessKeyId"] == first["AccessKeyId"]
    assert profiles.sb.requests == []


def test_the_mfa_session_is_cached_apart_from_the_role_sessions(profiles: Profiles) -> None:
    """Forcing a role session anew reuses the MFA session: AssumeRole only, no code."""
    profiles.json("assume", "sandbox-readonly")
    profiles.sb.reset_log()
    profiles.json("assume", "sandbox-readonly", "--force")

    assert [r.action for r in profiles.sb.requests] == ["AssumeRole"]
    assert len(profiles.steps()) == 1


def test_an_mfa_session_aws_no_longer_takes_is_replaced_once(profiles: Profiles) -> None:
    profiles.json("assume", "sandbox-readonly")
    iam = admin(profiles.sb, "iam")
    # AWS forgets temporary credentials whose user is gone: delete and re-create alice.
    policy = iam.get_user_policy(UserName="alice", PolicyName="assume-sandbox-roles")["PolicyDocument"]
    iam.delete_user_policy(UserName="alice", PolicyName="assume-sandbox-roles")
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=profiles.identity.serial)
    iam.delete_access_key(UserName="alice", AccessKeyId=profiles.identity.access_key_id)
    iam.delete_user(UserName="alice")
    iam.create_user(UserName="alice")
    iam.put_user_policy(
        UserName="alice", PolicyName="assume-sandbox-roles", PolicyDocument=json.dumps(policy)
    )
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    profiles.credentials.write_text(
        f"[sandbox-alice]\naws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n"
    )
    profiles.clock.advance(60)  # past the step the first assume spent
    import pyotp

    totp = pyotp.TOTP(profiles.identity.seed)
    now = profiles.clock.now()
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=profiles.identity.serial,
        AuthenticationCode1=totp.at(now - 30),
        AuthenticationCode2=totp.at(now),
    )
    profiles.clock.advance(30)
    result = profiles("assume", "sandbox-admin", "--json")

    assert result.exit_code == 0, result.output
    assert acting_as(profiles, json.loads(result.stdout)) == "Admin"
    assert profiles.sb.count("GetSessionToken", 200) == 2  # a new key: a new MFA session


# --- the 1-hour cap ---------------------------------------------------------------------------


def test_a_profile_asking_for_more_than_an_hour_assumes_the_role_directly(profiles: Profiles) -> None:
    iam = admin(profiles.sb, "iam")
    iam.update_role(RoleName="Admin", MaxSessionDuration=43200)
    sections = profiles.base_sections()
    profiles.write_config(**{"sandbox-admin": {**sections["sandbox-admin"], "duration_seconds": "7200"}})

    result = profiles("-v", "assume", "sandbox-admin", "--json")

    assert result.exit_code == 0, result.output
    assert "over the 1-hour cap" in result.stderr
    assert profiles.sb.count("GetSessionToken") == 0
    expires = datetime.fromisoformat(json.loads(result.stdout)["Expiration"].replace("Z", "+00:00"))
    assert expires.timestamp() - profiles.clock.now() > 7000
    assert len(profiles.steps()) == 1


def test_duration_flag_over_an_hour_goes_direct_too(profiles: Profiles) -> None:
    admin(profiles.sb, "iam").update_role(RoleName="ReadOnly", MaxSessionDuration=43200)
    result = profiles("-v", "assume", "sandbox-readonly", "--duration", "5400", "--json")
    assert result.exit_code == 0, result.output
    assert "over the 1-hour cap" in result.stderr
    assert profiles.sb.count("AssumeRole", 200) == 1 and profiles.sb.count("GetSessionToken") == 0


# --- one ledger per device --------------------------------------------------------------------


def test_a_profile_and_a_state_file_on_one_device_never_send_the_same_step(profiles: Profiles) -> None:
    """The state file's user and device, also named by a profile: whoever goes second waits."""
    cli = profiles.cli
    here = {"AWS_ENDPOINT_URL": profiles.sb.endpoint}  # the state file's endpoint, as it was made
    setup = cli("setup", "--software-token", env={**profiles.sb.env(0), **here})
    assert setup.exit_code == 0, setup.output
    state = load(cli.state)
    assert state and state.mfa_device and state.mfa_device.serial and state.access_key and state.role
    seed = state.seed
    assert seed
    profiles.credentials.write_text(
        profiles.credentials.read_text()
        + f"\n[mine-keys]\naws_access_key_id = {state.access_key.access_key_id}\n"
        f"aws_secret_access_key = {state.access_key.secret_access_key}\n"
    )
    mine = {
        "role_arn": state.role.arn,
        "source_profile": "mine-keys",
        "mfa_serial": state.mfa_device.serial,
        "mfa_process": profiles.phone(seed),
        "endpoint_url": profiles.sb.endpoint,
    }
    profiles.write_config(mine=mine)
    profiles.sb.reset_log()

    assert profiles("assume", env=here).exit_code == 0  # the state file's software token: step S
    mine_first = profiles("assume", "mine", "--no-mfa-session")
    assert mine_first.exit_code == 0, mine_first.output  # the phone: after S
    assert profiles("assume", "mine", "--no-mfa-session", "--force").exit_code == 0
    assert profiles("assume", "--force", env=here).exit_code == 0  # the state file: after the phone

    accepted = [r for r in profiles.sb.requests if r.action == "AssumeRole"]
    assert [r.status for r in accepted] == [200, 200, 200, 200]  # AWS refused no code as reused
    last = load(cli.state)
    assert last is not None
    phone_steps = profiles.steps()
    assert len(phone_steps) == 2 and phone_steps[0] < phone_steps[1]
    assert last.totp[state.mfa_device.serial].last_step > phone_steps[1]  # type: ignore[operator]


def test_a_typed_code_equal_to_the_last_one_is_refused_locally(profiles: Profiles) -> None:
    import pyotp

    code = pyotp.TOTP(profiles.identity.seed).at(profiles.clock.now())
    assert profiles("assume", "sandbox-readonly", "--code", code).exit_code == 0
    profiles.sb.reset_log()
    result = profiles("assume", "sandbox-admin", "--no-mfa-session", "--code", code)

    assert result.exit_code == 5, result.output
    assert "already" in result.stderr
    assert profiles.sb.requests == []  # refused before AWS saw it


# --- code sources -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "exit_code", "words"),
    [
        ("sh -c 'exit 3'", 6, "mfa_process `sh -c 'exit 3'` failed (exit 3)"),
        ("echo hello", 6, "mfa_process `echo hello` printed no code"),
        ("printf '123456\\n654321\\n'", 6, "mfa_process `printf '123456\\n654321\\n'` printed no code"),
        ("/nonexistent/phone", 6, "mfa_process `/nonexistent/phone`: command not found"),
        ("'unterminated", 2, "not a command line"),
        ("sleep 5", 6, "mfa_process `sleep 5` did not print a code within 1 s"),
    ],
    ids=["fails", "junk", "two-codes", "missing", "unparsable", "slow"],
)
def test_a_broken_mfa_process_is_one_clear_error_and_changes_nothing(
    profiles: Profiles, command: str, exit_code: int, words: str
) -> None:
    sections = profiles.base_sections()
    profiles.write_config(**{"sandbox-admin": {**sections["sandbox-admin"], "mfa_process": command}})

    started = time.monotonic()
    result = profiles("assume", "sandbox-admin", env={"STS_MFA_MFA_PROCESS_TIMEOUT": "1"})

    assert time.monotonic() - started < 4
    line = assert_one_error_line(result, exit_code)
    assert words in line and "profile sandbox-admin" in line
    assert all(r.action not in ("GetSessionToken", "AssumeRole") for r in profiles.sb.requests)
    assert [p.name for p in profiles.cache_files() if p.suffix == ".json"] == []  # only locks


@pytest.mark.parametrize("value", ["0", "-1", "nan", "601", "soon"])
def test_a_bad_mfa_process_timeout_is_a_usage_error(profiles: Profiles, value: str) -> None:
    result = profiles("assume", "sandbox-admin", env={"STS_MFA_MFA_PROCESS_TIMEOUT": value})
    assert "STS_MFA_MFA_PROCESS_TIMEOUT" in assert_one_error_line(result, 2)


def test_a_given_code_wins_over_the_mfa_process(profiles: Profiles) -> None:
    import pyotp

    code = pyotp.TOTP(profiles.identity.seed).at(profiles.clock.now())
    result = profiles("assume", "sandbox-admin", env={"STS_MFA_CODE": code})
    assert result.exit_code == 0, result.output
    assert profiles.steps() == []


def test_no_code_and_no_terminal_fails_at_once_with_the_command_to_run(profiles: Profiles) -> None:
    sections = profiles.base_sections()
    del sections["sandbox-admin"]["mfa_process"]
    profiles.write_config(**{"sandbox-admin": sections["sandbox-admin"]})

    result = profiles("assume", "sandbox-admin", "--format", "process")

    line = assert_one_error_line(result, 2)
    assert "run `sts-mfa assume sandbox-admin` in a terminal" in line
    assert result.stdout == ""
    assert all(r.action not in ("GetSessionToken", "AssumeRole") for r in profiles.sb.requests)


# --- credential_process: a session on the SDK's clock ---------------------------------------------


def process_doc(profiles: Profiles, *args: str) -> dict[str, str]:
    result = profiles("assume", *args, "--format", "process")
    assert result.exit_code == 0, result.output
    doc: dict[str, str] = json.loads(result.stdout)
    return doc


def test_credential_process_renews_inside_the_sdk_window_from_the_mfa_session(profiles: Profiles) -> None:
    """botocore refreshes process credentials in their last 15 minutes: a fresh hour is worth it,
    and the MFA session makes it cost no code."""
    first = process_doc(profiles, "sandbox-admin")
    assert first["AccountId"] == profiles.identity.role_arns["sandbox-admin"].split(":")[4]
    profiles.clock.advance(3600 - 901)
    assert process_doc(profiles, "sandbox-admin")["AccessKeyId"] == first["AccessKeyId"]
    assert profiles.json("assume", "sandbox-admin")["AccessKeyId"] == first["AccessKeyId"]
    profiles.clock.advance(2)  # 899 s left
    assert process_doc(profiles, "sandbox-admin")["AccessKeyId"] != first["AccessKeyId"]
    assert len(profiles.steps()) == 1 and profiles.sb.count("GetSessionToken", 200) == 1


def test_credential_process_without_a_code_serves_the_session_above_the_sdk_floor_only(
    profiles: Profiles,
) -> None:
    """Its MFA session gone, no mfa_process, no terminal: the advisory renewal cannot be made, so the
    cached session is served, with a warning, until botocore would refresh it at every call."""
    import pyotp

    sections = profiles.base_sections()
    del sections["sandbox-admin"]["mfa_process"]
    profiles.write_config(**{"sandbox-admin": sections["sandbox-admin"]})
    code = pyotp.TOTP(profiles.identity.seed).at(profiles.clock.now())
    first = process_doc(profiles, "sandbox-admin", "--code", code, "--mfa-session-duration", "900")
    profiles.clock.advance(3600 - 800)  # the MFA session is gone; 800 s left

    served = profiles("assume", "sandbox-admin", "--format", "process")
    assert served.exit_code == 0, served.output
    assert json.loads(served.stdout)["AccessKeyId"] == first["AccessKeyId"]
    assert "no MFA code to renew it; run `sts-mfa assume sandbox-admin` in a terminal" in served.stderr
    profiles.clock.advance(800 - 650)  # inside the last 10 minutes and the margin
    refused = profiles("assume", "sandbox-admin", "--format", "process")
    assert "run `sts-mfa assume sandbox-admin` in a terminal" in assert_one_error_line(refused, 2)
    assert refused.stdout == ""


# --- the cache --------------------------------------------------------------------------------


def test_the_cache_is_private(profiles: Profiles) -> None:
    profiles.json("assume", "sandbox-readonly")
    root = Path(os.environ["STS_MFA_CACHE_DIR"])

    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    files = profiles.cache_files()
    kinds = {p.name.split("-")[0] for p in files}
    assert {"role", "mfa", "ledger"} <= kinds
    for path in files:
        assert stat.S_IMODE(path.lstat().st_mode) == 0o600, path


def test_a_cache_directory_open_to_others_is_refused(profiles: Profiles) -> None:
    root = Path(os.environ["STS_MFA_CACHE_DIR"])
    root.mkdir(mode=0o700, exist_ok=True)
    root.chmod(0o755)
    result = profiles("assume", "sandbox-readonly")
    assert "open to other users" in assert_one_error_line(result, 4)
    assert profiles.sb.requests == []


def test_a_cache_directory_that_is_a_symlink_is_refused(profiles: Profiles, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    link = tmp_path / "cache-link"
    link.symlink_to(elsewhere)
    result = profiles("assume", "sandbox-readonly", env={"STS_MFA_CACHE_DIR": str(link)})
    assert "not a directory" in assert_one_error_line(result, 4)
    assert list(elsewhere.iterdir()) == []


def test_a_changed_profile_never_gets_the_old_session(profiles: Profiles) -> None:
    first = profiles.json("assume", "sandbox-readonly")
    sections = profiles.base_sections()
    other_role = {**sections["sandbox-readonly"], "role_arn": profiles.identity.role_arns["sandbox-admin"]}
    profiles.write_config(**{"sandbox-readonly": other_role})

    second = profiles.json("assume", "sandbox-readonly")

    assert acting_as(profiles, first) == "ReadOnly" and acting_as(profiles, second) == "Admin"
    assert second["AccessKeyId"] != first["AccessKeyId"]
    longer = {**sections["sandbox-readonly"], "duration_seconds": "1800"}
    profiles.write_config(**{"sandbox-readonly": longer})
    third = profiles.json("assume", "sandbox-readonly")
    assert third["AccessKeyId"] not in (first["AccessKeyId"], second["AccessKeyId"])
    assert len(profiles.steps()) == 1  # one MFA session served all three


def test_a_corrupt_cache_entry_is_replaced_not_trusted(profiles: Profiles) -> None:
    profiles.json("assume", "sandbox-readonly")
    for path in profiles.cache_files():
        if path.name.startswith("role-") and path.suffix == ".json":
            path.write_text('{"version": 1, "session": {"access_key_id": 7}}')
    profiles.sb.reset_log()
    again = profiles("assume", "sandbox-readonly", "--json")
    assert again.exit_code == 0, again.output
    assert [r.action for r in profiles.sb.requests] == ["AssumeRole"]  # renewed, with the MFA session


# --- secrets ----------------------------------------------------------------------------------


def test_no_secret_reaches_output_not_asked_for(profiles: Profiles) -> None:
    runs = [
        profiles("-v", "assume", "sandbox-readonly"),
        profiles("-v", "assume", "sandbox-admin", "--format", "text"),
        profiles("status", "sandbox-admin"),
        profiles("status", "sandbox-admin", "--json"),
        profiles("-v", "list-buckets", "sandbox-readonly"),
    ]
    secrets = [profiles.identity.secret_access_key, profiles.identity.seed]
    for path in profiles.cache_files():
        if path.name.startswith(("role-", "mfa-")) and path.suffix == ".json":
            session = json.loads(path.read_text())["session"]
            secrets += [session["secret_access_key"], session["session_token"]]
    assert len(secrets) == 2 + 2 * 3  # two role sessions and the MFA session
    for result in runs:
        assert result.exit_code == 0, result.output
        for secret in secrets:
            assert secret not in result.output and secret not in result.stderr


# --- status, list-buckets, exec ---------------------------------------------------------------


def test_status_shows_the_mfa_session_and_the_roles_it_serves(profiles: Profiles) -> None:
    profiles.json("assume", "sandbox-readonly")
    profiles.json("assume", "sandbox-admin")

    data = profiles.json("status", "sandbox-admin")

    assert data["session"]["valid"] is True
    [mfa] = data["mfa_sessions"]
    assert sorted(mfa["serves"]) == sorted(profiles.identity.role_arns.values())
    assert data["last_step"] == profiles.steps()[0]
    text = profiles("status", "sandbox-readonly").stdout
    assert "MFA session" in text and "serves" in text and profiles.identity.role_arns["sandbox-admin"] in text


def test_list_buckets_with_a_profile(profiles: Profiles) -> None:
    result = profiles("list-buckets", "sandbox-readonly", "--json")
    assert result.exit_code == 0, result.output
    names = json.loads(result.stdout)
    assert "reports-111111111111" in json.dumps(names)


def test_list_buckets_with_a_profile_uses_the_code_given(profiles: Profiles) -> None:
    import pyotp

    sections = profiles.base_sections()
    del sections["sandbox-readonly"]["mfa_process"]
    profiles.write_config(**{"sandbox-readonly": sections["sandbox-readonly"]})
    code = pyotp.TOTP(profiles.identity.seed).at(profiles.clock.now())

    result = profiles("list-buckets", "sandbox-readonly", "--code", code, "--json")

    assert result.exit_code == 0, result.output
    assert "reports-111111111111" in result.stdout
    assert profiles.sb.count("GetSessionToken", 200) == 1


def test_the_text_format_says_where_the_role_session_came_from(profiles: Profiles) -> None:
    def source(*args: str) -> str:
        result = profiles("assume", *args)
        assert result.exit_code == 0, result.output
        return next(line for line in result.stdout.splitlines() if line.startswith("Source:"))

    first = source("sandbox-readonly")  # a code from the phone: a new MFA session
    second = source("sandbox-admin")  # the MFA session the first one made: no code
    third = source("sandbox-admin")  # the role session the second one cached

    assert "new MFA session" in first and "no new code" not in first
    assert "MFA session (no new code)" in second
    assert "cached session" in third
    assert len(profiles.steps()) == 1


# --- check-deny PROFILE -----------------------------------------------------------------------


def _policy_reader(profiles: Profiles) -> dict[str, str]:
    """A profile `audit` with the sandbox admin's keys (allowed iam:GetRole)."""
    env = profiles.sb.env(0)
    profiles.credentials.write_text(
        profiles.credentials.read_text() + f"\n[audit]\naws_access_key_id = {env['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {env['AWS_SECRET_ACCESS_KEY']}\n"
    )
    return {"region": profiles.sb.region, "endpoint_url": profiles.sb.endpoint}


def test_check_deny_profile_is_undecided_when_no_credentials_could_read_the_trust_policy(
    profiles: Profiles,
) -> None:
    """Refused without MFA and accepted with it, but the policy unread: other ways in (web
    identity, SAML, other principals) are unknown, so nothing is proven (exit 3)."""
    result = profiles("check-deny", "sandbox-readonly", "--json")

    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    assert doc["denied"] is True and doc["accepted_with_mfa"] is True
    assert doc["trust_policy"] == "unreadable" and doc["proven"] is False
    assert doc["trust_policy_verdict"] is None
    text = profiles("check-deny", "sandbox-readonly")
    assert text.exit_code == 3
    assert "NOT checked" in text.stdout and "Proven" not in text.stdout
    line = assert_one_error_line(text, 3)
    assert "the trust policy of" in line and "could not be read" in line and "--policy-profile" in line


OPEN_TO_GITHUB = "arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"


def _allowing(action: str, resource: str) -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _role_in_the_other_account(profiles: Profiles, name: str, action: str) -> str:
    """A role `name` in the sandbox's second account: alice with MFA, and GitHub without."""
    other = profiles.sb.accounts[1].account_id
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": profiles.identity.user_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            },
            {
                "Effect": "Allow",
                "Principal": {"Federated": OPEN_TO_GITHUB.format(account=other)},
                "Action": "sts:AssumeRoleWithWebIdentity",
            },
        ],
    }
    iam = admin(profiles.sb, "iam", 1)
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    iam.put_role_policy(RoleName=name, PolicyName="permissions", PolicyDocument=_allowing(action, "*"))
    admin(profiles.sb, "iam").put_user_policy(
        UserName="alice", PolicyName=f"assume-{name}", PolicyDocument=_allowing("sts:AssumeRole", arn)
    )
    return arn


@pytest.mark.parametrize(
    ("name", "permissions", "read"),
    [
        ("Admin", "*", "read"),  # the MFA role session can read its own role: the GitHub way is found
        ("Lister", "s3:ListAllMyBuckets", "unreadable"),  # nothing of that account can read it
    ],
)
def test_check_deny_profile_never_reads_a_same_named_role_of_another_account(
    profiles: Profiles, name: str, permissions: str, read: str
) -> None:
    """The --policy-profile is in alice's account, where a role of the same name requires MFA;
    the profile's role is in the other account and lets GitHub in without MFA. GetRole by name
    with the policy profile answers with the wrong role: that is not a reading of role_arn."""
    arn = _role_in_the_other_account(profiles, name, permissions)
    if name != "Admin":  # a same-named role, MFA-only, in alice's (the policy profile's) account
        mfa_only = admin(profiles.sb, "iam").get_role(RoleName="Admin")["Role"]["AssumeRolePolicyDocument"]
        document = mfa_only if isinstance(mfa_only, str) else json.dumps(mfa_only)
        admin(profiles.sb, "iam").create_role(RoleName=name, AssumeRolePolicyDocument=document)
    role = {k: v for k, v in profiles.base_sections()["sandbox-admin"].items() if k != "role_arn"}
    profiles.write_config(prod={"role_arn": arn, **role}, audit=_policy_reader(profiles))

    result = profiles("check-deny", "prod", "--policy-profile", "audit", "--json")

    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    assert doc["denied"] is True and doc["proven"] is False
    assert doc["trust_policy"] == read
    if read == "read":
        assert doc["trust_policy_read_with"] == "the MFA role session"
        assert doc["trust_policy_verdict"] == "open"
        assert any("token.actions.githubusercontent.com" in f["message"] for f in doc["findings"])
    else:
        assert doc["trust_policy_verdict"] is None
        assert "could not be read" in result.stderr


def test_check_deny_profile_says_the_clock_is_off_as_assume_does(profiles: Profiles, tmp_path: Path) -> None:
    """A tool clock 25 s ahead of AWS's still gets codes accepted (one step either side), and
    check-deny PROFILE warns about it like every command that gets a session."""
    ahead = Cli(
        state=tmp_path / "ahead.json", clock=ShiftedClock(offset=25, base=profiles.clock), app_kwargs={}
    )
    profiles.write_config(audit=_policy_reader(profiles))
    profiles.sync()
    result = ahead("check-deny", "sandbox-readonly", "--policy-profile", "audit")
    assert result.exit_code == 0, result.output
    assert "warning: this machine's clock is 25 s ahead of the server's" in result.stderr


def test_check_deny_profile_reads_the_trust_policy_with_the_policy_profile(profiles: Profiles) -> None:
    profiles.write_config(audit=_policy_reader(profiles))
    doc = profiles.json("check-deny", "sandbox-admin", "--policy-profile", "audit")

    assert doc["trust_policy"] == "read" and doc["trust_policy_read_with"] == "--policy-profile"
    assert doc["trust_policy_requires_mfa"] is True and doc["proven"] is True


def test_check_deny_profile_exposes_a_readable_way_in_without_mfa(profiles: Profiles) -> None:
    """AWS refuses alice without MFA, but the account root may come in without it: exit 3."""
    profiles.write_config(audit=_policy_reader(profiles))
    account = profiles.identity.account
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": profiles.identity.user_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sts:AssumeRole",
            },
        ],
    }
    admin(profiles.sb, "iam").update_assume_role_policy(RoleName="Admin", PolicyDocument=json.dumps(trust))

    result = profiles("check-deny", "sandbox-admin", "--policy-profile", "audit", "--json")

    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    assert doc["trust_policy"] == "read" and doc["proven"] is False

    shown = profiles("check-deny", "sandbox-admin", "--policy-profile", "audit")  # the lesson
    assert shown.exit_code == 3, shown.output
    opened = [line for line in shown.stdout.splitlines() if "open ▌" in line]
    assert any(f"arn:aws:iam::{account}:root" in line for line in opened)
    assert not any("aws:MultiFactorAuthPresent" in line for line in opened)  # the MFA statement
    assert sum("MFA ▶" in line for line in shown.stdout.splitlines()) == 1


def test_check_deny_profile_exposed_when_aws_lets_the_source_in_without_mfa(profiles: Profiles) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": profiles.identity.user_arn}, "Action": "sts:AssumeRole"}
        ],
    }
    admin(profiles.sb, "iam").update_assume_role_policy(RoleName="ReadOnly", PolicyDocument=json.dumps(trust))

    result = profiles("check-deny", "sandbox-readonly", "--json")

    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout)["denied"] is False
    assert "EXPOSED" in result.stderr


def test_check_deny_profile_never_uses_the_mfa_session_for_the_no_mfa_call(profiles: Profiles) -> None:
    """With an MFA session cached, the call without MFA still goes with alice's own key."""
    profiles.json("assume", "sandbox-admin")  # an MFA session is cached now
    profiles.write_config(audit=_policy_reader(profiles))
    profiles.sb.reset_log()
    result = profiles("check-deny", "sandbox-readonly", "--policy-profile", "audit", "--json")

    assert result.exit_code == 0, result.output
    first_assume = next(r for r in profiles.sb.requests if r.action == "AssumeRole")
    assert first_assume.status == 403  # refused: alice's long-term key carries no MFA
    assert first_assume.caller_arn == profiles.identity.user_arn


# --- profile errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "exit_code", "words"),
    [
        (
            {"source_profile": "sandbox-alice", "mfa_serial": "arn:aws:iam::111111111111:mfa/alice"},
            2,
            "no role_arn",
        ),
        (
            {"role_arn": "arn:aws:iam::111111111111:role/Admin", "source_profile": "sandbox-alice"},
            2,
            "no mfa_serial",
        ),
        ({"sso_start_url": "https://example.awsapps.com/start", "sso_account_id": "1"}, 2, "sso_start_url"),
        (
            {"role_arn": "arn:aws:iam::111111111111:role/Admin", "web_identity_token_file": "/t"},
            2,
            "web_identity",
        ),
        ({"credential_process": "true"}, 2, "credential_process"),
        (
            {
                "role_arn": "arn:aws:iam::111111111111:role/A",
                "source_profile": "nobody",
                "mfa_serial": "x" * 12,
            },
            6,
            "source_profile nobody could not be found",
        ),
        (
            {"role_arn": "not-an-arn", "source_profile": "sandbox-alice", "mfa_serial": "x" * 12},
            2,
            "role_arn",
        ),
        (
            {
                "role_arn": "arn:aws:iam::111111111111:role/A",
                "source_profile": "sandbox-alice",
                "mfa_serial": "x" * 12,
                "duration_seconds": "forever",
            },
            2,
            "duration_seconds",
        ),
    ],
    ids=[
        "no-role",
        "no-serial",
        "sso",
        "web-identity",
        "credential-process",
        "no-source",
        "bad-arn",
        "bad-duration",
    ],
)
def test_a_profile_sts_mfa_cannot_serve_is_an_error_naming_the_key(
    profiles: Profiles, section: dict[str, str], exit_code: int, words: str
) -> None:
    profiles.write_config(odd=section)
    result = profiles("assume", "odd")
    line = assert_one_error_line(result, exit_code)
    assert words in line and "odd" in line
    assert profiles.sb.requests == []


def test_an_unknown_profile_is_exit_6_like_the_aws_cli(profiles: Profiles) -> None:
    line = assert_one_error_line(profiles("assume", "nope"), 6)
    assert "The config profile (nope) could not be found" in line


@pytest.mark.parametrize("kind", ["fifo", "directory", "huge", "garbage"])
def test_a_hostile_config_file_is_one_error(profiles: Profiles, kind: str) -> None:
    profiles.config.unlink()
    if kind == "fifo":
        os.mkfifo(profiles.config)
    elif kind == "directory":
        profiles.config.mkdir()
    elif kind == "huge":
        profiles.config.write_bytes(b"[profile x]\n" + b"a = b\n" * 400_000)
    else:
        profiles.config.write_bytes(b"[profile x\n\xff\xfe = \n")
    started = time.monotonic()
    result = profiles("assume", "sandbox-admin")
    assert time.monotonic() - started < 5
    assert result.exit_code in (4, 6), result.output
    assert no_traceback(result)
    assert profiles.sb.requests == []


@pytest.mark.parametrize(
    ("device", "exit_code", "words"),
    [
        ("/dev/null", 6, "The config profile (sandbox-admin) could not be found"),  # `exec --server`'s child
        ("/dev/zero", 4, "is a character device, not a regular file"),
    ],
)
def test_the_null_device_is_an_empty_config_and_any_other_device_is_refused(
    profiles: Profiles, device: str, exit_code: int, words: str
) -> None:
    profiles.config.unlink()
    profiles.config.symlink_to(device)
    line = assert_one_error_line(profiles("assume", "sandbox-admin"), exit_code)
    assert words in line
    assert profiles.sb.requests == []


def test_a_profile_whose_credentials_come_back_to_itself_is_refused(profiles: Profiles) -> None:
    """loop-a's source is loop-b, whose credential_process is `sts-mfa assume loop-a`."""
    sections = profiles.base_sections()
    sts_mfa = Path(sys.executable).parent / "sts-mfa"
    profiles.write_config(
        **{
            "loop-a": {**sections["sandbox-admin"], "source_profile": "loop-b"},
            "loop-b": {"credential_process": f"{sts_mfa} assume loop-a --format process"},
        }
    )
    started = time.monotonic()
    result = profiles("assume", "loop-a")
    assert time.monotonic() - started < 20
    assert result.exit_code != 0
    assert "refusing to loop" in result.stderr
    assert no_traceback(result)
    assert "STS_MFA_SERVING" not in os.environ  # an in-process caller is not left marked
