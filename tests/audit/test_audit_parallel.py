"""Many distinct trust policies are analysed in worker processes, with exactly the answers of one."""

from __future__ import annotations

import json

import pytest

from sts_mfa.audit import parallel
from sts_mfa.trust.analysis import analyse


def _documents(count: int) -> dict[str, str]:
    conditions = [
        {"Bool": {"aws:MultiFactorAuthPresent": "true"}},  # requires MFA
        {"StringEquals": {"sts:ExternalId": "corpus-id"}},  # open, with a witness
        {"bool": {"aws:MultiFactorAuthPresent": "true"}},  # undecided
    ]
    documents = {}
    for n in range(count):
        statement = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::111111111111:user/u{n}"},
            "Action": "sts:AssumeRole",
            "Condition": conditions[n % len(conditions)],
        }
        documents[f"digest-{n}"] = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return documents


def test_worker_processes_give_the_analyses_this_process_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    documents = _documents(parallel.PARALLEL_FROM + 6)
    here = {d: analyse(text, home_account="111111111111") for d, text in documents.items()}
    monkeypatch.setattr(parallel, "_cpus", lambda: 2)
    spawned = []
    import concurrent.futures

    class Counting(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            spawned.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Counting)
    found = parallel.analyse_all(documents, "111111111111")
    assert spawned == [2]  # the pool was used
    assert found == here
    assert {a.verdict for a in found.values()} == {"requires-mfa", "open", "undecided"}
    assert all(f.witness is not None for a in found.values() for f in a.findings if f.kind == "open")


def test_few_documents_or_another_engine_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import concurrent.futures

    def no_pool(*_: object, **__: object) -> None:
        raise AssertionError("no pool for these")

    monkeypatch.setattr(parallel, "_cpus", lambda: 8)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    few = _documents(parallel.PARALLEL_FROM - 1)
    assert parallel.analyse_all(few, None).keys() == few.keys()
    many = _documents(parallel.PARALLEL_FROM * 2)
    calls = []
    parallel.analyse_all(many, None, lambda text, **_: calls.append(text) or analyse(text))
    assert len(calls) == len(many)
