"""One step's queries split by the action taken: a solver per (Guest, action), `sel` fixed in each.

A step of the model (checker/transition.py encode_step) is every action of
every Guest under the guard "sel chose this one", and one of those guards
holds (the step's last constraint).  So a query F over one step is
satisfiable iff F with `sel` replaced by some action's code is: a model of F
gives its own `sel` a code c, and is a model of F[sel := c]; a model of
F[sel := c] (where `sel` no longer occurs) is one of F with sel = c.
Asking each F[sel := c] on its own solver, after z3's simplifier has folded
away every other action's terms, is far cheaper than asking F: at slots 8,
buffers 4, sections 4 (`--launcher checked`) Houdini's first query, 328
lemmas kept by one step, took 145 s as one query (load 3-4), and split
0.2-1 s per action but bind's 21 s (load 9; docs/engines.md "Induction,
split by action").

`Split` offers the part of z3's Solver interface induction.prove uses (add,
check with assumption literals, set, model, unsat_core); a literal is a
Boolean constant, the same symbol in every case's solver.  check answers sat
as soon as one case is sat (its model, where `sel` is that case's code);
unsat when every case is unsat, with the union of the cases' unsat cores
(each case is refuted by the assumptions in its core, so all of them are by
the union); unknown otherwise.  A timeout set is for the whole check, shared
by the cases in turn, never per case.
"""

from __future__ import annotations

import os
import time

import z3

from .transition import ACTIONS

NO_TIMEOUT = 4294967295  # z3's "no limit"


def enabled() -> bool:
    return os.environ.get("LGCHECK_SPLIT", "1") != "0"


def codes(info) -> list[int]:
    """The values of `sel` that choose one of the step's actions (as encode_step numbers them)."""
    return [c.guest * len(ACTIONS) + ACTIONS.index(c.action) for c in info.cases]


class Split:
    def __init__(self, sel, codes, logic: str = "QF_BV"):
        self.sel = sel
        self.cases = [(code, z3.SolverFor(logic)) for code in codes]
        self.timeout_ms = NO_TIMEOUT
        self._model = None
        self._core: list = []

    def _fix(self, code, f):
        if isinstance(f, bool):
            return z3.BoolVal(f)
        return z3.simplify(z3.substitute(f, (self.sel, z3.BitVecVal(code, self.sel.size()))))

    def add(self, *formulas):
        for code, s in self.cases:
            s.add(*[self._fix(code, f) for f in formulas])

    def set(self, key, value):
        if key == "timeout":
            self.timeout_ms = value
            return
        for _, s in self.cases:
            s.set(key, value)

    def check(self, *assumptions):
        end = None if self.timeout_ms >= NO_TIMEOUT else time.monotonic() + self.timeout_ms / 1000
        core: set = set()
        unknown = False
        for i, (_code, s) in enumerate(self.cases):
            if end is None:
                s.set("timeout", NO_TIMEOUT)
            else:
                left = end - time.monotonic()
                if left <= 0:
                    return z3.unknown
                s.set("timeout", max(1, int(left * 1000)))
            answer = s.check(*assumptions)
            if answer == z3.sat:
                self._model = s.model()
                # The next query (Houdini's, with fewer lemmas) is likeliest sat where this one was: ask it first.
                self.cases.insert(0, self.cases.pop(i))
                return z3.sat
            if answer == z3.unknown:
                unknown = True  # another case may still be sat: that answer is definite
                continue
            core |= {str(x) for x in s.unsat_core()}
        if unknown:
            return z3.unknown
        self._core = [z3.Bool(n) for n in sorted(core)]
        return z3.unsat

    def model(self):
        return self._model

    def unsat_core(self):
        return list(self._core)
