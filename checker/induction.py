"""Proofs beyond the bound: 1-induction with lemmas found Houdini-style.

An invariant's checks are made at each step.  If no step taken from *any*
state that satisfies the lemmas can fail them, and the lemmas hold initially
and are kept by every step, the invariant holds at every depth, not only up
to --depth.  The candidate lemmas say what the configuration's Guests can
establish (a binding's array size stays within the model's buffers; a
conforming Guest's live bindings hold only its own device keys); a candidate
that some step can break is dropped, and the rest are asked again, until the
set is stable (Houdini).  Whatever is not proved this way is left to BMC.
"""

from __future__ import annotations

import time

import z3

from ..spec.host import get_futex_key
from ..spec.ops import SYM_WIDTH
from ..spec.ops import Symbolic as ops
from .config import Config
from .symstate import SymState
from .transition import bindable, encode_step


def free_state(cfg: Config, tag: str) -> SymState:
    """A state whose every variable is unconstrained."""
    st = SymState(cfg)
    for name, obj, attr, idx in st.fields():
        cur = st.get(obj, attr, idx)
        var = z3.Bool(f"{name}@{tag}") if isinstance(cur, bool) else z3.BitVec(f"{name}@{tag}", SYM_WIDTH[0])
        st.put(obj, attr, idx, var)
    return st


def lemmas(cfg: Config, st: SymState) -> list[tuple[str, object]]:
    """Candidate lemmas over a state, by name."""
    out = []
    for g in range(cfg.guests):
        for b in st.slots(g):
            out.append((f"g{g}.slot{b.slot}: num_dmas <= buffers", ops.ULE(b.num_dmas, cfg.buffers)))
            # A conforming Guest binds only its own device keys (console, block, its net slot).
            own = []
            for key, _ in bindable(cfg, g):
                _, owner, off = get_futex_key(ops, st, g, key)
                own.append(ops.And(ops.Eq(b.owner, owner), ops.Eq(b.off, off)))
            out.append(
                (
                    f"g{g}.slot{b.slot}: a live binding holds one of g{g}'s own keys",
                    ops.Implies(ops.Ne(b.interrupt, 0), ops.Or(*own)),
                )
            )
    ids = [b for g in range(cfg.guests) for b in st.slots(g)]
    for i, b in enumerate(ids):
        for c in ids[i + 1 :]:
            both = ops.And(ops.Ne(b.interrupt, 0), ops.Ne(c.interrupt, 0))
            one = ops.Ne(st.newer(b, c), st.newer(c, b))
            out.append(
                (
                    f"g{b.guest}.slot{b.slot}, g{c.guest}.slot{c.slot}: one of two live bindings is the newer",
                    ops.Implies(both, one),
                )
            )
    return out


def prove(cfg: Config, names: list[str], deadline: float | None = None) -> tuple[dict[str, bool], list[str]]:
    """({invariant: proved for every depth}, the lemmas used)."""
    SYM_WIDTH[0] = cfg.width
    s0 = free_state(cfg, "ind0")
    s1 = s0.copy()
    constraints: list = []
    info = encode_step(cfg, s1, "ind", constraints)
    solver = z3.SolverFor("QF_BV")
    solver.add(*constraints)

    init = SymState(cfg)
    cands = [(n, t0) for (n, t0) in lemmas(cfg, s0)]
    post = dict(lemmas(cfg, s1))
    holds_init = dict(lemmas(cfg, init))
    active = {n: t for n, t in cands if z3.is_true(z3.simplify(_b(holds_init[n])))}

    def timed_check(*assumptions):
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return z3.unknown
            solver.set("timeout", max(1, int(left * 1000)))
        return solver.check(*assumptions)

    # Houdini, batched: ask whether any active lemma can break; drop those
    # the counterexample breaks, and ask again until none can.
    while active:
        assume = [_lit(solver, f"lemma:{n}", t) for n, t in active.items()]
        broken = {n: _lit(solver, f"breaks:{n}", ops.Not(post[n])) for n in active}
        answer = timed_check(*assume, _lit(solver, f"breaks-any:{len(active)}", ops.Or(*broken.values())))
        if answer == z3.unsat:
            break
        if answer == z3.unknown:
            return {name: False for name in names}, []
        model = solver.model()
        for n, lit in broken.items():
            if z3.is_true(model.eval(lit, model_completion=True)):
                del active[n]
    assume = [_lit(solver, f"lemma:{n}", t) for n, t in active.items()]
    proved = {}
    open_lits = {}
    for name in names:
        viol = info.violation((name,))
        if viol is False:
            proved[name] = True
        else:
            open_lits[name] = _lit(solver, f"induct:{name}", viol)
    while open_lits:
        answer = timed_check(*assume, _lit(solver, f"induct-any:{len(open_lits)}", ops.Or(*open_lits.values())))
        if answer == z3.unsat:
            proved.update({n: True for n in open_lits})
            break
        if answer == z3.unknown:
            break
        model = solver.model()
        for n, lit in list(open_lits.items()):
            if z3.is_true(model.eval(lit, model_completion=True)):
                proved[n] = False
                del open_lits[n]
    for name in names:
        proved.setdefault(name, False)
    return proved, sorted(active)


def _b(t):
    return z3.BoolVal(t) if isinstance(t, bool) else t


def _lit(solver, name, term):
    lit = z3.Bool(name)
    solver.add(lit == _b(term))
    return lit
