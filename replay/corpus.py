"""Many traces at once: replay files in worker processes, results in input order.

`replay_many(paths, jobs=N)` keeps at most 2*N files in flight (submitted and
not yet handed to the caller): each worker replays a whole file and sends back
its FileResult (findings and counts, never the records), and the caller gets
the results in the order of `paths` as soon as each one and all before it are
done, so a report can be written while the corpus is replayed and memory stays
bounded by the files in flight, not by the corpus.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Iterable, Iterator

from .engine import replay_file
from .findings import FileResult


def _one(path: str, kw: dict) -> FileResult:
    return replay_file(path, **kw)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def replay_many(paths: Iterable[str], jobs: int = 1, **kw) -> Iterator[FileResult]:
    """Replay each path (with replay_file's keywords); yield the results in input order."""
    if jobs <= 1:
        for p in paths:
            yield replay_file(p, **kw)
        return
    window = 2 * jobs
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending: deque = deque()
        it = iter(paths)
        for p in it:
            pending.append(pool.submit(_one, p, kw))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
