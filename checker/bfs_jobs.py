"""`--jobs N` for the explicit-state search: each level's frontier expanded by N worker processes.

Level-synchronous: the parent (checker/bfs.py `search`) keeps, as with one
process, the visited set, the parent pointers and the frontier of
fingerprints; at each level it cuts the frontier into chunks in order and
hands them to N persistent workers (forked once per search, each with its
own Cones, Menus and compiled rules).  A worker makes each state again from
its fingerprint (`Cone.state`), runs `successors` and sends back, per state,
its successors' fingerprints, each with its ordinal (the place of its move
in `successors`' order), and the invariants any step broke.

The parent merges the chunks in frontier order, state by state, exactly as
`Cone.level` does: the first violation per invariant, the new states and
their numbers, the limits checked after each state.  So with any N the
search reaches the same states under the same numbers, stops at the same
state under --max-states, and finds the same shortest run per invariant (the
first in breadth-first order) as with one process; only the time and memory
limits fall elsewhere.  A run is made again from the ordinals when it is
found: from the initial state, the ordinal-th successor of each state on the
path (`successors` enumerates a state's steps in an order fixed by the
state alone), so a move is stored as one small int.

What crosses the pipes is kept small: a Guest-local step (bfs.LOCAL) sends
only the Guest's new part, which the parent splices into the parent state's
own fingerprint (sharing the other parts, as one process does); a worker
drops a successor already sent in the same chunk, or one of the chunk's own
states (the parent would drop it too: it keeps the first).  With Guest
symmetry a successor goes with both fingerprints: the permuted one to look
up, the plain one to expand.

--max-memory counts the parent's address space (as with one process) plus
each worker's private memory (Private_Clean + Private_Dirty of
/proc/PID/smaps_rollup: what it holds of its own, not the pages it shares
with the parent since the fork).  Ctrl-C: the workers ignore SIGINT; the
parent stops and ends them (`close`), as on any error or limit.  A worker
that finds its parent gone (end of file on its pipe) exits.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import signal
import time
import traceback
from multiprocessing.connection import wait

from . import bfs

CHUNK = 256  # at most this many frontier states per task: about a tenth of a second of work
AHEAD = 2  # tasks in flight per worker, so none waits while the parent merges
MEMORY_EVERY = 0.25  # seconds between two readings of the workers' memory


def _context():
    """fork where there is fork: a worker starts in milliseconds with the model compiled (else spawn)."""
    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - no fork on this platform
        return multiprocessing.get_context("spawn")


# ---------------------------------------------------------------- a worker
def _worker(conn, other, cfg, specs):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to answer: it ends the workers
    if other is not None:
        other.close()  # the parent's end: holding it would keep this worker from seeing its parent go
    gc.freeze()  # what the fork brought along is not scanned again (nor its pages copied by the scan)
    gc.set_threshold(100_000, 50, 1000)  # as bfs.search: many long-lived small objects
    cones = [bfs.Cone(cfg, *spec) for spec in specs]  # (names, actions, sym, dom, secs, compiled, defer)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the parent has gone
        if task is None:
            return
        try:
            out = _expand(cones[task[0]], task[1], task[2])
        except BaseException:  # noqa: BLE001 - the parent reports it (an internal error) and ends the search
            out = ("error", traceback.format_exc())
        try:
            conn.send(out)
        except (BrokenPipeError, OSError):
            return


def _expand(cone, open_names, items):
    """Per frontier state of `items`: its violations [(ordinal, names)] and its new successors, flat.

    Without symmetry a successor is (ordinal, g, part): Guest g's new part of
    the parent's fingerprint, or g = -1 and the whole fingerprint.  With
    symmetry it is (ordinal, key, fingerprint): the permuted one to look up.
    """
    cfg, dom, secs, actions, menu, sym = cone.cfg, cone.dom, cone.secs, cone.actions, cone.menu, cone.sym
    open_names = set(open_names)
    guest_part, fingerprint, successors = bfs._guest_part, bfs.fingerprint, bfs.successors
    sent = set() if sym else set(items)
    news, bad = [], {}
    for pos, fp in enumerate(items):
        st = cone.state(fp)
        flat = []
        for o, (_, new, broken, g) in enumerate(successors(cfg, dom, secs, st, actions, menu)):
            if broken:
                hit = broken & open_names
                if hit:
                    bad.setdefault(pos, []).append((o, tuple(sorted(hit))))
            if sym:
                key = fingerprint(new, True)
                if key in sent:
                    continue
                sent.add(key)
                flat += (o, key, fingerprint(new, False))
            elif g is not None:
                part = guest_part(new, g)
                key = fp[:g] + (part,) + fp[g + 1 :]
                if key in sent:
                    continue
                sent.add(key)
                flat += (o, g, part)
            else:
                key = fingerprint(new, False)
                if key in sent:
                    continue
                sent.add(key)
                flat += (o, -1, key)
        news.append(flat)
    return news, bad


# ---------------------------------------------------------------- the parent's side
class WorkerError(RuntimeError):
    """A worker failed (its traceback) or died: an internal error, never a verdict."""


class Workers:
    """N worker processes for the Cones of one search; `level` expands a Cone's frontier with them."""

    def __init__(self, cfg, cones, jobs: int):
        self.jobs = jobs
        self.index = {id(c): k for k, c in enumerate(cones)}
        specs = [(c.names, c.actions, c.sym, c.dom, c.secs, c.menu.compiled, c.menu.defer) for c in cones]
        ctx = _context()
        self.procs, self.conns = [], []
        self._memory, self._memory_at = 0.0, -MEMORY_EVERY
        try:
            for _ in range(jobs):
                mine, theirs = ctx.Pipe()
                fork = ctx.get_start_method() == "fork"
                p = ctx.Process(target=_worker, args=(theirs, mine if fork else None, cfg, specs), daemon=True)
                p.start()
                theirs.close()
                self.procs.append(p)
                self.conns.append(mine)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """End every worker (a search that stopped early leaves tasks unanswered: no use waiting)."""
        for c in self.conns:
            c.close()
        for p in self.procs:
            if p.is_alive():
                p.terminate()
        for p in self.procs:
            p.join(5)
            if p.is_alive():  # pragma: no cover - SIGTERM is not ignored by a worker
                p.kill()
                p.join()
        self.procs, self.conns = [], []

    def memory_mib(self) -> float:
        """The workers' private memory in MiB (read at most every MEMORY_EVERY seconds)."""
        now = time.monotonic()
        if now - self._memory_at >= MEMORY_EVERY:
            self._memory, self._memory_at = sum(_private_mib(p.pid) for p in self.procs), now
        return self._memory

    def _recv(self, conn):
        try:
            out = conn.recv()
        except (EOFError, OSError):
            raise WorkerError("a worker of the search (--jobs) ended unexpectedly") from None
        if isinstance(out, tuple) and len(out) == 2 and out[0] == "error":
            raise WorkerError(f"a worker of the search (--jobs) failed:\n{out[1]}")
        return out

    def level(self, cone, found, check) -> str:
        """`Cone.level` with the frontier expanded by the workers: the same states, numbers and runs."""
        k = self.index[id(cone)]
        items = [fp if cone.compact or type(fp) is tuple else bfs.fingerprint(fp, False) for _, fp in cone.frontier]
        numbers = [i for i, _ in cone.frontier]
        size = max(1, min(CHUNK, -(-len(items) // (self.jobs * 4))))
        chunks = [(s, items[s : s + size]) for s in range(0, len(items), size)]
        todo = iter(range(len(chunks)))
        busy: dict = {c: [] for c in self.conns}  # conn -> chunk numbers it is working on, in order
        done: dict = {}

        def give(conn):
            n = next(todo, None)
            if n is not None:
                conn.send((k, tuple(sorted(cone.open)), chunks[n][1]))
                busy[conn].append(n)

        for _ in range(AHEAD):
            for conn in self.conns:
                give(conn)
        nxt = []
        seen, parent, moves, sym = cone.seen, cone.parent, cone.moves, cone.sym
        try:
            for n in range(len(chunks)):
                while n not in done:
                    for conn in wait([c for c in self.conns if busy[c]]):
                        done[busy[conn].pop(0)] = self._recv(conn)
                        give(conn)
                news, bad = done.pop(n)
                start, part = chunks[n]
                for pos, flat in enumerate(news):
                    i = numbers[start + pos]
                    for o, names in bad.get(pos, ()):
                        for name in names:
                            if name in cone.open:
                                cone.open.discard(name)
                                found(bfs.Found(name, cone.depth + 1, path_to(cone, i, o), 0.0))
                    pfp = part[pos]
                    for j in range(0, len(flat), 3):
                        o, g, x = flat[j], flat[j + 1], flat[j + 2]
                        if sym:
                            key, fp = g, x
                        else:
                            key = fp = x if g < 0 else pfp[:g] + (x,) + pfp[g + 1 :]
                        if key in seen:
                            continue
                        seen[key] = len(parent)
                        nxt.append((len(parent), fp))
                        parent.append(i)
                        moves.append(o)
                    if not cone.open:
                        cone.frontier = []
                        self._drain(busy)
                        return ""
                    why = check()  # after each state merged, as with one process
                    if why:
                        return why
        except BaseException:
            self._drain_or_close(busy)
            raise
        cone.frontier = nxt
        cone.depth += 1
        cone.exhausted = not nxt
        return ""

    def _drain(self, busy) -> None:
        """Wait out the tasks still in flight (their answers are not needed) so the next level starts clean."""
        for conn, ns in busy.items():
            while ns:
                self._recv(conn)
                ns.pop(0)

    def _drain_or_close(self, busy) -> None:
        if any(busy.values()):
            self.close()  # a stop on an error or Ctrl-C: the search ends, and the workers with it


def path_to(cone, i, last=None):
    """The run to state i (then the successor of ordinal `last`), as `Cone.path_to` gives it.

    The moves are made again from the ordinals: from the initial state, each
    state's ordinal-th successor (`successors` enumerates a state's steps in
    an order that depends on the state alone).
    """
    ordinals = [] if last is None else [last]
    while i > 0:
        ordinals.append(cone.moves[i])
        i = cone.parent[i]
    st, moves = cone.proto, []
    for o in reversed(ordinals):
        steps = bfs.successors(cone.cfg, cone.dom, cone.secs, st, cone.actions, cone.menu)
        move, st, _, _ = next(itertools.islice(steps, o, None))
        moves.append(move)
    return bfs.concretize(cone.cfg, moves)


def _private_mib(pid: int) -> float:
    """A process's own memory (Private_Clean + Private_Dirty), not what it shares with others, in MiB."""
    kib = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    kib += int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return kib / 1024


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
