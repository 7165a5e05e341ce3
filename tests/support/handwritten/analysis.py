"""Can this role be assumed without MFA? A trust-policy analysis that never guesses "yes, MFA".

`analyse(document)` lists every way in that a role's trust policy opens: one
(statement, principal, assume action) each. For every way it decides, from the
statement's conditions and the document's Deny statements, whether a request made
without MFA can get through. Whatever the analysis does not understand makes the way
"undecided", never "requires-mfa". The rules, and why, are in `docs/trust-analysis.md`.

Pure Python: no AWS calls, no printing. Condition blocks are judged in
`trust_conditions`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import unquote

from tests.support.handwritten.conditions import Block, Context, Outcome, parse_block, text_of

Verdict = Literal["requires-mfa", "open", "undecided", "service"]
# "certificate": IAM Roles Anywhere, which hands the role to holders of a trusted X.509
# certificate. Written as a Service principal, but a way in for people, never with MFA.
Kind = Literal["aws", "federated", "service", "certificate", "everyone"]
Status = Literal["requires-mfa", "open", "undecided", "closed"]

ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")
ASSUME_ROLE, WEB_IDENTITY, SAML = ASSUME_ACTIONS
FEASIBLE: dict[Kind, tuple[str, ...]] = {
    "aws": (ASSUME_ROLE,),
    "service": (ASSUME_ROLE,),
    "certificate": (ASSUME_ROLE,),
    "federated": (WEB_IDENTITY, SAML),
    "everyone": ASSUME_ACTIONS,
}
NO_MFA: tuple[Context, ...] = ("A", "B")
CONTEXT_TEXT = {
    "A": "long-term access keys (their requests carry no MFA key)",
    "B": 'temporary credentials obtained without MFA (aws:MultiFactorAuthPresent is "false")',
    "M": "a request made with MFA",
}
FEDERATED_NEVER_MFA = "a web-identity or SAML sign-in never carries an IAM user's MFA"
ROLES_ANYWHERE = "rolesanywhere.amazonaws.com"
CERTIFICATE_NEVER_MFA = (
    "IAM Roles Anywhere hands this role to holders of a trusted X.509 certificate, without MFA"
)

_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Condition"}
)
_VERSIONS = ("2012-10-17", "2008-10-17")
_PRINCIPAL_KINDS: dict[str, Kind] = {"AWS": "aws", "Federated": "federated", "Service": "service"}
_ACCOUNT_ARN = re.compile(r"arn:[a-z-]+:(?:iam|sts)::(\d{12}):.+", re.ASCII)
_ACCOUNT_ROOT = re.compile(r"arn:[a-z-]+:iam::(\d{12}):root", re.ASCII)
# IAM's action grammar, with its wildcards: `*`, `sts:*`, `sts:Assume*`, `s3:Get?bject`.
_ACTION_PATTERN = re.compile(r"[A-Za-z0-9*?-]+(:[A-Za-z0-9*?-]*)?", re.ASCII)


@dataclass(frozen=True)
class WayIn:
    """One (statement, principal, assume action) that can let someone in."""

    statement: int  # 1-based index in the document's Statement list
    sid: str | None
    action: str  # one of ASSUME_ACTIONS
    principal: str  # e.g. "AWS arn:aws:iam::111111111111:user/x", "everyone (*)"
    principal_kind: Kind
    status: Status  # closed: shut by a Deny, or its conditions can never be met
    reason: str


@dataclass(frozen=True)
class Finding:
    """A way in that does not require MFA, or a problem with the document itself."""

    kind: Literal["open", "undecided", "service"]
    statement: int | None  # None for problems with the whole document
    sid: str | None
    action: str | None
    principal: str | None
    reason: str

    def __str__(self) -> str:
        where = "the trust policy" if self.statement is None else f"statement {self.statement}"
        if self.statement is not None and self.sid:
            where += f" (Sid {self.sid})"
        if self.principal is None or self.action is None:
            who = f" whether {self.principal} needs MFA" if self.principal else " whether MFA is required"
            return f"{where}: cannot tell{who}: {self.reason}"
        if self.kind == "open":
            return f"{where} lets {self.principal} in through {self.action} without MFA: {self.reason}"
        if self.kind == "service":
            return f"{where} lets {self.principal} in through {self.action} (a service role): {self.reason}"
        return f"{where}: cannot tell whether {self.principal} needs MFA for {self.action}: {self.reason}"

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "message": str(self)}


@dataclass(frozen=True)
class Analysis:
    verdict: Verdict
    findings: tuple[Finding, ...]
    ways_in: tuple[WayIn, ...]

    @property
    def requires_mfa(self) -> bool:
        return self.verdict == "requires-mfa"

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "requires_mfa": self.requires_mfa,
            "findings": [f.to_json() for f in self.findings],
            "ways_in": [asdict(w) for w in self.ways_in],
        }


# --- the document ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Who:
    kind: Kind
    value: str
    text: str


@dataclass(frozen=True)
class _Statement:
    number: int
    sid: str | None
    effect: str
    patterns: tuple[str, ...]
    not_action: bool
    principals: tuple[_Who, ...]  # for NotPrincipal: the exempted ones
    not_principal: bool
    block: Block

    def covers(self, action: str) -> bool:
        matched = any(_wildcard(p).fullmatch(action) for p in self.patterns)
        return not matched if self.not_action else matched

    def name(self) -> str:
        return f"statement {self.number}" + (f" (Sid {self.sid})" if self.sid else "")


def analyse(document: object) -> Analysis:
    """Every way into the role this trust policy opens, and whether each needs MFA.

    `document`: the policy as a dict, as JSON text, or as URL-encoded JSON text (the
    way IAM's API returns it). Anything else is undecided.
    """
    loaded = load_document(document)
    if isinstance(loaded, str):
        return Analysis("undecided", (Finding("undecided", None, None, None, None, loaded),), ())
    statements, problems = _parse_document(loaded)
    denies = [s for s in statements if s.effect == "Deny"]
    ways = [
        _judge(statement, who, action, denies)
        for statement in statements
        if statement.effect == "Allow"
        for who in statement.principals
        for action in FEASIBLE[who.kind]
        if statement.covers(action)
    ]
    return _conclude(tuple(ways), problems)


def load_document(document: object) -> Mapping[object, object] | str:
    """The document as a mapping (JSON, or URL-encoded JSON as IAM sends it), or why it is not one."""
    if isinstance(document, Mapping):
        return document
    if not isinstance(document, str):
        return f"the trust policy is a {type(document).__name__}, not a JSON document"
    for text in (document, unquote(document)):
        try:
            parsed: object = json.loads(text, object_pairs_hook=_no_duplicates)
        except _DuplicateKeyError as error:
            return f"the JSON repeats the key {error.key!r} in one object, so which value AWS uses is unclear"
        except (ValueError, RecursionError):
            continue
        if isinstance(parsed, Mapping):
            return parsed
        return "the trust policy is not a JSON object"
    return "the trust policy is not valid JSON (nor URL-encoded JSON)"


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _parse_document(document: Mapping[object, object]) -> tuple[list[_Statement], list[Finding]]:
    problems: list[str] = []
    unknown = sorted(text_of(k) for k in document if k not in _TOP_KEYS)
    if unknown:
        problems.append(f"the document has keys IAM does not allow: {', '.join(unknown)}")
    if "Version" in document and document["Version"] not in _VERSIONS:
        problems.append(f"Version {_show(document['Version'])} is not one IAM knows")
    raw = document.get("Statement")
    if "Statement" not in document:
        problems.append("the document has no Statement")
    elif not isinstance(raw, (list, Mapping)):
        problems.append("Statement is neither a list nor an object")
    items: list[object] = [raw] if isinstance(raw, Mapping) else raw if isinstance(raw, list) else []
    findings = [Finding("undecided", None, None, None, None, p) for p in problems]
    statements: list[_Statement] = []
    for number, item in enumerate(items, 1):
        parsed = _parse_statement(number, item, findings)
        if parsed is not None:
            statements.append(parsed)
    return statements, findings


def _parse_statement(number: int, item: object, findings: list[Finding]) -> _Statement | None:
    """The statement, or None after adding a finding for why it cannot be read."""

    def problem(reason: str, sid: str | None = None) -> None:
        findings.append(Finding("undecided", number, sid, None, None, reason))

    if not isinstance(item, Mapping):
        problem("the statement is not a JSON object")
        return None
    raw_sid = item.get("Sid")
    sid = raw_sid if isinstance(raw_sid, str) else None
    reason = _statement_problem(item)
    patterns = _action_patterns(item)
    if reason is None and patterns is None:
        reason = "its Action/NotAction is not a string or a non-empty list of non-empty strings"
    if reason is None and patterns is not None:
        reason = _look_alike(patterns)
    if reason is not None or patterns is None:
        problem(reason or "it cannot be read", sid)
        return None
    effect = str(item["Effect"])
    element = "NotPrincipal" if "NotPrincipal" in item else "Principal"
    principals, bad = _principals(item[element])
    for text in bad:
        reason = f"{element} entry not understood (only AWS, Federated and Service with string values are)"
        findings.append(Finding("undecided", number, sid, None, f"{element} {text}", reason))
    not_principal = element == "NotPrincipal"
    if not_principal and effect == "Allow":
        exempted = ", ".join(w.text for w in principals) or "no one understood"
        principals = [_Who("everyone", "*", f"everyone except {exempted} (NotPrincipal)")]
    block = parse_block(item["Condition"]) if "Condition" in item else Block()
    return _Statement(
        number, sid, effect, patterns, "NotAction" in item, tuple(principals), not_principal, block
    )


def _statement_problem(item: Mapping[object, object]) -> str | None:
    unknown = sorted(text_of(k) for k in item if k not in _STATEMENT_KEYS)
    if unknown:
        return f"it has keys a trust policy statement cannot have: {', '.join(unknown)}"
    if "Sid" in item and not isinstance(item["Sid"], str):
        return "its Sid is not a string"
    if item.get("Effect") not in ("Allow", "Deny"):
        return f'its Effect is {_show(item.get("Effect"))}, not exactly "Allow" or "Deny"'
    if ("Action" in item) == ("NotAction" in item):
        return "it must have exactly one of Action and NotAction"
    if ("Principal" in item) == ("NotPrincipal" in item):
        return "it must have exactly one of Principal and NotPrincipal"
    return None


def _action_patterns(item: Mapping[object, object]) -> tuple[str, ...] | None:
    raw = item.get("Action", item.get("NotAction"))
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(v, str) and v for v in values):
        return None
    return tuple(str(v) for v in values)


def _look_alike(patterns: tuple[str, ...]) -> str | None:
    """Why an action pattern is not plainly IAM's grammar (None: every one is).

    IAM matches actions without regard to case, and a case-folding comparison can take
    a long s (U+017F) for an s or a dotless i for an i: such a pattern may or may not
    cover an assume action, so the statement is neither skipped nor counted.
    """
    odd = next((p for p in patterns if not _ACTION_PATTERN.fullmatch(p)), None)
    if odd is None:
        return None
    what = "non-ASCII characters (a look-alike letter?)" if not odd.isascii() else "characters"
    return (
        f"its action {_show(odd)} has {what} outside IAM's action grammar, "
        "so which actions it covers is not certain"
    )


def _principals(element: object) -> tuple[list[_Who], list[str]]:
    """The principals an element names, and the parts of it that are not understood."""
    if element == "*":
        return [_Who("everyone", "*", "everyone (*)")], []
    if not isinstance(element, Mapping) or not element:
        return [], [_show(element)]
    found: list[_Who] = []
    bad: list[str] = []
    for key, raw in element.items():
        kind = _PRINCIPAL_KINDS.get(key) if isinstance(key, str) else None
        values = raw if isinstance(raw, list) else [raw]
        if kind is None or not values or not all(isinstance(v, str) and v and v.isascii() for v in values):
            bad.append(f"{text_of(key)} {_show(raw)}")
            continue
        for value in values:
            label = {"aws": "AWS", "federated": "Federated", "service": "Service"}[kind]
            who_kind: Kind = "certificate" if kind == "service" and value.lower() == ROLES_ANYWHERE else kind
            found.append(_Who(who_kind, str(value), f"{label} {value}"))
    return found, bad


def _show(value: object) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        return text_of(value)


# --- one way in ----------------------------------------------------------------------------


def _judge(statement: _Statement, who: _Who, action: str, denies: list[_Statement]) -> WayIn:
    """Can a request without MFA get in through this way?"""
    covering = [d for d in denies if d.covers(action) and _deny_names(d, who)]
    shut_by: dict[Context, _Statement | None] = {}
    shut: dict[Context, bool] = {}
    for context in ("A", "B", "M"):
        deny = next((d for d in covering if d.block.outcome(context) is Outcome.TRUE), None)
        shut_by[context] = deny
        shut[context] = deny is not None or statement.block.outcome(context) is Outcome.FALSE

    def way(status: Status, reason: str) -> WayIn:
        return WayIn(statement.number, statement.sid, action, who.text, who.kind, status, reason)

    if all(shut.values()):
        return way("closed", _closed_reason(statement, shut_by))
    if shut["A"] and shut["B"]:
        return way("requires-mfa", _requires_reason(statement, who, shut_by))
    opened = [c for c in NO_MFA if not shut[c] and statement.block.outcome(c) is not Outcome.UNDECIDED]
    if opened:
        return way("open", _open_reason(statement, who, action, opened, denies))
    problem = statement.block.first_problem() or "its condition is not understood"
    return way("undecided", problem)


def _deny_names(deny: _Statement, who: _Who) -> bool:
    """Does this Deny's Principal certainly cover `who`? (NotPrincipal: never, conservatively.)"""
    if deny.not_principal:
        return False
    for named in deny.principals:
        if named.kind == "everyone":
            return True
        if named.kind != who.kind:
            continue
        if named.value == who.value or (who.kind == "aws" and named.value == "*"):
            return True
        account = _account_of(named.value, root_only=True)
        if (
            who.kind == "aws"
            and account is not None
            and _account_of(who.value) == account
            and _partition_of(named.value) == _partition_of(who.value)
        ):
            return True
    return False


def _partition_of(value: str) -> str:
    """An ARN's partition (aws, aws-cn, aws-us-gov); "aws" for a bare account ID or unique ID.

    A Deny in one partition never covers a principal in another: when the two differ,
    or one is not an ARN, the Deny is not counted (the direction that reports more).
    """
    if value.startswith("arn:"):
        return value.split(":", 2)[1]
    return "aws" if re.fullmatch(r"\d{12}", value, re.ASCII) else "?"


def _account_of(value: str, *, root_only: bool = False) -> str | None:
    if re.fullmatch(r"\d{12}", value, re.ASCII):
        return value
    match = (_ACCOUNT_ROOT if root_only else _ACCOUNT_ARN).fullmatch(value)
    return match.group(1) if match else None


# --- reasons -------------------------------------------------------------------------------


def _closed_reason(statement: _Statement, shut_by: Mapping[Context, _Statement | None]) -> str:
    denies = {d.number: d for d in shut_by.values() if d is not None}
    if len(denies) == 1 and all(d is not None for d in shut_by.values()):
        deny = next(iter(denies.values()))
        how = "with no condition" if not deny.block.clauses else "in every case"
        return f"shut by Deny {deny.name()}, which refuses it {how}"
    texts = "; ".join(c.text() for c in statement.block.clauses)
    if denies:
        names = " and ".join(f"Deny {d.name()}" for d in denies.values())
        return f"nobody can get in, with MFA or without: {names} and its own conditions ({texts}) shut it"
    return f"nobody can meet its conditions, with MFA or without ({texts})"


def _requires_reason(statement: _Statement, who: _Who, shut_by: Mapping[Context, _Statement | None]) -> str:
    never = {
        "federated": f"can never be satisfied by a web-identity or SAML sign-in ({FEDERATED_NEVER_MFA})",
        "service": "can never be satisfied by a service, which never signs in with MFA",
        "certificate": "can never be satisfied by an IAM Roles Anywhere session, which never carries MFA",
    }.get(who.kind, "is false for every request made without MFA")
    clauses = statement.block.clauses
    both = next((c for c in clauses if all(c.outcome(x) is Outcome.FALSE for x in NO_MFA)), None)
    if both is not None:
        return f"requires MFA: {both.text()} {never}"
    deny_a, deny_b = shut_by["A"], shut_by["B"]
    if deny_a is not None and deny_a is deny_b:
        return f"requires MFA: Deny {deny_a.name()} refuses every request without MFA"
    parts = []
    for context in NO_MFA:
        deny = shut_by[context]
        if deny is not None:
            parts.append(f"Deny {deny.name()} refuses {CONTEXT_TEXT[context]}")
            continue
        clause = next((c for c in clauses if c.outcome(context) is Outcome.FALSE), None)
        shown = clause.text() if clause is not None else "its condition"
        parts.append(f"{shown} is false for {CONTEXT_TEXT[context]}")
    return "requires MFA: " + "; ".join(parts)


def _open_reason(
    statement: _Statement, who: _Who, action: str, opened: list[Context], denies: list[_Statement]
) -> str:
    clauses = statement.block.clauses
    mfa = [c for c in clauses if c.on_mfa]
    others = [c for c in clauses if not c.on_mfa]
    if who.kind == "federated":
        head = FEDERATED_NEVER_MFA
    elif who.kind == "service":
        head = f"anyone allowed to pass this role to {who.value} (iam:PassRole) gets it without MFA"
    elif who.kind == "certificate":
        head = CERTIFICATE_NEVER_MFA
    elif not clauses:
        head = "there is no condition, so MFA is not required"
    else:
        head = "no condition requires MFA"
    parts = [head]
    context = opened[0]
    passing = [c for c in mfa if c.outcome(context) is Outcome.TRUE]
    if passing and who.kind not in ("federated", "certificate"):
        parts.append(f"{passing[0].text()} is satisfied by {CONTEXT_TEXT[context]}")
    if others:
        parts.append(f"open to {who.text} whenever " + " and ".join(c.plain() for c in others))
    note = _deny_note(action, who, context, denies)
    if note:
        parts.append(note)
    return "; ".join(parts)


def _deny_note(action: str, who: _Who, context: Context, denies: list[_Statement]) -> str | None:
    """Why the first Deny that covers this action does not shut the way (None: no such Deny)."""
    deny = next((d for d in denies if d.covers(action)), None)
    if deny is None:
        return None
    if deny.not_principal:
        why = "its NotPrincipal exempts someone, so it is not counted"
    elif not _deny_names(deny, who):
        why = f"its Principal does not certainly cover {who.text}"
    elif deny.block.first_problem():
        why = f"its condition is not understood ({deny.block.first_problem()})"
    elif any(not c.on_mfa for c in deny.block.clauses):
        why = "it also has a condition on another key, which the caller may not meet"
    else:
        failing = next((c for c in deny.block.clauses if c.outcome(context) is not Outcome.TRUE), None)
        shown = failing.text() if failing is not None else "its condition"
        why = f"{shown} does not hold for {CONTEXT_TEXT[context]}"
    return f"Deny {deny.name()} does not stop it: {why}"


# --- the verdict ---------------------------------------------------------------------------


def _conclude(ways: tuple[WayIn, ...], problems: list[Finding]) -> Analysis:
    service_open = [w for w in ways if w.principal_kind == "service" and w.status == "open"]
    others_in = [w for w in ways if w.principal_kind != "service" and w.status != "closed"]
    mixed = bool(service_open and others_in)
    findings: list[Finding] = []
    for w in ways:
        if w.status == "open" and w.principal_kind == "service":
            kind: Literal["open", "service"] = "open" if mixed else "service"
            reason = f"through the service: {w.reason}" if mixed else w.reason
            findings.append(Finding(kind, w.statement, w.sid, w.action, w.principal, reason))
        elif w.status in ("open", "undecided"):
            status: Literal["open", "undecided"] = "open" if w.status == "open" else "undecided"
            findings.append(Finding(status, w.statement, w.sid, w.action, w.principal, w.reason))
    findings.extend(problems)
    statuses = {w.status for w in ways if w.principal_kind != "service"}
    verdict: Verdict
    if "open" in statuses or mixed:
        verdict = "open"
    elif problems or any(w.status == "undecided" for w in ways):
        verdict = "undecided"
    elif service_open:
        verdict = "service"
    else:
        verdict = "requires-mfa"
    return Analysis(verdict, tuple(sorted(findings, key=_order)), ways)


def _order(finding: Finding) -> tuple[int, int]:
    rank = {"open": 0, "undecided": 1, "service": 2}[finding.kind]
    return (finding.statement or 0, rank)


@lru_cache(maxsize=512)
def _wildcard(pattern: str) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    # ASCII case folding only: with Unicode folding, an action spelled with a long s
    # (U+017F) or a dotless i would match "sts:AssumeRole".
    return re.compile(regex, re.IGNORECASE | re.DOTALL | re.ASCII)
