"""The trust analysis's cost: the solver next to the hand-written engine it replaced, same run.

    python scripts/bench.py --trust

Two measurements, each against the yardstick of the old engine
(`tests/support/handwritten/`, kept for this and as a witness of change):

1. **One document at a time.** Every document of the adversarial corpus
   (`tests/trust/corpus/`), analysed cold (the cache of identical documents emptied
   first), by each engine: the median and the worst.
2. **A whole account.** `sts-mfa audit --json` at 2,000 and 10,000 roles on a sandbox, run
   as the console script with the solver and again with the old engine put in its place
   (a child that swaps `sts_mfa.audit.classify.analyse` before the CLI starts). Four
   accounts: every role with the *same* trust policy (identical documents are decided
   once); every role trusting a user of its own, and every role with an ExternalId of its
   own (documents that differ only in whom they name, or in values compared only for
   equality, share one shape: `sts_mfa.trust.shapes`); and every role with an ExternalId
   *pattern* of its own (`StringLike`: the worst case, one solver run per role, shared out
   to every CPU; measured, not held to the target).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the yardstick and the corpus live under tests/
SIZES = (2000, 10000)
TARGET_RATIO = 2.0  # the solver's audit at most twice the old engine's, but for the worst case (WORST)
OLD_ENGINE = (
    "import sys; sys.path.insert(0, {root!r});"
    "from tests.support.handwritten.analysis import analyse as old;"
    "import sts_mfa.audit.classify as classify;"
    "classify.analyse = lambda document, **_: old(document);"
    "sys.argv = ['sts-mfa', *sys.argv[1:]];"
    "from sts_mfa.cli import main; main()"
)


def _corpus() -> list[Any]:
    from tests.support.corpus import documents, substitute

    return [substitute(entry["policy"]) for _, entry in documents()]


def _timed(analyse: Callable[[Any], Any], document: Any, before: Callable[[], None] = lambda: None) -> float:
    before()
    start = time.perf_counter()
    analyse(document)
    return time.perf_counter() - start


def per_document() -> tuple[list[str], bool]:
    from sts_mfa.trust import analysis as solver
    from tests.support.handwritten.analysis import analyse as old

    documents = _corpus()
    solver.analyse(documents[0])  # load the solver once, as a run of check-deny does
    new_times = [_timed(solver.analyse, d, solver._cached.cache_clear) for d in documents]
    old_times = [_timed(old, d) for d in documents]

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.2f} ms median, {max(values) * 1000:.1f} ms worst"

    lines = [
        f"One trust policy at a time, the {len(documents)} documents of the corpus, each cold:",
        "",
        "| engine | per document |",
        "|---|---:|",
        f"| solver (cvc5) | {ms(new_times)} |",
        f"| hand-written (the yardstick) | {ms(old_times)} |",
    ]
    return lines, True


KINDS = {
    "shared": "one shared document",
    "names": "a user of its own",
    "external-ids": "an ExternalId of its own",
    "patterns": "an ExternalId pattern of its own",
}
WORST = "patterns"  # every document distinct to the solver: measured, not held to the target


def _trust(account: str, kind: str, n: int) -> str:
    user = f"arn:aws:iam::{account}:{'user/u' + str(n) if kind == 'names' else 'root'}"
    condition: dict[str, Any] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    if kind == "external-ids":
        condition["StringEquals"] = {"sts:ExternalId": f"partner-{n:05d}"}
    if kind == "patterns":
        condition["StringLike"] = {"sts:ExternalId": f"partner-{n:05d}-*"}
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": user},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def whole_account(
    home: Path, clean_env: Callable[..., dict[str, str]], measure: Callable[..., Any], sts_mfa: str
) -> tuple[list[str], bool]:
    from sts_mfa.sandbox import Sandbox
    from sts_mfa.sandbox.seam import motoview

    rows: list[str] = []
    ok = True
    old_engine = [sys.executable, "-c", OLD_ENGINE.format(root=str(ROOT))]
    for kind, described in KINDS.items():
        with Sandbox(sample_buckets=()) as sandbox:
            env = clean_env(home, **sandbox.env(0))
            account = sandbox.accounts[0].account_id
            made = 0
            for size in SIZES:
                roles = ((f"bench-{n:05d}", "/bench/", _trust(account, kind, n)) for n in range(made, size))
                made += motoview.create_roles(account, roles)
                new = measure([sts_mfa, "audit", "--json"], env, timeout=1800)
                old = measure([*old_engine, "audit", "--json"], env, timeout=1800)
                verdicts = []
                for run in (new, old):
                    verdicts.append(json.loads(run.stdout)["summary"] if run.returncode == 0 else {})
                agree = verdicts[0] == verdicts[1] and verdicts[0].get("requires-mfa") == size
                ratio = new.seconds / old.seconds
                ok = ok and agree and (ratio <= TARGET_RATIO or kind == WORST)
                rows.append(
                    f"| {size:,} | {described} | {new.seconds:.1f} s | {old.seconds:.1f} s | {ratio:.2f} "
                    f"| {new.peak_mb:.0f} MB / {old.peak_mb:.0f} MB | {'yes' if agree else 'NO'} |"
                )
    lines = [
        "`sts-mfa audit --json` on the sandbox, every role requiring MFA: the solver, and the old",
        f"engine in its place, same run (target: at most {TARGET_RATIO:.0f}x, but for the worst case):",
        "",
        "| roles | each role's trust policy | solver | old engine | ratio | peak memory (solver / old) "
        "| same verdicts |",
        "|---:|---|---:|---:|---:|---:|---|",
        *rows,
    ]
    return lines, ok


def trust_scenario(
    home: Path, clean_env: Callable[..., dict[str, str]], measure: Callable[..., Any], sts_mfa: str
) -> tuple[str, bool]:
    first, ok1 = per_document()
    second, ok2 = whole_account(home, clean_env, measure, sts_mfa)
    return "\n".join([*first, "", *second]), ok1 and ok2
