"""The solver's side of a question: one solver per question, its parts behind flags.

`sts_mfa.trust.analysis` builds each question (is there a request without MFA that this
way lets in?) as the request's facts and labelled parts: the principal, each clause, each
Deny. Asked here, the same solver then names the parts that refuse (a core, made smallest
by deletion), asks again of another kind of request or without some parts, or grants a
model the witness's wishes, without asserting anything twice.
"""

from __future__ import annotations

from sts_mfa.trust.solver import new_solver, smt

TIMEOUT_MS = 5000  # a question the solver has not decided by then is undecided


def solve(formulas: list[smt.BoolRef]) -> tuple[smt.CheckSatResult, smt.ModelRef | None]:
    """One satisfiability question, asked afresh: the solver's preprocessing settles most at once."""
    solver = new_solver(TIMEOUT_MS)
    solver.add(*formulas)
    result = solver.check()
    return result, solver.model() if result == smt.sat else None


class Question:
    """One question on one solver: the request's facts asserted, each part behind a flag.

    The flags are assumptions, so the same solver then says which parts made the answer
    unsatisfiable (its core, made smallest by deletion), or finds a model with more wishes
    granted (the witness), without asserting anything again.
    """

    def __init__(
        self, facts: list[smt.BoolRef], parts: list[tuple[str, smt.BoolRef]], kind: smt.BoolRef
    ) -> None:
        self.parts = parts
        self.kind = kind  # the kinds of request asked about: an assumption, so another can be asked
        self.solver = new_solver(TIMEOUT_MS, cores=True)
        self.solver.add(*facts)
        self.flags = [smt.Bool(f"part {n}") for n in range(len(parts))]
        self.solver.add(*(smt.Implies(f, p) for f, (_, p) in zip(self.flags, parts, strict=True)))

    def check(self, *more: smt.BoolRef, kind: smt.BoolRef | None = None) -> smt.CheckSatResult:
        return self.solver.check(*self.flags, kind if kind is not None else self.kind, *more)

    def core(self) -> list[str]:
        """After an unsatisfiable check: the labels of a smallest-by-deletion unsatisfiable set."""
        in_core = {c.ast for c in self.solver.unsat_core()}
        kept = [n for n, flag in enumerate(self.flags) if flag.ast in in_core]
        for n in list(kept):
            trial = [k for k in kept if k != n]
            if self.solver.check(*(self.flags[k] for k in trial), self.kind) == smt.unsat:
                kept = trial
        return [self.parts[n][0] for n in kept]

    def core_without(self, labels: set[str]) -> list[str] | None:
        """Is the question still unsatisfiable without the parts so labelled? Its core then
        (none of those labels in it); None if those parts are needed to refuse."""
        others = [f for f, (label, _) in zip(self.flags, self.parts, strict=True) if label not in labels]
        if self.solver.check(*others, self.kind) != smt.unsat:
            return None
        return self.core()

    def minimal(self, wishes: list[smt.BoolRef]) -> smt.ModelRef:
        """After a satisfiable check: a model granting each wish in turn that can be granted.

        A cvc5 model is read from the solver's last check, not copied: after a wish that
        cannot be granted, the granted ones are checked again before the model is read.
        """
        granted: list[smt.BoolRef] = []
        current = True  # the solver's last check was satisfiable, with `granted`
        for wish in wishes:
            if not current:
                self.check(*granted)  # satisfiable: it was before
                current = True
            if smt.is_true(self.solver.model().eval(wish, model_completion=True)):
                granted.append(wish)  # the model already has it: no question to ask
            elif self.check(*granted, wish) == smt.sat:
                granted.append(wish)
            else:
                current = False
        if not current:
            self.check(*granted)
        return self.solver.model()
