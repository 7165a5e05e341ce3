"""A satisfying model read back as a concrete request: the witness of an open way in.

The solver answers with values for the request's variables; this module turns them into
what AWS would see: the caller's ARN (built from its parts, as `sts_mfa.trust.request`
ties them), each condition key the request carries, spelled as the policy spells it, and
its value in IAM's own notation (dates in ISO 8601, addresses as text).
"""

from __future__ import annotations

import ipaddress
from fractions import Fraction
from typing import Any

from sts_mfa.trust import keys as K
from sts_mfa.trust.document import Document
from sts_mfa.trust.request import KIND_NAMES, ROLE_SESSION, ROOT, USER, Request, Value
from sts_mfa.trust.solver import smt
from sts_mfa.trust.witness import Witness


def read_witness(request: Request, doc: Document, action: str, model: smt.ModelRef) -> Witness:
    """The request a satisfying model describes, as a person reads it and a program replays it."""
    kind = KIND_NAMES[model.eval(request.kind, model_completion=True).as_long()]
    spelled = _spellings(doc)
    context: dict[str, Any] = {}
    for key, value in request.values.items():
        if smt.is_true(model.eval(value.present, model_completion=True)):
            context[spelled.get(key, key)] = _value_of(value, model)
    if kind == "temporary" and K.MFA_PRESENT not in request.values:
        context["aws:MultiFactorAuthPresent"] = "false"
    principal_type = {"web-identity": "Federated", "saml": "Federated", "service": "Service"}.get(kind, "AWS")
    return Witness(principal_type, _caller(request, model, kind), action, kind, context)  # type: ignore[arg-type]


def _caller(request: Request, model: smt.ModelRef, kind: str) -> str:
    """The caller as AWS names it: the user's, root's, session's or federated user's ARN."""

    def text(expr: smt.SeqRef) -> str:
        return str(model.eval(expr, model_completion=True).as_string())

    if kind not in ("long-term", "temporary", "mfa"):
        return text(request.caller)
    principal_type = model.eval(request.principal_type, model_completion=True).as_long()
    partition, account, path, name = (
        text(getattr(request, n)) for n in ("partition", "account", "path", "name")
    )
    if principal_type == USER:
        return f"arn:{partition}:iam::{account}:user{path}{name}"
    if principal_type == ROOT:
        return f"arn:{partition}:iam::{account}:root"
    if principal_type == ROLE_SESSION:  # a session of this role
        return f"arn:{partition}:iam::{account}:role{path}{name}"
    return f"arn:{partition}:sts::{account}:federated-user/{name}"


def _spellings(doc: Document) -> dict[str, str]:
    spelled: dict[str, str] = {}
    for statement in doc.statements:
        for clause in statement.clauses:
            spelled.setdefault(clause.key.lower(), clause.key)
    spelled.setdefault(K.MFA_PRESENT, "aws:MultiFactorAuthPresent")
    spelled.setdefault(K.MFA_AGE, "aws:MultiFactorAuthAge")
    return spelled


def _value_of(value: Value, model: smt.ModelRef) -> Any:
    for case, expr in value.branches:  # a key of the caller: its value in the caller's case
        if smt.is_true(model.eval(case, model_completion=True)):
            return model.eval(expr, model_completion=True).as_string()
    if value.members and value.members[0][1] is not value.value:  # several values: the members present
        return [
            model.eval(item, model_completion=True).as_string()
            for member, item in value.members
            if smt.is_true(model.eval(member, model_completion=True))
        ]
    got = model.eval(value.value, model_completion=True)
    if value.type == "ip":
        assert value.is_ip6 is not None and value.ip6 is not None
        if smt.is_true(model.eval(value.is_ip6, model_completion=True)):
            return str(ipaddress.IPv6Address(model.eval(value.ip6, model_completion=True).as_long()))
        return str(ipaddress.IPv4Address(got.as_long()))
    if value.type == "date":
        from datetime import datetime, timezone

        return datetime.fromtimestamp(got.as_long(), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if value.type == "number":
        if smt.is_int_value(got):
            return got.as_long()
        fraction = Fraction(got.as_fraction())
        return float(fraction) if fraction.denominator != 1 else int(fraction)
    if isinstance(got, smt.SeqRef):
        return got.as_string()
    return str(got)
