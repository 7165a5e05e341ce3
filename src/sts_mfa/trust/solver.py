"""The SMT solver: cvc5, through its Python API shaped like z3's (`cvc5.pythonic`).

z3 and cvc5 both decide the theories the encoding uses (strings with regular
expressions, integers, reals, bit-vectors). On this encoding cvc5's string solver is
the faster by far: matching an ARN built from a caller's parts against a `StringLike`
pattern takes it milliseconds where z3 took half a second (measured on the test corpus,
see docs/trust-analysis.md), so cvc5 decides and z3 is not needed. Everything the rest of
the package asks of a solver goes through this module.
"""

from __future__ import annotations

import cvc5.pythonic as smt
from cvc5 import Kind

__all__ = ["is_concat", "new_solver", "representable", "smt"]

# cvc5's strings hold characters below U+30000 (SMT-LIB's alphabet); a policy text with
# any other cannot be said to it at all (it raises), so the caller treats it as unknown.
ALPHABET_END = 0x30000


def representable(text: str) -> bool:
    return all(ord(c) < ALPHABET_END for c in text)


def new_solver(timeout_ms: int, *, cores: bool = False) -> smt.Solver:
    """A solver for one question, giving up after `timeout_ms` (the answer is then unknown);
    with `cores`, it can say which assumptions made an answer unsatisfiable."""
    solver = smt.Solver()
    solver.set("tlimit-per", timeout_ms)
    if cores:
        solver.set("produce-unsat-cores", "true")
    return solver


def is_concat(expr: smt.ExprRef) -> bool:
    return bool(expr.kind() == Kind.STRING_CONCAT)
