"""The state as z3 terms: the symbolic reading of spec/state.py's interface.

The shapes are fixed by the configuration: `slots` bindings per Guest, the
descriptor cells of config.cells per Guest, three devices.  A descriptor read
at a symbolic address is an If-chain over the Guest's cells (memory outside
the cells reads as zeros, as the Launcher's zero pages do); a write updates
every cell whose address equals it.  Every update takes a guard, so the
checker can run all actions of a step on one state, each under "this action
was chosen".
"""

from __future__ import annotations

import os

import z3

from ..spec import constants as C
from ..spec.monitors import Write
from ..spec.registry import FINDINGS
from ..spec.ops import SYM_WIDTH
from ..spec.ops import Symbolic as ops
from . import copy_lemma
from .config import Config


class SymBinding:
    # key: the key as the Guest passed it (not in lguest_dma_info: the monitors' record of it)
    # nowner, noff: what that key names (monitors.futex_identity), recorded at the bind
    FIELDS = ("owner", "off", "dmas", "num_dmas", "next_dma", "interrupt", "key", "nowner", "noff")
    __slots__ = ("guest", "slot") + FIELDS

    def __init__(self, guest, slot):
        self.guest, self.slot = guest, slot
        for f in self.FIELDS:
            setattr(self, f, 0)
        self.owner = self.nowner = C.NO_OWNER


class Cell:
    __slots__ = ("addr", "used_len", "addrs", "lens")

    def __init__(self, addr, sections):
        self.addr = addr
        self.used_len = 0
        self.addrs = [0] * sections
        self.lens = [0] * sections


class SymDevice:
    __slots__ = ("type", "features", "pfn", "pages", "status")

    def __init__(self, type, features, pfn, pages):
        self.type, self.features, self.pfn, self.pages = type, features, pfn, pages
        self.status = 0


# How the contents of memory are modelled (version 2's bytes; docs/cost-model.md "Proving the data"):
#   "tags"   a byte is named by where it is: (Guest, address) at the send; two bytes are equal iff
#            their tags are (the Guest may have written anything there, so no other equality is forced);
#   "bytes"  a byte is the value of an uninterpreted function of the address, fresh at each step.
# Both mean "any contents"; tags keep the encoding in bit-vectors and are the default (measured faster).
CONTENTS = os.environ.get("LGCHECK_CONTENTS", "tags")
TAG_GUEST_BITS = 4  # 16 Guests at most (Config)


class SymState:
    """One step's state; `copy()` shares terms, `snapshot()` names them as fresh variables.

    Bytes (when the configuration asks about data-corrupted): a Guest may write
    any bytes into its memory between steps, so memory is not carried from
    step to step; within a step it is "any contents" (CONTENTS) overwritten by
    the Host's copy, run by run (`runs`), and a monitor reading a byte after
    the copy sees the last run that wrote it.  `probe` is a free offset: the
    data-corrupted monitor compares the destination's and the source's byte
    there, so the solver looks for an offset where they differ.
    """

    monitored = None  # {write kind: monitors} when fewer than all invariants are watched (the search)

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.sections = cfg.sections
        n = cfg.guests
        self.bindings = [[SymBinding(g, s) for s in range(cfg.slots)] for g in range(n)]
        self.cells = [[Cell(a, cfg.sections) for a in cfg.cells] for g in range(n)]
        self.devs = [{i: SymDevice(t, feat, pfn, pages) for i, t, pfn, pages, feat in cfg.devices(g)} for g in range(n)]
        self.irqs = [0] * n
        self.dead = [False] * n
        self.pending = [False] * n
        self.pkey = [0] * n
        self.pdma = [0] * n
        # The environment's own memory: which devices each Guest's drivers have
        # bound, and with which array (what a driver unbinds with).  Not Host state.
        self.drv_bound = [[False] * len(cfg.bindable(g)) for g in range(n)]
        self.drv_dmas = [[0] * len(cfg.bindable(g)) for g in range(n)]
        # order[(b, c)]: binding b was bound after c (it comes first in the hash bucket).
        ids = [(g, s) for g in range(n) for s in range(cfg.slots)]
        self.order = {(b, c): False for b in ids for c in ids if b != c}
        self.checks: list[tuple[str, object]] = []
        self.filed: set[str] = set()  # every invariant a check was filed for, even one that folded to True
        self.log: list[Write] = []
        self.faults = frozenset(cfg.faults)
        self.has_bytes = "data-corrupted" in cfg.invariants or "data" in cfg.invariants
        self.runs: dict[int, list] = {}
        # The copy lemma's hypothesis per delivery (checker/copy_lemma.py): what the engines ask in place of
        # data-corrupted's own check where the lemma holds.  None: not gathered.
        self.cuts: list | None = []
        self._probe = None
        self._mem: dict[int, object] = {}

    # ------------------------------------------------------------ fields
    def fields(self):
        """(name, get, set) for every variable of the state, for snapshots and decoding."""
        out = []
        for g in range(self.cfg.guests):
            for b in self.bindings[g]:
                for f in SymBinding.FIELDS:
                    out.append((f"g{g}.slot{b.slot}.{f}", b, f, None))
            for c in self.cells[g]:
                out.append((f"g{g}.{c.addr:#x}.used_len", c, "used_len", None))
                for j in range(self.sections):
                    out.append((f"g{g}.{c.addr:#x}.addr{j}", c, "addrs", j))
                    out.append((f"g{g}.{c.addr:#x}.len{j}", c, "lens", j))
            for i, d in self.devs[g].items():
                out.append((f"g{g}.dev{i}.status", d, "status", None))
            out.append((f"g{g}.irqs", self.irqs, None, g))
            out.append((f"g{g}.dead", self.dead, None, g))
            out.append((f"g{g}.pending", self.pending, None, g))
            out.append((f"g{g}.pkey", self.pkey, None, g))
            out.append((f"g{g}.pdma", self.pdma, None, g))
            for d in range(len(self.drv_bound[g])):
                out.append((f"g{g}.driver{d}.bound", self.drv_bound[g], None, d))
                out.append((f"g{g}.driver{d}.dmas", self.drv_dmas[g], None, d))
        for b, c in self.order:
            out.append((f"g{b[0]}.slot{b[1]}-after-g{c[0]}.slot{c[1]}", self.order, None, (b, c)))
        return out

    @staticmethod
    def get(obj, attr, idx):
        if attr is None:
            return obj[idx]
        v = getattr(obj, attr)
        return v if idx is None else v[idx]

    @staticmethod
    def put(obj, attr, idx, value):
        if attr is None:
            obj[idx] = value
        elif idx is None:
            setattr(obj, attr, value)
        else:
            getattr(obj, attr)[idx] = value

    def copy(self) -> "SymState":
        new = SymState.__new__(SymState)
        new.cfg, new.sections, new.faults = self.cfg, self.sections, self.faults
        new.bindings = [[_clone(b, SymBinding) for b in row] for row in self.bindings]
        new.cells = [[_clone_cell(c) for c in row] for row in self.cells]
        new.devs = [{i: _clone(d, SymDevice) for i, d in row.items()} for row in self.devs]
        new.irqs, new.dead = list(self.irqs), list(self.dead)
        new.pending, new.pkey, new.pdma = list(self.pending), list(self.pkey), list(self.pdma)
        new.order = dict(self.order)
        new.drv_bound = [list(r) for r in self.drv_bound]
        new.drv_dmas = [list(r) for r in self.drv_dmas]
        new.checks, new.filed, new.log = [], set(), []
        new.has_bytes, new.runs, new._probe, new._mem = self.has_bytes, {}, None, {}
        new.cuts = None if self.cuts is None else []
        return new

    def snapshot(self, k: int, constraints: list):
        """Replace every term by a fresh variable named for step k, constrained equal to it."""
        for name, obj, attr, idx in self.fields():
            term = self.get(obj, attr, idx)
            if isinstance(term, (bool, int)):
                continue
            term = z3.simplify(term)
            if z3.is_bool(term):
                if z3.is_true(term) or z3.is_false(term):
                    self.put(obj, attr, idx, z3.is_true(term))
                    continue
                var = z3.Bool(f"{name}@{k}")
            else:
                if z3.is_bv_value(term):
                    self.put(obj, attr, idx, term.as_long())
                    continue
                var = z3.BitVec(f"{name}@{k}", SYM_WIDTH[0])
            constraints.append(var == term)
            self.put(obj, attr, idx, var)

    # ------------------------------------------------------------ the interface of spec/state.py
    def slots(self, g):
        return self.bindings[g]

    def bucket(self, owner, off):
        return [b for row in self.bindings for b in row]

    def maps(self, g):
        return [(0, self.cfg.net_pfn * C.PAGE_SIZE, C.PAGE_SIZE)]

    def devices(self, g):
        return sorted(self.devs[g].items())

    def pfn_limit(self, g):
        return self.cfg.pfn_limit

    def key_mapped(self, g, key):
        # The Launcher's mappings above the Guest's memory are not modelled: prove's keys are mapped.
        return True

    def bound(self, n):
        return self.cfg.ring_bound

    def _cells(self, g, addr):
        return [(c, ops.Eq(addr, c.addr)) for c in self.cells[g]]

    def _read(self, g, addr, get):
        """A field of the descriptor at `addr`: an If-chain over the cells (zeros outside them).

        A read at If(c, a, b) is If(c, read a, read b), so a monitor reading
        the entry a rule chose builds the very terms the rule read (z3 shares
        them), not a second chain over every cell.
        """
        if isinstance(addr, int):
            for c in self.cells[g]:
                if c.addr == addr:
                    return get(c)
            return 0
        if z3.is_app_of(addr, z3.Z3_OP_ITE):
            cond, a, b = addr.children()
            return ops.If(cond, self._read(g, a, get), self._read(g, b, get))
        v = 0
        for c, hit in self._cells(g, addr):
            v = ops.If(hit, get(c), v)
        return v

    def rd_used_len(self, g, addr):
        return self._read(g, addr, lambda c: c.used_len)

    def rd_section(self, g, addr, i):
        if i >= self.sections:
            return 0, 0
        return self._read(g, addr, lambda c: c.addrs[i]), self._read(g, addr, lambda c: c.lens[i])

    def wr_used_len(self, g, addr, value, when=True):
        if when is False:
            return
        for c, hit in self._cells(g, addr):
            c.used_len = ops.If(ops.And(when, hit), value, c.used_len)

    def write_data(self, g, addr, nbytes, who, why="", when=True, stored=None, host=False):
        if when is False:
            return
        self.log.append(Write("data", when, g, addr, self.rd_used_len(g, addr), nbytes, who, why, host))
        self.wr_used_len(g, addr, nbytes if stored is None else stored, when)

    def write_cell(self, g, addr, used_len, addrs, lens, when):
        for c, hit in self._cells(g, addr):
            w = ops.And(when, hit)
            c.used_len = ops.If(w, used_len, c.used_len)
            for j in range(self.sections):
                c.addrs[j] = ops.If(w, addrs[j], c.addrs[j])
                c.lens[j] = ops.If(w, lens[j], c.lens[j])

    def set_binding(self, b, when=True, **fields):
        if when is False:
            return
        for k, v in fields.items():
            setattr(b, k, ops.If(when, v, getattr(b, k)))

    def newer(self, b, c):
        if b is c:
            return False  # (the concrete reading of host._newest compares the newest match with itself)
        return self.order[((b.guest, b.slot), (c.guest, c.slot))]

    def mark_newest(self, b, when=True):
        if when is False:
            return
        me = (b.guest, b.slot)
        for x, y in self.order:
            if x == me:
                self.order[(x, y)] = ops.Or(when, self.order[(x, y)])
            elif y == me:
                self.order[(x, y)] = ops.And(ops.Not(when), self.order[(x, y)])

    def raise_irq(self, g, irq, when=True):
        if when is False:
            return
        ok = ops.And(when, ops.ULT(irq, C.LGUEST_IRQS))
        self.irqs[g] = ops.If(ok, ops.BitOr(self.irqs[g], ops.Shl(1, irq)), self.irqs[g])

    def kill(self, g, reason, when=True):
        self.dead[g] = ops.Or(self.dead[g], when)

    def killed(self, g):
        return self.dead[g]

    def close(self, g, when=True):
        """The Launcher exited (lguest_user.c close): the Guest never runs again, its pending send is never answered.

        The checked model keeps no flag of its own for it: `dead` stops every step of the Guest and of its
        Launcher but `output`, which a cleared `pending` stops (apply released its bindings).  A run that went
        on after the exit would be one replay refuses ("acts after its Launcher closed").
        """
        if when is False:
            return
        self.dead[g] = ops.Or(self.dead[g], when)
        self.pending[g] = ops.And(self.pending[g], ops.Not(when))

    def status(self, g, dev):
        return self.devs[g][dev].status

    def set_status(self, g, dev, value, who="guest", when=True):
        d = self.devs[g].get(dev)
        if d is not None and when is not False:
            self.log.append(Write("status", when, g, dev, d.status, value, who))
            d.status = ops.If(when, value, d.status)

    def log_bind(self, g, b, when=True):
        if when is not False:
            self.log.append(Write("bind", when, g, b))

    def holders(self, b, owner, off):
        return [c for row in self.bindings for c in row if c is not b]

    def set_pending(self, g, value, when=True):
        if when is False:
            return
        if value is None:
            self.pending[g] = ops.And(self.pending[g], ops.Not(when))
        else:
            key, dma = value
            self.pending[g] = ops.Or(self.pending[g], when)
            self.pkey[g] = ops.If(when, key, self.pkey[g])
            self.pdma[g] = ops.If(when, dma, self.pdma[g])

    def check(self, name, ok, message):
        if name not in FINDINGS:
            raise ValueError(f"a check filed under {name!r}, which is no finding of spec/registry.py")
        self.filed.add(name)
        if ok is not True:
            self.checks.append((name, ok))

    def note(self, text):
        pass

    @staticmethod
    def is_doubtful(g, addr) -> bool:
        return False

    def fault(self, name) -> bool:
        return name in self.faults

    # ------------------------------------------------------------ bytes (version 2)
    @property
    def probe(self):
        """The offset data-corrupted looks at in this step: free, so any offset may be the one."""
        if self._probe is None:
            self._probe = z3.FreshConst(z3.BitVecSort(SYM_WIDTH[0]), "probe")
        return self._probe if self.has_bytes else None

    def _content(self, g, addr):
        """Guest g's byte at addr before this step's copy: any contents (CONTENTS says how they are named)."""
        if CONTENTS == "bytes":
            f = self._mem.get(g)
            if f is None:
                bv = z3.BitVecSort(SYM_WIDTH[0])
                f = self._mem[g] = z3.FreshFunction(bv, z3.BitVecSort(8))
            return f(_term(addr))
        return z3.Concat(z3.BitVecVal(g, TAG_GUEST_BITS), _term(addr))

    def read_byte(self, g, addr):
        """Guest g's byte at addr now: the last run of this step's copies that wrote it, else its contents."""
        v = self._content(g, addr)
        for guard, to, n, sg, frm in self.runs.get(g, ()):
            inside = ops.And(guard, ops.ULT(ops.Sub(addr, to), n))
            if inside is False:
                continue
            v = ops.If(inside, self._content(sg, ops.Add(frm, ops.Sub(addr, to))), v)
        return v

    def deliver_bytes(self, src, dst, length, steps, who, when=True):
        """The Host's copy, performed run by run under each step's guard; logged for data-corrupted."""
        if not self.has_bytes or when is False:
            return
        (sg, sa), (dg, da) = src, dst
        # One step makes at most one copy (the deliveries a step's encoding holds are under guards that
        # exclude each other), and memory holds any contents before it: so a copy's runs replace those of
        # another delivery encoded in the same step instead of piling up behind them.
        self.runs[dg] = [(ops.And(when, guard), to, n, sg, frm) for guard, frm, to, n in steps or ()]
        self.log.append(Write("bytes", when, dg, da, None, (length, sg, sa), who))
        if self.cuts is not None:
            # Read now, as the monitor reads them right after (nothing between writes a section).
            self.cuts.append((copy_lemma.INVARIANT, ops.Implies(when, copy_lemma.precondition(self, src, dst, length))))


def _term(x):
    """A bit-vector term of the symbolic width, for a plain int too."""
    if isinstance(x, int):
        w = SYM_WIDTH[0]
        return z3.BitVecVal(x & ((1 << w) - 1), w)
    return x


def _clone(obj, cls):
    new = cls.__new__(cls)
    for s in cls.__slots__:
        setattr(new, s, getattr(obj, s))
    return new


def _clone_cell(c):
    new = Cell.__new__(Cell)
    new.addr, new.used_len, new.addrs, new.lens = c.addr, c.used_len, list(c.addrs), list(c.lens)
    return new
