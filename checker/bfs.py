"""Explicit-state search: the spec's concrete reading, breadth-first over the reachable states.

The same rules as replay and BMC (spec/ with `Concrete` ops), run on a
SymState that holds plain ints: checker/transition.py `domain` says what an
action may choose, `perform` does it; here the parameters are concrete
candidates (`candidates`, bounded value domains taken from the
configuration), each kept only when BMC's own `domain` constraint folds to
True for it.  The monitors judge every step as they do in BMC and replay (a
check that folds to False is a violation).

Breadth-first with parent pointers: the first step that breaks an invariant
ends a shortest run (over these domains).  When no new state is left, every
open invariant holds in every reachable state: a proof for the
configuration, reported with the number of states.  A counterexample goes
back to BMC's encoding (`witness`): the run's actions and values are fixed
on a z3 unrolling, whose model then flows through the same shrink, decode,
replay-check and write passes as a BMC counterexample.

Speed (docs/engines.md): the search performs spec/compiled.py's reading of
the rules on a SearchState whose descriptors and devices are copied on
write, with cached fingerprint parts and candidate menus, and keeps a
frontier of fingerprints.  `defer` (--defer-writes) lets a descriptor write
take its value at its first read (`Deferred`, `concretize`): the same
verdicts and shortest runs.

Symmetry: Guests are interchangeable only when the configuration treats
them alike (same devices, same keys to bind and to send on: under the fault
two-guests-one-slot); then a state is stored under one permutation of its
Guests, chosen by sorting their parts, with Guest numbers inside the state
(a binding's owner) renamed.  Slots are never permuted: unbind takes the
first slot in index order whose key and dmas match, live or not, and bind
the lowest free one, so a slot's index changes what the Host does.
"""

from __future__ import annotations

import gc
import itertools
import operator
import os
import resource
import time
from dataclasses import dataclass, field

from ..spec import compiled as _compiled
from ..spec import constants as C
from ..spec import monitors as _monitors
from ..spec.effects import outcome_name
from ..spec.ops import SYM_WIDTH, Concrete
from ..spec.registry import INVARIANTS
from .config import Config
from .symstate import Cell, SymBinding, SymDevice, SymState, _clone, _clone_cell
from .transition import ACTIONS, DRIVER_BITS, STATUS_ACTIONS, Case, domain, fill_keys, perform, send_keys

ENGINES = ("bmc", "bfs", "auto")


@dataclass(frozen=True)
class Domains:
    """The values a Guest or the Launcher's input may take in the search (the rest is BMC's alone)."""

    lengths: tuple  # a section's length (a conforming section: at most a page, from the start of its page)
    inputs: tuple  # the input a Launcher finds waiting (bytes)
    statuses: tuple  # a whole status field Guest userspace writes through sysfs

    def describe(self) -> str:
        return (
            f"section lengths {{{', '.join(map(str, self.lengths))}}}, input lengths "
            f"0..{max(self.inputs)}, sysfs status values: every subset of the {len(C.STATUS_BITS)} named bits"
        )


def domains(cfg: Config) -> Domains:
    """Sections of length 1 give every capacity from 0 to `sections`; input up to one more than the largest.

    No rule or monitor looks at a length but to add, compare or take the
    minimum of lengths and used_len values, and every such sum here stays far
    below a page; what can differ between two buffers is which holds more,
    and those orders are all reachable with unit lengths.  (That is the
    argument, not a proof: the exhausted search is a proof over these domains.)
    """
    lengths = (1,)
    inputs = tuple(range(0, max(lengths) * cfg.sections + 2))
    bits = list(C.STATUS_BITS.values())
    statuses = tuple(sorted({sum(s) for n in range(len(bits) + 1) for s in itertools.combinations(bits, n)}))
    return Domains(lengths, inputs, statuses)


def _sections(cfg: Config, dom: Domains):
    """(addrs, lens) a conforming driver builds: n sections at the start of data pages, then zeros."""
    lo, hi = cfg.data_pages
    out = []
    for n in range(cfg.sections + 1):
        for lens in itertools.product(dom.lengths, repeat=n):
            addrs = [(lo + j % (hi - lo)) * C.PAGE_SIZE for j in range(n)]
            pad = [0] * (cfg.sections - n)
            out.append((addrs + pad, list(lens) + pad))
    return out


def candidates(cfg: Config, dom: Domains, sections, st: SymState, g: int, action: str, only=None):
    """Parameter values to try for `action` of Guest g; `domain` then keeps those BMC allows.

    `only`: for dma, the index of the one cell to write; for bind, the one driver (else every one).
    """
    if action == "dma":
        for c in st.cells[g] if only is None else [st.cells[g][only]]:
            for used in dict.fromkeys((0, c.used_len)):
                for addrs, lens in sections:
                    if used == c.used_len and addrs == c.addrs and lens == c.lens:
                        continue  # rewriting what is there changes nothing: no new state
                    yield {"dma": c.addr, "used": used, "addrs": addrs, "lens": lens}
    elif action == "bind":
        for d, (key, irq) in enumerate(cfg.bindable(g)):
            if only is not None and d != only:
                continue
            for dmas in cfg.bind_arrays(d):
                for num in cfg.bind_nums(d):
                    yield {"drv": d, "key": key, "irq": irq, "dmas": dmas, "num": num}
            yield {"drv": d, "key": key, "irq": 0, "num": 0, "dmas": st.drv_dmas[g][d]}
    elif action == "send":
        for key in dict.fromkeys(send_keys(cfg, g)):
            yield {"dma": cfg.send_cell, "key": key}
    elif action == "status":
        for dev in range(3):
            old = st.status(g, dev)
            for bit in DRIVER_BITS:
                values = [old | bit]
                if "guest-clears-status" in cfg.faults:
                    values.append(old & ~bit)
                for value in dict.fromkeys(values):
                    yield {"dev": dev, "bit": bit, "value": value}
    elif action == "sysfs":
        for dev in range(3):
            for value in dom.statuses:
                yield {"dev": dev, "value": value, "bit": 0}
    elif action == "output":
        yield {}
    elif action == "fill":
        for key in fill_keys(cfg):
            for length in dom.inputs:
                yield {"key": key, "len": length}
    elif action == "lstatus":
        for dev in range(3):
            yield {"dev": dev}
    else:  # pragma: no cover - the actions are closed
        raise ValueError(action)


def enabled_actions(cfg: Config) -> list[str]:
    return [
        a
        for a in ACTIONS
        if not (a == "lstatus" and "launcher-sets-driver-ok" not in cfg.faults) and not (a == "sysfs" and not cfg.sysfs)
    ]


def successors(cfg: Config, dom: Domains, sections, st: SymState, actions, menu: "Menu | None" = None, fired=None):
    """(move, next state, names of the invariants the step breaks, g or None) for every step from `st`.

    A move is (guest, action, params, resolved): `resolved` names the
    deferred descriptors the step read and the value each was given
    (`Deferred`, below); `concretize` turns a run of moves into one of
    (guest, action, params) that writes those values.  The last item is
    the Guest whose part alone changed (a LOCAL action), else None.
    `fired` (a set): each step adds the effects that happened (their outcome names, checker/coverage.py).
    """
    menu = Menu(cfg, dom, sections) if menu is None else menu
    if st.__dict__.keys() != _KNOWN:  # pragma: no cover - a field successor_copy does not know of
        raise TypeError("the search's state has a field successor_copy does not copy")
    rules = COMPILED_RULES if menu.compiled else None
    defer = menu.defer
    for g in range(cfg.guests):
        if st.dead[g]:
            continue
        for action in actions:
            if (action == "output") != bool(st.pending[g]):
                continue
            if action == "dma" and defer:
                for i, c in enumerate(st.cells[g]):
                    if c.used_len >= 0:  # a deferred descriptor written again stays deferred: no new state
                        new = st.resolve(g, i, (-1 - c.used_len, menu.zeros, menu.zeros))
                        yield (g, action, menu.deferred_write(g, i), ()), new, set(), g
                continue
            local = action in LOCAL
            if action == "bind" and cfg.num_skbs:  # its domain reads descriptors, which may be deferred
                pairs = menu.moves(st, g, action)
            else:
                pairs = zip(menu.get(st, g, action), itertools.repeat((st, ())))
            for p, first in pairs:
                todo = [first]
                while todo:
                    base, resolved = todo.pop()
                    new = successor_copy(base, g, action)
                    case = Case(g, action, True)
                    try:
                        perform(Concrete, cfg, new, g, action, p, True, case, rules)
                    except Deferred as d:  # the step reads a deferred descriptor: once per value it may hold
                        for v in menu.values(base, d.g, d.i):
                            todo.append((base.resolve(d.g, d.i, v), resolved + (((d.g, d.i), v),)))
                        continue
                    broken = {n for n, ok in new.checks if ok is False}
                    new.checks, new.filed = [], set()
                    if fired is not None:
                        fired.update(outcome_name(e) for e in case.effects if e.when is True)
                    yield (g, action, p, resolved), new, broken, g if local else None


class Deferred(Exception):
    """A rule read descriptor `i` of Guest `g`, written by a deferred write: it must be given a value first."""

    def __init__(self, g: int, i: int):
        super().__init__(g, i)
        self.g, self.i = g, i


def concretize(cfg: Config, moves) -> list:
    """(guest, action, params) for each move: a deferred write gets the value its descriptor was read with.

    Every write of a chain of deferred writes to one descriptor writes the
    value the first step that read it gave it (the first is allowed it: the
    value's used_len is 0 or the one before the chain; the others rewrite
    the same value, which `domain` allows too); a chain no step read writes
    used_len 0 and no section, which `domain` allows too.  witness() then
    checks the run on BMC's encoding.
    """
    out = [[g, action, p] for g, action, p, _ in moves]
    chains: dict = {}
    for k, (g, action, p, resolved) in enumerate(moves):
        for (h, i), (used, addrs, lens) in resolved:
            for j in chains.pop((h, i), []):
                out[j][2] = {"dma": out[j][2]["dma"], "used": used, "addrs": list(addrs), "lens": list(lens)}
        if action == "dma" and "deferred" in p:
            chains.setdefault((g, p["deferred"]), []).append(k)
    for js in chains.values():
        for j in js:
            out[j][2] = {"dma": out[j][2]["dma"], "used": 0, "addrs": [0] * cfg.sections, "lens": [0] * cfg.sections}
    return [tuple(m) for m in out]


# The rules the search performs: spec/compiled.py's concrete reading of spec/ (what replay runs), the same
# rules as BMC's without a Python call per `ops.X`; tests/checker/test_engines.py checks that a search with
# the interpreted rules reaches the same states.  LGCHECK_INTERPRETED=1 makes both the interpreted ones.
COMPILED_RULES = {
    "bind_dma": _compiled.bind_dma,
    "hcall_send_dma": _compiled.hcall_send_dma,
    "status_write": _compiled.status_write,
    "fill": _compiled.fill,
    "handle_output": _compiled.handle_output,
    "apply": _compiled.apply,
}


class Menu:
    """The candidates BMC's `domain` keeps, per Guest, action and the part of the state both read (cached).

    `candidates` and `domain` read, of the state: for dma, the one cell
    written (its used_len, and its contents to skip a rewrite of them); for
    bind, the drivers' record of what Guest g bound (drv_bound, drv_dmas);
    for a status write, Guest g's three statuses; for the other actions,
    nothing.  So the list they give is a function of (Guest, action, that
    part), and is computed once per such key, by the same two functions, on
    the first state that has it.  A dma menu is kept per cell (its domain
    reads that cell alone) and the lists are joined.
    """

    def __init__(self, cfg: Config, dom: Domains, sections, compiled: bool = True, defer: bool = False):
        self.cfg, self.dom, self.sections, self.compiled = cfg, dom, sections, compiled
        self.defer = defer and cfg.guest_mode == "conforming"
        self.zeros = (0,) * cfg.sections
        self.cache: dict = {}
        self.ready_entries: dict = {}  # driver -> the addresses of the entries its bind reads (bind_menu)

    def deferred_write(self, g: int, i: int) -> dict:
        """The params of a deferred write of Guest g's descriptor i (its values come at the first read)."""
        key = (g, "deferred", i)
        p = self.cache.get(key)
        if p is None:
            p = self.cache[key] = {"dma": self.cfg.cells[i], "deferred": i}
        return p

    def values(self, st: SymState, g: int, i: int) -> list:
        """What Guest g's deferred descriptor i may hold: every (used, addrs, lens) a write of it allows.

        That is `candidates` and `domain` for a dma write of that descriptor
        when it held the used_len it had before the deferred writes (kept in
        the deferred value, -1 - used_len) and no section, with the one
        value `candidates` skips there as a rewrite of what is there: every
        used_len 0 or the old one, with every section list a driver builds
        (the old sections are one of those: only a Guest writes sections).
        A descriptor written again while deferred allows the same values, so
        one deferred value stands for any chain of writes.
        """
        old = -1 - st.cells[g][i].used_len
        key = (g, "values", i, old)
        vs = self.cache.get(key)
        if vs is None:
            was = st.resolve(g, i, (old, self.zeros, self.zeros))
            vs = [(old, self.zeros, self.zeros)]
            vs += [(p["used"], tuple(p["addrs"]), tuple(p["lens"])) for p in self._fresh(was, g, "dma", i)]
            vs = self.cache[key] = list(dict.fromkeys(vs))
        return vs

    def _fresh(self, st, g, action, only=None):
        cfg = self.cfg
        out = []
        for p in candidates(cfg, self.dom, self.sections, st, g, action, only):
            if domain(Concrete, cfg, st, g, action, p, True) is True:
                out.append(p)
        return out

    def moves(self, st: SymState, g: int, action: str):
        """(params, (state, resolved)) for each candidate `get` keeps in `st`.

        With --num-skbs a bind's domain reads the array the driver binds
        (transition._ready): where that read meets a deferred descriptor,
        the menu is asked of each value it may hold, as `successors` does
        for a rule's read, and the move records the value (`resolved`).
        """
        for d in range(len(self.cfg.bindable(g))):  # per driver: each reads its own array alone
            todo = [(st, ())]
            while todo:
                base, resolved = todo.pop()
                try:
                    ps = self.bind_menu(base, g, d)
                except Deferred as e:
                    for v in self.values(base, e.g, e.i):
                        todo.append((base.resolve(e.g, e.i, v), resolved + (((e.g, e.i), v),)))
                    continue
                for p in ps:
                    yield p, (base, resolved)

    def bind_menu(self, st: SymState, g: int, d: int) -> list:
        """With --num-skbs: the binds of Guest g's driver d, keyed by what its domain reads."""
        cells = st.cells[g]
        # Exactly the entries transition._ready reads (the driver's array, bind_nums(d) of them): a key
        # that left one out would serve a menu cached before that entry was ready (seen at 7 entries).
        entries = self.ready_entries.get(d)
        if entries is None:
            base, n = self.cfg.driver_array(d), self.cfg.bind_nums(d)[0]
            entries = self.ready_entries[d] = frozenset(base + i * C.DMA_SIZE for i in range(n))
        ready = tuple((c.used_len, c.lens[0] if c.lens else 0) for c in cells if c.addr in entries)
        key = (g, "bind", d, st.drv_bound[g][d], st.drv_dmas[g][d], ready)
        m = self.cache.get(key)
        if m is None:
            m = self.cache[key] = self._fresh(st, g, "bind", d)
        return m

    def get(self, st: SymState, g: int, action: str) -> list:
        cache = self.cache
        if action == "dma":
            out = []
            for i, c in enumerate(st.cells[g]):
                key = (g, i, c.used_len, tuple(c.addrs), tuple(c.lens))
                m = cache.get(key)
                if m is None:
                    m = cache[key] = self._fresh(st, g, action, i)
                out += m
            return out
        if action == "bind" and self.cfg.num_skbs:  # a 2.6.23 driver binds only a ready array (transition._ready)
            return [p for d in range(len(self.cfg.bindable(g))) for p in self.bind_menu(st, g, d)]
        if action == "bind":
            key = (g, action, tuple(st.drv_bound[g]), tuple(st.drv_dmas[g]))
        elif action == "status":
            key = (g, action, st.status(g, 0), st.status(g, 1), st.status(g, 2))
        else:
            key = (g, action)
        m = cache.get(key)
        if m is None:
            m = cache[key] = self._fresh(st, g, action)
        return m


# Actions that change only Guest g's own part of the state (a descriptor it writes, its devices' status):
# the new state shares the bindings, irqs, pending, the drivers' record and the binding order with the old one.
LOCAL = ("dma", "status", "sysfs", "lstatus")


def _clone_binding_code() -> str:
    lines = ["def _clone_binding(b):", "    n = _new(SymBinding)"]
    lines += [f"    n.{f} = b.{f}" for f in SymBinding.__slots__]
    return "\n".join(lines + ["    return n"])


exec(_clone_binding_code(), {"_new": object.__new__, "SymBinding": SymBinding}, _ns := {})
_clone_binding = _ns["_clone_binding"]  # straight-line code: a third of symstate._clone's time


def _set_binding_code() -> str:
    lines = ["def _set_binding(b, vals):", f"    {', '.join('b.' + f for f in SymBinding.FIELDS)}, = vals"]
    return "\n".join(lines)


exec(_set_binding_code(), {}, _ns)
_set_binding = _ns["_set_binding"]


def _cell(addr, value):
    c = object.__new__(Cell)
    c.addr, c.used_len, c.addrs, c.lens = addr, value[0], list(value[1]), list(value[2])
    return c


class SearchState(SymState):
    """SymState for the search: copies share descriptors and devices until a write (copy-on-write).

    Every write to a descriptor goes through `write_cell` or `wr_used_len`,
    and every write to a device through `set_status` (spec/ changes the
    state only through the state interface; grep "used_len =" finds no
    other writer).  Each of them first makes the written Guest's row its
    own (`_mine`), so a successor never changes what its parent shares with
    it, and forgets that Guest's cached fingerprint part (`_cfp`, `_dfp`),
    which `fingerprint` otherwise reuses.  The values are plain ints and
    bools (the Concrete reading): a guard is True or False.
    """

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        n = cfg.guests
        self._mine = (1 << n) - 1  # bit g: this state owns Guest g's descriptor row
        self._dmine = (1 << n) - 1  # bit g: this state owns Guest g's devices
        self._cfp = [None] * n  # per Guest: its descriptors as a fingerprint part, or None (not known)
        self._dfp = [None] * n  # per Guest: its devices' statuses, likewise
        self.monitored = None  # {write kind: monitors} the cone watches (spec/monitors.py observe), None: all

    def copy(self) -> "SearchState":
        return successor_copy(self, 0, "")

    def _own_cells(self, g):
        if not self._mine >> g & 1:
            self.cells[g] = [_clone_cell(c) for c in self.cells[g]]
            self._mine |= 1 << g
        self._cfp[g] = None
        return self.cells[g]

    def _read(self, g, addr, get):
        if type(addr) is int:
            for i, c in enumerate(self.cells[g]):
                if c.addr == addr:
                    if c.used_len < 0:
                        raise Deferred(g, i)
                    return get(c)
            return 0
        return super()._read(g, addr, get)  # pragma: no cover - the search's values are ints

    def resolve(self, g: int, i: int, value) -> "SearchState":
        """A copy with Guest g's descriptor i holding `value` (used, addrs, lens): a deferred write decided."""
        new = successor_copy(self, g, "dma")
        c = new._own_cells(g)[i]
        c.used_len, c.addrs, c.lens = value[0], list(value[1]), list(value[2])
        return new

    def write_cell(self, g, addr, used_len, addrs, lens, when):
        if when is False:
            return
        if when is not True:
            raise TypeError("the search's state takes a concrete guard")
        for c in self._own_cells(g):
            if c.addr == addr:
                c.used_len, c.addrs, c.lens = used_len, list(addrs), list(lens)

    def wr_used_len(self, g, addr, value, when=True):
        if when is False:
            return
        if when is not True:
            raise TypeError("the search's state takes a concrete guard")
        for i, c in enumerate(self.cells[g]):
            if c.addr == addr and c.used_len < 0:
                raise Deferred(g, i)
        for c in self._own_cells(g):
            if c.addr == addr:
                c.used_len = value

    # SymState's versions of these two build each value with Symbolic ops under the guard; with a guard
    # that is True they set the value, with False they change nothing: the same, without the ops calls.
    def set_binding(self, b, when=True, **fields):
        if when is False:
            return
        if when is not True:
            raise TypeError("the search's state takes a concrete guard")
        for k, v in fields.items():
            setattr(b, k, v)

    def mark_newest(self, b, when=True):
        if when is False:
            return
        if when is not True:
            raise TypeError("the search's state takes a concrete guard")
        me = (b.guest, b.slot)
        order = self.order
        for x, y in order:
            if x == me:
                order[(x, y)] = True
            elif y == me:
                order[(x, y)] = False

    def set_status(self, g, dev, value, who="guest", when=True):
        if when is not False and dev in self.devs[g]:
            if not self._dmine >> g & 1:
                self.devs = list(self.devs)
                self.devs[g] = {i: _clone(d, SymDevice) for i, d in self.devs[g].items()}
                self._dmine |= 1 << g
            self._dfp[g] = None
        super().set_status(g, dev, value, who, when)


def successor_copy(st: SearchState, g: int, action: str) -> SearchState:
    """The state a step of `action` by Guest g starts from: shared where the step cannot write.

    Descriptors and devices are always shared (copy-on-write, SearchState).
    A LOCAL action writes nothing else (dma is `write_cell` on Guest g's
    cells; a status write is `set_status`), so it shares the rest too; any
    other action gets its own bindings, order and per-Guest lists.
    """
    new = object.__new__(SearchState)
    d = new.__dict__
    d.update(st.__dict__)
    new.cells = list(st.cells)
    new._mine = new._dmine = 0
    new._cfp, new._dfp = list(st._cfp), list(st._dfp)
    if action not in LOCAL:
        new.bindings = [[_clone_binding(b) for b in row] for row in st.bindings]
        new.irqs, new.dead = list(st.irqs), list(st.dead)
        new.pending, new.pkey, new.pdma = list(st.pending), list(st.pkey), list(st.pdma)
        new.order = dict(st.order)
        new.drv_bound = [list(r) for r in st.drv_bound]
        new.drv_dmas = [list(r) for r in st.drv_dmas]
    new.checks, new.filed, new.log = [], set(), []
    new.runs, new._probe, new._mem = {}, None, {}
    new.cuts = None if st.cuts is None else []
    return new


_KNOWN = frozenset(SearchState(Config(guests=1, slots=1, buffers=1, sections=1)).__dict__)  # what it copies


# ---------------------------------------------------------------- fingerprints
_BINDING = operator.attrgetter(*SymBinding.FIELDS)


def _cells_part(st, g):
    return tuple((c.used_len, tuple(c.addrs), tuple(c.lens)) for c in st.cells[g])


def _devs_part(st, g):
    return tuple(d.status for _, d in sorted(st.devs[g].items()))


def _guest_part(st: SymState, g: int, rename=None):
    """Guest g's part of a fingerprint; the descriptors' and devices' parts cached on a SearchState."""
    if rename is None:
        binds = tuple(map(_BINDING, st.bindings[g]))
    else:
        binds = []
        for b in st.bindings[g]:
            vals = list(_BINDING(b))
            # owner, nowner: a Guest number (or a share, NO_OWNER)
            vals[0] = rename[vals[0]] if vals[0] < len(rename) else vals[0]
            vals[7] = rename[vals[7]] if vals[7] < len(rename) else vals[7]
            binds.append(tuple(vals))
        binds = tuple(binds)
    cfp = getattr(st, "_cfp", None)
    if cfp is None:
        cells, devs = _cells_part(st, g), _devs_part(st, g)
    else:
        cells, devs = cfp[g], st._dfp[g]
        if cells is None:
            cells = cfp[g] = _cells_part(st, g)
        if devs is None:
            devs = st._dfp[g] = _devs_part(st, g)
    return (
        binds,
        cells,
        devs,
        st.irqs[g],
        st.dead[g],
        st.pending[g],
        st.pkey[g],
        st.pdma[g],
        tuple(st.drv_bound[g]),
        tuple(st.drv_dmas[g]),
    )


assert SymBinding.FIELDS[0] == "owner" and SymBinding.FIELDS[7] == "nowner"


def symmetric(cfg: Config) -> bool:
    """Whether every Guest has the same devices, the same keys to bind and the same keys to send on."""
    first = (cfg.devices(0), cfg.bindable(0), sorted(set(send_keys(cfg, 0))))
    return all((cfg.devices(g), cfg.bindable(g), sorted(set(send_keys(cfg, g)))) == first for g in range(cfg.guests))


def fingerprint(st: SymState, sym: bool):
    """The state as a tuple (every field of SymState.fields()); with `sym`, its Guests in a canonical order.

    Any permutation gives an exact encoding of a permuted state, so states
    with one fingerprint are symmetric (sound); sorting by the parts makes
    symmetric states mostly share one (the reduction).
    """
    n = st.cfg.guests
    if not sym or n == 1:
        return tuple(_guest_part(st, g) for g in range(n)) + (tuple(st.order.values()),)
    perm = sorted(range(n), key=lambda g: _guest_part(st, g))  # perm[i]: the Guest that goes to place i
    place = [0] * n
    for i, g in enumerate(perm):
        place[g] = i
    parts = tuple(_guest_part(st, g, place) for g in perm)
    order = tuple(
        st.order[((perm[bi], bs), (perm[ci], cs))]
        for (bi, bs), (ci, cs) in st.order  # the same key order
    )
    return parts + (order,)


# ---------------------------------------------------------------- the search
INTERRUPTED = "interrupted (Ctrl-C)"


def cones(cfg: Config, names) -> list[tuple[list, list]]:
    """The invariants split by what can affect them, each with the actions that can: (names, actions).

    No rule of the Host or the Launcher reads a device's status (spec/host.py,
    spec/launcher.py: status is only written, by spec/devices.status_write),
    and a status write changes nothing but the status.  So the status
    invariants are judged on runs of status writes alone (any other step can
    only stop a Guest from writing: removing it keeps the run and shortens
    it), and the other invariants on runs without status writes (which would
    only add states that differ in status).  Both searches are exact for
    their invariants, shortest runs included, and far smaller than one over
    the product.
    """
    actions = enabled_actions(cfg)
    status = [n for n in names if n in INVARIANTS["status"]]
    rest = [n for n in names if n not in status]
    out = []
    if rest:
        out.append((rest, [a for a in actions if a not in STATUS_ACTIONS]))
    if status:
        out.append((status, [a for a in actions if a in STATUS_ACTIONS]))
    return out


@dataclass
class Found:
    invariant: str
    steps: int
    path: list  # [(guest, action, params)] from the initial state
    seconds: float


@dataclass
class Outcome:
    """What the search learned: per invariant a shortest run, or (for the rest) how far it got."""

    found: dict = field(default_factory=dict)  # invariant -> Found
    states: int = 0
    depth: int = 0  # every run of up to this many steps was explored (the shallowest cone)
    exhausted: bool = False  # no new state is left in any cone: what is not found holds everywhere
    stopped: str = ""  # why the search stopped early (a limit), else ""
    seconds: float = 0.0
    memory_mib: float = 0.0
    domains: str = ""
    symmetry: bool = False
    deferred: bool = False  # descriptor writes were deferred (`Deferred`): states are of the reduced search
    per: dict = field(default_factory=dict)  # invariant -> (states of its cone, depth, exhausted)
    digests: dict = field(default_factory=dict)  # invariant -> digest of its exhausted cone's states (`digest`)
    seen: dict = field(default_factory=dict)  # invariant -> its exhausted cone's fingerprints (the state set)


class Cone:
    """One breadth-first search: its invariants, its actions, the states it has seen and its frontier."""

    def __init__(self, cfg, names, actions, sym, dom, secs, compiled=True, defer=False):
        self.cfg, self.names, self.actions, self.sym, self.dom, self.secs = cfg, names, actions, sym, dom, secs
        init = SearchState(cfg)
        # Only this cone's invariants are watched: a check of another is never reported here (`level`
        # reports `broken & open`), and no monitor changes what a later step does.
        init.monitored = (_compiled.MODULE["monitors"] if compiled else _monitors).by_kind(names)
        self.proto = init
        self.seen = {fingerprint(init, sym): 0}
        self.parent, self.moves = [-1], [None]
        # Without symmetry the frontier holds fingerprints, each made a state again when it is expanded
        # (`state`): a fingerprint is every field of the state, and it is already stored in `seen`, so the
        # frontier costs no memory of its own (whole states took two thirds of the search's memory).
        # With symmetry a fingerprint is a permuted state, and the run to it must name the unpermuted
        # Guests: the frontier keeps the states.
        self.compact = not sym
        self.frontier = [(0, next(iter(self.seen)) if self.compact else init)]
        self.open = set(names)
        self.menu = Menu(cfg, dom, secs, compiled, defer)
        self.depth = 0
        self.exhausted = False

    def state(self, fp) -> SearchState:
        """The state whose fingerprint (without symmetry) is `fp`: every field set from it.

        The inverse of `fingerprint(st, False)` field by field (`_guest_part`'s
        order; the binding order's values in `SymState.order`'s key order);
        the descriptors' and devices' parts are kept as the state's cached ones.
        """
        st = successor_copy(self.proto, 0, "")  # its own bindings, order and per-Guest lists
        cells, devs = list(st.cells), list(st.devs)
        for g, (binds, cs, ds, irq, dead, pend, pkey, pdma, bound, dmas) in enumerate(fp[:-1]):
            for b, vals in zip(st.bindings[g], binds):
                _set_binding(b, vals)
            cells[g] = [_cell(c.addr, v) for c, v in zip(st.cells[g], cs)]
            own = {}
            for (i, d), status in zip(sorted(st.devs[g].items()), ds):
                own[i] = d2 = _clone(d, SymDevice)
                d2.status = status
            devs[g] = own
            st.irqs[g], st.dead[g], st.pending[g], st.pkey[g], st.pdma[g] = irq, dead, pend, pkey, pdma
            st.drv_bound[g], st.drv_dmas[g] = list(bound), list(dmas)
            st._cfp[g], st._dfp[g] = cs, ds
        st.cells, st.devs = cells, devs
        st._mine = st._dmine = (1 << len(cells)) - 1
        st.order = dict(zip(self.proto.order, fp[-1]))
        return st

    def path_to(self, i, last=None):
        """The run to state i (then `last`), as (guest, action, params) with the deferred writes decided."""
        p = [] if last is None else [last]
        while i > 0:
            p.append(self.moves[i])
            i = self.parent[i]
        return concretize(self.cfg, p[::-1])

    def level(self, found, check):
        """Expand the frontier by one step; `found(Found)` for each first violation; `check()` may stop it."""
        nxt = []
        seen, parent, moves = self.seen, self.parent, self.moves
        sym = self.sym
        compact = self.compact
        for i, item in self.frontier:
            if compact:
                st, parts = self.state(item), item
            else:
                st, parts = item, None
            for move, new, broken, g in successors(self.cfg, self.dom, self.secs, st, self.actions, self.menu):
                hit = broken & self.open
                for n in hit:
                    self.open.discard(n)
                    found(Found(n, self.depth + 1, self.path_to(i, move), 0.0))
                if g is not None and parts is not None:
                    fp = parts[:g] + (_guest_part(new, g),) + parts[g + 1 :]  # only Guest g's part changed
                else:
                    fp = fingerprint(new, sym)
                if fp not in seen:
                    seen[fp] = len(parent)
                    nxt.append((len(parent), fp if compact else new))
                    parent.append(i)
                    moves.append(move)
                if hit and not self.open:
                    # Every invariant of the cone is answered: this state's later successors would only be
                    # counted (bfs_jobs stops at the same successor, so both count the same states).
                    break
            if not self.open:
                self.frontier = []
                return ""
            why = check()  # after each state expanded: a limit overshoots by one state's successors at most
            if why:
                return why
        self.frontier = nxt
        self.depth += 1
        self.exhausted = not nxt
        return ""

    @property
    def busy(self) -> bool:
        return bool(self.frontier) and bool(self.open) and self.depth < self.cfg.depth


def unsuited(cfg: Config, names) -> str | None:
    """Why the search cannot answer for `names` in this model, or None (the CLI, auto, certify and search ask it)."""
    if cfg.guest_mode != "conforming":
        return "explores conforming Guests only (an arbitrary Guest's values have no small domain to enumerate)"
    if "data-corrupted" in names:
        # States here carry no section contents (tags live in the symbolic state only), so the search
        # could not tell a corrupted copy from a good one.
        return "keeps no section contents, so it cannot judge data-corrupted"
    return None


def search(
    cfg: Config,
    names,
    max_states: int | None = None,
    max_memory_mib: float | None = None,
    deadline: float | None = None,
    on_found=None,
    on_level=None,
    sym: bool | None = None,
    compiled: bool = True,
    defer: bool = False,
    jobs: int = 1,
) -> Outcome:
    """Breadth-first, cone by cone (`cones`), the smallest frontier first, to `cfg.depth` steps or every state.

    `on_found(Found)` is called at each invariant's first violation,
    `on_level(names, depth, seconds, states)` when a cone has explored every
    run of `depth` steps.  `compiled=False` performs the written (interpreted) rules; `defer` defers
    descriptor writes (`Deferred`; not with Guest symmetry, where it is ignored).  `jobs` > 1 expands each
    level with that many worker processes (checker/bfs_jobs.py: the same states, numbers and runs).
    """
    why = unsuited(cfg, names)
    if why:
        raise ValueError(f"the explicit-state search {why}")
    start = time.monotonic()
    dom = domains(cfg)
    secs = _sections(cfg, dom)
    sym = (symmetric(cfg) and cfg.guests > 1) if sym is None else sym
    defer = defer and not sym and cfg.guest_mode == "conforming"
    out = Outcome(domains=dom.describe(), symmetry=sym, deferred=defer)
    todo = [Cone(cfg, ns, acts, sym, dom, secs, compiled, defer) for ns, acts in cones(cfg, names)]

    def found(f):
        f.seconds = time.monotonic() - start
        out.found[f.invariant] = f
        if on_found is not None:
            on_found(f)

    def total():
        return sum(len(c.parent) for c in todo)

    pool = None  # --jobs: checker/bfs_jobs.py's workers, started below

    def check():
        return _limit(total(), max_states, max_memory_mib, deadline, pool)

    # The search allocates many small objects that live until it ends: Python's cyclic collector would
    # scan them all again and again (it took a third of the time).  Its states hold no cycles that must
    # be freed early, so it runs rarely here (not never), and as before once the search is over.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 100_000), 50, 1000)
    try:
        if jobs > 1:
            from .bfs_jobs import Workers

            pool = Workers(cfg, todo, jobs)
        while not out.stopped:
            busy = [c for c in todo if c.busy]
            if not busy:
                break
            cone = min(busy, key=lambda c: len(c.frontier))
            out.stopped = (cone.level(found, check) if pool is None else pool.level(cone, found, check)) or check()
            if on_level is not None and not out.stopped and cone.open:
                on_level(sorted(cone.open), cone.depth, time.monotonic() - start, len(cone.parent))
    except KeyboardInterrupt:
        out.stopped = INTERRUPTED  # what was found is kept (and written), the rest is unknown
    finally:
        gc.set_threshold(*thresholds)
        if pool is not None:
            out.memory_mib = pool.memory_mib()  # the workers' own memory, added to this process's below
            pool.close()
    for c in todo:
        fp_digest = digest(c.seen) if c.exhausted else None
        for n in c.names:
            out.per[n] = (len(c.parent), c.depth, c.exhausted)
            if fp_digest is not None:
                out.digests[n], out.seen[n] = fp_digest, c.seen
    left = [c for c in todo if c.open]
    out.exhausted = all(c.exhausted for c in left)
    out.depth = min((c.depth for c in left), default=max(c.depth for c in todo))
    out.states = total()
    out.seconds = time.monotonic() - start
    out.memory_mib += _rss_mib()
    return out


def covered(fp, seen, sections) -> bool:
    """Whether a deferred search's state set holds a state standing for the concrete state `fp` (no symmetry).

    A stored state stands for `fp` when it is `fp` or differs from it only in
    descriptors it holds deferred (-1 - old used_len) whose value in `fp`
    is one a deferred write allows: used_len 0 or the old one, and a
    section list a driver builds (`sections`, as `_sections` gives).
    """
    if fp in seen:
        return True
    secs = {(tuple(a), tuple(ln)) for a, ln in sections}

    def strip(f):
        return tuple(part[:1] + part[2:] for part in f[:-1]) + (f[-1],)

    key = strip(fp)
    alike = [f for f in seen if strip(f) == key]  # one pass: asked once per counterexample to induction
    for f in alike:
        ok = True
        for part, mine in zip(f[:-1], fp[:-1]):
            for (u, a, ln), (cu, ca, cl) in zip(part[1], mine[1]):
                if (u, a, ln) == (cu, ca, cl):
                    continue
                if u >= 0 or cu not in (0, -1 - u) or (ca, cl) not in secs:
                    ok = False
                    break
            if not ok:
                break
        if ok:
            return True
    return False


def digest(seen) -> str:
    """SHA-256 of the sorted fingerprints (their repr, one a line): the state set a certificate names.

    A fingerprint is a tuple of ints, bools and tuples, so its repr is the
    same in every process; sorting makes the digest independent of the order
    the states were found in.
    """
    import hashlib

    h = hashlib.sha256()
    for line in sorted(repr(fp) for fp in seen):
        h.update(line.encode())
        h.update(b"\n")
    return h.hexdigest()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _limit(states, max_states, max_memory_mib, deadline, pool=None) -> str:
    if max_states is not None and states >= max_states:
        return f"state limit reached ({states:,} states, --max-states {max_states:,})"
    if deadline is not None and time.monotonic() >= deadline:
        return "time limit reached"
    if max_memory_mib is not None:
        used = _address_space_mib() + (0.0 if pool is None else pool.memory_mib())  # --jobs: the workers' too
        if used >= 0.8 * max_memory_mib:
            return f"memory limit reached ({used:.0f} MiB of --max-memory {max_memory_mib:g})"
    return ""


def _address_space_mib() -> float:
    """The process's address space (what --max-memory limits, RLIMIT_AS), else its peak resident size."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return _rss_mib()


# ---------------------------------------------------------------- back to BMC's encoding
class NotInEncoding(Exception):
    """A run the search found has no model in BMC's encoding: the two readings disagree (an internal error)."""


def action_code(g: int, action: str) -> int:
    """The value of BMC's `sel` that chooses `action` of Guest g (transition.encode_step numbers them so)."""
    return g * len(ACTIONS) + ACTIONS.index(action)


def witness(cfg: Config, found: dict):
    """A BMC unrolling and, per invariant, a z3 model of its run: what shrink, decode and write read.

    The run's actions are fixed by an assumption literal (the one shrink
    keeps asking with), its values only for the first model, so shrink may
    still make them smaller.  Returns (unrolling, {invariant: (model, literal)}).
    """
    import z3

    from .bmc import Unrolling
    from .transition import encode_step

    SYM_WIDTH[0] = cfg.width
    solver = z3.SolverFor("QF_BV")
    st = SymState(cfg)
    unrolling = Unrolling(cfg, st.copy(), solver=solver)
    longest = max(f.steps for f in found.values())
    for k in range(longest):
        constraints: list = []
        st = st.copy()
        # Only the actions the runs take at step k (their `sel` is fixed below); every action where a
        # shorter run has ended, since its model must still take some step there.
        only = {(g, a) for f in found.values() for g, a, _ in f.path[k : k + 1]}
        info = encode_step(cfg, st, k, constraints, only if all(f.steps > k for f in found.values()) else None)
        st.snapshot(k + 1, constraints)
        solver.add(*constraints)
        unrolling.infos.append(info)
        unrolling.states.append(st)
    models = {}
    for name, f in found.items():
        fixed_actions, fixed_values = [], []
        for info, (g, action, p) in zip(unrolling.infos, f.path):
            fixed_actions.append(info.sel == action_code(g, action))
            for key, v in p.items():
                var = info.params[key]
                if isinstance(var, list):
                    fixed_values += [x == y for x, y in zip(var, v)]
                else:
                    fixed_values.append(var == v)
        lit = z3.Bool(f"bfs-run:{name}")
        solver.add(lit == z3.And(_violates(unrolling, f, name), *fixed_actions))
        if solver.check(lit, *fixed_values) != z3.sat:
            raise NotInEncoding(
                f"the explicit-state search found a run of {f.steps} steps that breaks {name}, "
                "but BMC's encoding has no such run"
            )
        models[name] = (solver.model(), lit)
    return unrolling, models


def concrete_run(cfg: Config, path):
    """A run the search found, as decoding reads a BMC unrolling: each step performed again on plain ints.

    The steps are the spec's rules as the search performed them (Concrete
    ops, spec/compiled.py's reading) on a SearchState, from the initial
    state; each step's info holds the one case that fired (guard
    True), its concrete parameters and effects, and the checks its monitors
    filed.  checker/decode.py reads it with `concrete` where it reads a BMC
    unrolling with a z3 model: the same records, explanation and ITF, with no
    solver (`witness` still checks the run on BMC's encoding, afterwards).
    """
    from .bmc import Unrolling
    from .transition import StepInfo

    st = SearchState(cfg)
    unrolling = Unrolling(cfg, st)
    for k, (g, action, p) in enumerate(path):
        new = successor_copy(st, g, action)
        case = Case(g, action, True)
        perform(Concrete, cfg, new, g, action, p, True, case, COMPILED_RULES)
        unrolling.infos.append(StepInfo(k, action_code(g, action), p, [case], new.checks, new.filed))
        new.checks, new.filed = [], set()
        unrolling.states.append(new)
        st = new
    return unrolling


def _breaks(cfg: Config, path, name: str) -> bool:
    """Whether `path` is a run (each step allowed: its Guest running, `domain` True) whose last step breaks `name`."""
    st = SearchState(cfg)
    for k, (g, action, p) in enumerate(path):
        if st.dead[g] or (action == "output") != bool(st.pending[g]):
            return False
        if domain(Concrete, cfg, st, g, action, p, True) is not True:
            return False
        new = successor_copy(st, g, action)
        perform(Concrete, cfg, new, g, action, p, True, Case(g, action, True))
        if k == len(path) - 1:
            return any(n == name and ok is False for n, ok in new.checks)
        new.checks, new.filed = [], set()
        st = new
    return False


def smallest_writes(cfg: Config, path, name: str) -> list:
    """A deferred search's run with each descriptor write the first value, in the search's order, that still breaks.

    Without deferred writes the run the search finds is the first of its
    length in the order it enumerates values (`candidates`: used_len 0
    first, then fewer sections first), and so already what shrinking gives.
    A deferred write takes the value its first read was tried with last
    (`successors` pops them), often the most sections: here each dma step's
    value is replaced, in step order, by the first one of `Menu.values`'
    order (used_len kept with no section, then `candidates`) with which the
    run still breaks `name` at its last step, every step still allowed.
    """
    dom = domains(cfg)
    secs = _sections(cfg, dom)
    out = [tuple(m) for m in path]
    for k, (g, action, p) in enumerate(out):
        if action != "dma":
            continue
        st = SearchState(cfg)
        for h, a, q in out[:k]:
            new = successor_copy(st, h, a)
            perform(Concrete, cfg, new, h, a, q, True, Case(h, a, True))
            st = new
        i = cfg.cells.index(p["dma"])
        zeros = [0] * cfg.sections
        c = st.cells[g][i]
        tries = [{"dma": p["dma"], "used": c.used_len, "addrs": zeros, "lens": zeros}]
        tries += list(candidates(cfg, dom, secs, st, g, "dma", i))
        for q in tries:
            if (q["used"], list(q["addrs"]), list(q["lens"])) == (p["used"], list(p["addrs"]), list(p["lens"])):
                break  # none before the run's own value breaks it: keep that
            trial = out[:k] + [(g, action, q)] + out[k + 1 :]
            if _breaks(cfg, trial, name):
                out = trial
                break
    return out


def _violates(unrolling, f, name):
    import z3

    v = unrolling.infos[f.steps - 1].violation((name,))
    return z3.BoolVal(v) if isinstance(v, bool) else v


# ---------------------------------------------------------------- the pass of checker/pipeline.py
def refuse_unchecked(cfg: Config, names) -> None:
    """BMC's own test (its first step files a check of every invariant asked), so no invariant holds unchecked."""
    from .induction import NoCheck
    from .transition import encode_step

    if not names:
        return
    SYM_WIDTH[0] = cfg.width
    info = encode_step(cfg, SymState(cfg), 0, [])
    missing = [n for n in names if n not in info.filed]
    if missing:
        raise NoCheck(f"no check of the model speaks of {', '.join(missing)}")


REFUSE_AFTER = 0.5  # seconds of search before `explore` asks refuse_unchecked of the open invariants


def explore(run):
    """`prove --engine bfs`: search, then give each invariant a bmc.Result (with a z3 model when violated)."""
    from .bmc import Result, rule_names

    cfg = run.cfg
    names = rule_names(cfg)
    deadline = None if cfg.timeout is None else run.started + cfg.timeout
    results = {n: Result(n, engine="bfs") for n in names}
    # BMC's first step, encoded to see which invariants have a check (refuse_unchecked), took longer than
    # a shallow fault's whole search: it is asked only of the invariants still open once the search has
    # run REFUSE_AFTER seconds, or when it ends (a violation found is a check that failed).
    refused = []

    def refuse():
        if not refused:
            refused.append(True)
            refuse_unchecked(cfg, [n for n in names if results[n].status != "violated"])

    def level(open_names, depth, seconds, states):
        if seconds >= REFUSE_AFTER:
            refuse()
        for n in open_names:
            r = results[n]
            if r.status == "holds":
                r.depth, r.seconds, r.states = depth, seconds, states
        if run.progress is not None:
            run.progress(depth, seconds, results)

    def found(f):
        r = results[f.invariant]
        r.status, r.depth, r.steps, r.seconds = "violated", f.steps, f.steps, f.seconds

    out = search(
        cfg,
        names,
        run.limits.get("max_states"),
        run.limits.get("max_memory"),
        deadline,
        found,
        level,
        defer=bool(run.limits.get("defer")),
        jobs=int(run.limits.get("jobs", 1)),
    )
    refuse()
    run.interrupted = out.stopped == INTERRUPTED
    run.outcome = out
    for n, r in results.items():
        states, depth, exhausted = out.per[n]
        r.states = states
        if r.status == "violated":
            continue
        r.depth, r.seconds = depth, out.seconds
        if exhausted:
            r.inductive = True  # every reachable state was seen: it holds at every depth
        elif out.stopped:
            r.status, r.reason = "unknown", out.stopped
    # Each run found is written from its own concrete steps (`concrete_run`); checker/pipeline.py
    # `crosscheck` fixes them on BMC's encoding (`witness`) once they are written.
    defer = bool(run.limits.get("defer"))
    run.paths = {n: smallest_writes(cfg, f.path, n) if defer else f.path for n, f in out.found.items()}
    run.results = results
    return run
