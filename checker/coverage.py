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

from ..spec.ops import SYM_WIDTH
from ..spec.ops import Symbolic as ops
from .bmc import rule_names, status_free
from .config import Config
from .symstate import SymState
from .transition import encode_step

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


def outcome_name(effect) -> str:
    """An effect's outcome: its kind, and for a kill its reason (each reason is a path of its own)."""
    return f"kill ({effect.f['reason']})" if effect.kind == "kill" else effect.kind


def outcomes(info) -> dict:
    """{outcome: the term "it happens at this step"} over a step's cases (checker/transition.py StepInfo)."""
    terms: dict = {}
    for case in info.cases:
        for e in case.effects:
            if e.when is False:
                continue
            terms.setdefault(outcome_name(e), []).append(ops.And(case.guard, e.when))
    return {n: ops.Or(*ts) for n, ts in sorted(terms.items())}


def measure(cfg: Config, deadline: float) -> Coverage:
    """The shortest depth of each outcome the model has, up to cfg.depth (or the deadline: `stopped`)."""
    from .pipeline import out_of_memory

    start = time.monotonic()
    SYM_WIDTH[0] = cfg.width
    names = rule_names(cfg)
    # The step BMC encodes for these invariants (without status writes when no status invariant is asked).
    only = status_free(cfg, names)
    cov = Coverage(cfg.depth)
    # What the invariants asked judge is listed even when no step of the encoding has it (one Guest has no
    # peer to deliver to): no run has it then, which is what the warnings are for.
    cov.first = {o: None for n in names for o in DEPENDS.get(n, ())}
    solver = z3.SolverFor("QF_BV")
    st = SymState(cfg)
    try:
        for k in range(cfg.depth):
            if time.monotonic() >= deadline:
                cov.stopped = "the time limit"
                break
            constraints: list = []
            st = st.copy()
            info = encode_step(cfg, st, k, constraints, only)
            st.snapshot(k + 1, constraints)
            solver.add(*constraints)
            terms = outcomes(info)
            for n in terms:
                cov.first.setdefault(n, None)
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
    where = f"within {cov.depth} steps" if not cov.stopped else f"within the {cov.looked} steps coverage asked"
    return [
        (n, f"{n} holds, but no {o} happens in any run {where}: what it judges of a {o} is never exercised")
        for n, r in results.items()
        if r.status == "holds"
        for o in unexercised(cov, n)
    ]


def measured(run):
    """The pass (checker/pipeline.py): run.coverage, within its seconds (--coverage) and --timeout's time left."""
    if run.interrupted:
        return run
    deadline = time.monotonic() + run.limits["coverage"]
    if run.cfg.timeout is not None:
        deadline = min(deadline, run.started + run.cfg.timeout)
    run.coverage = measure(run.cfg, deadline)
    return run
