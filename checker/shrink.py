"""Simpler counterexamples: the same steps, with the smallest values the solver allows.

BMC's first model has whatever values z3 picked (a length of 30720, a key of
0xe6398).  Keeping the same actions, each value a Guest or the Launcher's
input chose is tried, in step order, at 0, at 1, and at a few smaller
versions of itself, then with its bits cleared one by one; a try is kept when the run still breaks the invariant
at its last step (one solver call with assumptions, on the BMC solver that
already holds the run).  Deterministic, shortlex-like, and bounded by a time
budget; whatever was kept is a counterexample of the same length.
"""

from __future__ import annotations

import time

import z3

from .decode import evaluator

# The values each action chooses (checker/transition.py), in the order tried.
CHOSEN = {
    "dma": ("used", "lens", "addrs"),
    "bind": ("key", "num", "irq"),
    "send": ("key",),
    "status": ("value", "bit"),
    "sysfs": ("value", "dev"),
    "fill": ("len", "key"),
}


def _candidates(v: int) -> list[int]:
    out = [0, 1]
    for s in (12, 8, 4, 2, 1):
        out.append(v >> s)
    lowest = v & -v
    if lowest and lowest != v:
        out.append(lowest)  # keep only the lowest bit (a status value, an alignment)
    return [c for c in dict.fromkeys(out) if c < v]


def shrink(unrolling, result, budget: float = 2.0):
    """A model of the same counterexample with smaller chosen values (or the original)."""
    solver, lit, model = unrolling.solver, result.literal, result.model
    if solver is None or lit is None:
        return model
    deadline = time.monotonic() + budget
    value = evaluator(model)
    fixed = []
    for info in unrolling.infos[: result.steps]:
        fixed.append(info.sel == value(info.sel))
    solver.push()  # the shrinking's timeouts must not outlive it
    try:
        for info in unrolling.infos[: result.steps]:
            case = next(c for c in info.cases if value(c.guard) is True)
            for name in CHOSEN.get(case.action, ()):
                vars_ = info.params[name] if isinstance(info.params[name], list) else [info.params[name]]
                for var in vars_:
                    kept = value(var)

                    def holds_with(cand, var=var):
                        nonlocal value
                        left = deadline - time.monotonic()
                        if left <= 0:
                            return False
                        solver.set("timeout", max(1, int(left * 1000)))
                        if solver.check(lit, *fixed, var == cand) != z3.sat:
                            return False
                        # Later values are read from this model: a kept
                        # change may have forced others (a key, its irq).
                        value = evaluator(solver.model())
                        return True

                    for cand in _candidates(kept):
                        if holds_with(cand):
                            kept = cand
                            break
                    # Then clear what bits it can, highest first (a status
                    # value keeps only the bits that matter).
                    for bit in reversed(range(kept.bit_length())):
                        if kept >> bit & 1 and kept != 1 << bit and holds_with(kept & ~(1 << bit)):
                            kept &= ~(1 << bit)
                    fixed.append(var == kept)
        solver.set("timeout", 4294967295)
        if solver.check(lit, *fixed) == z3.sat:
            return solver.model()
        return model
    finally:
        solver.pop()
