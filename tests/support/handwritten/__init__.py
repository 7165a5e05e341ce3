"""The trust analysis sts-mfa used before the solver: rules written by hand over request classes.

Kept for two jobs only: a yardstick (`scripts/bench.py` times it beside the solver in the same
run) and a witness of change (`tests/trust/test_changes_from_handwritten.py` lists every corpus
document on which the two disagree, each with the reason). It decides nothing in the tool.
"""
