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

What crosses the pipes is kept small: a successor is sent as the fields of
its fingerprint that differ from its parent state's (in a Guest's part, or
the binding order), which the parent splices into that state's own
fingerprint (sharing the other parts with it); a worker drops a successor
already sent in the same chunk, or one of the chunk's own states (the parent
would drop it too: it keeps the first), and stops a chunk once every
invariant open when it was sent is broken (the parent stops there).  With
Guest symmetry a successor goes with both fingerprints: the permuted one to
look up, the plain one to expand.

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
import queue
import signal
import threading
import time
import traceback
from multiprocessing.connection import wait

from . import bfs

CHUNK = 256  # at most this many frontier states per task (about 0.1-1 s of work); fewer on a small level
AHEAD = 2  # tasks in flight per worker, so none waits while the parent merges
MEMORY_EVERY = 0.25  # seconds between two readings of the workers' memory
CHECK_EVERY = 0.25  # seconds: the limits are checked this often while the parent waits for a chunk


def _context():
    """fork where there is fork: a worker starts in milliseconds with the model compiled (else spawn)."""
    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - no fork on this platform
        return multiprocessing.get_context("spawn")


# ---------------------------------------------------------------- a worker
def _worker(conn, other, cfg, specs):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to answer: it ends the workers
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held back by the parent while forking
    if other is not None:
        other.close()  # the parent's end: holding it would keep this worker from seeing its parent go
    gc.freeze()  # what the fork brought along is not scanned again (nor its pages copied by the scan)
    gc.set_threshold(100_000, 50, 1000)  # as bfs.search: many long-lived small objects
    cones = [bfs.Cone(cfg, *spec) for spec in specs]  # (names, actions, sym, dom, secs, compiled, defer)
    # A thread reads the tasks as they come: the parent keeps AHEAD tasks in flight, and one blocked
    # writing a task this worker is not reading, while this worker is blocked writing a result the parent
    # is not reading, would wait for ever (a task can be larger than a pipe's buffer).
    tasks: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_read, args=(conn, tasks), daemon=True).start()
    while True:
        task = tasks.get()
        if task is None:
            return  # the parent has gone (or asks it to end)
        try:
            out = _expand(cones[task[0]], task[1], task[2])
        except BaseException:  # noqa: BLE001 - the parent reports it (an internal error) and ends the search
            out = ("error", traceback.format_exc())
        try:
            conn.send(out)
        except (BrokenPipeError, OSError):
            return


def _read(conn, tasks) -> None:
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            task = None
        tasks.put(task)
        if task is None:
            return


def _expand(cone, open_names, items):
    """Per frontier state of `items`: its violations [(ordinal, names)] and its new successors, flat.

    Without symmetry a successor is (ordinal, diff): diff is (h, sub, ...)
    for each part of the parent's fingerprint that differs: a Guest's part
    (sub: its fields that differ, `_fields`) or the binding order (the whole).  With symmetry it is
    (ordinal, (key, fingerprint)): the permuted one to look up, the plain one.
    """
    cfg, dom, secs, actions, menu, sym = cone.cfg, cone.dom, cone.secs, cone.actions, cone.menu, cone.sym
    open_names = set(open_names)
    guest_part, fingerprint, successors = bfs._guest_part, bfs.fingerprint, bfs.successors
    sent = set() if sym else set(items)
    order = cfg.guests  # the binding order's place in a fingerprint, after the Guests' parts
    news, bad = [], {}
    left = set(open_names)  # the open invariants no state of this chunk has broken yet
    for pos, fp in enumerate(items):
        if not left:
            break  # every open invariant is broken by the states before: the parent stops there
        st = cone.state(fp)
        flat = []
        for o, (_, new, broken, g) in enumerate(successors(cfg, dom, secs, st, actions, menu)):
            if broken:
                hit = broken & open_names
                if hit:
                    bad.setdefault(pos, []).append((o, tuple(sorted(hit))))
                    left -= hit
            if sym:
                key = fingerprint(new, True)
                if key in sent:
                    continue
                sent.add(key)
                flat += (o, (key, fingerprint(new, False)))
            elif g is not None:  # a Guest-local step: only Guest g's part can differ
                part = guest_part(new, g)
                key = fp[:g] + (part,) + fp[g + 1 :]
                if key in sent:
                    continue
                sent.add(key)
                flat += (o, (g, _fields(part, fp[g])))
            else:
                key = fingerprint(new, False)
                if key in sent:
                    continue
                sent.add(key)
                diff = []
                for h, (a, b) in enumerate(zip(key, fp)):
                    if a is not b and a != b:
                        diff += (h, a if h == order else _fields(a, b))
                flat += (o, tuple(diff))
        news.append(flat)
    return news, bad


def _fields(part, old) -> tuple:
    """(f, value, ...) for each field of a Guest's part that differs from `old` (the parent's part)."""
    out = []
    for f, (a, b) in enumerate(zip(part, old)):
        if a is not b and a != b:
            out += (f, a)
    return tuple(out)


def _patch(pfp, diff, order):
    """The fingerprint `diff` (from `_expand`) makes of the parent's `pfp`; unchanged parts are pfp's own."""
    # The common case: one field of one Guest's part (not the binding order, which is replaced whole
    # and can itself be a pair, with 2 slots in all).
    if len(diff) == 2 and diff[0] != order and len(diff[1]) == 2:
        g, (f, v) = diff
        p = pfp[g]
        return pfp[:g] + (p[:f] + (v,) + p[f + 1 :],) + pfp[g + 1 :]
    fp = list(pfp)
    for j in range(0, len(diff), 2):
        h, sub = diff[j], diff[j + 1]
        if h == order:
            fp[h] = sub
        else:
            part = list(fp[h])
            for k in range(0, len(sub), 2):
                part[sub[k]] = sub[k + 1]
            fp[h] = tuple(part)
    return tuple(fp)


# ---------------------------------------------------------------- the parent's side
class WorkerError(RuntimeError):
    """A worker failed (its traceback) or died: an internal error, never a verdict."""


class Workers:
    """N worker processes for the Cones of one search; `level` expands a Cone's frontier with them."""

    def __init__(self, cfg, cones, jobs: int):
        self.cfg, self.jobs = cfg, jobs
        self.index = {id(c): k for k, c in enumerate(cones)}
        self.specs = [(c.names, c.actions, c.sym, c.dom, c.secs, c.menu.compiled, c.menu.defer) for c in cones]
        self.procs, self.conns = [], []
        self._memory, self._memory_at = 0.0, -MEMORY_EVERY
        self._start()

    def _start(self) -> None:
        ctx = _context()
        # SIGINT is held back while a worker is forked: one that came before the worker ignores it would
        # end the worker with a traceback; held, it reaches this process once the workers are started.
        masked = None
        if hasattr(signal, "pthread_sigmask"):
            masked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            for _ in range(self.jobs):
                mine, theirs = ctx.Pipe()
                fork = ctx.get_start_method() == "fork"
                args = (theirs, mine if fork else None, self.cfg, self.specs)
                p = ctx.Process(target=_worker, args=args, daemon=True)
                p.start()
                theirs.close()
                self.procs.append(p)
                self.conns.append(mine)
        except BaseException:
            self.close()
            raise
        finally:
            if masked is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, masked)

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

    def cpu_seconds(self) -> list[float]:
        """Each worker's CPU time so far (user + system, /proc/PID/stat), for benchmarks/bfs_jobs_speed.py."""
        tick = os.sysconf("SC_CLK_TCK")
        out = []
        for p in self.procs:
            try:
                with open(f"/proc/{p.pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                out.append((int(fields[11]) + int(fields[12])) / tick)
            except (OSError, ValueError, IndexError):
                out.append(0.0)
        return out

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
        order = cone.cfg.guests
        try:
            for n in range(len(chunks)):
                while n not in done:
                    ready = wait([c for c in self.conns if busy[c]], timeout=CHECK_EVERY)
                    if not ready:
                        why = check()  # a time or memory limit, while a chunk is being expanded
                        if why:
                            return why
                    for conn in ready:
                        done[busy[conn].pop(0)] = self._recv(conn)
                        give(conn)
                news, bad = done.pop(n)
                start, part = chunks[n]
                for pos, flat in enumerate(news):
                    i = numbers[start + pos]
                    last = None  # the successor that answered the cone's last open invariant
                    for o, names in bad.get(pos, ()):
                        for name in names:
                            if name in cone.open:
                                cone.open.discard(name)
                                found(bfs.Found(name, cone.depth + 1, path_to(cone, i, o), 0.0))
                                if not cone.open:
                                    last = o
                    pfp = part[pos]
                    for j in range(0, len(flat), 2):
                        o, diff = flat[j], flat[j + 1]
                        if last is not None and o > last:
                            break  # as Cone.level: no successor after the one that answered the last invariant
                        if sym:
                            key, fp = diff
                        else:
                            key = fp = _patch(pfp, diff, order)
                        if key in seen:
                            continue
                        seen[key] = len(parent)
                        nxt.append((len(parent), fp))
                        parent.append(i)
                        moves.append(o)
                    if not cone.open:
                        cone.frontier = []
                        if any(busy.values()):  # chunks this cone no longer needs: new workers, not a wait
                            self.close()
                            self._start()
                        return ""
                    why = check()  # after each state merged, as with one process
                    if why:
                        return why
                if len(news) < len(part):  # a worker stops early only where every open invariant is broken
                    raise WorkerError("a worker of the search (--jobs) left states of its chunk unexpanded")
        except BaseException:
            self._drain_or_close(busy)
            raise
        cone.frontier = nxt
        cone.depth += 1
        cone.exhausted = not nxt
        return ""

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

