"""CloudFormation (and SAM, and `cdk synth`) templates: every IAM role's trust policy.

Each resource of Type `AWS::IAM::Role` is one source named `PATH#LogicalId`, whose
document is its `Properties.AssumeRolePolicyDocument` as written, except that what has a
single known value before deployment is given it:
- `{"Ref": pseudo}` for the pseudo parameters below: the account is IAM's documented
  placeholder `123456789012` (the template's own account, whichever it is deployed to);
- an `Fn::Sub` (string or `[template, {variables}]` form) whose every `${...}` is such a
  pseudo parameter, one of its own variables with a known string value, or a `${!Literal}`;
- an `Fn::Join` of known strings: `cdk synth` writes `arn:${AWS::Partition}:iam::...:root`
  as `{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ...]]}`.
Anything else (a parameter, another resource's attribute, a condition, an `Fn::If` as the
whole document) stays the intrinsic function object it is, untouched: the analysis then says
it does not understand it, and never guesses a value. A role with no document at all is a
source whose document is None, with a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sts_mfa.audit.policy_files.model import PolicySource, Refused

ROLE_TYPE = "AWS::IAM::Role"
PLACEHOLDER_ACCOUNT = "123456789012"  # IAM's documentation's example account ID
PSEUDO_PARAMETERS: dict[str, str] = {
    "AWS::AccountId": PLACEHOLDER_ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::URLSuffix": "amazonaws.com",
}
NO_DOCUMENT = f"the template gives this {ROLE_TYPE} no AssumeRolePolicyDocument"
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def is_template(data: Mapping[object, object]) -> bool:
    return isinstance(data.get("Resources"), Mapping)


def roles(file: str, template: Mapping[object, object]) -> list[PolicySource]:
    """One source per `AWS::IAM::Role`, in the template's order; `Refused` if there is none."""
    resources = template["Resources"]
    assert isinstance(resources, Mapping)  # is_template said so
    found: list[PolicySource] = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping) or resource.get("Type") != ROLE_TYPE:
            continue
        properties = resource.get("Properties")
        if isinstance(properties, Mapping) and "AssumeRolePolicyDocument" in properties:
            document = resolve(properties["AssumeRolePolicyDocument"])
            found.append(PolicySource(file, str(logical_id), document))
        else:
            found.append(PolicySource(file, str(logical_id), None, note=NO_DOCUMENT))
    if not found:
        raise Refused(f"it is a CloudFormation template with no IAM role (no resource of Type {ROLE_TYPE})")
    return found


def resolve(value: object) -> object:
    """`value` with every intrinsic function that has a single known value replaced by it."""
    if isinstance(value, list):
        return [resolve(item) for item in value]
    if not isinstance(value, Mapping):
        return value
    resolved = {key: resolve(item) for key, item in value.items()}
    if len(resolved) != 1:
        return resolved
    [(function, argument)] = resolved.items()
    if function == "Ref":
        return PSEUDO_PARAMETERS.get(argument, resolved) if isinstance(argument, str) else resolved
    if function == "Fn::Sub":
        text = _sub(argument)
    elif function == "Fn::Join":
        text = _join(argument)
    else:
        return resolved
    return value if text is None else text  # not wholly known: as written, untouched


def _sub(argument: object) -> str | None:
    """Fn::Sub's string, if every variable in it has a known value."""
    if isinstance(argument, str):
        template, variables = argument, {}
    elif (
        isinstance(argument, list)
        and len(argument) == 2
        and isinstance(argument[0], str)
        and isinstance(argument[1], Mapping)
    ):
        template, variables = argument
    else:
        return None
    pieces: list[str] = []
    end = 0
    for match in _SUB_VARIABLE.finditer(template):
        variable = match.group(1)
        if variable.startswith("!"):  # ${!Literal} is the text ${Literal}
            value: object = "${" + variable[1:] + "}"
        elif variable in variables:
            value = variables[variable]
        else:
            value = PSEUDO_PARAMETERS.get(variable)
        if not isinstance(value, str):
            return None
        pieces += (template[end : match.start()], value)
        end = match.end()
    pieces.append(template[end:])
    return "".join(pieces)


def _join(argument: object) -> str | None:
    """Fn::Join's string, if the delimiter and every item are known strings."""
    if not (isinstance(argument, list) and len(argument) == 2):
        return None
    delimiter, items = argument
    if isinstance(delimiter, str) and isinstance(items, list) and all(isinstance(i, str) for i in items):
        return delimiter.join(items)
    return None
