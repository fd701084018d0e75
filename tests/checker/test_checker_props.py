"""The checker and replay agree, step by step, on generated runs (hypothesis).

A run of a few Guest and Launcher actions is pinned in the unrolled
transition relation (each step's action and values as solver assumptions);
the model z3 returns is decoded into a trace, and replay of that trace must
report exactly the invariant findings that the symbolic checks say fail at
each step, at that step's records.  This covers the encoding of the
environment, the decoding and the two readings of the spec together.
"""

from __future__ import annotations

import pytest
import z3
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from lgcheck.checker.config import Config
from lgcheck.checker.decode import evaluator, setup_records, step_records
from lgcheck.checker.symstate import SymState
from lgcheck.checker.transition import ACTIONS, encode_step
from lgcheck.replay.engine import replay_records
from lgcheck.replay.records import format_record
from lgcheck.spec.ops import SYM_WIDTH
from lgcheck.spec.registry import INVARIANTS

CFG = Config(depth=4, induction=False)
# Faults that widen what the environment and Host may do, so that violations are common.
FAULTY = Config(
    depth=4,
    induction=False,
    faults=("guest-clears-status", "host-copies-source-length", "launcher-ignores-iov-length", "guest-rebinds-key"),
)
INVARIANT_RULES = {n for names in INVARIANTS.values() for n in names}


def _step(draw, g):
    action = draw(st.sampled_from(["dma", "bind", "send", "status", "status", "fill", "fill", "output"]))
    pins = {}
    if action == "dma":
        pins["dma"] = draw(st.sampled_from(CFG.cells))
        pins["used"] = 0
        lens = [draw(st.sampled_from([0, 1, 100, 4096])) for _ in range(CFG.sections)]
        pins["lens"] = lens
    elif action == "bind":
        key, irq = draw(st.sampled_from(CFG.bindable(g) + [(None, 0)]))
        if key is None:  # an unbind of whatever the model finds bound
            pins["irq"] = 0
        else:
            pins.update(key=key, irq=irq, dmas=draw(st.sampled_from(CFG.arrays)), num=draw(st.integers(1, CFG.buffers)))
    elif action == "send":
        keys = [0, CFG.block_key] + [CFG.net_key(q) for q in range(CFG.guests) if q != g]
        pins["key"] = draw(st.sampled_from(keys))
    elif action == "status":
        pins["dev"] = draw(st.integers(0, 2))
        pins["bit"] = draw(st.sampled_from([1, 2, 4, 128]))
    elif action == "fill":
        pins["key"] = draw(st.sampled_from([0, CFG.block_key]))
        pins["len"] = draw(st.sampled_from([0, 1, 50]))
    return g, action, pins


@st.composite
def runs(draw):
    """1-4 steps; often one Guest acts throughout, starting with a bind, so runs reach deep enough to break things."""
    n = draw(st.integers(1, CFG.depth))
    if draw(st.booleans()):
        g = draw(st.integers(0, CFG.guests - 1))
        key, irq = draw(st.sampled_from(CFG.bindable(g)))
        first = (g, "bind", {"key": key, "irq": irq, "dmas": CFG.arrays[0], "num": 1})
        return [first] + [_step(draw, g) for _ in range(n - 1)]
    return [_step(draw, draw(st.integers(0, CFG.guests - 1))) for _ in range(n)]


@pytest.mark.parametrize("cfg", [CFG, FAULTY], ids=["2.6.23", "faulty"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(run=runs(), break_last=st.booleans())
def test_replay_reports_what_the_symbolic_checks_say(cfg, run, break_last):
    """break_last asks the solver for a run whose last step breaks some invariant (when one can)."""
    broken = agree(cfg, run, break_last)
    assume(broken is not None)  # the run asked for something the model does not allow
    for rules in broken:
        if rules:
            event(f"breaks {sorted(rules)}")


BIND_CONSOLE = (0, "bind", {"key": 0, "irq": Config.CONSOLE_IRQ, "dmas": CFG.arrays[0], "num": 1})


@pytest.mark.parametrize(
    "cfg, run, break_last, rule",
    [
        # The console flood: the second input lands on the unread first (2.6.23 GETDMA).
        (
            CFG,
            [
                BIND_CONSOLE,
                (0, "dma", {"dma": CFG.arrays[0], "used": 0, "lens": [1, 0]}),
                (0, "fill", {"key": 0, "len": 1}),
                (0, "fill", {"key": 0, "len": 0}),
            ],
            False,
            "write-to-used-buffer",
        ),
        (FAULTY, [BIND_CONSOLE, (0, "fill", {"key": 0, "len": 1})], False, "buffer-overflow"),
        (FAULTY, [(1, "status", {"dev": 0, "bit": 1}), (1, "status", {"dev": 0, "bit": 1})], True, "status-cleared"),
        (FAULTY, [BIND_CONSOLE, BIND_CONSOLE], False, "key-collision"),
    ],
    ids=["console-flood", "overflow", "cleared", "rebind"],
)
def test_agreement_on_runs_that_break_an_invariant(cfg, run, break_last, rule):
    broken = agree(cfg, run, break_last)
    assert broken is not None, "the scenario must be a run of the model"
    assert rule in broken[-1]


def agree(cfg, run, break_last):
    """Pin `run` in the unrolled model, decode, replay; assert agreement step by step.

    Returns the invariant rules broken at each step, or None when the model
    has no such run.
    """
    SYM_WIDTH[0] = cfg.width
    state = SymState(cfg)
    solver = z3.SolverFor("QF_BV")
    infos, pins = [], []
    for k, (g, action, values) in enumerate(run):
        constraints: list = []
        state = state.copy()
        info = encode_step(cfg, state, k, constraints)
        state.snapshot(k + 1, constraints)
        solver.add(*constraints)
        infos.append(info)
        pins.append(info.sel == g * len(ACTIONS) + ACTIONS.index(action))
        for name, v in values.items():
            var = info.params[name]
            if isinstance(var, list):
                pins.extend(x == y for x, y in zip(var, v))
            else:
                pins.append(var == v)
    if break_last and infos[-1].checks:
        pins.append(
            z3.Or(*[z3.Not(ok) if not isinstance(ok, bool) else z3.BoolVal(not ok) for _, ok in infos[-1].checks])
        )
    if solver.check(*pins) != z3.sat:
        return None
    value = evaluator(solver.model())

    records = setup_records(cfg)
    step_lines = []
    for info in infos:
        recs = step_records(info, value)[2]
        first = len(records) + 1
        records.extend(recs)
        step_lines.append(set(range(first, len(records) + 1)))
    if any(r.kind == "g.bind_dma" and r.fields["irq"] and r.fields["result"] == 0 for r in records):
        # The model's table (cfg.slots) filled up; replay has the kernel's 32 slots, so the two
        # readings are not of one state there (prove's counterexamples never need a full table).
        return None
    for i, r in enumerate(records, 1):
        r.line, r.text = i, format_record(r)
    result = replay_records(iter(records), "generated.lgt", launcher=cfg.launcher, faults=cfg.faults)
    assert result.error is None

    broken = []
    for k, (info, lines) in enumerate(zip(infos, step_lines)):
        symbolic = {n for n, ok in info.checks if value(ok) is False}
        concrete = {f.rule for f in result.findings if f.line in lines and f.rule in INVARIANT_RULES}
        listing = "\n".join(r.text for r in records)
        assert symbolic == concrete, f"step {k + 1}: symbolic {symbolic} <--> replay {concrete}\n{listing}"
        broken.append(symbolic)
    # Nothing else: no divergence, no unknown field, no bad-dma in a conforming run.
    assert {f.rule for f in result.findings} <= INVARIANT_RULES, result.findings
    return broken
