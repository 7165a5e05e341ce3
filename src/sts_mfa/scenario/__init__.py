"""The five steps as plain functions over a `Context` and the state, one module per step.

Nothing here prints or imports click: progress goes to a `Reporter`, failures are
`StsMfaError`s, time comes from a `Clock`. The CLI, the demo and the tests all
drive these same functions:

- `setup` (with `mfa_device`) creates or finishes creating the resources;
- `check_deny` calls AssumeRole without MFA and analyses the trust policy;
- `assume` gets the role with a code (`refusals` decides what a refusal means);
- `list_buckets` uses the role session;
- `teardown` deletes what the state records, `sweep` what carries the tool's marks,
  both through `iam_delete`;
- `existence` tells `status` what exists.
"""

from sts_mfa.scenario.assume import AssumeResult, assume
from sts_mfa.scenario.check_deny import CheckDenyResult, check_deny
from sts_mfa.scenario.context import Context, require_setup
from sts_mfa.scenario.existence import which_exist
from sts_mfa.scenario.list_buckets import Bucket, list_buckets
from sts_mfa.scenario.mfa_device import PhoneUI
from sts_mfa.scenario.setup import SetupResult, setup
from sts_mfa.scenario.sweep import Leftover, SweepResult, find_leftovers, sweep
from sts_mfa.scenario.teardown import TeardownResult, teardown

__all__ = [
    "AssumeResult",
    "Bucket",
    "CheckDenyResult",
    "Context",
    "Leftover",
    "PhoneUI",
    "SetupResult",
    "SweepResult",
    "TeardownResult",
    "assume",
    "check_deny",
    "find_leftovers",
    "list_buckets",
    "require_setup",
    "setup",
    "sweep",
    "teardown",
    "which_exist",
]
