"""Outcome coverage: the shortest run in which each outcome of the model happens, asked by BMC.

A "holds" is only as good as the runs behind it: an invariant about what
the Host's copies write holds trivially in a model where no copy ever
happens.  An outcome is an effect kind of spec/ (spec/effects.py: bind,
deliver, fill, ...; a kill per reason), and it happens at step k when some
case of the step is chosen and that case's effect of the kind fires
(`outcomes`).  `measure` unrolls the model as bmc.py does, in a solver of its
own, and at each depth asks whether any outcome not seen yet can happen
there (one query, the Or of their literals); a model says which did, and the
rest are asked again; unsat: none of them happens at this depth.  It runs
after the verdicts and reads nothing of them: it cannot change one.

`DEPENDS` is what each invariant judges: an invariant that holds while one
of its outcomes never happened is reported with a warning (`unexercised`).
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass, field

import z3

from ..spec.effects import outcome_name
from ..spec.ops import SYM_WIDTH
from ..spec.ops import Symbolic as ops
from .bmc import rule_names, status_free
from .config import Config
from .symstate import SymState
from .transition import STATUS_ACTIONS, encode_step

# The outcomes each invariant's monitor judges (spec/monitors.py): what it checks of a write, a bind or
# a status change is only exercised in runs where one happens.  write-to-used-buffer and buffer-overflow
# judge the Host's copies (deliver) and the Launcher's (fill) apart: either alone leaves the other unasked.
DEPENDS = {
    "key-collision": ("bind",),
    "key-outside-device": ("bind",),
    "write-to-used-buffer": ("deliver", "fill"),
    "buffer-overflow": ("deliver", "fill"),
    "data-corrupted": ("deliver",),
    "status-cleared": ("status",),
    "status-forbidden-bit": ("status",),
}


@dataclass
class Coverage:
    depth: int  # the depth asked (--depth)
    scope: str = "all"  # "all" outcomes (--coverage), or those the holding invariants judge ("judged": the default)
    looked: int = 0  # the depths asked: `depth`, fewer when every outcome was found or it `stopped`
    first: dict = field(default_factory=dict)  # outcome -> the shortest run's steps, None: none within `looked`
    stopped: str = ""  # why it stopped before `depth` with outcomes still open ("" when it did not)
    seconds: float = 0.0

    def words(self, outcome: str) -> str:
        """How the report says one outcome's coverage."""
        k = self.first.get(outcome)
        if k is not None:
            return f"{k} step{'s' if k != 1 else ''}"
        if not self.stopped:
            return f"never within {self.depth} steps"
        return f"unknown: none within {self.looked} steps, then {self.stopped}"


def outcomes(info) -> dict:
    """{outcome: the term "it happens at this step"} over a step's cases (checker/transition.py StepInfo)."""
    terms: dict = {}
    for case in info.cases:
        for e in case.effects:
            if e.when is False:
                continue
            terms.setdefault(outcome_name(e), []).append(ops.And(case.guard, e.when))
    return {n: ops.Or(*ts) for n, ts in sorted(terms.items())}


def measure(cfg: Config, deadline: float, judged=None) -> Coverage:
    """The shortest depth of each outcome the model has, up to cfg.depth (or the deadline: `stopped`).

    `judged` (invariant names): only the outcomes those invariants judge (DEPENDS), the default pass's
    question.  What the concrete walk (`concrete_first`) meets needs no solver; z3 is asked the rest.
    """
    from .pipeline import out_of_memory

    start = time.monotonic()
    SYM_WIDTH[0] = cfg.width
    names = rule_names(cfg)
    # The step BMC encodes for these invariants (without status writes when no status invariant is asked).
    only = status_free(cfg, names)
    cov = Coverage(cfg.depth, scope="all" if judged is None else "judged")
    # What the invariants asked judge is listed even when no step of the encoding has it (one Guest has no
    # peer to deliver to): no run has it then, which is what the warnings are for.
    cov.first = {o: None for n in (names if judged is None else judged) for o in DEPENDS.get(n, ())}
    # The walk first: it has most outcomes in milliseconds.  --coverage gives it at most WALK_SECONDS (past
    # the first levels its states grow faster than z3's unrolling: 24 s to walk 4 levels of a 1-slot model
    # that z3 asks to 5 in 7 s), then asks z3 what is left; the default (`judged`) asks no solver: what the
    # walk did not meet is reported for the levels it saw whole.
    walk_end = deadline if judged is not None else min(deadline, start + WALK_SECONDS)
    try:
        # (A status write is an outcome only where BMC's step has one: status_free left the actions out.)
        known, whole, exhausted = concrete_first(cfg, walk_end, None if judged is None else set(cov.first), only)
    except KeyboardInterrupt:
        known, whole, exhausted, cov.stopped = {}, 0, False, "Ctrl-C"
    if judged is not None:
        cov.first.update((o, k) for o, k in known.items() if o in cov.first)
        met = all(v is not None for v in cov.first.values())
        if met:
            cov.looked = max(cov.first.values(), default=0)  # (no more was asked)
        else:
            cov.looked = cfg.depth if exhausted else min(whole, cfg.depth)
        if not met and cov.looked < cfg.depth and not cov.stopped:
            cov.stopped = "the walk's limit" if cfg.guest_mode == "conforming" else "no walk (--guests any)"
        cov.seconds = time.monotonic() - start
        return cov
    solver = z3.SolverFor("QF_BV")
    st = SymState(cfg)
    try:
        for k in range(cfg.depth if not cov.stopped else 0):
            if time.monotonic() >= deadline:
                cov.stopped = "the time limit"
                break
            constraints: list = []
            st = st.copy()
            info = encode_step(cfg, st, k, constraints, only)
            st.snapshot(k + 1, constraints)
            solver.add(*constraints)
            terms = outcomes(info)
            if judged is not None:
                terms = {n: t for n, t in terms.items() if n in cov.first}
            for n in terms:
                cov.first.setdefault(n, None)
                if cov.first[n] is None and n in known:
                    cov.first[n] = known[n]  # exact: the walk's levels before it were whole
            if not _ask(solver, k, {n: t for n, t in terms.items() if cov.first[n] is None}, cov, deadline):
                break
            cov.looked = k + 1
            if k and all(v is not None for v in cov.first.values()):
                break
    except KeyboardInterrupt:
        cov.stopped = "Ctrl-C"
    except ctypes.ArgumentError as exc:
        if "KeyboardInterrupt" not in str(exc):  # a Ctrl-C while ctypes converted a z3 call's argument
            raise
        cov.stopped = "Ctrl-C"
    except Exception as exc:
        if not out_of_memory(exc):
            raise
        cov.stopped = "out of memory"
    cov.seconds = time.monotonic() - start
    return cov


WALK_STATES = 20_000  # states the concrete walk keeps before it leaves the deeper levels to z3
WALK_SECONDS = 2.0  # --coverage's walk at most, before z3 is asked


def concrete_first(cfg: Config, deadline: float, wanted=None, only=None) -> tuple[dict, int, bool]:
    """({outcome: the shortest run's steps}, the levels walked whole, every reachable state seen) of a walk.

    The outcomes are those a breadth-first walk of the concrete model meets.

    Its steps are the explicit-state search's (checker/bfs.py successors: the rules replay runs, over the
    values BMC's `domain` admits), so a run it finds is a run of the model BMC encodes; and as every level
    before is expanded whole, the first level at which an outcome happens is its shortest run.  It stops at
    a level it could not keep whole (WALK_STATES), at the deadline, or once every `wanted` outcome is met.
    Conforming Guests only (an arbitrary Guest's values have no small domain): ({}, 0, False) otherwise.
    """
    from . import bfs

    if cfg.guest_mode != "conforming":
        return {}, 0, False
    dom = bfs.domains(cfg)
    secs = bfs._sections(cfg, dom)
    menu = bfs.Menu(cfg, dom, secs, defer=True)  # a descriptor write is one state, its values decided when read
    actions = bfs.enabled_actions(cfg)
    # A status write changes nothing but a status, which no other rule reads (bmc.status_free): a run needs
    # one only for the status outcome itself.  So status writes are tried from each state for what they
    # fire, until a status outcome is met, and the states they make are not kept (they were 9 in 10 of the
    # walk's states, and trying every status value from every state was most of its time).
    asked = only is None and (wanted is None or "status" in wanted)
    writes = [a for a in actions if a in STATUS_ACTIONS and asked]
    actions = [a for a in actions if a not in STATUS_ACTIONS]
    init = bfs.SearchState(cfg)
    seen = {bfs.fingerprint(init, False)}
    frontier, first = [init], {}
    for k in range(cfg.depth):
        fired, nxt, whole = set(), [], True
        for st in frontier:
            if time.monotonic() >= deadline or (wanted is not None and wanted <= fired | first.keys()):
                whole = False  # (met: what this level fired is exact, as the levels before were whole)
                break
            if writes and "status" not in fired:
                for _ in bfs.successors(cfg, dom, secs, st, writes, menu, fired):
                    pass
            for _, new, _, _ in bfs.successors(cfg, dom, secs, st, actions, menu, fired):
                fp = bfs.fingerprint(new, False)
                if fp in seen:
                    continue
                if len(seen) >= WALK_STATES:
                    whole = False
                    continue
                seen.add(fp)
                nxt.append(new)
        for o in fired:
            first.setdefault(o, k + 1)  # exact even for a level cut short: the levels before were whole
        if not whole:
            return first, k, False
        if not nxt:
            return first, k + 1, True  # no new state: every reachable one was seen
        frontier = nxt
    return first, cfg.depth, False


def _ask(solver, k, terms: dict, cov: Coverage, deadline: float) -> bool:
    """Mark the outcomes among `terms` that can happen at step k; False when the solver stopped first."""
    lits = {}
    for n, t in terms.items():
        lit = z3.Bool(f"covers:{n}@{k}")
        solver.add(lit == t)
        lits[n] = lit
    while lits:
        left = deadline - time.monotonic()
        if left <= 0:
            cov.stopped = "the time limit"
            return False
        solver.set("timeout", max(1, int(left * 1000)))
        query = z3.Bool(f"covers-any:{len(lits)}@{k}")
        solver.add(query == z3.Or(*lits.values()))
        answer = solver.check(query)
        if answer == z3.unsat:
            for lit in lits.values():
                solver.add(z3.Not(lit))  # true of every run: it helps the deeper queries
            return True
        if answer == z3.unknown:
            why = solver.reason_unknown()
            if why in ("interrupted from keyboard", "canceled"):
                raise KeyboardInterrupt
            cov.stopped = "the time limit" if time.monotonic() >= deadline or why == "timeout" else f"z3: {why}"
            return False
        model = solver.model()
        for n in [n for n, lit in lits.items() if z3.is_true(model.eval(lit, model_completion=True))]:
            cov.first[n] = k + 1
            del lits[n]
    return True


def unexercised(cov: Coverage, invariant: str) -> list[str]:
    """The outcomes `invariant` judges that no run coverage asked about has."""
    return [o for o in DEPENDS.get(invariant, ()) if cov.first.get(o, 0) is None]


def warnings(cov: Coverage, results: dict) -> list[tuple[str, str]]:
    """(invariant, the warning) for each invariant that holds and each outcome it judges that never happened."""
    if not cov.looked:
        return []  # nothing was seen whole: no claim either way
    where = f"within {cov.depth} steps" if not cov.stopped else f"within the {cov.looked} steps coverage asked"
    return [
        (n, f"{n} holds, but no {o} happens in any run {where}: what it judges of a {o} is never exercised")
        for n, r in results.items()
        if r.status == "holds"
        for o in unexercised(cov, n)
    ]


JUDGED_SECONDS = 2.0  # the default pass's walk at most (it meets every judged outcome in 0.1 s where they happen)


def measured(run):
    """The pass (checker/pipeline.py): run.coverage, within its seconds and --timeout's time left.

    limits["coverage"]: ("all", SECONDS) for --coverage; ("judged", SECONDS) for the default, which asks
    only about the outcomes the invariants that hold judge, and only of the concrete walk.
    """
    scope, seconds = run.limits["coverage"]
    if run.interrupted:
        return run
    judged = None
    if scope == "judged":
        judged = [n for n, r in run.results.items() if r.status == "holds"]
        if not any(DEPENDS.get(n) for n in judged):
            return run  # nothing holds that judges an outcome: nothing to ask
    deadline = time.monotonic() + seconds
    if run.cfg.timeout is not None:
        deadline = min(deadline, run.started + run.cfg.timeout)
    run.coverage = measure(run.cfg, deadline, judged)
    return run
