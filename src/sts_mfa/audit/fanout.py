"""Work on many items with N threads, results handed on in the items' order, memory bounded.

`ordered(items, work, concurrency=N, done=..., emit=...)` runs `work(item)` on a pool of
N threads. `done(result)` is called as each finishes (for a progress bar), `emit(result)`
in the order of `items`, each result then dropped. At most `window` results are held or
in flight at once (by default four per thread): a slow item holds back the emitting, never
the memory. Everything is called on the calling thread but `work`. A failure in `work`
(an exception it did not turn into a result) ends the run: it is raised here, after the
items not started are cancelled.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
WINDOW_PER_THREAD = 4
_END = object()


def ordered(
    items: Iterable[T],
    work: Callable[[T], R],
    *,
    concurrency: int,
    done: Callable[[R], None],
    emit: Callable[[R], None],
    window: int | None = None,
) -> None:
    """See the module docstring."""
    limit = window or WINDOW_PER_THREAD * concurrency
    remaining = iter(items)
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sts-mfa-worker")
    pending: deque[Future[R]] = deque()
    reported: set[Future[R]] = set()
    try:
        _fill(pool, pending, remaining, work, limit)
        while pending:
            waiting = [f for f in pending if f not in reported]
            if waiting:
                finished, _ = wait(waiting, return_when=FIRST_COMPLETED)
                for future in finished:
                    reported.add(future)
                    done(future.result())
            while pending and pending[0] in reported:
                head = pending.popleft()
                reported.discard(head)
                emit(head.result())
            _fill(pool, pending, remaining, work, limit)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _fill(
    pool: ThreadPoolExecutor,
    pending: deque[Future[R]],
    remaining: Iterator[T],
    work: Callable[[T], R],
    limit: int,
) -> None:
    while len(pending) < limit:
        item = next(remaining, _END)
        if item is _END:
            return
        pending.append(pool.submit(work, item))  # type: ignore[arg-type]  # not _END
