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

import time
from dataclasses import dataclass, field
from typing import Callable

import z3

from ..spec.ops import SYM_WIDTH
from ..spec.registry import INVARIANTS
from .config import Config
from .symstate import SymState
from .transition import StepInfo, encode_step


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
    literal: object = None  # the assumption that makes the solver's model a counterexample


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

    Invariants in `proved` (by induction) hold at every depth: they are
    reported as holding to the full depth without being asked again.
    `poll()`, called between depths, may return more such invariants (an
    induction running beside BMC).
    """
    SYM_WIDTH[0] = cfg.width
    start = time.monotonic() if start is None else start
    deadline = None if cfg.timeout is None else start + cfg.timeout
    solver = z3.SolverFor("QF_BV")
    st = SymState(cfg)
    unrolling = Unrolling(cfg, st.copy(), solver=solver)
    names = rule_names(cfg)
    results = {n: Result(n) for n in names}
    for n in proved:
        results[n].depth, results[n].inductive = cfg.depth, True
    open_names = [n for n in names if n not in proved]

    def take_proofs():
        for n in poll() if poll is not None else ():
            if n in open_names:
                open_names.remove(n)
                results[n].depth, results[n].inductive = cfg.depth, True
                results[n].seconds = time.monotonic() - start

    for k in range(cfg.depth):
        take_proofs()
        if not open_names:
            break
        constraints: list = []
        st = st.copy()
        info = encode_step(cfg, st, k, constraints)
        st.snapshot(k + 1, constraints)
        solver.add(*constraints)
        unrolling.infos.append(info)
        unrolling.states.append(st)
        _ask(solver, info, k, open_names, results, start, deadline)
        for name in open_names:
            results[name].seconds = time.monotonic() - start
        if progress is not None:
            progress(k + 1, time.monotonic() - start, results)
        if not open_names:
            break
    return results, unrolling


def _ask(solver, info, k, open_names, results, start, deadline):
    """Settle step k for every open invariant, with as few solver calls as possible.

    One call asks whether any open invariant can fail at step k; only when
    one can does the model say which, and the rest are asked again.
    """
    lits = {}
    for name in list(open_names):
        viol = info.violation((name,))
        if viol is False:
            results[name].depth = k + 1
            continue
        lit = z3.Bool(f"violates:{name}@{k}")
        solver.add(lit == viol)
        lits[name] = lit
    while lits:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                for name in lits:
                    results[name].status, results[name].reason = "unknown", "time limit reached"
                    open_names.remove(name)
                return
            solver.set("timeout", max(1, int(left * 1000)))
        any_lit = z3.Bool(f"violates-any:{len(lits)}@{k}")
        solver.add(any_lit == z3.Or(*lits.values()))
        answer = solver.check(any_lit)
        now = time.monotonic() - start
        if answer == z3.unsat:
            for name, lit in lits.items():
                results[name].depth, results[name].seconds = k + 1, now
                solver.add(z3.Not(lit))
            return
        if answer == z3.unknown:
            for name in lits:
                results[name].status, results[name].reason = "unknown", solver.reason_unknown()
                results[name].seconds = now
                open_names.remove(name)
            return
        model = solver.model()
        for name in list(lits):
            if z3.is_true(model.eval(lits[name], model_completion=True)):
                res = results[name]
                res.status, res.depth, res.model, res.steps, res.seconds = "violated", k + 1, model, k + 1, now
                res.literal = lits[name]
                open_names.remove(name)
                del lits[name]
