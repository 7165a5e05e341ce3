"""`teardown --sweep`: the state file is gone, the leftovers are not; look-alikes are never touched.

The tool marks what it creates three ways: the IAM path `/sts-mfa/`, the name
prefix `sts-mfa-`, and the tag `created-by=sts-mfa` (MFA devices: path and prefix,
since not every emulator keeps their tags). A sweep must remove what carries all
of its marks and nothing else, and a dry run must change nothing at all.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from sts_mfa.sandbox import Faults, Sandbox
from tests.support.cli import Cli, assert_one_error_line
from tests.support.sandbox import SETUP_MUTATIONS, admin, is_clean, residue

if TYPE_CHECKING:
    from tests.support.tally import Tally

pytestmark = pytest.mark.reliability

TOOL_TAG = [{"Key": "created-by", "Value": "sts-mfa"}]
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
    }
)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def snapshot(sb: Sandbox) -> dict[str, Any]:
    """Everything in the identity account's IAM that a sweep could touch, for before/after comparison."""
    iam = admin(sb, "iam")
    users = sorted((u["Path"], u["UserName"]) for u in iam.list_users()["Users"])
    return {
        "users": users,
        "keys": sorted(
            (name, k["AccessKeyId"])
            for _, name in users
            for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        ),
        "user_devices": sorted(
            (name, d["SerialNumber"])
            for _, name in users
            for d in iam.list_mfa_devices(UserName=name)["MFADevices"]
        ),
        "user_policies": sorted(
            (name, p) for _, name in users for p in iam.list_user_policies(UserName=name)["PolicyNames"]
        ),
        "roles": sorted((r["Path"], r["RoleName"]) for r in iam.list_roles()["Roles"]),
        "attached": sorted(
            (r["RoleName"], p["PolicyName"])
            for r in iam.list_roles()["Roles"]
            for p in iam.list_attached_role_policies(RoleName=r["RoleName"])["AttachedPolicies"]
        ),
        "policies": sorted(
            (p["Path"], p["PolicyName"]) for p in iam.list_policies(Scope="Local")["Policies"]
        ),
        "devices": sorted(d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]),
    }


def make_lookalikes(sb: Sandbox) -> dict[str, Any]:
    """Resources that each miss at least one of the tool's marks, with keys and devices of their own."""
    iam = admin(sb, "iam")
    # Users: wrong path / no tag / wrong prefix; one of them with a key and an enabled device.
    iam.create_user(UserName="sts-mfa-lookalike-user", Tags=TOOL_TAG)  # path "/"
    iam.create_user(UserName="sts-mfa-untagged-user", Path="/sts-mfa/")
    iam.create_user(UserName="someone-else", Path="/sts-mfa/", Tags=TOOL_TAG)
    key = iam.create_access_key(UserName="someone-else")["AccessKey"]["AccessKeyId"]
    # A device under the tool's path and prefix, enabled for a user that is not the tool's:
    # it belongs to that user, whatever its name says.
    import pyotp

    from tests.support.clock import T0

    assigned = iam.create_virtual_mfa_device(VirtualMFADeviceName="sts-mfa-borrowed", Path="/sts-mfa/")
    seed = assigned["VirtualMFADevice"]["Base32StringSeed"]
    totp = pyotp.TOTP(seed.decode() if isinstance(seed, bytes) else seed)
    iam.enable_mfa_device(
        UserName="someone-else",
        SerialNumber=assigned["VirtualMFADevice"]["SerialNumber"],
        AuthenticationCode1=totp.at(T0 - 30),
        AuthenticationCode2=totp.at(T0),
    )
    # Devices: the tool's prefix under another path; the tool's path without the prefix.
    iam.create_virtual_mfa_device(VirtualMFADeviceName="sts-mfa-elsewhere", Path="/other/")
    iam.create_virtual_mfa_device(VirtualMFADeviceName="team-device", Path="/sts-mfa/")
    # Roles: wrong path / no tag / wrong prefix.
    iam.create_role(RoleName="sts-mfa-lookalike-role", AssumeRolePolicyDocument=TRUST, Tags=TOOL_TAG)
    iam.create_role(RoleName="sts-mfa-untagged-role", Path="/sts-mfa/", AssumeRolePolicyDocument=TRUST)
    iam.create_role(RoleName="team-role", Path="/sts-mfa/", AssumeRolePolicyDocument=TRUST, Tags=TOOL_TAG)
    # Policies: wrong path / no tag / wrong prefix; one attached to a look-alike role.
    arn = iam.create_policy(PolicyName="sts-mfa-lookalike-policy", PolicyDocument=POLICY, Tags=TOOL_TAG)[
        "Policy"
    ]["Arn"]
    iam.attach_role_policy(RoleName="team-role", PolicyArn=arn)
    iam.create_policy(PolicyName="sts-mfa-untagged-policy", Path="/sts-mfa/", PolicyDocument=POLICY)
    iam.create_policy(PolicyName="team-policy", Path="/sts-mfa/", PolicyDocument=POLICY, Tags=TOOL_TAG)
    return {"key": key}


def ours(snap: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The part of a snapshot that belongs to the tool run with `prefix`."""
    return {kind: [item for item in items if prefix in json.dumps(item)] for kind, items in snap.items()}


def without(snap: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {kind: [item for item in items if prefix not in json.dumps(item)] for kind, items in snap.items()}


SWEEP_POINTS = [
    pytest.param(n, "after", id=f"{n}-{action}-after") for n, action in enumerate(SETUP_MUTATIONS, start=1)
]


@pytest.mark.parametrize(("n", "when"), SWEEP_POINTS)
def test_state_file_lost_after_a_fault_sweep_removes_everything(
    srun: Cli, sb: Sandbox, tally: Tally, n: int, when: str
) -> None:
    """setup fails at call n (the resource exists, the answer was lost), the state file is then lost:
    `teardown --sweep` alone finds and removes every resource, keys and devices included."""
    sb.set_faults(Faults(fail={n: when}))  # type: ignore[dict-item]
    failed = srun("setup", "--software-token")
    sb.set_faults(Faults())
    assert_one_error_line(failed, 1)
    srun.state.unlink()
    result = srun("teardown", "--sweep")
    found = residue(sb)
    tally.sweep(f"{n}-{when}", leaked=not is_clean(found) or result.exit_code != 0)
    tally.output(f"sweep after fault {n}-{when}", result.output)
    assert result.exit_code == 0, result.output
    assert is_clean(found), found


def test_sweep_spares_every_lookalike_and_a_dry_run_changes_nothing(
    srun: Cli, sb: Sandbox, tally: Tally
) -> None:
    """With a finished setup and eleven look-alikes (users, a key, devices, roles, policies, an
    attachment), the dry run lists exactly the tool's four resources and changes nothing; the sweep
    then removes exactly those, leaving every look-alike as it was."""
    assert srun("setup", "--software-token").exit_code == 0
    prefix = json.loads(srun.state.read_text())["prefix"]
    make_lookalikes(sb)
    srun.state.unlink()
    before = snapshot(sb)

    dry = srun("teardown", "--sweep", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    found = json.loads(dry.stdout)["found"]
    assert sorted(item["kind"] for item in found) == ["mfa_device", "policy", "role", "user"]
    assert all(item["name"].startswith(prefix) for item in found), found
    assert snapshot(sb) == before, "a dry run changed something"

    text = srun("teardown", "--sweep", "--dry-run")
    assert text.exit_code == 0, text.output
    assert text.stdout.count("would delete") == 4 and "lookalike" not in text.stdout

    result = srun("teardown", "--sweep")
    tally.sweep("lookalikes", leaked=result.exit_code != 0)
    assert result.exit_code == 0, result.output
    after = snapshot(sb)
    assert ours(after, prefix) == {kind: [] for kind in after}, "the tool's own resources survived"
    assert after == without(before, prefix), "a look-alike was touched"


def test_sweep_with_a_state_file_also_finds_an_earlier_runs_leftovers(srun: Cli, sb: Sandbox) -> None:
    """A first setup's state file was lost after a fault; a second setup (new state) then tears down
    with --sweep: both runs' resources go."""
    sb.set_faults(Faults(fail={6: "after"}))
    assert srun("setup", "--software-token").exit_code == 1
    sb.set_faults(Faults())
    srun.state.unlink()
    assert srun("setup", "--software-token").exit_code == 0
    assert len(residue(sb)["users"]) == 2
    result = srun("teardown", "--sweep")
    assert result.exit_code == 0, result.output
    found = residue(sb)
    assert is_clean(found), found


def test_sweep_when_nothing_is_left_says_so(srun: Cli, sb: Sandbox) -> None:
    """An empty account: the sweep finds nothing, says so, exits 0; the dry run too."""
    make_lookalikes(sb)
    before = snapshot(sb)
    for args in (["--dry-run"], []):
        result = srun("teardown", "--sweep", *args)
        assert result.exit_code == 0, result.output
        assert "Nothing to tear down" in result.output
    assert snapshot(sb) == before
