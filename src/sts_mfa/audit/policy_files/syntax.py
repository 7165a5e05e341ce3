"""A policy file's text as data: JSON first, YAML (CloudFormation's dialect) only if it is not JSON.

JSON covers bare policies, JSON templates and Terraform's output, and costs nothing extra;
PyYAML is imported only when a file is not JSON. Both refuse a key repeated in one object:
which of the two values CloudFormation or IAM would use is unclear, and a reviewer reading
the first may be approving the second.
"""

from __future__ import annotations

from sts_mfa.audit.policy_files.model import Refused, shown
from sts_mfa.audit.policy_files.source import MAX_NUMBER_CHARS, MAX_YAML_BYTES, amount
from sts_mfa.repeated_keys import RepeatedKey, no_repeats


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise Refused(f"the JSON has a number of {len(text)} digits")
    return int(text)


def parse(text: str) -> object:
    """The document's data (JSON values; YAML adds the intrinsic functions' long forms)."""
    import json

    try:
        return json.loads(text, object_pairs_hook=no_repeats, parse_int=_bounded_int)
    except Refused:
        raise
    except RepeatedKey as e:
        raise Refused(f"the JSON repeats the key {shown(repr(e.key))} in one object") from None
    except RecursionError:
        raise Refused("it is nested too deeply to be a policy, template or plan") from None
    except json.JSONDecodeError as e:
        json_problem = f"{e.msg} (line {e.lineno}, column {e.colno})"
    if not text.strip():
        raise Refused("it is empty")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_YAML_BYTES:
        raise Refused(
            f"it is not JSON ({json_problem}), and at {size} bytes too big to read as YAML "
            f"(the limit is {amount(MAX_YAML_BYTES)})"
        )
    from sts_mfa.audit.policy_files import cfn_yaml  # PyYAML: only for what is not JSON

    try:
        return cfn_yaml.load(text)
    except cfn_yaml.NotYaml as e:
        # A file that starts like JSON was meant to be JSON: its JSON error is the useful one.
        problem = json_problem if text.lstrip()[:1] in ("{", "[") else str(e)
        raise Refused(f"it is neither JSON nor YAML: {problem}") from None
