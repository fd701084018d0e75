"""The copy lemma: data-corrupted proved once for one copy, then cut out of the model's queries.

Whether a copy moves the right bytes depends only on the two descriptors'
sections and the length delivered: the copy's runs (spec/host.py
copy_data_steps) and the data-corrupted monitor's reads (spec/monitors.py
byte_at) are functions of those and nothing else.  Proving it inside a step
of the whole model makes the solver redo the copy's offset arithmetic under
every choice of sender, binding and entry, and at 2 sections that does not
settle; asked alone, over free sections, it does.  So the proof is split
(the usual lemma cut of compositional proofs):

  (l) the lemma: for any two descriptors of distinct Guests whose sections
      are as a conforming driver builds them (transition._sections_ok), and
      any length up to the smaller of their totals, the copy then the
      monitor's check, at any offset, hold;
  (c) the step: whenever a delivery happens, its descriptors are so shaped
      and its length is within those totals (`precondition`).

(l) and (c) together give the monitor's check for every delivery of the
step: the check there is the lemma's formula applied to the delivery's own
sections and length, which (c) says meet the lemma's hypothesis.  The
descriptors' sections are read where the monitor reads them, right after
the copy; a send writes no section (only used_len), so they are the values
the copy read.  (A step's encoding holds every action under exclusive
guards; a run another case's delivery left in a Guest's memory is under a
guard that is false wherever this delivery happens.)  The Guests in (l) are 0 and 1: send_dma never delivers to
the sender, and the formulas name a Guest only in its bytes' tags, so any
other pair of distinct Guests is the same lemma renamed.

Where (l) fails (2.6.23's copy_data), nothing is cut: the step keeps the
monitor's own check, and BMC finds the defect.  BMC uses the cut too, as a
filter: (c) unsatisfiable at depth k implies the check holds there; where
(c) can fail, the monitor's own check is asked.  Certificates carry (l)
(checker/certificate.py), rebuilt from the model like the other queries.
"""

from __future__ import annotations

import time

import z3

from ..spec.host import copy_data_steps
from ..spec.monitors import observe
from ..spec.ops import SYM_WIDTH
from ..spec.ops import Symbolic as ops
from .config import Config

INVARIANT = "data-corrupted"
_CACHE: dict = {}  # the lemma's answer per model (the parent's answer is inherited by forked engines)


def _shape(cfg: Config, secs):
    from .transition import _sections_ok  # transition imports the state, which imports this module

    return _sections_ok(cfg, {"addrs": [a for a, _ in secs], "lens": [ln for _, ln in secs]})


def _total(secs):
    """The bytes a descriptor's sections hold: their lengths up to the first 0 (summed here)."""
    total, ended = 0, False
    for _, ln in secs:
        ended = ops.Or(ended, ops.Eq(ln, 0))
        total = ops.Add(total, ops.If(ended, 0, ln))
    return total


def precondition(st, src, dst, length):
    """The lemma's hypothesis for one delivery: both descriptors shaped, the length within both totals."""
    (sg, sa), (dg, da) = src, dst
    s = [st.rd_section(sg, sa, j) for j in range(st.sections)]
    d = [st.rd_section(dg, da, j) for j in range(st.sections)]
    return ops.And(_shape(st.cfg, s), _shape(st.cfg, d), ops.ULE(length, ops.Min(_total(s), _total(d))))


def query(cfg: Config) -> list:
    """(l) as formulas whose conjunction is unsatisfiable iff the lemma holds: hypothesis and a failed check."""
    from .induction import free_state

    SYM_WIDTH[0] = cfg.width
    st = free_state(cfg, "copy")
    st.cuts = None  # the lemma itself is asked on the monitor's own check
    src, dst = (0, st.cells[0][0].addr), (1, st.cells[1][0].addr)
    length = z3.BitVec("copy.length", cfg.width)
    steps = copy_data_steps(ops, st, src[0], src[1], dst[0], dst[1], cfg.host)
    st.deliver_bytes(src, dst, length, steps, "the Host's copy")
    observe(ops, st)
    checks = [ok for name, ok in st.checks if name == INVARIANT]
    if not checks:
        raise RuntimeError("the data-corrupted monitor filed no check for a copy")
    pre = precondition(st, src, dst, length)
    return [pre, ops.Not(ops.And(*checks))]


def key(cfg: Config) -> tuple:
    return (cfg.host, cfg.sections, cfg.width, cfg.guest_mode, cfg.ram_pages, tuple(sorted(cfg.faults)))


BUDGET = 120.0  # seconds prove gives the lemma before the engines start (20 s at 2 sections, load 5)
_GAVE_UP = object()


def holds(cfg: Config, deadline: float | None = None, budget: float | None = None) -> bool | None:
    """Whether (l) holds for this model: True, False, or None (the solver gave up or the time ran out).

    With a `budget`, an answer not found within it is remembered as None, so
    that the engines forked after the call do not ask again: the model then
    keeps the monitor's own check (sound, only slower).
    """
    if cfg.guests < 2:
        return False
    k = key(cfg)
    if k not in _CACHE:
        solver = z3.SolverFor("QF_BV")
        limits = [] if budget is None else [budget]
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            limits.append(left)
        if limits:
            solver.set("timeout", max(1, int(min(limits) * 1000)))
        solver.add(*query(cfg))
        answer = solver.check()
        if answer == z3.unknown:
            if budget is not None:
                _CACHE[k] = _GAVE_UP
            return None  # without a budget not remembered: a later call with more time may settle it
        _CACHE[k] = answer == z3.unsat
    got = _CACHE[k]
    return None if got is _GAVE_UP else got


def asked(cfg: Config) -> bool:
    """Whether prove is asked about data (then the lemma is worth settling before the engines start)."""
    return INVARIANT in cfg.invariants or "data" in cfg.invariants
