"""sts-mfa: prove that an AWS role can only be assumed with MFA, then use it.

The package is split so that the paths a person waits on stay light: `state`,
`credentials` and the CLI glue import neither boto3 nor rich at module level;
`aws`, `scenario` and `sandbox` are imported only by the commands that call AWS.
"""

import _signal  # type: ignore[import-not-found]  # the C module: `signal` imports enum first
import os as _os
import sys as _sys


def _interrupted_early(signum: int, frame: object) -> None:
    """Ctrl-C before the error boundary is up (start-up, the cached answer): one line, exit 130."""
    try:
        _os.write(2, b"\nsts-mfa: interrupted; the state file keeps what was done so far\n")
    finally:
        _os._exit(130)


# As early as the program can: a Ctrl-C while modules load must not print a traceback. Only
# when this process is sts-mfa itself (the console script, or python -m sts_mfa), never when
# another program (a test runner) imports the package.
IS_PROGRAM = bool(_sys.argv) and _os.path.basename(_sys.argv[0]) in ("sts-mfa", "-m", "__main__.py")
if IS_PROGRAM and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _interrupted_early)

__version__ = "0.1.0"
TOOL_NAME = "sts-mfa"
DEFAULT_STATE_FILE = "sts-mfa-state.json"
