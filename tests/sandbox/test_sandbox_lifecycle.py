"""Starting, stopping and trusting the sandbox.

moto's state is process-global, so a Sandbox owns it while it runs: one at a time,
a clean slate on start and on stop, and a loud refusal to start if the moto it
reads has moved (`sts_mfa.sandbox.selftest`).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from sts_mfa.sandbox import Sandbox, SandboxUnavailable, selftest
from sts_mfa.sandbox.seam import motoview, structure
from tests.support.aws import ACCOUNT_1, sandbox_aws
from tests.support.clock import START, FakeClock

pytestmark = pytest.mark.sandbox


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_importing_the_package_does_not_import_moto() -> None:
    result = _python("import sys, sts_mfa.sandbox; print('moto' in sys.modules)")
    assert result.stdout.strip() == "False"


def test_without_moto_start_explains_what_to_install() -> None:
    result = _python(
        "import sys\n"
        "sys.modules['moto'] = None\n"
        "from sts_mfa.sandbox import Sandbox, SandboxUnavailable\n"
        "try:\n"
        "    Sandbox().start()\n"
        "except SandboxUnavailable as exc:\n"
        "    print(exc)\n"
    )
    assert result.stdout.strip() == (
        "the embedded sandbox needs the 'sandbox' extra: pip install 'sts-mfa[sandbox]'"
    )
    assert issubclass(SandboxUnavailable, Exception)


def test_defaults_give_two_accounts_with_admins_and_buckets() -> None:
    with Sandbox() as sb:
        aws = sandbox_aws(sb, FakeClock(START))
        assert [a.account_id for a in sb.accounts] == ["111111111111", "222222222222"]
        assert sb.accounts[0].arn == "arn:aws:iam::111111111111:user/sandbox/sandbox-admin"
        assert sb.endpoint.startswith("http://127.0.0.1:")
        names = [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]
        assert sorted(names) == ["logs-111111111111", "reports-111111111111"]


def test_one_sandbox_at_a_time() -> None:
    with Sandbox(sample_buckets=()), pytest.raises(RuntimeError, match="already running"):
        Sandbox().start()
    with Sandbox(sample_buckets=()) as again:
        assert again.accounts


def test_consecutive_sandboxes_do_not_share_state() -> None:
    with Sandbox(sample_buckets=()) as first:
        sandbox_aws(first, FakeClock(START)).iam().create_user(UserName="leftover")
    with Sandbox(sample_buckets=()) as second:
        users = sandbox_aws(second, FakeClock(START)).iam().list_users()["Users"]
        assert [u["UserName"] for u in users] == ["sandbox-admin"]
    assert motoview.known_accounts() == []  # stop() leaves moto empty


def test_reset_issues_new_admin_keys_and_forgets_everything() -> None:
    clock = FakeClock(START)
    with Sandbox(clock=clock, sample_buckets=()) as sb:
        old = sandbox_aws(sb, clock)
        old.iam().create_user(UserName="temporary")

        sb.reset()

        with pytest.raises(ClientError) as info:
            old.client("sts").get_caller_identity()
        assert info.value.response["Error"]["Code"] == "InvalidClientTokenId"
        new = sandbox_aws(sb, clock)
        assert [u["UserName"] for u in new.iam().list_users()["Users"]] == ["sandbox-admin"]
        assert [(r.action, r.error_code) for r in sb.requests] == [
            ("GetCallerIdentity", "InvalidClientTokenId"),  # the log restarted at reset
            ("ListUsers", None),
        ]


def test_the_environment_and_moto_settings_are_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """MOTO_ACCOUNT_ID would pin every request to one account, and moto's own IAM
    checks would add its path-less principal matching: both are off while it runs."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "999999999999")
    before = motoview.moto_auth_count()
    motoview.set_moto_auth_count(0)
    try:
        with Sandbox(sample_buckets=()) as sb:
            assert "MOTO_ACCOUNT_ID" not in os.environ
            assert motoview.moto_auth_count() == float("inf")
            who = sandbox_aws(sb, FakeClock(START)).client("sts").get_caller_identity()
            assert who["Account"] == ACCOUNT_1
        assert os.environ["MOTO_ACCOUNT_ID"] == "999999999999"
        assert motoview.moto_auth_count() == 0
    finally:
        motoview.set_moto_auth_count(before)


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="12 digits"):
        Sandbox(accounts=("123",))
    with pytest.raises(ValueError, match="distinct"):
        Sandbox(accounts=(ACCOUNT_1, ACCOUNT_1))
    with pytest.raises(RuntimeError, match="not running"):
        _ = Sandbox().endpoint


# --- the self-test ---------------------------------------------------------------------------


def test_the_self_test_passes_on_the_pinned_moto() -> None:
    assert selftest.structural_problems() == []
    assert selftest.run() == []


def test_the_self_test_command_exits_zero() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sts_mfa.sandbox.selftest"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "OK (moto 5.2.5)" in result.stdout


def test_the_self_test_command_exits_one_on_problems(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(selftest, "run", lambda: ["moto moved"])

    with pytest.raises(SystemExit) as info:
        selftest.main()

    assert info.value.code == 1
    assert "moto moved" in capsys.readouterr().err


def test_a_missing_moto_attribute_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    relied_on = dict(motoview.RELIED_ON)
    relied_on["VirtualMfaDevice"] = (*relied_on["VirtualMfaDevice"], "seed_renamed")
    monkeypatch.setattr(motoview, "RELIED_ON", relied_on)

    assert selftest.structural_problems() == ["moto VirtualMfaDevice.seed_renamed is missing"]


def test_start_refuses_loudly_when_moto_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(structure, "PINNED_MOTO", "9.9.9")

    with pytest.raises(RuntimeError, match=r"moto is 5\.2\.5, the sandbox is pinned to 9\.9\.9"):
        Sandbox().start()

    monkeypatch.undo()
    with Sandbox(sample_buckets=()) as sb:  # the failed start left nothing claimed
        assert sb.accounts
