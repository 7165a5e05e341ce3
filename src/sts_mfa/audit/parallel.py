"""Many distinct trust policies, analysed on every CPU.

The solver takes milliseconds per distinct document (identical documents are decided
once), so an account whose roles each have a trust policy of their own spends its time
there. Past `PARALLEL_FROM` distinct documents, and with more than one CPU, they are
shared out to worker processes (started fresh with `spawn`: no solver state is copied
from this process), in chunks; fewer are analysed here, in order. Either way each
document gets exactly the analysis `sts_mfa.trust.analysis.analyse` gives it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from sts_mfa.trust.analysis import Analysis, analyse

PARALLEL_FROM = 64
CHUNK = 16


def analyse_all(
    documents: Mapping[str, str],
    home_account: str | None,
    one: Callable[..., Analysis] = analyse,
) -> dict[str, Analysis]:
    """Each document's analysis, by digest. `one` other than the solver's is run here only."""
    workers = min(_cpus(), len(documents) // CHUNK)
    if one is not analyse or len(documents) < PARALLEL_FROM or workers < 2:
        return {digest: one(text, home_account=home_account) for digest, text in documents.items()}
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    digests = list(documents)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        found = pool.map(
            _analyse, [documents[d] for d in digests], [home_account] * len(digests), chunksize=CHUNK
        )
        return dict(zip(digests, found, strict=True))


def _analyse(text: str, home_account: str | None) -> Analysis:
    return analyse(text, home_account=home_account)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may run on
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
