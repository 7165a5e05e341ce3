"""What the policy-file reader hands back, and how it refuses a file."""

from __future__ import annotations

from dataclasses import dataclass

from sts_mfa.errors import UsageError

STDIN_NAME = "<stdin>"  # the name of what `-` read: `<stdin>`, `<stdin>#DeployRole`


@dataclass(frozen=True)
class PolicySource:
    """One role's trust policy as a file describes it, before it is deployed.

    `document` is the trust policy as found: a mapping (a bare policy file, a CloudFormation
    template's `AssumeRolePolicyDocument` with its pseudo parameters resolved, or an intrinsic
    function object such as `{"Fn::If": [...]}`), or JSON text (Terraform's
    `assume_role_policy`), or None when the file does not say what it is. Then `note` says
    why, and the analysis reports the role undecided for that reason; `note` is None whenever
    there is a document.
    """

    file: str  # the path as given; STDIN_NAME for `-`
    resource: str | None  # the template's LogicalId or Terraform's address; None for a bare policy
    document: object
    note: str | None = None

    @property
    def name(self) -> str:
        """`PATH`, `PATH#LogicalId`, `PATH#address`: how the audit names the role."""
        return self.file if self.resource is None else f"{self.file}#{self.resource}"


class PolicyFileError(UsageError):
    """A policy file that cannot be read as one: one line naming the file and why (exit 2)."""

    def __init__(self, path: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"policy file {shown(path)}: {reason}", hint=hint)
        self.path = path
        self.reason = reason


class Refused(ValueError):
    """Why a file's content is refused, before the reader adds the file's name (internal)."""

    def __init__(self, reason: str, *, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


def shown(text: str) -> str:
    """`text` for a one-line message: as it is if printable, else with its escapes visible."""
    return text if text.isprintable() else ascii(text)[1:-1]
