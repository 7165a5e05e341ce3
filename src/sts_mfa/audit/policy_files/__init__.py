"""Trust policies read from files before they are deployed (`audit --policy-file`).

`read_policy_files(paths)` turns each path (`-` is standard input) into the roles it
describes, as `PolicySource`s (the file, the role in it, the trust policy as found, and a
note when there is none), or raises `PolicyFileError`: one line naming the file and why (exit 2). No AWS
credentials, no network. The format is told from the content, not the file's name:

1. a trust policy itself (an object with a `Statement`), JSON or YAML: one source, named
   by the path as given;
2. a CloudFormation template, JSON or YAML with the short-form tags (`cloudformation`,
   `cfn_yaml`): each `AWS::IAM::Role`, named `PATH#LogicalId`;
3. `terraform show -json` of a plan or a state (`terraform`): each `aws_iam_role`, named
   `PATH#address`.

Every file is bounded, opened without blocking and read only if it is a regular file
(`source`); JSON is tried first, and PyYAML is imported only for a file that is not JSON
(`syntax`), so nothing else in sts-mfa pays for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sts_mfa.audit.policy_files import cloudformation, terraform
from sts_mfa.audit.policy_files.model import STDIN_NAME, PolicyFileError, PolicySource, Refused
from sts_mfa.audit.policy_files.source import decode, read_path, read_stream
from sts_mfa.audit.policy_files.syntax import parse

TYPE_CHECKING = False  # not typing's: see sts_mfa.files.private
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["STDIN", "STDIN_NAME", "PolicyFileError", "PolicySource", "read_policy_files"]

STDIN = "-"
NOTHING_FOUND = "no trust policy, CloudFormation role or Terraform aws_iam_role found"


def read_policy_files(paths: Sequence[str], stdin: BinaryIO | None = None) -> list[PolicySource]:
    """Every role the files describe, file by file in the order given.

    `-` reads `stdin` (default: this process's standard input), which can be read only once.
    A path given twice is read once. Raises `PolicyFileError` for the first file that cannot
    be read as one of the formats (see the module's doc).
    """
    if [p for p in paths if p == STDIN][1:]:
        raise PolicyFileError(STDIN, "standard input is given more than once, and can be read only once")
    sources: list[PolicySource] = []
    for path in dict.fromkeys(paths):  # in order, each once
        file = STDIN_NAME if path == STDIN else path
        try:
            sources += _read_one(path, file, stdin)
        except Refused as refused:
            raise PolicyFileError(file, refused.reason, hint=refused.hint) from None
    return sources


def _read_one(path: str, file: str, stdin: BinaryIO | None) -> list[PolicySource]:
    raw = read_path(path) if path != STDIN else read_stream(stdin or _process_stdin())
    try:
        return sources_in(file, parse(decode(raw)))
    except RecursionError:
        raise Refused("it is nested too deeply to be a policy, template or plan") from None


def sources_in(file: str, data: object) -> list[PolicySource]:
    """The roles in a file's data, told apart by their shape."""
    if not isinstance(data, Mapping):
        what = "empty" if data is None else f"a {_json_kind(data)}, not an object"
        raise Refused(f"{NOTHING_FOUND} (the document is {what})")
    if "Statement" in data:
        return [PolicySource(file, None, data)]
    if cloudformation.is_template(data):
        return cloudformation.roles(file, data)
    if terraform.is_terraform(data):
        return terraform.roles(file, data)
    if terraform.is_raw_state(data):
        raise Refused(
            f"{NOTHING_FOUND}: it is a raw Terraform state file",
            hint="give the output of terraform show -json instead",
        )
    raise Refused(NOTHING_FOUND)


def _json_kind(data: object) -> str:
    kinds = ((bool, "boolean"), (int, "number"), (float, "number"), (str, "string"), (list, "list"))
    return next((kind for t, kind in kinds if isinstance(data, t)), type(data).__name__)


def _process_stdin() -> BinaryIO:
    import sys

    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise Refused("this process has no standard input to read")
    return stream  # type: ignore[no-any-return]
