"""Proofs beyond the bound: 1-induction with lemmas found Houdini-style, then k-induction.

An invariant's checks are made at each step.  If no step taken from *any*
state that satisfies the lemmas can fail them, and the lemmas hold initially
and are kept by every step, the invariant holds at every depth, not only up
to --depth.  The candidate lemmas say what the configuration's Guests can
establish (a binding's array size stays within the model's buffers; a
conforming Guest's live bindings hold only its own device keys); a candidate
that some step can break is dropped, and the rest are asked again, until the
set is stable (Houdini).

An invariant 1-induction cannot prove with those lemmas is asked again by
k-induction, k = 2 .. cfg.k_max: from any state that keeps the lemmas, no run
of k steps whose first k-1 steps keep the invariant's checks fails them at its
k-th step (the step case), and no run of k-1 steps from the initial state
fails them (the base case, asked here too, so the proof does not lean on
BMC's depth).  Every reachable step then passes the checks: the k steps
before it start in a reachable state, which keeps the lemmas, and pass the
checks by induction on the step's index.  The lemmas are assumed in each of
the k states (they are inductive, so each state of the run keeps them).
Whatever is not proved this way is left to BMC.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import z3

from ..spec.monitors import futex_identity
from ..spec.ops import SYM_WIDTH
from ..spec.ops import Symbolic as ops
from . import cases, copy_lemma, prefilter
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


def _concrete(model, st: SymState) -> dict:
    """The values a z3 model gives the variables of the free state `st`, by field name."""
    out = {}
    for name, obj, attr, idx in st.fields():
        v = model.eval(st.get(obj, attr, idx), model_completion=True)
        out[name] = z3.is_true(v) if z3.is_bool(v) else v.as_long()
    return out


def lemmas(cfg: Config, st: SymState) -> list[tuple[str, object]]:
    """Candidate lemmas over a state, by name (Houdini keeps those that are inductive together)."""
    out = []
    for g in range(cfg.guests):
        keys = cfg.bindable(g)
        slots = st.slots(g)
        for b in slots:
            live = ops.Ne(b.interrupt, 0)
            out.append((f"g{g}.slot{b.slot}: num_dmas <= buffers", ops.ULE(b.num_dmas, cfg.ring_bound)))
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
    vacuous: str = ""  # rules / environment / empty (see checker/cli.py how_it_holds)
    lemmas: list = field(default_factory=list)  # the kept lemmas the proof needed (an unsat core)
    unknown: bool = False
    k: int = 1  # the proof's k: k steps from a state that keeps the lemmas (1: plain induction)
    # 1-induction's counterexample-to-induction, when it has one: the state before the failing step
    # ({field name: int or bool}); the explicit-state search asks whether that state is reachable.
    cti: dict = field(default_factory=dict)
    # "data-corrupted" when the step was asked the copy lemma's hypothesis in place of the monitor's own
    # check (checker/copy_lemma.py: the lemma itself was proved on its own).
    cut: str = ""


class NoCheck(ValueError):
    """An invariant that no check of the step encoding speaks of: it would be 'proved' vacuously."""


def unchecked(cfg: Config, names) -> list[str]:
    """The invariants among `names` for which one step of the model files no check at all."""
    SYM_WIDTH[0] = cfg.width
    st = free_state(cfg, "probe")
    info = encode_step(cfg, st, "probe", [])
    return [n for n in names if n not in info.filed]


def prove(
    cfg: Config,
    names: list[str],
    deadline: float | None = None,
    partial=None,
    without=(),
    seed=None,
    split: bool | None = None,
    prefilter_states: bool | None = None,
) -> tuple[dict[str, Verdict], list[str]]:
    """({invariant: Verdict}, the lemmas Houdini kept).

    `partial(verdicts, lemmas)` is told 1-induction's verdicts before
    k-induction starts (BMC beside can stop asking for what is proved).
    `without`: lemma names (or parts of names) never to try, to measure or
    test what a proof needs.  `seed`: lemma *families* (a name with its Guest
    and slot numbers taken out, see `family`) Houdini starts from, those
    that held at a smaller size (benchmarks/sweep.py); None: every candidate.
    `split`: ask each query once per action of the step (checker/cases.py);
    `prefilter_states`: first drop the candidates false on a reachable state
    (checker/prefilter.py).  None: on, unless LGCHECK_SPLIT=0 / LGCHECK_PREFILTER=0.
    The kept lemmas and the verdicts are the same either way; only the time differs.
    """
    SYM_WIDTH[0] = cfg.width
    s0 = free_state(cfg, "ind0")
    s1 = s0.copy()
    constraints: list = []
    info = encode_step(cfg, s1, "ind", constraints)
    missing = [n for n in names if n not in info.filed]
    if missing:
        raise NoCheck(f"no check of the model speaks of {', '.join(missing)}")
    split = cases.enabled() if split is None else split
    solver = cases.Split(info.sel, cases.codes(info)) if split else z3.SolverFor("QF_BV")
    env = z3.Bool("environment")  # the Guests' and inputs' domains, assumed except to ask what they rule out
    env_terms = {id(t) for t in info.domains}
    solver.add(*[c for c in constraints if id(c) not in env_terms])
    solver.add(*[z3.Implies(env, _b(t)) for t in info.domains])

    init = SymState(cfg)
    cands = [(n, t0) for (n, t0) in lemmas(cfg, s0) if not any(w in n for w in without)]
    if seed is not None:
        cands = [(n, t0) for n, t0 in cands if family(n) in seed]
    post = dict(lemmas(cfg, s1))
    holds_init = dict(lemmas(cfg, init))
    active = {n: t for n, t in cands if z3.is_true(z3.simplify(_b(holds_init[n])))}
    if prefilter.enabled() if prefilter_states is None else prefilter_states:
        # A candidate false in a reachable state is in no inductive set that holds initially: Houdini would
        # drop it too, after queries over every candidate (checker/prefilter.py).
        for n in prefilter.false_somewhere(cfg, list(active), lemmas, deadline=deadline):
            del active[n]

    def timed_check(*assumptions):
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return z3.unknown
            solver.set("timeout", max(1, int(left * 1000)))
        return solver.check(*assumptions)

    verdicts = {n: Verdict() for n in names}
    viol = {}
    empty = set()  # checks with nothing to compare at this size (one Guest, one slot: no two bindings)
    for n in names:
        term = info.violation((n,))
        if cut_applies(cfg, info, n, deadline):
            term, verdicts[n].cut = info.cut_violation((n,)), copy_lemma.INVARIANT
        if z3.is_false(z3.simplify(_b(term))):
            empty.add(n)
        viol[n] = _lit(solver, f"induct:{n}", _b(term))

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
    assume = {n: _lit(solver, f"lemma:{n}", t) for n, t in active.items()}
    for n in names:
        v = verdicts[n]
        answer = timed_check(env, *assume.values(), viol[n])
        if answer == z3.unsat:
            v.proved = True
            core = {str(x) for x in solver.unsat_core()}
            v.lemmas = sorted(m for m in active if f"lemma:{m}" in core)
        elif answer == z3.unknown:
            v.unknown = True
        else:
            v.cti = _concrete(solver.model(), s0)
    # How each proof holds (asked after Houdini, on a solver that has learnt the step): can the
    # step fail the check from any state at all?  If not, is it the rules that keep it, or only
    # the environment's domain?
    for n in names:
        v = verdicts[n]
        if not v.proved:
            continue
        if n in empty:
            # Not "the rules keep it": no formula of it is left to keep.  A certificate would ask
            # nothing, and `lgcheck certify` refuses an empty check; none is written (certify_write).
            v.lemmas, v.vacuous = [], "empty"
        elif timed_check(env, viol[n]) == z3.unsat:
            v.lemmas = []
            v.vacuous = "rules" if timed_check(viol[n]) == z3.unsat else "environment"
        else:
            v.lemmas = _fewest(solver, [env, viol[n]], {m: assume[m] for m in v.lemmas}, deadline)
    kept = sorted(active)
    rest = [n for n in names if not verdicts[n].proved and not verdicts[n].unknown]
    if rest and cfg.k_max > 1:
        if partial is not None:
            partial(verdicts, kept)
        k_induction(cfg, rest, {n: active[n] for n in kept}, verdicts, deadline)
    return verdicts, kept


# What naming a proof's lemmas may cost, at most: z3's core minimisation asks the query again once
# per lemma, which took 20 s where the proof itself took 1 s (3 Guests, --launcher checked).
MINIMISE_BUDGET = 5.0


def _fewest(solver, fixed: list, lits: dict, deadline) -> list[str]:
    """The lemmas among `lits` ({name: literal}) that a proof needs: a minimal unsat core, within a budget.

    The proof was asked without minimisation (it holds with every lemma in `lits`; an unsat core is
    all it needs).  If z3 cannot minimise the core within MINIMISE_BUDGET (or before `deadline`),
    the whole core is named: a true statement, only a longer one.
    """
    budget = MINIMISE_BUDGET if deadline is None else min(MINIMISE_BUDGET, deadline - time.monotonic())
    if len(lits) <= 1 or budget <= 0:
        return sorted(lits)
    end = time.monotonic() + budget
    solver.set("core.minimize", True)
    solver.set("timeout", max(1, int(budget * 1000)))
    try:
        if solver.check(*fixed, *lits.values()) != z3.unsat:
            return sorted(lits)  # out of budget: the proof stands on the whole core
        core = {str(x) for x in solver.unsat_core()}
        need = {m: lit for m, lit in lits.items() if str(lit) in core}
        if isinstance(solver, cases.Split):
            # Each action's core is minimal, their union need not be: drop what the others do without.
            need = _drop_unneeded(solver, fixed, need, end)  # within the same budget
        return sorted(need)
    finally:
        solver.set("core.minimize", False)
        solver.set("timeout", 4294967295)


def _drop_unneeded(solver, fixed: list, need: dict, end: float) -> dict:
    """`need` ({name: literal}, a core) made minimal by deletion: each lemma is left out once, and stays
    out if the query is still unsat without it; whatever time is left when `end` comes stays in."""
    for m in sorted(need):
        left = end - time.monotonic()
        if len(need) <= 1 or left <= 0:
            break
        if m not in need:
            continue
        trial = {k: v for k, v in need.items() if k != m}
        solver.set("timeout", max(1, int(left * 1000)))
        if solver.check(*fixed, *trial.values()) == z3.unsat:
            core = {str(x) for x in solver.unsat_core()}
            need = {k: v for k, v in trial.items() if str(v) in core}
    return need


def cut_applies(cfg: Config, info, name: str, deadline=None) -> bool:
    """Whether `name`'s check in this step may be replaced by the copy lemma's hypothesis: the lemma holds."""
    return name == copy_lemma.INVARIANT and bool(info.cuts) and copy_lemma.holds(cfg, deadline) is True


def family(name: str) -> str:
    """A lemma's name with its Guest and slot numbers taken out: the same lemma at another size."""
    return re.sub(r"\b(g|slot|driver )\d+", r"\1#", re.sub(r"g\d+\.slot\d+", "g#.slot#", name))


def k_induction(cfg: Config, names: list[str], kept: dict, verdicts: dict, deadline) -> None:
    """Prove `names` by k-induction, k = 2 .. cfg.k_max, on a run of free states that keep `kept`.

    One solver holds the run s0 -> s1 -> ... (each state snapshotted into
    fresh variables, as BMC does); each k asks, per open invariant, the step
    case under assumption literals, and for those it proves, the base case
    from the initial state.  A timeout leaves the invariant unproved
    (unknown), never proved.
    """
    solver = z3.SolverFor("QF_BV")
    st = free_state(cfg, "kind0")
    first = st.copy()
    init = SymState(cfg)
    initial = []
    for (_, obj, attr, idx), (_, iobj, iattr, iidx) in zip(first.fields(), init.fields()):
        v, iv = first.get(obj, attr, idx), init.get(iobj, iattr, iidx)
        initial.append(
            v == (z3.BoolVal(iv) if isinstance(iv, bool) else z3.BitVecVal(iv, v.size()) if isinstance(iv, int) else iv)
        )
    at_init = _lit(solver, "kind:initial", z3.And(*initial))
    states = [first]
    keeps, viols = [], []  # per state: "it keeps the lemmas"; per step: {name: "the step fails its checks"}
    open_names = list(names)
    for k in range(1, cfg.k_max + 1):
        cur = dict(lemmas(cfg, st))
        keeps.append(_lit(solver, f"kind:keeps@{k - 1}", ops.And(*[cur[n] for n in kept]) if kept else True))
        constraints: list = []
        st = st.copy()
        info = encode_step(cfg, st, f"kind{k - 1}", constraints)
        st.snapshot(f"kind{k}", constraints)
        solver.add(*[_b(c) for c in constraints])
        viols.append({n: _lit(solver, f"kind:fails:{n}@{k - 1}", _b(info.violation((n,)))) for n in open_names})
        if k == 1:
            states.append(st)
            continue  # 1-induction was asked already (with the environment as an assumption)
        # The run's first k states differ pairwise (a shortest way to a state repeats none): without
        # this, a step that changes nothing would make any k as weak as 1.
        distinct = [_differ(states[i], states[k - 1]) for i in range(k - 1)]
        keeps.append(_lit(solver, f"kind:simple@{k - 1}", z3.And(*distinct)))
        states.append(st)
        for n in list(open_names):
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    verdicts[n].unknown = True
                    open_names.remove(n)
                    continue
                solver.set("timeout", max(1, int(left * 1000)))
            before = [z3.Not(viols[i][n]) for i in range(k - 1)]
            answer = solver.check(*keeps, *before, viols[k - 1][n])
            if answer == z3.unknown:
                verdicts[n].unknown = True
                open_names.remove(n)
                continue
            if answer == z3.sat:
                continue
            core = {str(x) for x in solver.unsat_core()}
            # The base case: no run of k-1 steps from the initial state fails the checks.
            base = solver.check(at_init, z3.Or(*[viols[i][n] for i in range(k - 1)]))
            open_names.remove(n)
            if base == z3.unsat:
                v = verdicts[n]
                v.proved, v.k = True, k
                # the lemmas, unless the step case held without assuming them
                v.lemmas = sorted(kept) if any(x.startswith("kind:keeps") for x in core) else []
            elif base == z3.unknown:
                verdicts[n].unknown = True
            # sat: a run of fewer than k steps breaks it; BMC finds and reports it
        if not open_names:
            break


def _differ(a: SymState, b: SymState):
    """The two states differ in some variable."""
    out = []
    for (_, obj, attr, idx), (_, bobj, battr, bidx) in zip(a.fields(), b.fields()):
        x, y = _b(a.get(obj, attr, idx)), _b(b.get(bobj, battr, bidx))
        if isinstance(x, int) and isinstance(y, int):
            if x != y:
                return z3.BoolVal(True)
            continue
        out.append(ops.Ne(x, y))
    return z3.Or(*out) if out else z3.BoolVal(False)


def _b(t):
    return z3.BoolVal(t) if isinstance(t, bool) else t


def _lit(solver, name, term):
    lit = z3.Bool(name)
    solver.add(lit == _b(term))
    return lit
