"""The two readings of the spec agree (CrossHair's compare_results, for our rules).

For a generated scenario inside the checker's shapes (2 Guests,
Config(slots=2, buffers=2, sections=2), descriptors only at config.cells)
and one generated action (bind_dma, hcall_send_dma, fill, handle_output,
status_write, send_irq, release_all_dma), the action runs

- on ConcreteState with Concrete ops (replay's reading), and
- on SymState with Symbolic ops, every field and argument a z3 constant
  pinned to the same value (the checker's reading, at its width:
  SYM_WIDTH[0] = Config.width = 16; every value of the scenario fits),

and the two post-states must agree field by field: every binding's owner,
off, dmas, num_dmas, next_dma, interrupt and recency; every cell's
used_len; statuses; pending sends; irqs (as far as they fit in 16 bits);
dead flags; the effects that happened (kind and values); the rule's result;
and the names of the invariant checks that failed.  A mismatch prints each
differing field as `left <--symbolic-vs-concrete--> right`.

Where the representations differ (spec_fixtures.World explains): the
concrete table's slots from `slots` on are held by padding bindings no key
reaches, so "table full" means the same in both; bound arrays hold at most
`buffers` entries and live at config.arrays, so every entry the Host reads
is a cell.
"""

from __future__ import annotations

import sys
from itertools import permutations
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as hs

from lgcheck.checker.config import Config
from lgcheck.checker.symstate import SymBinding
from lgcheck.spec import constants as C
from lgcheck.spec.state import Binding

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spec_fixtures import BINDING_FIELDS, World, futex, restore_width  # noqa: E402

_restore_width = pytest.fixture(autouse=True)(restore_width)

CFG = Config(slots=2, buffers=2, sections=2)
assert CFG.guests == 2 and CFG.width == 16
MASK = (1 << CFG.width) - 1
NETS = [CFG.net_key(0), CFG.net_key(1)]  # on the shared page: the keys that reach across Guests
KEYS = [0, CFG.block_key, *NETS]
CELLS = CFG.cells
DATA = [0x2000, 0x3000, 0x2F00, 0x2FFF, CFG.pfn_limit * C.PAGE_SIZE - 0x100, CFG.pfn_limit * C.PAGE_SIZE, 0x0, 0x5000]
IDS = [(g, s) for g in range(CFG.guests) for s in range(CFG.slots)]


# ------------------------------------------------------------------ strategies
def keys(known=KEYS, aligned_only=False):
    """Mostly the given keys (the config's, or the scenario's), sometimes any 4-aligned key, or an unaligned one."""
    aligned = hs.one_of(hs.sampled_from(known), hs.sampled_from(known), hs.integers(0, MASK >> 2).map(lambda x: x << 2))
    if aligned_only:
        return aligned
    return hs.one_of(aligned, aligned, hs.tuples(hs.sampled_from(known), hs.integers(1, 3)).map(sum))


lengths = hs.one_of(hs.integers(1, 300), hs.sampled_from([1, 0x100, 0xFF, 4095, 4096, 4097]))
sections = hs.lists(hs.tuples(hs.one_of(hs.sampled_from(DATA), hs.integers(0x2000, 0x3FFF)), lengths), max_size=2)


@hs.composite
def bindings(draw):
    return dict(
        key=draw(keys(KEYS + NETS, aligned_only=True)),
        dmas=draw(hs.sampled_from(CFG.arrays)),
        num=draw(hs.sampled_from([0, 1, 2, 2, 2])),
        next_dma=draw(hs.sampled_from([0, 1, 2, 3, 0xFFFF])),
        irq=draw(hs.integers(1, 31)),
        live=draw(hs.sampled_from([True, True, False])),
    )


@hs.composite
def scenarios(draw):
    bound = {i: draw(bindings()) for i in IDS if draw(hs.integers(0, 3))}
    order = draw(hs.permutations(sorted(bound)))
    cells = {
        (g, a): (draw(hs.sampled_from([0, 0, 0, 0, 0, 9, 40, 300])), draw(sections))
        for g in range(CFG.guests)
        for a in CELLS
    }
    status = {(g, d): draw(hs.sampled_from([0, 1, 3, 7, 8, 0x8F])) for g in range(CFG.guests) for d in range(3)}
    irqs = [draw(hs.just(0) | hs.integers(0, MASK)) for _ in range(CFG.guests)]
    dead = [draw(hs.integers(0, 9)) == 0 for _ in range(CFG.guests)]
    pending = [draw(hs.none() | hs.tuples(keys(), hs.sampled_from(CELLS))) for _ in range(CFG.guests)]
    return dict(bound=bound, order=order, cells=cells, status=status, irqs=irqs, dead=dead, pending=pending)


# Weighted towards the actions with the most paths (send: pending, drop, deliver, full, kills).
ACTIONS = ("bind", "unbind", "send", "send", "send", "fill", "fill", "output", "status", "irq", "close")


@hs.composite
def cases(draw):
    """A scenario and an action; the action's key is mostly one the scenario binds, by the Guest that can reach it."""
    sc = draw(scenarios())
    kind = draw(hs.sampled_from(ACTIONS))
    g = draw(hs.integers(0, CFG.guests - 1))
    known = sorted(set(KEYS) | {b["key"] for b in sc["bound"].values()})
    key = draw(keys(known))
    dmas = draw(hs.sampled_from(CFG.arrays + [CFG.send_cell]))
    # Aim at a binding: a send comes from the other Guest on a key of the
    # shared page (only those reach across), a fill or an unbind from the
    # binding's own Guest.
    shared = {i for i, b in sc["bound"].items() if futex(CFG, 0, b["key"])[0] == C.SHARED_OWNER}
    targets = sorted(i for i in sc["bound"] if kind != "send" or i in shared)
    if targets and kind in ("unbind", "send", "fill") and draw(hs.integers(0, 3)):
        (h, slot) = draw(hs.sampled_from(targets))
        b = sc["bound"][(h, slot)]
        key, dmas = b["key"], b["dmas"]
        g = 1 - h if kind == "send" else h
    if kind == "bind":
        irq = draw(hs.sampled_from([1, 2, 3, 17, 31, 32, 200]))
        return sc, (kind, g, key, dmas, draw(hs.integers(0, CFG.buffers)), irq)
    if kind == "unbind":
        return sc, ("bind", g, key, dmas, draw(hs.integers(0, CFG.buffers)), 0)
    if kind == "send":
        return sc, (kind, g, key, draw(hs.sampled_from([CFG.send_cell, *CELLS])))
    if kind == "fill":
        return sc, (kind, g, key, draw(hs.integers(0, 300) | hs.just(5000)), draw(hs.booleans()))
    if kind == "output":
        return sc, (kind, g, key, draw(hs.sampled_from(CELLS)))
    if kind == "status":
        dev = draw(hs.integers(0, 2))
        value = draw(hs.sampled_from([0, 1, 3, 7, 8, 0xF, 0x8F, 0x10]))
        return sc, (kind, g, dev, value, draw(hs.sampled_from(["guest", "launcher"])))
    if kind == "irq":
        return sc, (kind, g, draw(hs.sampled_from([0, 1, 5, 15, 16, 31, 32])))
    return sc, (kind, g)


# ------------------------------------------------------------------ running one reading
def build(reading, sc) -> World:
    w = World(reading, CFG, pad_table=True)
    for g, s in sc["order"]:
        w.bind(g, s, **sc["bound"][(g, s)])
    for (g, a), (used, secs) in sc["cells"].items():
        w.desc(g, a, used, secs)
    for (g, d), v in sc["status"].items():
        w.set_status(g, d, v)
    for g in range(CFG.guests):
        w.set_irqs(g, sc["irqs"][g])
        if sc["dead"][g]:
            w.set_dead(g)
        if sc["pending"][g] is not None:
            w.set_pending(g, *sc["pending"][g])
    return w


def run(w: World, action):
    kind, g, *args = action
    if kind == "bind":
        return w.bind_dma(g, *args)
    if kind == "send":
        w.send(g, *args)
    elif kind == "fill":
        key, length, checked = args
        w.fill(g, key, length, checked)
    elif kind == "output":
        w.output(g)
    elif kind == "status":
        w.status_write(g, *args)
    elif kind == "irq":
        w.send_irq(g, *args)
    elif kind == "close":
        w.close(g)
    else:  # pragma: no cover
        raise ValueError(kind)
    return None


def _norm(w: World, v):
    """An effect field as a comparable value: Bindings by (guest, slot), slot selections by what they select."""
    if isinstance(v, str) or v is None:
        return v
    if isinstance(v, (Binding, SymBinding)):
        return ("binding", v.guest, v.slot)
    if isinstance(v, tuple):
        return tuple(_norm(w, x) for x in v)
    if isinstance(v, list):  # [(binding, selected)]: the selected slots
        return tuple(sorted((b.guest, b.slot) for b, sel in v if w.val(sel)))
    return w.val(v)


def observe(w: World, result) -> dict:
    """Every observable of the post-state, by name."""
    out = {"result": result}
    out["effects"] = [(e.kind, {k: _norm(w, v) for k, v in sorted(e.f.items())}) for e in w.happened(w.effects)]
    for g in range(CFG.guests):
        for s in range(CFG.slots):
            b = w.binding(g, s)
            for f in BINDING_FIELDS:
                out[f"g{g}.slot{s}.{f}"] = b[f]
        for a in CELLS:
            out[f"g{g}.{a:#x}.used_len"] = w.used_len(g, a)
        for d in range(3):
            out[f"g{g}.dev{d}.status"] = w.status(g, d)
        out[f"g{g}.irqs"] = w.irqs(g) & MASK
        # (Whether it runs again, and whether its send may be answered: the checked model keeps a Launcher's
        # exit as `dead` and a cleared `pending`, checker/symstate.py close; the concrete state, replay's,
        # keeps it apart from a kill to word its findings.)
        out[f"g{g}.dead"] = w.stopped(g)
        out[f"g{g}.pending"] = w.awaiting(g)
    for x, y in permutations(IDS, 2):
        out[f"g{x[0]}.slot{x[1]}-after-g{y[0]}.slot{y[1]}"] = w.newer(*x, *y)
    out["failed-checks"] = sorted(w.failed())
    return out


def prepare(sc, action):
    """The scenario the action needs: an `output` answers a pending send of its Guest."""
    if action[0] == "output":
        _, g, key, dma = action
        sc = dict(sc, pending=[(key, dma) if i == g else p for i, p in enumerate(sc["pending"])])
    return sc


def compare(sc, action):
    """Run both readings; return the differences as `left <--symbolic-vs-concrete--> right` lines."""
    sc = prepare(sc, action)
    left_w, right_w = build("symbolic", sc), build("concrete", sc)
    left = observe(left_w, run(left_w, action))
    right = observe(right_w, run(right_w, action))
    return [
        f"{k}: {left.get(k)!r} <--symbolic-vs-concrete--> {right.get(k)!r}"
        for k in dict.fromkeys(list(left) + list(right))
        if left.get(k) != right.get(k)
    ]


# ------------------------------------------------------------------ the property
NET1 = CFG.net_key(1)
RECEIVER = dict(
    bound={(1, 0): dict(key=NET1, dmas=CFG.arrays[0], num=2, next_dma=1, irq=1, live=True)},
    order=[(1, 0)],
    cells={(g, a): (0, [(0x2000, 40)]) for g in range(2) for a in CELLS},
    status={(g, d): 0 for g in range(2) for d in range(3)},
    irqs=[0, 0],
    dead=[False, False],
    pending=[None, None],
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
@example(case=(RECEIVER, ("send", 0, NET1, CFG.send_cell)))  # a guest-to-guest delivery
@example(case=(RECEIVER, ("bind", 1, NET1, CFG.arrays[0], 0, 0)))  # an unbind
@example(case=(RECEIVER, ("fill", 1, NET1, 50, False)))  # a fill on the shared key
@example(  # a full receiver: both attempts
    case=(
        dict(RECEIVER, cells={**RECEIVER["cells"], (1, 0x1000): (5, []), (1, 0x1064): (6, [])}),
        ("send", 0, NET1, CFG.send_cell),
    )
)
@example(  # a full table: both of g0's slots live (the concrete padding holds the other 30)
    case=(
        dict(
            RECEIVER,
            bound={(0, s): dict(key=4 * s, dmas=CFG.arrays[s], num=1, next_dma=0, irq=3, live=True) for s in (0, 1)},
            order=[(0, 0), (0, 1)],
        ),
        ("bind", 0, CFG.block_key, CFG.arrays[0], 1, 2),
    )
)
def test_symbolic_and_concrete_readings_agree(case):
    sc, action = case
    diffs = compare(sc, action)
    assert not diffs, f"action {action}\n" + "\n".join(diffs)


def test_a_disagreement_is_reported_side_by_side(monkeypatch):
    """The comparison is not vacuous: a symbolic state that searches one entry too few is caught, field by field."""
    from lgcheck.checker.symstate import SymState

    monkeypatch.setattr(SymState, "bound", lambda self, n: 1)
    sc = dict(RECEIVER, cells={**RECEIVER["cells"], (1, 0x1064): (5, [])})  # entry 1 (the cursor's) is used
    diffs = compare(sc, ("send", 0, NET1, CFG.send_cell))
    assert "g1.slot0.next_dma: 1 <--symbolic-vs-concrete--> 2" in diffs
    assert "g1.0x1000.used_len: 0 <--symbolic-vs-concrete--> 40" in diffs
