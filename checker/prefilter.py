"""Houdini's candidate lemmas, filtered on reachable states before the first solver query (Daikon-style).

Houdini (checker/induction.py prove) keeps the largest subset of the
candidates that holds initially and is kept by every step: every lemma it
keeps holds in every reachable state.  So a candidate that is false in some
reachable state is never kept, and dropping it before Houdini starts gives
Houdini the same answer (the largest inductive subset of the rest is the
same set) while sparing it the solver queries that would find that out, each
of them a query over every candidate still in play.

The reachable states come from the model's own steps: random walks from the
initial state, each step one move the explicit-state search
(checker/bfs.py `successors`) would take: a Guest and an action, then
parameters from the candidates BMC's `domain` keeps (bfs.Menu), performed by
the compiled concrete reading of the same rules (bfs.COMPILED_RULES).  No
descriptor write is deferred (the Menu is built without `defer`), so every
state visited is a concrete state of the model.  A lemma is dropped only
when its term folds to False on such a state; a term that does not fold (it
should always fold: the state holds plain ints) keeps the lemma.

The walk stops at its time budget or once QUIET steps in a row have dropped
nothing new (whichever comes first), so the filter costs little where
Houdini is cheap anyway.  LGCHECK_PREFILTER=0 switches it off (to measure).
"""

from __future__ import annotations

import os
import random
import time

import z3

from .bfs import COMPILED_RULES, Menu, SearchState, _sections, domains, enabled_actions, successor_copy
from .config import Config
from .transition import Case, perform

BUDGET = 5.0  # seconds at most
QUIET = 150  # steps in a row that drop nothing new: the walk has likely found what it will find
WALK = 60  # steps per walk before it starts again from the initial state


def enabled() -> bool:
    return os.environ.get("LGCHECK_PREFILTER", "1") != "0"


def _false(t) -> bool:
    """Whether a lemma's term is False on a concrete state (a term that did not fold is not False)."""
    if t is False:
        return True
    if t is True or isinstance(t, bool):
        return False
    return z3.is_false(z3.simplify(t))


def walk(cfg: Config, seed: int = 0, actions=None):
    """Yield reachable states of `cfg`'s model forever: random walks of the model's steps from the initial state.

    `actions`: the actions the walks take (default: every action the model enables).
    """
    from ..spec.ops import Concrete

    rng = random.Random(seed)
    menu = Menu(cfg, domains(cfg), _sections(cfg, domains(cfg)), compiled=True, defer=False)
    actions = [a for a in (enabled_actions(cfg) if actions is None else actions) if a != "output"]
    init = SearchState(cfg)
    # The bytes a send copies are the data monitor's alone (no rule reads them; the search does not model
    # them): without them the walk's states are the same, and its steps' copies inherit the flag.
    init.has_bytes = False
    while True:
        st = init
        yield st
        for _ in range(WALK):
            live = [g for g in range(cfg.guests) if not st.dead[g]]
            if not live:
                break
            g = rng.choice(live)
            if st.pending[g]:
                action = "output"  # a Launcher with output waiting handles it first (bfs.successors)
            else:
                action = rng.choice(actions)
            moves = menu.get(st, g, action)
            if not moves:
                continue
            new = successor_copy(st, g, action)
            perform(Concrete, cfg, new, g, action, rng.choice(moves), True, Case(g, action, True), COMPILED_RULES)
            new.checks, new.filed = [], set()
            st = new
            yield st


def false_somewhere(cfg: Config, names, lemmas_of, budget: float = BUDGET, deadline: float | None = None) -> dict:
    """{lemma name: the number of the walk's state where it is false} for each of `names` false on a reachable state.

    `lemmas_of(cfg, st)` gives the candidates over a state (induction.lemmas).
    """
    todo = set(names)
    out: dict = {}
    stop = time.monotonic() + budget
    if deadline is not None:
        stop = min(stop, deadline)
    since = 0
    data = SearchState(cfg).has_bytes  # prove checks data: the sections' lemmas are candidates too
    for i, st in enumerate(walk(cfg)):
        if not todo or since >= QUIET or (i % 16 == 0 and time.monotonic() >= stop):
            break
        since += 1
        st.has_bytes = data  # lemmas() states the sections' lemmas only then (they read the sections alone)
        try:
            terms = lemmas_of(cfg, st)
        finally:
            st.has_bytes = False
        for n, t in terms:
            if n in todo and _false(t):
                todo.discard(n)
                out[n] = i
                since = 0
    return out
