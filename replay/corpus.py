"""Many traces at once: replay files in worker processes or on a Dask cluster, results in input order.

`replay_many(paths, jobs=N)` keeps at most 2*N files in flight (submitted and
not yet handed to the caller): each worker replays a whole file and sends back
its FileResult (findings and counts, never the records), and the caller gets
the results in the order of `paths` as soon as each one and all before it are
done, so a report can be written while the corpus is replayed and memory stays
bounded by the files in flight, not by the corpus.

`replay_many(paths, cluster=ADDRESS)` does the same work on a Dask
distributed cluster (the optional extra `lgcheck[dask]`): ADDRESS is a
scheduler's `tcp://host:8786`, or `local` for a cluster of `jobs` worker
processes on this machine.  The workers open the paths themselves, so on a
real cluster every worker must see the corpus under the same path (a shared
file system).  Dask was chosen over Ray by measurement (docs/cluster.md).

Where the local pool's time goes (benchmarks/jobs_speed.py): the workers are
forked from a parent that has already imported and compiled the model
(spec/compiled.py), so a worker starts in milliseconds (spawn costs about
10% more CPU over the run: each worker imports and compiles again); each
task is one whole file and each answer one FileResult, so the parent's share
is a few small pickles per file, and the pool costs 2-4% more CPU than one
process.  What is left between that and N times faster is the serial
start-up of the command and a busier memory system with N processes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Iterable, Iterator

from . import output_watch
from .engine import replay_file
from .findings import FileResult


class ClusterError(Exception):
    """The cluster cannot be used (extra not installed, scheduler unreachable): a usage error, exit 2."""


def cluster_problem() -> str | None:
    """Why --cluster cannot run here (the extra is not installed), or None."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return "--cluster needs Dask distributed, an optional extra: pip install 'lgcheck[dask]'"
    return None


def _one(path: str, kw: dict) -> FileResult:
    return replay_file(path, **kw)


# Worker processes one run may start (--jobs of replay and prove).  Each is a whole Python process with
# the model loaded (30-60 MB); past a few hundred a typo (--jobs 100000) would fork until the machine gives
# out, long before any time limit is looked at.
MAX_JOBS = 256


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _context():
    """fork where there is fork (Linux): a worker starts in milliseconds with every module loaded.

    Python 3.14 makes forkserver the default, whose workers import lgcheck
    and compile the model again; fork is safe here because the parent has
    no other thread when the pool starts.
    """
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return None


def _in_order(submit, paths: Iterable[str], window: int) -> Iterator[FileResult]:
    """Submit each path, at most `window` in flight; yield the answers in input order."""
    pending: deque = deque()
    for p in paths:
        pending.append(submit(p))
        if len(pending) >= window:
            yield _result(pending.popleft())
    while pending:
        yield _result(pending.popleft())


def _result(future) -> FileResult:
    """The future's answer; while a worker replays a large file, a closed output is noticed (output_watch)."""
    if not output_watch.watching():
        return future.result()
    while True:
        try:
            return future.result(timeout=output_watch.INTERVAL)
        except TimeoutError:  # (concurrent.futures' and Dask's both, since Python 3.11)
            output_watch.tick()


def replay_many(paths: Iterable[str], jobs: int = 1, cluster: str | None = None, **kw) -> Iterator[FileResult]:
    """Replay each path (with replay_file's keywords); yield the results in input order."""
    if cluster is not None:
        yield from _on_cluster(paths, cluster, jobs, kw)
        return
    if jobs <= 1:
        for p in paths:
            yield replay_file(p, **kw)
        return
    workers = pool(jobs)
    try:
        yield from _in_order(lambda p: _here(p, kw) if p == "-" else _submit(workers, p, kw), paths, 2 * jobs)
    except BaseException:
        # Ctrl-C, a closed output (the caller closes this generator) or an error: no file still being
        # replayed will be reported, so the workers are ended now; the pool's own shutdown would first
        # wait for each to finish its file (seconds to minutes for a large one).
        _end(workers)
        raise
    finally:
        workers.shutdown(wait=True, cancel_futures=True)


def _submit(workers: ProcessPoolExecutor, path: str, kw: dict) -> Future:
    """Hand one file to the pool, SIGINT held back meanwhile: the pool forks its workers in a submit, and a
    Ctrl-C that reached a worker before _quiet_worker ran would print a multiprocessing traceback."""
    masked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hasattr(signal, "pthread_sigmask") else None
    try:
        return workers.submit(_one, path, kw)
    finally:
        if masked is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, masked)  # a Ctrl-C held back is raised here, in the parent


def _quiet_worker() -> None:
    """A worker leaves Ctrl-C to the parent, which ends it (_end): a terminal's Ctrl-C reaches the whole
    process group, and each worker printed its own KeyboardInterrupt traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # (blocked by _submit while forking)


def _end(workers: ProcessPoolExecutor) -> None:
    """End the pool's worker processes at once (Python 3.14 has terminate_workers; 3.11 does not)."""
    for p in list((getattr(workers, "_processes", None) or {}).values()):
        try:
            p.terminate()
        except (OSError, ValueError, AttributeError):  # already gone
            pass


def _here(path: str, kw: dict) -> Future:
    """Standard input replayed in this process: a worker's stdin is /dev/null (multiprocessing closes it), so
    `-` sent to a worker read no records and was reported as an input error."""
    done: Future = Future()
    try:
        done.set_result(replay_file(path, **kw))
    except Exception as e:  # (as a worker's exception: raised where the result is taken)
        done.set_exception(e)
    return done


def pool(jobs: int) -> ProcessPoolExecutor:
    """The worker processes of --jobs (benchmarks/jobs_speed.py times the same pool)."""
    return ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), initializer=_quiet_worker)


def _on_cluster(paths: Iterable[str], address: str, jobs: int, kw: dict) -> Iterator[FileResult]:
    problem = cluster_problem()
    if problem is not None:
        raise ClusterError(problem)
    from distributed import Client, LocalCluster
    import contextlib
    import logging

    with contextlib.ExitStack() as stack:
        if address == "local":
            # Quiet: a local cluster logs its start and stop at INFO, and its
            # dashboard would take a port that may be another's.
            logging.getLogger("distributed").setLevel(logging.ERROR)
            local = stack.enter_context(
                LocalCluster(
                    n_workers=max(1, jobs), threads_per_worker=1, processes=True, dashboard_address=None
                )
            )
            client = stack.enter_context(Client(local))
        else:
            try:
                # How long to try: Dask's distributed.comm.timeouts.connect (30 s unless configured).
                client = stack.enter_context(Client(address))
            except (OSError, TimeoutError, ValueError) as e:
                raise ClusterError(f"cannot reach the Dask scheduler at {address}: {e}") from None
        workers = max(1, sum(client.nthreads().values()))
        # pure=False: the same path given twice is replayed twice, as --jobs does.
        yield from _in_order(lambda p: client.submit(_one, p, kw, pure=False), paths, 2 * workers)
