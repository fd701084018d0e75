"""`prove --engine auto`: BFS, and BMC with induction beside it, run side by side; the first answer wins.

Each engine runs in its own process (fork) and sends what it learns as it
learns it: a run that breaks an invariant (as its actions and values, the
same for both engines), how deep it has looked without one, a proof for
every depth (induction, or a BFS that saw every reachable state).  Per
invariant the first definitive answer is reported; once every invariant has
one, the others go on for a compare window (`window`: half the time that
took, 0.5 s to COMPARE seconds), and every claim made until it closes is
compared.  The search runs at a lower priority (NICE), so that on two
cores BMC and induction answer as soon as under `--engine bmc`.  Two claims
that cannot both be true (a run of k steps against "no run of up to k
steps", or against a proof for every depth) are an internal error (exit 4),
never a verdict.

A counterexample BMC found (a z3 model's values) goes back to BMC's
encoding (checker/bfs.py `witness`) and then through the same shrink,
decode, replay-check and write passes as any other.  When every first answer
that is a counterexample came from the search, their runs are written from
their concrete steps as the window opens (`_write_early`: as `--engine
bfs` writes them), and then checked on BMC's encoding within the window; a
disagreement is an internal error (exit 4).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from . import bfs, engine_stderr
from .bmc import Result, rule_names
from .induction import NoCheck

# Once every invariant has its first answer, the other engines go on for a compare window: a share of
# the time that took, at least COMPARE_FLOOR, at most COMPARE (or --compare).  Proportional, so that
# the default run (answers in ~4-5 s) stays within 10 s, and a long run still compares for COMPARE s.
COMPARE = 5.0
COMPARE_SHARE = 0.5
COMPARE_FLOOR = 0.5
NICE = 10  # how much lower the search's priority is than BMC's and induction's (os.nice)
DRAIN = 0.2  # seconds spent, at most, reading the claims already sent when the window closes


def window(settled: float, cap: float = COMPARE) -> float:
    """How long the other engines go on once every invariant is answered, `settled` s after the start."""
    return max(0.0, min(cap, max(COMPARE_FLOOR, COMPARE_SHARE * settled)))

# The parameters each action reads (checker/transition.py domain/perform), to send a BMC run as values.
PARAMS = {
    "dma": ("dma", "used", "addrs", "lens"),
    "bind": ("drv", "key", "irq", "dmas", "num"),
    "send": ("dma", "key"),
    "status": ("dev", "bit", "value"),
    "sysfs": ("dev", "value", "bit"),
    "output": (),
    "fill": ("key", "len"),
    "lstatus": ("dev",),
}


@dataclass
class Claim:
    """What one engine says of one invariant (the strongest it has said so far)."""

    engine: str
    violated_at: int | None = None  # the length of the run it found
    path: list | None = None
    holds_to: int = 0  # no run of up to this many steps breaks it
    every_depth: bool = False
    how: str = ""  # "induction" / "exhausted": what the every-depth proof rests on
    seconds: float = 0.0  # when it first said something definitive
    extra: dict = field(default_factory=dict)  # induction's vacuous/lemmas, BFS's states


def _lower_priority(step: int) -> None:
    """Let BMC and induction go first when the cores are short (this process and its workers inherit it)."""
    if step:
        try:
            os.nice(step)
        except OSError:
            pass  # a priority we may not lower to: the search runs at the one it has


def _send(conn, msg):
    try:
        conn.send(msg)
    except (BrokenPipeError, OSError):
        os._exit(0)  # the parent has gone


# ---------------------------------------------------------------- the engines' processes
OUT_OF_MEMORY, FAILED = 3, 4  # an engine process's exit status: out of memory (--max-memory), a bug


class EngineFailed(RuntimeError):
    """An engine's process ended by a bug: the run is an internal error, whatever the others said."""


def _guarded(engine, body):
    """Run an engine's process body; out of memory (--max-memory), one line and an end: no traceback.

    The parent reads the closed pipe as an engine that has finished; what it had not claimed stays open.
    """

    def child(*args, err=None):
        from . import engine_stderr
        from .pipeline import _end_with_parent, out_of_memory, say_out_of_memory

        engine_stderr.redirect(err)
        _end_with_parent()  # a parent killed (SIGKILL) cannot kill its engines: they end on their own
        try:
            body(*args)
        except Exception as exc:
            if out_of_memory(exc):
                say_out_of_memory(engine)
                os._exit(OUT_OF_MEMORY)
            if os.environ.get("LGCHECK_TRACEBACK"):
                raise
            # A bug: one line here, and the parent, seeing this status, ends the run as an internal error.
            print(f"lgcheck: {engine}: internal error ({type(exc).__name__}: {str(exc)[:200]!r})", file=sys.stderr)
            sys.stderr.flush()
            os._exit(FAILED)

    child.__name__ = body.__name__
    return child


def _ended_status(name, exitcode, err):
    """An ended engine's exit status, an abort for memory read as OUT_OF_MEMORY (with its one line).

    What else its process wrote below Python (checker/engine_stderr.py) is passed on.
    """
    from .pipeline import say_out_of_memory

    text = engine_stderr.read_back(err)
    if engine_stderr.aborted_for_memory(exitcode, text):
        say_out_of_memory(name)
        return OUT_OF_MEMORY
    engine_stderr.pass_on(name, text)
    return exitcode


def _bfs_child(cfg, limits, deadline, conn):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _lower_priority(limits.get("nice", NICE))
    names = rule_names(cfg)
    start = time.monotonic()

    def found(f):
        _send(conn, ("violated", "bfs", f.invariant, f.steps, f.path, time.monotonic() - start))

    def level(open_names, depth, seconds, states):
        _send(conn, ("depth", "bfs", depth, seconds, {"states": states}, open_names))

    out = bfs.search(
        cfg,
        names,
        limits.get("max_states"),
        limits.get("max_memory"),
        deadline,
        found,
        level,
        defer=bool(limits.get("defer")),
        jobs=int(limits.get("jobs", 1)),
    )
    info = {"states": out.states, "exhausted": out.exhausted, "stopped": out.stopped, "domains": out.domains}
    info["memory_mib"], info["per"], info["symmetry"] = out.memory_mib, out.per, out.symmetry
    info["depth"] = out.depth
    _send(conn, ("done", "bfs", out.depth, out.seconds, info))
    conn.close()


def _path(unrolling, model, steps):
    """A BMC model's run as (guest, action, params) steps, the form BFS finds them in."""
    from .decode import evaluator

    value = evaluator(model)
    out = []
    for info in unrolling.infos[:steps]:
        case = next(c for c in info.cases if value(c.guard) is True)
        p = {}
        for key in PARAMS[case.action]:
            var = info.params[key]
            p[key] = [value(x) for x in var] if isinstance(var, list) else value(var)
        out.append((case.guest, case.action, p))
    return out


def _bmc_child(cfg, deadline, conn):
    from . import pipeline

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    start = time.monotonic()
    sent = set()
    holder = {}

    def report(depth, seconds, results):
        for n, r in results.items():
            if r.status == "violated" and n not in sent and holder.get("unrolling") is not None:
                sent.add(n)
                path = _path(holder["unrolling"], r.model, r.steps)
                _send(conn, ("violated", "bmc", n, r.steps, path, r.seconds))
            if r.inductive and ("proof", n) not in sent:
                sent.add(("proof", n))
                # k and the cut are what its certificate must re-ask (checker/certificate.py): a
                # k-induction proof written as a 1-step query would not re-check.
                extra = {"vacuous": r.vacuous, "lemmas": list(r.lemmas), "k": r.k, "cut": r.cut}
                _send(conn, ("proved", "induction", n, time.monotonic() - start, extra))
        # How deep BMC has checked each invariant it has neither broken nor given up on.
        depths = {n: r.depth for n, r in results.items() if r.status == "holds" and not r.inductive}
        _send(conn, ("depths", "bmc", depth, seconds, depths))

    run = pipeline.Run(cfg, "", None)
    run.started = start
    run = pipeline.induct(run)
    # bmc.check hands its unrolling over only when it ends, but a counterexample's run must be sent as soon
    # as it is found (the parent may stop this process before BMC ends): take it where it is built.  (This
    # process is a fork of its own: the wrapper changes nothing outside it.)
    from . import bmc

    original = bmc._unroll

    def unroll(cfg_, progress, solver, st, unrolling, *rest):
        holder["unrolling"] = unrolling
        return original(cfg_, progress, solver, st, unrolling, *rest)

    bmc._unroll = unroll
    run.progress = report
    try:
        run = pipeline.solve(run)
    except NoCheck as e:
        _send(conn, ("error", "bmc", str(e)))
        conn.close()
        return
    report(max((r.depth for r in run.results.values()), default=0), time.monotonic() - start, run.results)
    for n, r in run.results.items():
        if r.status == "unknown":
            _send(conn, ("unknown", "bmc", n, r.reason))
    _send(conn, ("lemmas", "bmc", list(run.lemmas)))  # Houdini's kept lemmas (names): what certificates need
    _send(conn, ("done", "bmc", None, time.monotonic() - start, {}))
    conn.close()


# ---------------------------------------------------------------- the parent
class Portfolio:
    def __init__(self, cfg, names):
        self.cfg, self.names = cfg, names
        self.claims = {n: {} for n in names}  # invariant -> engine -> Claim
        self.first = {}  # invariant -> (engine, Claim) of the first definitive answer
        self.done = set()
        self.unknown = {}
        self.info = {}
        self.lemmas = []

    def claim(self, n, engine, now) -> Claim:
        c = self.claims[n].get(engine)
        if c is None:
            c = self.claims[n][engine] = Claim(engine, seconds=now)
        return c

    def take(self, msg, now):
        kind, engine = msg[0], msg[1]
        if kind == "violated":
            _, _, n, steps, path, _ = msg
            c = self.claim(n, engine, now)
            if c.violated_at is None:
                c.violated_at, c.path, c.seconds = steps, path, now
                self._settle(n, engine, c, now)
        elif kind == "proved":
            _, _, n, _, extra = msg
            c = self.claim(n, "induction", now)
            c.every_depth, c.how, c.extra, c.seconds = True, "induction", extra, now
            self._settle(n, "induction", c, now)
        elif kind == "depth":
            _, _, depth, _, extra, which = msg
            for n in which:
                c = self.claim(n, engine, now)
                if c.violated_at is None:
                    c.holds_to = max(c.holds_to, depth)
                    c.extra.update(extra)
                    if depth >= self.cfg.depth:
                        self._settle(n, engine, c, now)
        elif kind == "depths":
            for n, depth in msg[4].items():
                c = self.claim(n, engine, now)
                if c.violated_at is None:
                    c.holds_to = max(c.holds_to, depth)
                    if depth >= self.cfg.depth:
                        self._settle(n, engine, c, now)
        elif kind == "lemmas":
            self.lemmas = msg[2]
        elif kind == "error":
            raise NoCheck(msg[2])
        elif kind == "unknown":
            self.unknown.setdefault(msg[2], msg[3])
        elif kind == "done":
            _, _, depth, _, extra = msg
            self.done.add(engine)
            self.info[engine] = extra
            for n, (states, _, exhausted) in extra.get("per", {}).items() if engine == "bfs" else ():
                c = self.claim(n, "bfs", now)
                c.extra["states"] = states
                if exhausted and c.violated_at is None:
                    c.every_depth, c.how, c.seconds = True, "exhausted", now
                    self._settle(n, "bfs", c, now)

    def _settle(self, n, engine, c, now):
        if n not in self.first:
            c.seconds = now  # when this answer became definitive
            self.first[n] = (engine, c)

    def settled(self) -> bool:
        return all(n in self.first or n in self.unknown for n in self.names)

    def conflict(self, n) -> str:
        """Why two engines' claims on invariant n cannot both be true ("" when they agree)."""
        cs = list(self.claims[n].values())
        for a in cs:
            if a.violated_at is None:
                continue
            for b in cs:
                if b is a:
                    continue
                if b.every_depth:
                    return (
                        f"{a.engine} found a run of {a.violated_at} steps that breaks {n}, "
                        f"but {b.engine} proved it for every depth ({b.how})"
                    )
                if b.violated_at is None and b.holds_to >= a.violated_at:
                    return (
                        f"{a.engine} found a run of {a.violated_at} steps that breaks {n}, but {b.engine} "
                        f"found no run of up to {b.holds_to} steps that does"
                    )
                if b.violated_at is not None and b.violated_at > a.violated_at:
                    return (
                        f"{a.engine} found a run of {a.violated_at} steps that breaks {n}, but the shortest "
                        f"{b.engine} found has {b.violated_at}"
                    )
        return ""


def compete(run):
    """The pass of `--engine auto`: results with the first definitive answer per invariant, or conflicts."""
    cfg = run.cfg
    names = rule_names(cfg)
    start = run.started
    deadline = None if cfg.timeout is None else start + cfg.timeout
    cap = run.limits.get("compare")
    cap = COMPARE if cap is None else cap
    ctx = multiprocessing.get_context("fork")
    pipes, procs = {}, []
    engines = [("bmc", _guarded("bmc", _bmc_child), (cfg, deadline))]
    if bfs.unsuited(cfg, names) is None:
        engines.insert(0, ("bfs", _guarded("bfs", _bfs_child), (cfg, run.limits, deadline)))
    errs = {}  # engine -> its process's descriptor 2 (checker/engine_stderr.py), read once it has ended
    statuses = {}  # engine -> its exit status, once ended (an abort for memory read as OUT_OF_MEMORY)
    for name, target, args in engines:
        parent, child = ctx.Pipe(duplex=False)
        errs[name] = engine_stderr.capture()
        # not a daemon: BMC starts induction beside it
        p = ctx.Process(target=target, args=(*args, child), kwargs={"err": errs[name]})
        p.start()
        child.close()
        pipes[parent] = name
        procs.append(p)
    pf = Portfolio(cfg, names)
    settled_at = None
    early = None  # (invariants, unrolling, models, error): their witness, made during the compare window
    heard = set()  # the engines that have said something: the window waits (up to the cap) for each one
    process = {name: p for (name, _, _), p in zip(engines, procs)}
    failing = []  # an engine whose process failed: the run is an internal error, the others need not go on

    def take(conn) -> None:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            name = pipes.pop(conn)  # that engine has finished (or died: it proves nothing)
            p = process[name]
            p.join(DRAIN)
            if p.exitcode is not None:
                statuses[name] = _ended_status(name, p.exitcode, errs.pop(name))
            if statuses.get(name) not in (0, OUT_OF_MEMORY, None):
                failing.append(name)
            return
        heard.add(pipes[conn])
        pf.take(msg, time.monotonic() - start)
        if run.progress is not None and msg[0] in ("depth", "depths"):
            run.progress(msg[2], time.monotonic() - start, _results(pf, names, provisional=True))

    try:
        while pipes and not failing:
            now = time.monotonic()
            if settled_at is None and pf.settled():
                settled_at = now
                planned = window(now - start, cap)
                # The counterexamples' runs go back to BMC's encoding now, while the other engines go on:
                # the first answers are fixed, and the parent would otherwise only wait out the window.
                firsts = sorted(n for n, (_, c) in pf.first.items() if c.violated_at is not None)
                if firsts and planned > 0 and all(pf.first[n][0] == "bfs" for n in firsts):
                    early = _write_early(run, pf, names, firsts)
                elif firsts and planned > 0:
                    early = (firsts, *_witness(cfg, pf, firsts))
            limit = deadline
            if settled_at is not None:
                # An engine still silent (starting, or still encoding its first step) has claimed nothing to
                # compare yet: the window then lasts up to the cap, so a first answer that came very early
                # is still compared with each engine's first claims.
                silent = set(pipes.values()) - heard
                end = settled_at + (cap if silent else planned)
                limit = end if limit is None else min(limit, end)
            if limit is not None and now >= limit:
                # The claims already sent are compared too (a bounded read: an engine may still be sending).
                drain = time.monotonic() + DRAIN
                ready = wait(list(pipes), timeout=0)
                while ready and time.monotonic() < drain:
                    for conn in ready:
                        take(conn)
                    ready = wait(list(pipes), timeout=0) if pipes else []
                break
            for conn in wait(list(pipes), timeout=None if limit is None else max(0.0, limit - now)):
                take(conn)
    except KeyboardInterrupt:
        run.interrupted = True
    finally:
        if settled_at is not None:
            run.compare = time.monotonic() - settled_at  # how long the engines went on to be compared
        ended = {}  # engine -> its exit status, for those that ended by themselves (not killed here)
        for (name, _, _), p in zip(engines, procs):
            if p.is_alive():
                p.kill()
                p.join()
                if name in errs:
                    _ended_status(name, None, errs.pop(name))  # (killed here: what it wrote is passed on)
            else:
                p.join()
                if name in errs:
                    statuses[name] = _ended_status(name, p.exitcode, errs.pop(name))
                ended[name] = statuses[name]
    failed = sorted(n for n, code in ended.items() if code not in (0, OUT_OF_MEMORY))
    if failed and not run.interrupted:
        # A dead engine proves nothing, and the others' answers were never compared with what it would
        # have said: an internal error (exit 4), as under --engine bmc, never the others' verdicts.
        raise EngineFailed(f"the {' and '.join(failed)} engine's process failed (status {ended[failed[0]]})")
    run.portfolio = pf
    run.lemmas = pf.lemmas
    run.results = _results(pf, names)
    if run.interrupted:
        for r in run.results.values():
            if r.status == "unknown" or (r.status == "holds" and not r.inductive):
                r.status, r.reason = "unknown", "interrupted (Ctrl-C)"
    elif any(code == OUT_OF_MEMORY for code in ended.values()) and any(
        r.status == "unknown" for r in run.results.values()
    ):
        # What an engine left open when it ran out of memory: --max-memory's answer, as under --engine bmc.
        raise MemoryError("an engine ran out of memory")
    for r in run.results.values():
        if r.status == "unknown":
            r.seconds = time.monotonic() - start  # when the engines were stopped with it open
    bfs_info = pf.info.get("bfs") or {}
    if bfs_info:
        run.outcome = bfs.Outcome(
            depth=bfs_info["depth"],
            states=bfs_info["states"],
            exhausted=bfs_info["exhausted"],
            stopped=bfs_info["stopped"],
            domains=bfs_info["domains"],
            memory_mib=bfs_info["memory_mib"],
            symmetry=bfs_info["symmetry"],
        )
    violated = sorted(n for n, r in run.results.items() if r.status == "violated" and not r.conflict)
    for n, r in run.results.items():
        if r.conflict:  # the engines disagree about a run written early: the message names its files
            r.conflict += _written(run, n)
    if violated and early is not None and early[1] is None:
        # The search's runs, written during the window and checked there on BMC's encoding (`_write_early`).
        for n in violated if early[3] else ():
            if n in early[0]:
                run.results[n].conflict = early[3] + _written(run, n)
        # An invariant unknown when the window opened and broken within it: written below, as without a window.
        violated, early = [n for n in violated if n not in early[0]], None
    if violated and all(pf.first[n][0] == "bfs" for n in violated):
        run.paths.update(_paths(run, pf, violated))  # written, then checked (pipeline.crosscheck)
        return run
    if violated:
        if early is None or early[0] != violated:
            early = (violated, *_witness(cfg, pf, violated))
        _, unrolling, models, error = early
        if error:
            for n in violated:
                run.results[n].conflict = error
            return run
        run.unrolling = unrolling
        for n, (model, lit) in models.items():
            run.results[n].model, run.results[n].literal = model, lit
    return run


def _written(run, name) -> str:
    cx = run.counterexamples.get(name)
    return f" (its files were written before this check: {cx.lgt}, {cx.itf})" if cx is not None and cx.lgt else ""


def _write_early(run, pf: Portfolio, names, firsts: list):
    """The search's runs written (checker/pipeline.py decode, replay_check, write_files) as the window opens.

    Every invariant has its first answer, and those are fixed: the parent,
    which would otherwise only wait out the window, writes them from their
    concrete steps and then checks them on BMC's encoding (`_witness`), the
    check `--engine bfs` makes once its files are written.  Returns
    (invariants, None, {}, why BMC's encoding disagrees or "").
    """
    from . import pipeline

    run.results = _results(pf, names, provisional=True)
    run.paths = _paths(run, pf, firsts)
    for step in (pipeline.decode, pipeline.replay_check, pipeline.write_files):
        step(run)
    run.checked.update(firsts)
    _, _, error = _witness(run.cfg, pf, firsts, run.paths)  # the runs written, not the search's raw ones
    return firsts, None, {}, error


def _paths(run, pf: Portfolio, names) -> dict:
    """The search's runs to write: with --defer-writes, each write its smallest value (bfs.smallest_writes)."""
    defer = bool(run.limits.get("defer"))
    return {n: bfs.smallest_writes(run.cfg, pf.first[n][1].path, n) if defer else pf.first[n][1].path for n in names}


def _witness(cfg, pf: Portfolio, violated: list, paths=None):
    """The first answers' runs on BMC's encoding (bfs.witness): (unrolling, models, "") or (None, {}, why not).

    `paths`: the runs to check instead of the search's own (the ones written: with --defer-writes,
    each deferred write given its smallest value, bfs.smallest_writes).
    """
    found = {}
    for n in violated:
        c = pf.first[n][1]
        found[n] = bfs.Found(n, c.violated_at, c.path if paths is None else paths[n], c.seconds)
    try:
        unrolling, models = bfs.witness(cfg, found)
    except bfs.NotInEncoding as e:
        return None, {}, str(e)
    return unrolling, models, ""


def _results(pf: Portfolio, names, provisional=False) -> dict:
    out = {}
    for n in names:
        r = Result(n)
        first = pf.first.get(n)
        if first is not None:
            engine, c = first
            r.engine, r.seconds = engine, c.seconds
            if c.violated_at is not None:
                r.status, r.depth, r.steps = "violated", c.violated_at, c.violated_at
            elif c.every_depth:
                r.inductive, r.depth = True, pf.cfg.depth
                if c.how == "induction":
                    r.vacuous, r.lemmas = c.extra.get("vacuous", ""), c.extra.get("lemmas", [])
                    r.k, r.cut = c.extra.get("k", 1), c.extra.get("cut", "")
            else:
                r.depth = c.holds_to
        else:
            r.depth = max((c.holds_to for c in pf.claims[n].values()), default=0)
            if not provisional:
                r.status = "unknown"
                r.reason = pf.unknown.get(n, "no engine settled it in time")
        bfs_claim = pf.claims[n].get("bfs")
        if bfs_claim is not None:
            r.states = bfs_claim.extra.get("states")
        if not provisional:
            r.conflict = pf.conflict(n)
        out[n] = r
    return out


def certify_induction(run):
    """Certificates (checker/certificate.py) for the invariants induction proved, whichever engine was first.

    Under auto an exhausted search writes no certificate of its own (`--engine bfs` does: bfs_certificate.py).
    """
    from .certificate import write_certificates

    if run.interrupted or getattr(run, "portfolio", None) is None:
        return run
    proved = [
        n
        for n, r in run.results.items()
        if r.status == "holds"
        and r.inductive
        and "induction" in run.portfolio.claims[n]
        and run.portfolio.claims[n]["induction"].every_depth
        and run.portfolio.claims[n]["induction"].extra.get("vacuous") != "empty"  # nothing to certify
    ]
    claims = {n: run.portfolio.claims[n]["induction"].extra for n in proved}
    ks = {n: claims[n].get("k", 1) for n in proved}
    cuts = {n for n in proved if claims[n].get("cut")}
    run.certificates = write_certificates(
        run.cfg, proved, run.lemmas, os.path.join(run.out_dir, "certificates"), ks=ks, cuts=cuts
    )
    return run
