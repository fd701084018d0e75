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
from dataclasses import dataclass, field

import z3

from ..spec.monitors import futex_identity
from ..spec.ops import SYM_WIDTH
from ..spec.ops import Symbolic as ops
from .config import Config
from .symstate import SymState
from .transition import encode_step


def free_state(cfg: Config, tag: str) -> SymState:
    """A state whose every variable is unconstrained."""
    st = SymState(cfg)
    for name, obj, attr, idx in st.fields():
        cur = st.get(obj, attr, idx)
        var = z3.Bool(f"{name}@{tag}") if isinstance(cur, bool) else z3.BitVec(f"{name}@{tag}", SYM_WIDTH[0])
        st.put(obj, attr, idx, var)
    return st


def lemmas(cfg: Config, st: SymState) -> list[tuple[str, object]]:
    """Candidate lemmas over a state, by name (Houdini keeps those that are inductive together)."""
    out = []
    for g in range(cfg.guests):
        keys = cfg.bindable(g)
        slots = st.slots(g)
        for b in slots:
            live = ops.Ne(b.interrupt, 0)
            out.append((f"g{g}.slot{b.slot}: num_dmas <= buffers", ops.ULE(b.num_dmas, cfg.buffers)))
            own = [ops.Eq(b.key, kk) for kk, _ in keys]
            out.append(
                (f"g{g}.slot{b.slot}: a live binding holds one of g{g}'s device keys", ops.Implies(live, ops.Or(*own)))
            )
            owner, off = futex_identity(ops, st.maps(g), g, b.key)
            out.append(
                (
                    f"g{g}.slot{b.slot}: a live binding's stored identity is what its key names",
                    ops.Implies(
                        live,
                        ops.And(
                            ops.Eq(b.owner, owner), ops.Eq(b.off, off), ops.Eq(b.nowner, owner), ops.Eq(b.noff, off)
                        ),
                    ),
                )
            )
            for d, (kk, _) in enumerate(keys):
                out.append(
                    (
                        f"g{g}.slot{b.slot}: live on driver {d}'s key means driver {d} bound it, with this array",
                        ops.Implies(
                            ops.And(live, ops.Eq(b.key, kk)),
                            ops.And(st.drv_bound[g][d], ops.Eq(b.dmas, st.drv_dmas[g][d])),
                        ),
                    )
                )
        for i, b in enumerate(slots):
            for c in slots[i + 1 :]:
                # unbind_dma takes the first slot with the key and array, live or not (io.c):
                # a driver's unbind reaches its live binding only if no freed slot before it matches.
                out.append(
                    (
                        f"g{g}.slot{b.slot} freed before live g{g}.slot{c.slot}: not the same key and array",
                        ops.Not(
                            ops.And(
                                ops.Eq(b.interrupt, 0),
                                ops.Ne(c.interrupt, 0),
                                ops.Eq(b.owner, c.owner),
                                ops.Eq(b.off, c.off),
                                ops.Eq(b.dmas, c.dmas),
                            )
                        ),
                    )
                )
                out.append(
                    (
                        f"g{g}.slot{b.slot}, g{g}.slot{c.slot}: two live bindings of one Guest hold different keys",
                        ops.Implies(ops.And(ops.Ne(b.interrupt, 0), ops.Ne(c.interrupt, 0)), ops.Ne(b.key, c.key)),
                    )
                )
    if getattr(st, "has_bytes", False):
        out += _section_lemmas(cfg, st)
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


def _section_lemmas(cfg: Config, st: SymState) -> list[tuple[str, object]]:
    """Each descriptor's stored sections are as a conforming driver builds them (transition._sections_ok).

    What the data proof needs (checker/symstate.py bytes): sections that do
    not overlap, so that a later step of the copy never overwrites an
    earlier one's bytes.  Only asked when prove checks data.
    """
    from .transition import _sections_ok

    return [
        (
            f"g{g}.{c.addr:#x}: sections as a conforming driver builds them",
            _sections_ok(cfg, {"addrs": c.addrs, "lens": c.lens}),
        )
        for g in range(cfg.guests)
        for c in st.cells[g]
    ]


@dataclass
class Verdict:
    """How induction settled one invariant."""

    proved: bool = False
    # No step from ANY state can fail its checks: "rules" when the model's rules
    # keep it whatever the parameters, "environment" when only the domain of the
    # Guests' choices does ("" otherwise).
    vacuous: str = ""
    lemmas: list = field(default_factory=list)  # the kept lemmas the proof needed (an unsat core)
    unknown: bool = False


class NoCheck(ValueError):
    """An invariant that no check of the step encoding speaks of: it would be 'proved' vacuously."""


def unchecked(cfg: Config, names) -> list[str]:
    """The invariants among `names` for which one step of the model files no check at all."""
    SYM_WIDTH[0] = cfg.width
    st = free_state(cfg, "probe")
    info = encode_step(cfg, st, "probe", [])
    return [n for n in names if n not in info.filed]


def prove(cfg: Config, names: list[str], deadline: float | None = None) -> tuple[dict[str, Verdict], list[str]]:
    """({invariant: Verdict}, the lemmas Houdini kept)."""
    SYM_WIDTH[0] = cfg.width
    s0 = free_state(cfg, "ind0")
    s1 = s0.copy()
    constraints: list = []
    info = encode_step(cfg, s1, "ind", constraints)
    missing = [n for n in names if n not in info.filed]
    if missing:
        raise NoCheck(f"no check of the model speaks of {', '.join(missing)}")
    solver = z3.SolverFor("QF_BV")
    solver.set("core.minimize", True)  # name the lemmas a proof needs, not every lemma kept
    env = z3.Bool("environment")  # the Guests' and inputs' domains, assumed except to ask what they rule out
    env_terms = {id(t) for t in info.domains}
    solver.add(*[c for c in constraints if id(c) not in env_terms])
    solver.add(*[z3.Implies(env, _b(t)) for t in info.domains])

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

    verdicts = {n: Verdict() for n in names}
    viol = {n: _lit(solver, f"induct:{n}", _b(info.violation((n,)))) for n in names}

    # Houdini, batched: ask whether any active lemma can break; drop those
    # the counterexample breaks, and ask again until none can.
    while active:
        assume = [_lit(solver, f"lemma:{n}", t) for n, t in active.items()]
        broken = {n: _lit(solver, f"breaks:{n}", ops.Not(post[n])) for n in active}
        answer = timed_check(env, *assume, _lit(solver, f"breaks-any:{len(active)}", ops.Or(*broken.values())))
        if answer == z3.unsat:
            break
        if answer == z3.unknown:
            for v in verdicts.values():
                v.unknown = v.unknown or not v.proved
            return verdicts, []
        model = solver.model()
        for n, lit in broken.items():
            if z3.is_true(model.eval(lit, model_completion=True)):
                del active[n]
    assume = [_lit(solver, f"lemma:{n}", t) for n, t in active.items()]
    for n in names:
        v = verdicts[n]
        answer = timed_check(env, *assume, viol[n])
        if answer == z3.unsat:
            v.proved = True
            core = {str(x) for x in solver.unsat_core()}
            v.lemmas = sorted(m for m in active if f"lemma:{m}" in core)
        elif answer == z3.unknown:
            v.unknown = True
    # How each proof holds (asked after Houdini, on a solver that has learnt the step): can the
    # step fail the check from any state at all?  If not, is it the rules that keep it, or only
    # the environment's domain?
    for n in names:
        v = verdicts[n]
        if not v.proved:
            continue
        if timed_check(env, viol[n]) == z3.unsat:
            v.lemmas = []
            v.vacuous = "rules" if timed_check(viol[n]) == z3.unsat else "environment"
    return verdicts, sorted(active)


def _b(t):
    return z3.BoolVal(t) if isinstance(t, bool) else t


def _lit(solver, name, term):
    lit = z3.Bool(name)
    solver.add(lit == _b(term))
    return lit
