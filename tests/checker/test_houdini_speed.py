"""Houdini's two speed-ups (checker/prefilter.py, checker/cases.py) change no answer of induction.prove.

The prefilter drops candidates false on a reachable state before the first
query: the lemmas Houdini keeps must be the same with and without it, and the
states it judges must be reachable ones.  The split asks each query once per
action of the step: the same kept lemmas and the same verdicts (proved, how,
with which lemmas, unknown) as the one query over the whole step.
"""

from __future__ import annotations

import itertools

import z3

from lgcheck.checker import bfs, bmc, cases, induction, prefilter
from lgcheck.checker.config import Config
from lgcheck.checker.symstate import SymState
from lgcheck.spec.ops import SYM_WIDTH

# Any Guest (hostile: binds any key): some candidates are false in reachable states.  One slot, one
# buffer, one section: every query below takes well under a second.
HOSTILE = dict(guest_mode="any", slots=1, buffers=1, sections=1, invariants=("keys",), k_max=1)


def _candidates(cfg):
    SYM_WIDTH[0] = cfg.width
    init = SymState(cfg)
    return [n for n, t in induction.lemmas(cfg, init) if z3.is_true(z3.simplify(induction._b(t)))]


def test_prefilter_keeps_what_houdini_keeps_and_drops_what_a_reachable_state_breaks():
    cfg = Config(**HOSTILE)
    names = bmc.rule_names(cfg)
    dropped = prefilter.false_somewhere(cfg, _candidates(cfg), induction.lemmas)
    # A hostile Guest's binds are not its drivers' (transition.perform records no driver for it): for each
    # Guest the walk meets a live slot on some driver's key that no driver bound.  (Which driver depends on
    # the walk's path: since a Launcher's exit stops its Guest, g0's is driver 2's, no longer driver 1's.)
    for g in range(cfg.guests):
        family = [n for n in dropped if n.startswith(f"g{g}.slot0: live on driver ")]
        assert any(n.endswith("bound it, with this array") for n in family), g
    states = list(itertools.islice(prefilter.walk(cfg), max(dropped.values()) + 1))
    for n, i in dropped.items():
        assert dict(induction.lemmas(cfg, states[i]))[n] is False  # false on the walk's i-th state
    _, kept_without = induction.prove(cfg, names, split=False, prefilter_states=False)
    _, kept_with = induction.prove(cfg, names, split=False, prefilter_states=True)
    assert kept_with == kept_without
    assert not set(dropped) & set(kept_without)


def test_prefilter_judges_reachable_states_only():
    """Each state of the walks is the initial state or a successor, by the search's own steps, of the one before."""
    cfg = Config(guests=2, slots=2, buffers=1, sections=1)
    dom = bfs.domains(cfg)
    secs = bfs._sections(cfg, dom)
    menu = bfs.Menu(cfg, dom, secs)
    states = list(itertools.islice(prefilter.walk(cfg), 150))
    init = states[0]
    assert bfs.fingerprint(init, False) == bfs.fingerprint(SymState(cfg), False)
    restarts = 0
    for before, st in zip(states, states[1:]):
        if st is init:
            restarts += 1
            continue
        steps = bfs.successors(cfg, dom, secs, before, bfs.enabled_actions(cfg), menu)
        assert bfs.fingerprint(st, False) in {bfs.fingerprint(new, False) for _, new, _, _ in steps}
    assert restarts >= 2  # walks of prefilter.WALK steps, started again
    assert any(b.interrupt for st in states for g in range(cfg.guests) for b in st.slots(g))  # bindings were made


def _answers(verdicts):
    return {n: (v.proved, v.vacuous, v.lemmas, v.unknown, v.k) for n, v in verdicts.items()}


def test_split_by_action_gives_the_same_lemmas_and_verdicts():
    # The 2.6.23 Launcher: some invariants are proved (with lemmas, or vacuously), some are not.
    for cfg in (Config(slots=1, buffers=1, sections=1, k_max=1), Config(**HOSTILE)):
        names = bmc.rule_names(cfg)
        whole, kept_whole = induction.prove(cfg, names, split=False, prefilter_states=False)
        split, kept_split = induction.prove(cfg, names, split=True, prefilter_states=False)
        assert kept_split == kept_whole
        assert _answers(split) == _answers(whole)
        assert {n for n, v in whole.items() if not v.proved} == {n for n, v in split.items() if not v.proved}


def test_split_answers_sat_with_a_model_of_the_whole_query():
    """A query only one action can satisfy: sat, with that action's model; unsat's core is the cases' union."""
    cfg = Config(guests=1, slots=1, buffers=1, sections=1)
    SYM_WIDTH[0] = cfg.width
    st = induction.free_state(cfg, "t")
    constraints: list = []
    info = induction.encode_step(cfg, st, "t", constraints)
    solver = cases.Split(info.sel, cases.codes(info))
    solver.add(*constraints)
    bind = bfs.action_code(0, "bind")
    a, b = z3.Bools("a b")
    solver.add(a == (info.sel == bind), b == z3.BoolVal(False))
    assert solver.check(a) == z3.sat
    assert z3.is_true(solver.model().eval(a, model_completion=True))
    assert solver.check(b) == z3.unsat
    assert [str(x) for x in solver.unsat_core()] == ["b"]


def test_prefilter_walks_a_model_that_checks_data():
    """With the data invariants asked, the walk runs without the bytes and still judges the sections' lemmas."""
    cfg = Config(launcher="checked", sysfs=False, slots=1, buffers=1, sections=2, invariants=("keys", "data"))
    names = _candidates(cfg)
    assert any("sections as a conforming driver builds them" in n for n in names)
    # Houdini keeps all 19 of them here: a drop would be a lemma false on a state the model cannot reach.
    assert prefilter.false_somewhere(cfg, names, induction.lemmas, budget=2.0) == {}
