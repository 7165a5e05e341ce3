"""Can this role be assumed without MFA? Asked of a solver, with the request that gets in.

Each way into the role (an Allow statement, one principal it names, one assume action)
is a question for the SMT solver (cvc5, `sts_mfa.trust.solver`): is there a request,
made without MFA, that this statement lets in and no Deny statement refuses? The request
ranges over every kind of caller the principal can be (`sts_mfa.trust.request`), every
value of every condition key the policy names, and everything that follows from those
(`sts_mfa.trust.keys`). Unsatisfiable: the
way requires MFA (or, if a request *with* MFA cannot get in either, it is closed).
Satisfiable: the way is open, and the model is the witness.

What the encoding does not understand is a fresh unknown, and it is given both values:
for "requires MFA" every unknown is taken the way that lets more in (an Allow's unknown
clause true, a Deny's unknown parts false); for "open" the way that lets less in (a Deny
applies whenever its known parts do; an Allow with an unknown clause is never "open").
Whatever falls between the two is undecided, naming the construct. So is a solver
timeout. The rules, and the paper this follows, are in docs/trust-analysis.md.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from sts_mfa.trust import keys as K
from sts_mfa.trust import principals as P
from sts_mfa.trust.document import ASSUME_ACTIONS, Clause, Document, Principal, Statement, load, parse
from sts_mfa.trust.operators import NotEncodable, encode
from sts_mfa.trust.question import TIMEOUT_MS, Question, solve
from sts_mfa.trust.readback import read_witness
from sts_mfa.trust.request import (
    ACTION_OF,
    LONG_TERM,
    MFA,
    USER,
    Request,
)
from sts_mfa.trust.shapes import STAND_IN, shape_of, told_in_own_names
from sts_mfa.trust.solver import smt
from sts_mfa.trust.verdicts import Analysis, Finding, Kind, Status, WayIn, conclude
from sts_mfa.trust.witness import Witness

__all__ = ["ASSUME_ACTIONS", "ASSUME_ROLE", "Analysis", "Finding", "WayIn", "analyse", "load_document"]
ASSUME_ROLE = ASSUME_ACTIONS[0]
load_document = load  # the policy as a mapping, or why it is not one (policy_view reads with it)

FEDERATED_NEVER_MFA = "a web-identity or SAML sign-in never carries an IAM user's MFA"
CERTIFICATE_NEVER_MFA = (
    "IAM Roles Anywhere hands this role to holders of a trusted X.509 certificate, without MFA"
)
PREFERRED_ACCOUNT = "123456789012"


def analyse(document: object, *, home_account: str | None = None, callers: tuple[str, ...] = ()) -> Analysis:
    """Every way into the role this trust policy opens, whether each needs MFA, and who gets in if not.

    `document`: the policy as a dict, as JSON text, or URL-encoded JSON text (as IAM's API
    returns it). A witness is a request a person can read: it prefers one of `callers` (ARNs
    of users or roles the caller knows, such as a profile's own identity), then a principal of
    `home_account` (the role's own account). Preferences never change a verdict.
    """
    loaded = load(document)
    if isinstance(loaded, str):
        return Analysis("undecided", (Finding("undecided", None, None, None, None, loaded),), ())
    try:
        key = json.dumps(loaded, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        key = None
    if key is None:
        return _analyse(parse(loaded), home_account, callers)
    if not callers:  # documents that differ only in whom or which values they name are decided once
        shape = shape_of(loaded, key)
        if shape is not None:
            told = told_in_own_names(_cached(shape.text, home_account, ()), shape)
            if STAND_IN not in repr(told):  # a stand-in the solver put anywhere else: ask afresh
                return told
    return _cached(key, home_account, callers)


@lru_cache(maxsize=4096)
def _cached(text: str, home_account: str | None, callers: tuple[str, ...]) -> Analysis:
    """Identical documents are decided once."""
    return _analyse(parse(json.loads(text)), home_account, callers)


def _analyse(doc: Document, home_account: str | None, callers: tuple[str, ...]) -> Analysis:
    problems = [Finding("undecided", n, sid, None, None, why) for n, sid, why in doc.problems]
    ways: list[WayIn] = []
    session = _Session(doc, home_account, callers)
    for statement in doc.statements:
        if statement.effect != "Allow":
            continue
        for entry in _entries(statement):
            for action in ASSUME_ACTIONS:
                if statement.covers(action) and any(ACTION_OF[k] == action for k in _kinds(entry)):
                    ways.append(session.judge(statement, entry, action))
        for bad in statement.bad_principals:
            why = "principal entry not understood (only AWS, Federated and Service with ASCII strings are)"
            problems.append(Finding("undecided", statement.number, statement.sid, None, bad, why))
    return conclude(tuple(ways), problems)


@dataclass(frozen=True)
class _Entry:
    """Who a way is for: one principal entry, or everyone a NotPrincipal does not exempt."""

    principal: Principal
    exempted: tuple[Principal, ...] = ()
    exemption_unknown: bool = False

    @property
    def kind(self) -> Kind:
        if P.is_roles_anywhere(self.principal):
            return "certificate"
        return self.principal.kind


def _entries(statement: Statement) -> Iterator[_Entry]:
    if statement.not_principal:
        exempted = ", ".join(p.text for p in statement.principals) or "no one understood"
        everyone = Principal("everyone", "*", f"everyone except {exempted} (NotPrincipal)")
        yield _Entry(everyone, statement.principals, bool(statement.bad_principals))
        return
    yield from (_Entry(p) for p in statement.principals)


def _kinds(entry: _Entry) -> tuple[int, ...]:
    return P.feasible_kinds(entry.principal)


# --- one document's questions ---------------------------------------------------------------------


@dataclass
class _Check:
    result: smt.CheckSatResult
    core: list[str]  # what made it unsatisfiable (labels of clauses, Denies, the principal)
    model: smt.ModelRef | None = None
    question: Question | None = None  # an unsatisfiable one, to ask again of another kind


class _Session:
    """One document's questions, asked of one solver over one symbolic request."""

    def __init__(self, doc: Document, home_account: str | None, callers: tuple[str, ...]) -> None:
        self.doc = doc
        self.home_account = home_account
        self.callers = callers
        self.types, self.set_atoms = _catalog(doc)
        self.request = Request()
        if any(P.names_unique_id(p) for s in doc.statements for p in s.principals):
            self.request.declare(K.USERID, "string", 0)  # so a witness says which principal it is
        self._unknown_reasons: dict[int, list[str]] = {}
        self._encoded: dict[int, list[tuple[Clause, smt.BoolRef]]] = {}

    # -- a way -----------------------------------------------------------------------------------

    def judge(self, statement: Statement, entry: _Entry, action: str) -> WayIn:
        kind: Kind = entry.kind

        def way(status: Status, reason: str, witness: Witness | None = None) -> WayIn:
            return WayIn(
                statement.number, statement.sid, action, entry.principal.text, kind, status, reason, witness
            )

        problem = P.shape_problem(entry.principal)
        if problem is not None:
            return way("undecided", problem)
        kinds = tuple(k for k in _kinds(entry) if ACTION_OF[k] == action)
        permissive = self._ask(statement, entry, action, kinds, strict=False)
        if permissive.result == smt.unknown:
            return way("undecided", f"the solver did not decide within {TIMEOUT_MS / 1000:.0f} s")
        if permissive.result == smt.unsat:
            if self._closed(statement, entry, action, permissive):
                return way("closed", self._closed_reason(permissive.core))
            return way("requires-mfa", self._requires_reason(entry, permissive.core))
        allow_unknowns = self._allow_unknowns(statement, entry)
        if allow_unknowns:
            return way("undecided", allow_unknowns[0])
        if self.doc.unread_denies:  # a statement not read may be a Deny that refuses this request
            number, why = self.doc.unread_denies[0]
            return way("undecided", f"statement {number} may refuse it or not: it could not be read ({why})")
        strict = self._ask(statement, entry, action, kinds, strict=True, witness=True)
        if strict.result == smt.sat and strict.model is not None:
            witness = read_witness(self.request, self.doc, action, strict.model)
            return way("open", self._open_reason(statement, entry, witness), witness)
        if strict.result == smt.unknown:
            return way("undecided", f"the solver did not decide within {TIMEOUT_MS / 1000:.0f} s")
        return way("undecided", self._deny_unknown_reason(action))

    def _ask(
        self,
        statement: Statement,
        entry: _Entry,
        action: str,
        kinds: tuple[int, ...],
        *,
        strict: bool,
        witness: bool = False,
    ) -> _Check:
        """Is there such a request? (unsat: which of the statement's parts and Denies say no)."""
        parts: list[tuple[str, smt.BoolRef]] = [
            ("the principal", self._allowed(entry, self.request, strict=strict))
        ]
        parts += [(clause.text(), formula) for clause, formula in self._clauses(statement)]
        for deny in self._denies(action):
            applies = smt.And(
                self._denied(deny, self.request, strict=strict),
                *(formula for _, formula in self._clauses(deny)),
                smt.BoolVal(strict or not self._unknowns(deny)),  # its unknown parts: true only if strict
            )
            parts.append((f"Deny {deny.name()}", smt.Not(applies)))
        question = Question(self.request.facts, parts, self.request.is_kind(*kinds))
        result = question.check()
        if result == smt.unknown:  # behind flags the solver may miss a simplification: ask afresh
            base = [*self.request.facts, self.request.is_kind(*kinds)]
            result, model = solve([*base, *(f for _, f in parts)])
            if result == smt.sat and witness:
                return _Check(result, [], model)
            return _Check(result, [label for label, _ in parts])  # no core: every part is named
        if result == smt.unsat:
            return _Check(result, question.core(), question=question)
        if result == smt.sat and witness:
            return _Check(result, [], question.minimal(self._minimizers()))
        return _Check(result, [])

    def _closed(self, statement: Statement, entry: _Entry, action: str, permissive: _Check) -> bool:
        """Can nobody get in, with MFA or without? (Only an AWS caller can bring MFA: for the
        others, closed means the reason has nothing to do with the MFA keys.)"""
        if entry.kind in ("aws", "everyone") and action == "sts:AssumeRole":
            if permissive.question is not None:  # the same question, of a request with MFA
                return bool(permissive.question.check(kind=self.request.is_kind(MFA)) == smt.unsat)
            return bool(self._ask(statement, entry, action, (MFA,), strict=False).result == smt.unsat)
        mfa_labels = {c.text() for c in statement.clauses if c.key.lower() in (K.MFA_PRESENT, K.MFA_AGE)}
        mfa_labels |= {
            f"Deny {d.name()}"
            for d in self._denies(action)
            if any(c.key.lower() in (K.MFA_PRESENT, K.MFA_AGE) for c in d.clauses)
        }
        if not mfa_labels.intersection(permissive.core):
            return True
        # The core the solver found names an MFA key, but another reason may close the way
        # too (which one a core names depends on the order of the clauses): ask without the
        # MFA parts, so that the answer is the document's, not the order's.
        if permissive.question is None:
            return False
        core = permissive.question.core_without(mfa_labels)
        if core is None:
            return False
        permissive.core[:] = core  # the reason, without MFA
        return True

    def _allowed(self, entry: _Entry, request: Request, *, strict: bool) -> smt.BoolRef:
        """Is the caller the entry's principal (and, for NotPrincipal, not one it exempts)?

        A caller listed in some of its identities but not all may be exempt or not: for
        "open" (strict) only a caller listed in none is let in, for "requires MFA" any caller
        not listed in all."""
        formula = P.matches(entry.principal, request)
        if entry.exempted:
            listed = P.some_identity_listed if strict else P.all_identities_listed
            formula = smt.And(formula, smt.Not(listed(entry.exempted, request)))
        return formula

    def _denied(self, deny: Statement, request: Request, *, strict: bool) -> smt.BoolRef:
        """Does the Deny's Principal (or NotPrincipal) cover the caller?"""
        if deny.not_principal:
            # listed in some identities, not all: exempt or not (see some_identity_listed), so
            # the Deny covers the caller for "open" (strict), and not for "requires MFA"
            listed = P.all_identities_listed if strict else P.some_identity_listed
            exempt = listed(deny.principals, request)
            if deny.bad_principals:
                exempt = smt.Or(exempt, smt.BoolVal(not strict))  # an entry not understood may exempt anyone
            return smt.Not(exempt)
        named = [P.matches(p, request) for p in deny.principals]
        covered = smt.Or(*named) if named else smt.BoolVal(False)
        if deny.bad_principals:
            covered = smt.Or(covered, smt.BoolVal(strict))  # an entry not understood may name anyone
        return covered

    def _clauses(self, statement: Statement) -> list[tuple[Clause, smt.BoolRef]]:
        """The statement's clauses the encoding understands, as formulas (made once)."""
        if statement.number in self._encoded:
            return self._encoded[statement.number]
        encoded = []
        for clause in statement.clauses:
            key = clause.key.lower()
            type_ = self.types.get(key)
            if type_ is None:
                continue  # compared as two types: an unknown (see _unknowns)
            value = self.request.declare(key, type_, self.set_atoms.get(key, 0))
            try:
                encoded.append((clause, encode(clause, value)))
            except NotEncodable:
                continue
        self._encoded[statement.number] = encoded
        return encoded

    def _unknowns(self, statement: Statement) -> list[str]:
        """What in a statement's condition the encoding does not understand, one reason each."""
        if statement.number not in self._unknown_reasons:
            self._unknown_reasons[statement.number] = self._find_unknowns(statement)
        return self._unknown_reasons[statement.number]

    def _find_unknowns(self, statement: Statement) -> list[str]:
        reasons = [u.reason for u in statement.unknowns]
        for clause in statement.clauses:
            key = clause.key.lower()
            type_ = self.types.get(key)
            if type_ is None:
                reasons.append(f"{clause.text()}: {clause.key} is compared as two different types")
                continue
            try:
                encode(clause, self.request.declare(key, type_, self.set_atoms.get(key, 0)))
            except NotEncodable as e:
                reasons.append(str(e))
        return reasons

    def _allow_unknowns(self, statement: Statement, entry: _Entry) -> list[str]:
        reasons = list(self._unknowns(statement))
        if entry.exemption_unknown:
            reasons.append("a NotPrincipal entry is not understood, so whom it exempts is unknown")
        return reasons

    def _deny_unknown_reason(self, action: str) -> str:
        for deny in self._denies(action):
            reasons = list(self._unknowns(deny))
            if deny.bad_principals:
                reasons.append(f"its principal entry {deny.bad_principals[0]} is not understood")
            if reasons:
                return f"Deny {deny.name()} may refuse it or not: {reasons[0]}"
        for deny in self._denies(action):
            if deny.not_principal:
                return (
                    f"Deny {deny.name()} may refuse it or not: its NotPrincipal lists some of a "
                    "caller's identities but not all (a user's ARN without its account's, say), and "
                    'AWS documents that such a caller "might" still be denied'
                )
        return "the analysis cannot tell"

    def _denies(self, action: str) -> list[Statement]:
        return [s for s in self.doc.statements if s.effect == "Deny" and s.covers(action)]

    # -- the witness ----------------------------------------------------------------------------

    def _minimizers(self) -> list[smt.BoolRef]:
        """What a witness a person reads has, where the request allows it: no key it does not
        need, then a caller one recognises (see `_preferences`)."""
        return [smt.Not(v.present) for v in self.request.values.values()] + self._preferences()

    def _preferences(self) -> list[smt.BoolRef]:
        request = self.request
        account = self.home_account or PREFERRED_ACCOUNT
        known = [P.caller_is(arn, request) for arn in self.callers]
        return [
            smt.Or(*known) if known else smt.BoolVal(True),
            *known,
            request.kind == LONG_TERM,
            request.is_type(USER),
            request.partition == smt.StringVal("aws"),
            request.account == smt.StringVal(account),
            request.path == smt.StringVal("/"),
            request.name == smt.StringVal("someone"),
            request.session == smt.StringVal("witness"),
            request.unique == smt.StringVal("EXAMPLEUNIQUEID1"),
            request.caller == smt.StringVal("token.actions.githubusercontent.com"),
            request.caller == smt.StringVal(f"arn:aws:iam::{account}:saml-provider/idp"),
            request.caller == smt.StringVal("ec2.amazonaws.com"),
        ]

    # -- reasons --------------------------------------------------------------------------------

    def _open_reason(self, statement: Statement, entry: _Entry, witness: Witness) -> str:
        kind = entry.kind
        if kind == "federated" or witness.kind in ("web-identity", "saml"):
            head = FEDERATED_NEVER_MFA
        elif kind == "certificate":
            head = CERTIFICATE_NEVER_MFA
        elif kind == "service" or witness.kind == "service":
            head = (
                f"anyone allowed to pass this role to {witness.principal} (iam:PassRole) gets it without MFA"
            )
        elif not statement.clauses and not statement.unknowns:
            head = "there is no condition, so MFA is not required"
        else:
            head = f"no condition requires MFA ({'; '.join(c.text() for c in statement.clauses)})"
        denies = [d.name() for d in self._denies(witness.action)]
        if denies:  # the witness is a request each of them lets through
            head += f"; Deny {', '.join(denies)} {'does' if len(denies) == 1 else 'do'} not stop it"
        return f"{head}; gets in without MFA: {witness}"

    def _requires_reason(self, entry: _Entry, cores: list[str]) -> str:
        never = {
            "federated": f" ({FEDERATED_NEVER_MFA})",
            "service": " (a service never signs in with MFA)",
            "certificate": " (an IAM Roles Anywhere session never carries MFA)",
        }.get(entry.kind, "")
        named = _named(cores)
        if not named:
            return f"requires MFA: no request without MFA can be made this way{never}"
        return f"requires MFA: no request without MFA meets {named}{never}"

    def _closed_reason(self, cores: list[str]) -> str:
        named = _named(cores)
        return f"nobody can get in, with MFA or without{': ' + named if named else ''}"


def _named(cores: list[str]) -> str:
    seen: list[str] = []
    for label in cores:
        if label != "the principal" and label not in seen:
            seen.append(label)
    denies = [s for s in seen if s.startswith("Deny ")]
    clauses = [s for s in seen if not s.startswith("Deny ")]
    parts = []
    if clauses:
        parts.append(" and ".join(clauses))
    if denies:
        parts.append(" and ".join(denies) + (" refuses it" if len(denies) == 1 else " refuse it"))
    return "; ".join(parts)


def _catalog(doc: Document) -> tuple[dict[str, str | None], dict[str, int]]:
    """Each key's type over the whole document, and how many set-operator clauses name it."""
    families: dict[str, set[str]] = defaultdict(set)
    set_atoms: dict[str, int] = defaultdict(int)
    for statement in doc.statements:
        for clause in statement.clauses:
            key = clause.key.lower()
            families[key].add(clause.family)
            if clause.qualifier is not None:
                set_atoms[key] += 1
    return {k: K.key_type(k, f) for k, f in families.items()}, dict(set_atoms)
