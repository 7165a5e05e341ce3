"""sts-mfa: prove that an AWS role can only be assumed with MFA, then use it.

The package is split so that the paths a person waits on stay light: `state`,
`credentials` and the CLI glue import neither boto3 nor rich at module level;
`aws`, `scenario` and `sandbox` are imported only by the commands that call AWS.
"""

__version__ = "0.1.0"
TOOL_NAME = "sts-mfa"
DEFAULT_STATE_FILE = "sts-mfa-state.json"
