"""`StringLike` as the solver is asked it, against Python's own regular expressions.

`sts_mfa.trust.operators.like` says a pattern with one `*` and no `?` as a prefix, a
suffix and a length, and any other as a regular expression. For every pattern below and
every text, the solver must find `item == text and item matches pattern` satisfiable
exactly when a regular expression written here from IAM's rule (`*` any run, `?` one
character, everything else itself) matches the text. The overlapping `ab*ba` is the case
a rule of prefix and suffix alone gets wrong (`aba`).
"""

from __future__ import annotations

import re

import pytest

from sts_mfa.trust.operators import like
from sts_mfa.trust.solver import new_solver, smt

PATTERNS = ["", "*", "a*", "*a", "ab*ba", "a*b", "repo:o/r:*", "*:ref", "a?c", "a*b*c", "ext-1", "**"]
TEXTS = [
    "",
    "a",
    "b",
    "ab",
    "ba",
    "aba",
    "abba",
    "abxba",
    "abc",
    "axc",
    "ac",
    "aXbYc",
    "repo:o/r:ref",
    "ext-1",
    "x",
]


def matches(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


@pytest.mark.parametrize("pattern", PATTERNS)
def test_like_says_what_the_pattern_says(pattern: str) -> None:
    item = smt.String("item")
    for text in TEXTS:
        solver = new_solver(5000)
        solver.add(item == smt.StringVal(text), like(item, pattern))
        assert (solver.check() == smt.sat) == matches(pattern, text), (pattern, text)


def test_a_pattern_and_its_complement_over_free_text() -> None:
    """Not only on fixed texts: the solver finds a text outside `ab*ba` as long as `abba`."""
    item = smt.String("item")
    solver = new_solver(5000)
    solver.add(smt.Not(like(item, "ab*ba")), smt.PrefixOf(smt.StringVal("ab"), item))
    solver.add(smt.SuffixOf(smt.StringVal("ba"), item))
    assert solver.check() == smt.sat
    found = solver.model().eval(item, model_completion=True).as_string()
    assert not matches("ab*ba", found) and found.startswith("ab") and found.endswith("ba")
