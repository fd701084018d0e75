"""Partial-order reduction for BMC's unrolling: adjacent steps that commute are taken in one order.

BMC asks, depth by depth, whether some run of k steps breaks an invariant at
its k-th step.  Many runs reach the same state by the same steps in another
order (a Guest's three ring entries, written in any of six orders, with the
other Guest's descriptor write anywhere among them).  This module works out,
once per configuration, which pairs of actions commute, and bmc.py then
forbids, between two adjacent steps of a run's *prefix* (every step but the
last), the order of such a pair that is not the canonical one.

What is proved, per pair of cases (Guest, action) of a step:

- **Independence, syntactically** (`Footprint`): each case is encoded once
  from a state whose every field is a free variable (induction.free_state);
  the fields whose term is no longer that variable are the ones it may
  write, and the state variables in its guard, its domain and the new terms
  the ones it reads.  Two cases commute when neither writes what the other
  reads or writes (Bernstein's conditions): each one's guard, domain and new
  values are then the same functions of the same unchanged fields in either
  order, and they write different fields.
- **Descriptor writes of one Guest** (`dma` after `dma`, the same Guest),
  proved with z3 on the symbolic step: from any state, writes to two
  different descriptors give the same state and the same enabledness in both
  orders (`commutes`); and a write followed by a write to the same
  descriptor gives the state the second write alone gives from the first
  state, with the second write's values allowed there (`absorbs`): the first
  write is then never needed.  A pair whose proof fails is not used.

The constraint, for adjacent prefix steps i and i+1 with cases c and d: not
(c, d independent and label(c) > label(d)), where a label is the case's
`sel` code and, for a descriptor write, then its address (a strict total
order); and never a descriptor write followed by one to the same descriptor
of the same Guest.

Why the shortest runs are kept.  Let k be the least length of a run that
breaks an invariant at its last step.  Take such a run; sort its first k-1
steps by swapping adjacent steps that are independent and out of order:
each swap keeps every step enabled and the state after both (so the state
before step k, and step k's verdict), and lowers the number of out-of-order
pairs by one, so the sorting ends, in a run of the same length that breaks
the invariant at step k and has no forbidden adjacent pair among its first
k-1 steps.  It has no absorbed write either: dropping the first of the two
writes would give a run of k-1 steps to the same state before step k, and
k is least.  No earlier step of it breaks an invariant (again: k is least).
So BMC finds a run of length k at depth k, and none shorter (every run the
constraints allow is a run of the model).  A "holds up to depth K" is kept
the same way: a breaking run of length at most K would give one the
constraints allow.  The last step is never constrained: its verdict depends
on the state before it, which a swap with it would change.

It is OFF by default, switched on by LGCHECK_POR=1, because it was measured
to slow z3 down where it mattered (docs/engines.md: on the 9-step net-ring
run z3 did 1.62x the work, `rlimit-count`, with it; 0.88-1.09x on the
rings of 1, 2 and 4): the SAT search of these queries is small
(thousands of conflicts) and its cost is the formula's size, which the
constraints do not shrink.  tests/checker/test_por.py checks the proofs
refuse pairs that do not commute, and that both settings give the same
verdicts and shortest lengths.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import z3

from ..spec.ops import SYM_WIDTH
from ..spec.ops import Symbolic as ops
from .config import Config
from .transition import encode_step


def enabled() -> bool:
    """LGCHECK_POR=1: BMC adds the constraints (off by default, see above)."""
    return os.environ.get("LGCHECK_POR", "0") == "1"


@dataclass
class Footprint:
    """What one case may read and write, by field name (from its encoding on a free state)."""

    reads: frozenset
    writes: frozenset


@dataclass
class Reduction:
    """The proved facts bmc.py turns into constraints between adjacent steps."""

    codes: dict  # (guest, action) -> sel code
    independent: set = field(default_factory=set)  # {(c, d)}: cases that commute whatever their parameters
    dma_commutes: set = field(default_factory=set)  # {g}: g's writes to two different descriptors commute
    dma_absorbs: set = field(default_factory=set)  # {g}: g's write followed by one to the same descriptor

    def pair(self, a, b):
        """The constraint on adjacent steps a, b (StepInfo): the canonical order, no absorbed write."""
        out = []
        ka, kb = _by_case(a), _by_case(b)
        for c, code_c in ka.items():
            for d, code_d in kb.items():
                here = ops.And(ops.Eq(a.sel, code_c), ops.Eq(b.sel, code_d))
                if c == d and c[1] == "dma":
                    g = c[0]
                    bad = []
                    if g in self.dma_commutes:
                        bad.append(ops.ULT(b.params["dma"], a.params["dma"]))
                    if g in self.dma_absorbs:
                        bad.append(ops.Eq(b.params["dma"], a.params["dma"]))
                    if bad:
                        out.append(ops.Not(ops.And(here, ops.Or(*bad))))
                elif code_c > code_d and (c, d) in self.independent:
                    out.append(ops.Not(here))
        return out

    def summary(self) -> str:
        return (
            f"{len(self.independent) // 2} independent pairs of actions, descriptor writes commute for "
            f"{len(self.dma_commutes)} Guests, absorb for {len(self.dma_absorbs)}"
        )


def _by_case(info) -> dict:
    return {(c.guest, c.action): _code(c) for c in info.cases}


def _code(case) -> int:
    return case.code


_CACHE: dict = {}


def reduction(cfg: Config, only=None) -> Reduction:
    """The pairs that commute in this configuration (cached: the encoding and proofs take a second or two)."""
    key = (cfg, None if only is None else frozenset(only))
    if key not in _CACHE:
        _CACHE[key] = _build(cfg, only)
    return _CACHE[key]


def _free(cfg, tag):
    from .induction import free_state

    return free_state(cfg, tag)


def _cases(cfg, only):
    st = _free(cfg, "por-probe")
    info = encode_step(cfg, st, "por-probe", [], only)
    return {(c.guest, c.action): _code(c) for c in info.cases}


def footprint(cfg: Config, case, only=None) -> Footprint:
    """The fields `case` ((guest, action)) may read and write, from its encoding on a free state."""
    SYM_WIDTH[0] = cfg.width
    s0 = _free(cfg, "por0")
    before = {name: s0.get(obj, attr, idx) for name, obj, attr, idx in s0.fields()}
    owner = {v.get_id(): name for name, v in before.items()}
    st = s0.copy()
    constraints: list = []
    encode_step(cfg, st, "por", constraints, {case})
    writes, terms = set(), list(constraints)
    for name, obj, attr, idx in st.fields():
        t = st.get(obj, attr, idx)
        if not (z3.is_expr(t) and t.eq(before[name])):
            writes.add(name)
            terms.append(t)
    reads = {owner[v] for v in _constants(terms) if v in owner}
    return Footprint(frozenset(reads), frozenset(writes))


def _constants(terms) -> set:
    """The ids of the uninterpreted constants in `terms` (a DAG walk, each node once)."""
    seen, out = set(), set()
    todo = [t for t in terms if z3.is_expr(t)]
    while todo:
        t = todo.pop()
        i = t.get_id()
        if i in seen:
            continue
        seen.add(i)
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            out.add(i)
        else:
            todo.extend(t.children())
    return out


def independent(f: Footprint, h: Footprint) -> bool:
    """Bernstein's conditions: neither writes what the other reads or writes."""
    return not (f.writes & (h.reads | h.writes)) and not (h.writes & f.reads)


def _two(cfg, first, second, s0):
    """Encode `first` then `second` ((case, tag); case None: no step) from the free state `s0`.

    Returns (the state after, "both were enabled", {tag: the step's parameters}).
    """
    st = s0.copy()
    cons: list = []
    params = {}
    for case, tag in (first, second):
        if case is None:
            continue
        info = encode_step(cfg, st, tag, cons, {case})
        params[tag] = info.params
        st = st.copy()
    return st, ops.And(*[_b(c) for c in cons]), params


def _same(a, b):
    eqs = []
    for (_, obj, attr, idx), (_, bobj, battr, bidx) in zip(a.fields(), b.fields()):
        x, y = _term(a.get(obj, attr, idx)), _term(b.get(bobj, battr, bidx))
        if z3.is_bool(x) != z3.is_bool(y):
            x, y = _as_bv(x), _as_bv(y)
        eqs.append(x == y)
    return z3.And(*eqs)


def _term(v):
    if isinstance(v, bool):
        return z3.BoolVal(v)
    if isinstance(v, int):
        return z3.BitVecVal(v, SYM_WIDTH[0])
    return v


def _as_bv(x):
    return z3.If(x, z3.BitVecVal(1, SYM_WIDTH[0]), z3.BitVecVal(0, SYM_WIDTH[0])) if z3.is_bool(x) else x


def _b(t):
    return z3.BoolVal(t) if isinstance(t, bool) else t


def _unsat(*formulas) -> bool:
    s = z3.SolverFor("QF_BV")
    s.add(*[_b(f) for f in formulas])
    return s.check() == z3.unsat


def commutes(cfg: Config, c, d, cond=None) -> bool:
    """Proved with z3: from any state, c then d and d then c (each with its own parameters) are enabled
    together and reach the same state, wherever `cond(params of c, params of d)` holds."""
    SYM_WIDTH[0] = cfg.width
    s0 = _free(cfg, "porc")
    s_cd, en_cd, p1 = _two(cfg, (c, "porc-x"), (d, "porc-y"), s0)
    s_dc, en_dc, _ = _two(cfg, (d, "porc-y"), (c, "porc-x"), s0)
    where = True if cond is None else cond(p1["porc-x"], p1["porc-y"])
    same = _same(s_cd, s_dc)
    return _unsat(where, en_cd, ops.Not(ops.And(en_dc, same))) and _unsat(where, en_dc, ops.Not(ops.And(en_cd, same)))


def absorbs(cfg: Config, c) -> bool:
    """Proved with z3: c then c on the same descriptor (params x, then y) is enabled only where c with y alone
    is, and reaches the same state."""
    SYM_WIDTH[0] = cfg.width
    s0 = _free(cfg, "pora")
    s_xy, en_xy, p = _two(cfg, (c, "pora-x"), (c, "pora-y"), s0)
    s_y, en_y, _ = _two(cfg, (c, "pora-y"), (None, None), s0)
    where = ops.Eq(p["pora-x"]["dma"], p["pora-y"]["dma"])
    return _unsat(where, en_xy, ops.Not(ops.And(en_y, _same(s_xy, s_y))))


def _build(cfg: Config, only) -> Reduction:
    codes = _cases(cfg, only)
    red = Reduction(codes)
    prints = {c: footprint(cfg, c, only) for c in codes}
    for c in codes:
        for d in codes:
            if c != d and independent(prints[c], prints[d]):
                red.independent.add((c, d))
    for g in range(cfg.guests):
        c = (g, "dma")
        if c not in codes:
            continue
        if commutes(cfg, c, c, lambda x, y: ops.Ne(x["dma"], y["dma"])):
            red.dma_commutes.add(g)
        if absorbs(cfg, c):
            red.dma_absorbs.add(g)
    return red
