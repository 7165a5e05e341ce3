"""Terraform's JSON (`terraform show -json`): every managed `aws_iam_role` of a plan or a state.

A plan's roles are those in `planned_values.root_module` and, recursively, its
`child_modules` (what will exist after apply: a role being destroyed is not there); a
state's are in `values.root_module`. Each is one source named `PATH#address`
(`plan.json#module.ci.aws_iam_role.deploy`, `...aws_iam_role.x["k"]`), whose document is its
`assume_role_policy` as found: JSON text, which the analysis reads as it reads IAM's.

A value not known until apply (built from a resource still to be created) is left out of
`planned_values` and of `resource_changes[].change.after`, and marked in `after_unknown`.
Such a role is a source whose document is None, with a note saying so: the analysis reports
it undecided, never as requiring MFA. Data sources (`data.aws_iam_role`) read roles that
already exist, and are left to the audit of the account.

The format's own rule is kept: an unknown major `format_version` is refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

from sts_mfa.audit.policy_files.model import PolicySource, Refused, shown

ROLE_TYPE = "aws_iam_role"
ATTRIBUTE = "assume_role_policy"
KNOWN_AFTER_APPLY = f"the plan knows its {ATTRIBUTE} only after apply"
_MAJOR = "1"


def is_terraform(data: Mapping[object, object]) -> bool:
    """`terraform show -json` of a plan or a state (an empty state is just its format_version)."""
    return "planned_values" in data or (
        "format_version" in data and ("values" in data or "terraform_version" in data or len(data) == 1)
    )


def is_raw_state(data: Mapping[object, object]) -> bool:
    """A `terraform.tfstate` file itself, which is not the format `terraform show -json` writes."""
    return isinstance(data.get("resources"), list) and "terraform_version" in data and "lineage" in data


def roles(file: str, data: Mapping[object, object]) -> list[PolicySource]:
    """One source per managed `aws_iam_role`, in Terraform's order; `Refused` if there is none."""
    version = data.get("format_version")
    if version is not None and str(version).split(".")[0] != _MAJOR:
        raise Refused(
            f"its Terraform JSON format_version is {shown(str(version))}; this reader knows {_MAJOR}.x"
        )
    plan = "planned_values" in data or "resource_changes" in data
    kind = "plan" if plan else "state"
    values = data.get("planned_values" if plan else "values")
    root = values.get("root_module") if isinstance(values, Mapping) else None
    after = _changes(data) if plan else {}
    found: list[PolicySource] = []
    for resource in _resources(root):
        if resource.get("type") != ROLE_TYPE or resource.get("mode", "managed") != "managed":
            continue
        address = resource.get("address")
        if not isinstance(address, str):
            address = f"{ROLE_TYPE}.{resource.get('name')}"
        found.append(
            _source(PolicySource(file, address, None), resource.get("values"), after.get(address), kind)
        )
    if not found:
        raise Refused(f"it is a Terraform {kind} with no {ROLE_TYPE} (managed resource)")
    return found


def _source(
    role: PolicySource, values: object, change: Mapping[object, object] | None, kind: str
) -> PolicySource:
    """`role` with its document, or with a note saying why there is none."""
    document = values.get(ATTRIBUTE) if isinstance(values, Mapping) else None
    if document is not None:
        return replace(role, document=document)
    if change is not None:
        after = change.get("after")
        if isinstance(after, Mapping) and after.get(ATTRIBUTE) is not None:
            return replace(role, document=after[ATTRIBUTE])
        unknown = change.get("after_unknown")
        if isinstance(unknown, Mapping) and unknown.get(ATTRIBUTE) is True:
            return replace(role, note=KNOWN_AFTER_APPLY)
    return replace(role, note=f"the {kind} gives it no {ATTRIBUTE}")


def _resources(module: object) -> Iterator[Mapping[object, object]]:
    """The module's resources, then its child modules', depth first (Terraform's order)."""
    if not isinstance(module, Mapping):
        return
    resources = module.get("resources")
    if isinstance(resources, list):
        yield from (r for r in resources if isinstance(r, Mapping))
    children = module.get("child_modules")
    if isinstance(children, list):
        for child in children:
            yield from _resources(child)


def _changes(data: Mapping[object, object]) -> dict[object, Mapping[object, object]]:
    """Each role's planned change, by address."""
    changes = data.get("resource_changes")
    by_address: dict[object, Mapping[object, object]] = {}
    if isinstance(changes, list):
        for entry in changes:
            if isinstance(entry, Mapping) and entry.get("type") == ROLE_TYPE:
                change = entry.get("change")
                if isinstance(change, Mapping):
                    by_address[entry.get("address")] = change
    return by_address
