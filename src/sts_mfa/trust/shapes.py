"""Documents that differ only in whom they name are decided once.

An account's roles mostly trust *someone*: role A trusts user alice, role B user bob,
with the same conditions. To the solver these are the same question about a different
name, unless something in the document can tell one name from another. So a document is
given a *shape*: each IAM user or role named in an Allow's `Principal` gets a stand-in
name (`sts-mfa-shape-0`, ...), keeping its partition, account, type and path, and the
shape is analysed once; the answer is then told in the document's own names.

The stand-in is taken only when nothing can tell the names apart. Refused (the document
is analysed as it is) when any of these could read a name:

* a condition on a key of the caller's identity (`aws:PrincipalArn`, `aws:userid`,
  `aws:username`, any `aws:Principal...` key, `aws:SourceIdentity`), or a policy variable;
* a `NotPrincipal`, or a Deny that names an AWS principal other than `*` (it may name,
  or exempt, one of the callers);
* the same name spelled two ways, or a stand-in's spelling already in the document.

Equal names stay equal (one stand-in each), different names stay different, and the parts
that principals share (account, partition, path) are kept, so every relation the solver
could use between principals is the same in the shape as in the document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace

from sts_mfa.trust.verdicts import Analysis, Finding, WayIn
from sts_mfa.trust.witness import Witness

STAND_IN = "sts-mfa-shape-"
_NAMED = re.compile(r"(arn:[a-z-]+:iam::\d{12}:(?:user|role)(?:/[\x21-\x7e]*)?/)([\w+=,.@-]+)", re.ASCII)
_IDENTITY_KEYS = re.compile(r"aws:(principal|userid$|username$|sourceidentity$)", re.ASCII | re.IGNORECASE)


def shape_of(document: Mapping[object, object]) -> tuple[str, dict[str, str]] | None:
    """The document's shape as JSON text, and each stand-in ARN's original; None if refused."""
    text = json.dumps(document, sort_keys=True)
    if STAND_IN in text or "${" in text:
        return None
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
        return None
    originals: dict[str, str] = {}  # original ARN -> stand-in ARN
    shaped = []
    for statement in statements:
        if not _may_rename(statement):
            return None
        if statement.get("Effect") == "Allow" and isinstance(statement.get("Principal"), Mapping):
            principal = dict(statement["Principal"])
            if "AWS" in principal:
                principal["AWS"] = _renamed(principal["AWS"], originals)
            shaped.append({**statement, "Principal": principal})
        else:
            shaped.append(statement)
    if not originals or len({a.lower() for a in originals}) != len(originals):
        return None  # nobody to rename; or one name in two spellings (IAM names ignore case)
    shape = json.dumps({**document, "Statement": shaped}, sort_keys=True)
    return shape, {stand_in: original for original, stand_in in originals.items()}


def _may_rename(statement: Mapping[object, object]) -> bool:
    if "NotPrincipal" in statement:
        return False
    if statement.get("Effect") != "Allow":
        principal = statement.get("Principal")
        if principal != "*" and not (isinstance(principal, Mapping) and principal.get("AWS") in (None, "*")):
            return False
    condition = statement.get("Condition")
    if isinstance(condition, Mapping):
        for block in condition.values():
            if isinstance(block, Mapping) and any(_IDENTITY_KEYS.match(str(k)) for k in block):
                return False
    return True


def _renamed(value: object, originals: dict[str, str]) -> object:
    if isinstance(value, list):
        return [_renamed(v, originals) for v in value]
    if not isinstance(value, str):
        return value
    match = _NAMED.fullmatch(value)
    if match is None:
        return value
    if value not in originals:
        originals[value] = f"{match[1]}{STAND_IN}{len(originals)}"
    return originals[value]


def told_in_own_names(analysis: Analysis, stand_ins: Mapping[str, str]) -> Analysis:
    """The shape's analysis, every stand-in ARN put back as the document names it."""
    pattern = re.compile("|".join(re.escape(s) for s in sorted(stand_ins, key=len, reverse=True)))

    def text(value: str) -> str:
        return pattern.sub(lambda m: stand_ins[m[0]], value)

    def witness(w: Witness | None) -> Witness | None:
        return None if w is None else replace(w, principal=text(w.principal))

    def way(w: WayIn) -> WayIn:
        return replace(w, principal=text(w.principal), reason=text(w.reason), witness=witness(w.witness))

    def finding(f: Finding) -> Finding:
        principal = None if f.principal is None else text(f.principal)
        return replace(f, principal=principal, reason=text(f.reason), witness=witness(f.witness))

    return Analysis(
        analysis.verdict,
        tuple(finding(f) for f in analysis.findings),
        tuple(way(w) for w in analysis.ways_in),
    )
