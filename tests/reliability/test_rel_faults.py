"""Crash safety of `setup` (and `teardown`): a fault at every mutating call, before and after it.

The sandbox's `Faults(fail={n: "before" | "after"})` makes the n-th mutating call
fail with a non-retryable `InjectedFault`; "after" means the resource exists but
the tool never saw the answer (a lost response, a crash at the worst moment).
For every such point this module proves:

- setup fails with one `sts-mfa: error:` line and exit 1, never a traceback;
- the state file is still valid, and names every resource that exists;
- `teardown` then exits 0 and leaves no user, key, role, policy or MFA device;
- running `setup` again instead finishes the job (resume), and teardown is clean;
- a lost answer at any of teardown's own calls is one error line, and a rerun finishes.

Everything runs in-process against one module-scoped sandbox (`sb` resets it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sts_mfa.sandbox import Faults, Sandbox
from tests.support.cli import Cli, assert_one_error_line
from tests.support.sandbox import SETUP_MUTATIONS, is_clean, mutations, residue, sandbox_names
from tests.support.state import recorded_names, valid_state

if TYPE_CHECKING:
    from tests.support.tally import Tally

pytestmark = pytest.mark.reliability

FAULT_POINTS = [
    pytest.param(n, when, id=f"{n}-{action}-{when}")
    for n, action in enumerate(SETUP_MUTATIONS, start=1)
    for when in ("before", "after")
]
# Resume is proven where a lost answer matters most (an "after" fault leaves a resource the
# state file does not fully describe) and at the two ends; every point is covered above.
RESUME_POINTS = [p for p in FAULT_POINTS if p.values[1] == "after" or p.values[0] in (1, 4)]
TEARDOWN_MUTATIONS = [
    "DeleteAccessKey",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
    "DeleteUserPolicy",
    "DeleteUser",
    "DetachRolePolicy",
    "DeleteRole",
    "DeletePolicy",
]
TEARDOWN_POINTS = [
    pytest.param(n, "after", id=f"{n}-{action}-after") for n, action in enumerate(TEARDOWN_MUTATIONS, start=1)
]


def test_setup_and_teardown_make_exactly_the_expected_mutating_calls(srun: Cli, sb: Sandbox) -> None:
    """The fault matrices below cover every mutating call: a new or reordered call fails this test."""
    sb.reset_log()
    result = srun("setup", "--software-token")
    assert result.exit_code == 0, result.output
    assert mutations(sb) == SETUP_MUTATIONS
    sb.reset_log()
    assert srun("teardown").exit_code == 0
    assert mutations(sb) == TEARDOWN_MUTATIONS


def fail_setup_at(srun: Cli, sb: Sandbox, n: int, when: str) -> str:
    """Run setup with the n-th mutating call failing; return the one error line."""
    sb.set_faults(Faults(fail={n: when}))  # type: ignore[dict-item]
    result = srun("setup", "--software-token")
    sb.set_faults(Faults())
    line = assert_one_error_line(result, 1)
    action = SETUP_MUTATIONS[n - 1]
    assert "InjectedFault" in line and action in line, line
    return line


@pytest.mark.parametrize(("n", "when"), FAULT_POINTS)
def test_a_fault_at_any_point_leaves_a_valid_state_that_teardown_clears(
    srun: Cli, sb: Sandbox, tally: Tally, n: int, when: str
) -> None:
    """Fault at call n: one error line, a valid state naming all that exists, then a clean teardown."""
    fail_setup_at(srun, sb, n, when)
    state = valid_state(srun.state)
    assert state is not None, "setup lost the record of what it had started"
    existing = sandbox_names(residue(sb))
    assert existing <= recorded_names(state), f"resources the state file does not name: {existing}"

    result = srun("teardown")
    found = residue(sb)
    tally.fault_point(f"{n}-{when}", leaked=not is_clean(found) or result.exit_code != 0)
    tally.output(f"teardown after fault {n}-{when}", result.output)
    assert result.exit_code == 0, result.output
    assert is_clean(found), found
    assert not srun.state.exists()


@pytest.mark.parametrize(("n", "when"), RESUME_POINTS)
def test_setup_run_again_after_a_fault_finishes_the_job(
    srun: Cli, sb: Sandbox, tally: Tally, n: int, when: str
) -> None:
    """Resume: a second `setup` completes a setup that failed at call n; the result works and tears down."""
    fail_setup_at(srun, sb, n, when)
    again = srun("setup", "--software-token")
    tally.output(f"resume after fault {n}-{when}", again.output)
    assert again.exit_code == 0, again.output
    state = valid_state(srun.state)
    assert state is not None and state.setup_complete()
    assert "Resuming the unfinished setup" in again.stderr
    # Exactly one of each: a lost answer must not leave a second key or device behind.
    found = residue(sb)
    assert len(found["users"]) == len(found["roles"]) == len(found["policies"]) == 1, found
    assert len(found["access_keys"]) == 1 and len(found["mfa_devices"]) == 1, found
    assert found["access_keys"] == [state.access_key.access_key_id if state.access_key else None]
    check = srun("check-deny")
    assert check.exit_code == 0, check.output

    result = srun("teardown")
    found = residue(sb)
    tally.resume(f"{n}-{when}", leaked=not is_clean(found) or result.exit_code != 0)
    assert result.exit_code == 0, result.output
    assert is_clean(found), found


@pytest.mark.parametrize(("n", "when"), TEARDOWN_POINTS)
def test_teardown_survives_its_own_fault_and_a_rerun_finishes(
    srun: Cli, sb: Sandbox, tally: Tally, n: int, when: str
) -> None:
    """A lost answer during teardown (its n-th mutating call applied, the reply lost) is one error line;
    the state stays valid and a second teardown removes everything."""
    assert srun("setup", "--software-token").exit_code == 0
    sb.set_faults(Faults(fail={n: when}))  # type: ignore[dict-item]
    first = srun("teardown")
    sb.set_faults(Faults())
    line = assert_one_error_line(first, 1)
    assert "InjectedFault" in line and TEARDOWN_MUTATIONS[n - 1] in line, line
    assert valid_state(srun.state) is not None, "teardown dropped the state file before finishing"
    second = srun("teardown")
    found = residue(sb)
    tally.fault_point(f"teardown-{n}-{when}", leaked=not is_clean(found) or second.exit_code != 0)
    assert second.exit_code == 0, second.output
    assert is_clean(found), found
