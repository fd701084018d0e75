"""Bounded model checking, depth by depth, so the first counterexample is a shortest one.

One incremental `SolverFor("QF_BV")` holds the unrolled transition relation;
each step's state is snapshotted into fresh variables (the formula grows
linearly with depth).  At depth k, each open invariant is asked with one
assumption literal "some check of it fails at step k": sat is a
counterexample of length k, unsat proves it for every run of k steps (and is
then asserted, which helps later depths), unknown (a timeout) stops that
invariant as `unknown`, never `holds`.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass, field
from typing import Callable

import z3

from ..spec.ops import SYM_WIDTH
from ..spec.registry import INVARIANTS
from . import bmc_solver, por
from .config import Config
from .induction import NoCheck, cut_applies
from .symstate import SymState
from .transition import ACTIONS, STATUS_ACTIONS, StepInfo, encode_step


@dataclass
class Result:
    invariant: str
    status: str = "holds"  # holds | violated | unknown
    depth: int = 0  # the bound proved, or the counterexample's length
    seconds: float = 0.0
    model: object = None
    steps: int = 0
    reason: str = ""
    inductive: bool = False  # proved for every depth, not only up to the bound
    vacuous: str = ""  # "rules" / "environment" / "empty": no step from any state can fail it (induction.Verdict)
    lemmas: list = field(default_factory=list)  # the lemmas the inductive proof needed
    conflict: str = ""  # two engines disagreed: an internal error, never a verdict
    cost: float = 0.0  # seconds its last BMC query took (the cheapest are asked first)
    literal: object = None  # the assumption that makes the solver's model a counterexample
    engine: str = "bmc"  # which engine gave this answer (bmc, bfs; checker/portfolio.py compares them)
    states: int | None = None  # bfs: the states explored
    k: int = 1  # the k of its k-induction proof (1: plain induction)
    cut: str = ""  # the proof asked the copy lemma's hypothesis for this invariant (checker/copy_lemma.py)


@dataclass
class Unrolling:
    """What decoding needs: the initial state, each step's info and post-state."""

    cfg: Config
    initial: SymState
    infos: list[StepInfo] = field(default_factory=list)
    solver: object = None
    states: list[SymState] = field(default_factory=list)


def rule_names(cfg: Config) -> list[str]:
    names = []
    for inv in cfg.invariants:
        names.extend(INVARIANTS.get(inv, (inv,)))
    return list(dict.fromkeys(names))


def check(cfg: Config, progress: Callable[[int, float, dict], None] | None = None, proved=(), start=None, poll=None):
    """Run BMC for the invariants not in `proved`; return ({rule name: Result}, Unrolling).

    Invariants in `proved` (by induction) hold at every depth.  `poll()`,
    called between depths, may return more such verdicts ({name: Verdict}, an
    induction running beside BMC).  A proved invariant is still asked at the
    depths BMC goes on to for the others (in the same query, at no extra
    call), so the two engines cross-check: a BMC counterexample to an
    invariant induction proved is a conflict, reported as an internal error.
    """
    SYM_WIDTH[0] = cfg.width
    start = time.monotonic() if start is None else start
    deadline = None if cfg.timeout is None else start + cfg.timeout
    solver = bmc_solver.make(cfg.bmc_solver)
    st = SymState(cfg)
    # Shrinking and decoding ask z3 (with --bmc-solver bitwuzla, the z3 shadow that holds the same formulas).
    unrolling = Unrolling(cfg, st.copy(), solver=getattr(solver, "shadow", solver))
    names = rule_names(cfg)
    results = {n: Result(n) for n in names}
    for n in proved:
        results[n].depth, results[n].inductive = cfg.depth, True
    asked = list(names)

    def take_proofs():
        for n, v in (poll() if poll is not None else {}).items():
            r = results.get(n)
            if r is None or not v.proved:
                continue
            r.inductive, r.vacuous, r.lemmas, r.k = True, v.vacuous, v.lemmas, getattr(v, "k", 1)
            r.cut = getattr(v, "cut", "")
            if r.status == "violated":
                r.conflict = (
                    f"induction proved {n} for every depth, but BMC found a run of {r.steps} steps that breaks it"
                )
            else:
                r.seconds = time.monotonic() - start

    try:
        try:
            refresh = take_proofs if poll is not None else None
            _unroll(cfg, progress, solver, st, unrolling, names, results, asked, take_proofs, refresh, start, deadline)
        except ctypes.ArgumentError as e:
            # A KeyboardInterrupt raised while ctypes converted an argument of a z3 call comes wrapped.
            if "KeyboardInterrupt" not in str(e):
                raise
            raise KeyboardInterrupt from None
    except KeyboardInterrupt:
        raise Interrupted(results, unrolling) from None
    take_proofs()
    for r in results.values():
        if r.inductive and r.status == "holds":
            r.depth = cfg.depth
    return results, unrolling


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during BMC, with what was found so far (the unrolling decodes the counterexamples found)."""

    def __init__(self, results, unrolling):
        super().__init__()
        self.results, self.unrolling = results, unrolling


def status_free(cfg: Config, names) -> set | None:
    """The (guest, action) cases to encode when no status invariant is asked: all but the status writes.

    No rule of the Host or the Launcher, no domain but a status write's own,
    and no monitor but the status ones reads a device's status, and a status
    write changes nothing else (checker/bfs.py `cones` makes the same cut):
    removing the status writes from a run keeps every other step's effect
    and check, so the shortest run that breaks any other invariant has none,
    and BMC need not encode them (a third of a step's cases with sysfs on).
    None: a status invariant is asked, encode every case.
    """
    if any(n in INVARIANTS["status"] for n in names):
        return None
    return {(g, a) for g in range(cfg.guests) for a in ACTIONS if a not in STATUS_ACTIONS}


def _unroll(cfg, progress, solver, st, unrolling, names, results, asked, take_proofs, refresh, start, deadline):
    only = status_free(cfg, names)
    # LGCHECK_POR=1 (off by default): adjacent prefix steps that commute are taken in one order
    # (checker/por.py: shortest runs are kept; measured slower on the 9-step ring run, docs/engines.md).
    reduction = por.reduction(cfg, only) if por.enabled() and cfg.depth > 2 else None
    for k in range(cfg.depth):
        take_proofs()
        if all(results[n].inductive for n in asked):
            break
        constraints: list = []
        st = st.copy()
        info = encode_step(cfg, st, k, constraints, only)
        if k == 0:
            missing = [n for n in names if n not in info.filed]
            if missing:
                raise NoCheck(f"no check of the model speaks of {', '.join(missing)}")
        st.snapshot(k + 1, constraints)
        if reduction is not None and k >= 2:
            # Steps k-2 and k-1 are now both in the prefix of the runs asked from here on (never the last step).
            constraints += reduction.pair(unrolling.infos[k - 2], unrolling.infos[k - 1])
        solver.add(*constraints)
        unrolling.infos.append(info)
        unrolling.states.append(st)
        _ask(solver, info, k, asked, results, start, deadline, refresh, cfg)
        for name in asked:
            if not results[name].inductive:
                results[name].seconds = time.monotonic() - start
        if progress is not None:
            progress(k + 1, time.monotonic() - start, results)
        if not asked:
            break


def _ask(solver, info, k, open_names, results, start, deadline, refresh=None, cfg=None):
    """Settle step k for every open invariant.

    Without an induction beside, one call asks whether any open invariant can
    fail at step k; only when one can does the model say which, and the rest
    are asked again.  With one (`refresh` takes its proofs), the invariants
    are asked one by one, cheapest first (by the last depth's time), taking
    induction's proofs between calls: an invariant proved meanwhile is no
    longer asked for a counterexample, so a hard proved invariant does not
    hold up the search for the others.  (Interrupting a QF_BV call by a
    timeout and asking again makes z3's incremental SAT core give up, so
    calls are never cut short on purpose.)
    """
    lits = {}
    for name in list(open_names):
        viol = info.violation((name,))
        if viol is False:
            results[name].depth = k + 1
            continue
        if cfg is not None and cut_applies(cfg, info, name, deadline) and _cut_holds(solver, info, k, name, deadline):
            # The copy lemma holds and no delivery at step k breaks its hypothesis: nor its check, whose
            # bytes the solver is then never given.
            results[name].depth = k + 1
            if not results[name].inductive:
                results[name].seconds = time.monotonic() - start
            continue
        lit = z3.Bool(f"violates:{name}@{k}")
        solver.add(lit == viol)
        lits[name] = lit
    one_by_one = refresh is not None
    while lits:
        if one_by_one:
            refresh()
        if all(results[n].inductive for n in lits):
            # Only cross-checks are left at this depth: they ride along with open invariants'
            # queries, never cost a query of their own.
            for name in lits:
                open_names.remove(name)
            return
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                _give_up(lits, open_names, results, "time limit reached", time.monotonic() - start)
                return
            solver.set("timeout", max(1, int(left * 1000)))
        if one_by_one:
            for n in [n for n in lits if results[n].inductive]:
                open_names.remove(n)
                del lits[n]
            name = min(lits, key=lambda n: results[n].cost)
            asked = {name: lits[name]}
            query = lits[name]
        else:
            asked = dict(lits)
            query = z3.Bool(f"violates-any:{len(lits)}@{k}")
            alts = list(lits.values())
            # z3 prints a one-argument Or as (or x), which bitwuzla refuses (--bmc-solver bitwuzla)
            solver.add(query == (z3.Or(*alts) if len(alts) > 1 else alts[0]))
        t = time.monotonic()
        answer = solver.check(query)
        now = time.monotonic() - start
        for name in asked:
            results[name].cost = time.monotonic() - t
        if answer == z3.unsat:
            for name, lit in asked.items():
                results[name].depth = k + 1
                if not results[name].inductive:
                    results[name].seconds = now
                solver.add(z3.Not(lit))
                del lits[name]
            continue
        if answer == z3.unknown:
            if solver.reason_unknown() in ("interrupted from keyboard", "canceled"):
                raise KeyboardInterrupt  # z3 took the Ctrl-C itself (its own SIGINT handler during a check)
            if "memory" in solver.reason_unknown():
                # z3 gave up at its budget (--max-memory), e.g. "(sat.giveup out of memory)": the same limit
                # as a z3 allocation that raised, so the same answer (one line, exit 2), not an unknown (exit 3)
                # or a verdict whose exit status hides it behind a violation found earlier (exit 1).
                raise MemoryError(solver.reason_unknown())
            _give_up(lits, open_names, results, solver.reason_unknown(), now)
            return
        model = solver.model()
        for name in list(lits):
            if z3.is_true(model.eval(lits[name], model_completion=True)):
                res = results[name]
                res.status, res.depth, res.model, res.steps, res.seconds = "violated", k + 1, model, k + 1, now
                res.literal = lits[name]
                if res.inductive:
                    res.conflict = (
                        f"induction proved {name} for every depth, but BMC found a run of {k + 1} steps that breaks it"
                    )
                open_names.remove(name)
                del lits[name]


def _cut_holds(solver, info, k, name, deadline) -> bool:
    """Whether step k cannot break the copy lemma's hypothesis (checker/copy_lemma.py), which then implies the check."""
    lit = z3.Bool(f"breaks-cut:{name}@{k}")
    solver.add(lit == info.cut_violation((name,)))
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        solver.set("timeout", max(1, int(left * 1000)))
    if solver.check(lit) != z3.unsat:
        return False  # the monitor's own check is asked (a copy outside the hypothesis may still be right)
    solver.add(z3.Not(lit))
    return True


def _give_up(lits, open_names, results, reason, now):
    """The solver or the clock stopped: what induction has not proved is unknown, never holds."""
    for name in lits:
        open_names.remove(name)
        if not results[name].inductive:
            results[name].status, results[name].reason, results[name].seconds = "unknown", reason, now
