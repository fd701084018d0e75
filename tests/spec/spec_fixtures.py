"""One scenario, two readings: a `World` runs spec rules on ConcreteState or on SymState.

The spec tests build a scenario once (bindings, descriptors, statuses,
interrupts, a pending send) and run the same rule on either reading:

- "concrete": `spec.state.ConcreteState` with `Concrete` ops, laid out as the
  2.6.23 Launcher lays out the checker's Config (RAM, descriptor page, net
  page shared by every Guest, block page, console last; lguest-io.md §5.2);
- "symbolic": `checker.symstate.SymState(cfg)` with `Symbolic` ops.  Every
  state field and every rule argument is a fresh z3 constant, *pinned* to the
  scenario's value by a fact `var == value`, and every guard `when` is a z3
  Boolean pinned to true, so the rules build real terms (nothing folds to a
  Python value) exactly as in the checker's transition relation.  `val(term)`
  substitutes the facts and lets z3.simplify reduce the term to a value.

Differences of representation that a World hides:

- ConcreteState has 32 binding slots and a bucket index (`set_binding`
  maintains it); SymState has `cfg.slots` slots, every binding in every
  bucket, and `order` for recency.  Both take `mark_newest` in bind order.
  With `pad_table=True` the concrete slots from `cfg.slots` on are held by
  live bindings on keys no rule can name (owner g, offset >= 0xFFFF0000), so
  both tables are full at the same moment.
- ConcreteState keeps descriptors as `Desc` objects by address (16 sections,
  padded with 0); SymState keeps `cfg.cells` with `cfg.sections` sections.
- ConcreteState's `pending` is (key, dma) or None; SymState's is a flag with
  `pkey`/`pdma`.  Its `dead` is the kill reason, SymState's a flag.
"""

from __future__ import annotations

import inspect

import z3

from lgcheck.checker.config import Config
from lgcheck.checker.symstate import SymBinding, SymState
from lgcheck.spec import constants as C
from lgcheck.spec.apply import apply
from lgcheck.spec.devices import status_write
from lgcheck.spec.host import (
    bind_dma,
    check_dma_list,
    copy_data,
    get_dma_buffer,
    get_futex_key,
    lguest_address_ok,
    send_attempt,
)
from lgcheck.spec.hypercalls import hcall_send_dma
from lgcheck.spec.launcher import fill, handle_output, release_all_dma, send_irq
from lgcheck.spec.ops import SYM_WIDTH, Concrete, Symbolic
from lgcheck.spec.state import ConcreteState, Device

READINGS = ("concrete", "symbolic")
BINDING_FIELDS = SymBinding.FIELDS[:6]  # owner, off, dmas, num_dmas, next_dma, interrupt (the Host's; key, nowner, noff are the monitors')
PAD_OFF = 0xFFFF0000  # offsets of the padding bindings: no 32-bit key of the scenarios reaches them


def futex(cfg: Config, g: int, key: int) -> tuple[int, int]:
    """The futex identity the layout gives a key (lguest-io.md §3.1): (share, offset) in the net page, else (g, key).

    Written out here, apart from spec.host.get_futex_key, so that scenarios do not depend on the rule under test.
    """
    base = cfg.net_pfn * C.PAGE_SIZE
    if base <= key < base + C.PAGE_SIZE:
        return C.SHARED_OWNER + 0, key - base
    return g, key


class World:
    """A scenario on one reading; build it, then call rules; read results with `val`."""

    def __init__(self, reading: str, cfg: Config | None = None, pad_table: bool = False):
        if reading not in READINGS:
            raise ValueError(reading)
        self.reading = reading
        self.cfg = cfg = cfg or Config()
        self.symbolic = reading == "symbolic"
        self.ops = Symbolic if self.symbolic else Concrete
        self.started = False
        self.facts: list[tuple] = []  # (z3 constant, z3 value) pairs: the pinned scenario
        self._n = 0
        if self.symbolic:
            SYM_WIDTH[0] = cfg.width  # as the checker does (bmc.check); the tests restore it
            self.st = SymState(cfg)
        else:
            self.st = ConcreteState()
            self.st.faults = frozenset(cfg.faults)  # injected model faults (lgcheck prove --fault)
            for g in range(cfg.guests):
                gs = self.st.guest(g)
                gs.pages = cfg.ram_pages
                for idx, typ, pfn, pages, feat in cfg.devices(g):
                    gs.devices[idx] = Device(typ, feat, pfn, pages)
                gs.recompute_limit()
                assert gs.limit == cfg.pfn_limit, (gs.limit, cfg.pfn_limit)
                # The sharenet page, mapped MAP_SHARED from one file by every Guest.
                gs.maps.append((0, cfg.net_pfn * C.PAGE_SIZE, C.PAGE_SIZE))
                # Every descriptor the checker keeps exists, zero-filled (the Launcher's zero pages).
                for addr in cfg.cells:
                    self.st.write_desc(g, addr, 0, [], [])
                if pad_table:
                    for b in self.st.slots(g)[cfg.slots :]:
                        self.st.set_binding(b, owner=g, off=PAD_OFF + 4 * b.slot, dmas=0, num_dmas=0, interrupt=1)

    # ------------------------------------------------------------ building the scenario
    def _setup(self):
        assert not self.started, "set the scenario up before the first rule runs"

    def slots(self, g):
        return self.st.slots(g)

    @property
    def nslots(self) -> int:
        return self.cfg.slots if self.symbolic else C.LGUEST_MAX_DMA

    def bind(self, g, slot, key, dmas, num=1, irq=1, next_dma=0, live=True):
        """Slot `slot` of Guest g holds this binding (free if not live: stale fields, interrupt 0); it is the newest."""
        self._setup()
        owner, off = futex(self.cfg, g, key)
        b = self.st.slots(g)[slot]
        fields = dict(owner=owner, off=off, dmas=dmas, num_dmas=num, next_dma=next_dma, interrupt=irq if live else 0)
        if self.symbolic:
            for k, v in fields.items():
                setattr(b, k, v)
        else:
            self.st.set_binding(b, **fields)
        self.st.mark_newest(b)
        return b

    def desc(self, g, addr, used_len=0, sections=()):
        """The struct lguest_dma at addr: used_len and (addr, len) sections; the rest are 0."""
        self._setup()
        sections = list(sections)
        if self.symbolic:
            assert len(sections) <= self.cfg.sections, "more sections than the checker's shape holds"
            cell = next(c for c in self.st.cells[g] if c.addr == addr)
            cell.used_len = used_len
            for j in range(self.cfg.sections):
                a, ln = sections[j] if j < len(sections) else (0, 0)
                cell.addrs[j], cell.lens[j] = a, ln
        else:
            self.st.write_desc(g, addr, used_len, [a for a, _ in sections], [ln for _, ln in sections])

    def set_status(self, g, dev, value):
        self._setup()
        if self.symbolic:
            self.st.devs[g][dev].status = value
        else:
            self.st.guest(g).devices[dev].status = value

    def set_irqs(self, g, bits):
        self._setup()
        if self.symbolic:
            self.st.irqs[g] = bits
        else:
            self.st.guest(g).irqs = bits

    def set_pending(self, g, key, dma):
        self._setup()
        if self.symbolic:
            self.st.pending[g], self.st.pkey[g], self.st.pdma[g] = True, key, dma
        else:
            self.st.guest(g).pending = (key, dma)

    def set_dead(self, g):
        self._setup()
        if self.symbolic:
            self.st.dead[g] = True
        else:
            self.st.guest(g).dead = "killed before the scenario"

    # ------------------------------------------------------------ pinning (symbolic reading)
    def _pin(self, name, value):
        if isinstance(value, bool):
            var = z3.Bool(name)
            self.facts.append((var, z3.BoolVal(value)))
        else:
            w = SYM_WIDTH[0]
            assert 0 <= value < (1 << w), f"{name} = {value:#x} does not fit the symbolic width {w}"
            var = z3.BitVec(name, w)
            self.facts.append((var, z3.BitVecVal(value, w)))
        return var

    def start(self):
        """Symbolic: replace every state field by a z3 constant pinned to its value."""
        if self.started:
            return
        self.started = True
        if not self.symbolic:
            return
        for name, obj, attr, idx in self.st.fields():
            value = self.st.get(obj, attr, idx)
            assert isinstance(value, (bool, int)), f"{name} is already a term"
            self.st.put(obj, attr, idx, self._pin(name, value))

    def arg(self, value):
        """A rule argument: the value itself, or a pinned z3 constant."""
        self.start()
        if not self.symbolic or value is None:
            return value
        self._n += 1
        return self._pin(f"arg{self._n}", value)

    def when(self):
        """A guard that holds: True, or a z3 Boolean pinned to true."""
        return self.arg(True)

    # ------------------------------------------------------------ reading results
    def val(self, x):
        """A Python int or bool: a concrete value as it is; a z3 term with the facts substituted, simplified."""
        if isinstance(x, (bool, int)):
            return x
        assert self.symbolic, f"the concrete reading produced a z3 term: {x!r}"
        v = z3.simplify(z3.substitute(x, *self.facts)) if self.facts else z3.simplify(x)
        if z3.is_true(v):
            return True
        if z3.is_false(v):
            return False
        if z3.is_bv_value(v):
            return v.as_long()
        raise AssertionError(f"{x} does not reduce to a value: {v}")

    def prove(self, claim) -> bool:
        """The facts imply `claim` (a z3 Boolean or a Python bool): solver.check(Not(claim)) is unsat."""
        if isinstance(claim, bool):
            return claim
        s = z3.Solver()
        s.add(*[v == c for v, c in self.facts])
        s.add(z3.Not(claim))
        return s.check() == z3.unsat

    def happened(self, effects):
        return [e for e in effects if self.val(e.when) is True]

    def kinds(self, effects):
        return [e.kind for e in self.happened(effects)]

    def binding(self, g, slot) -> dict:
        b = self.st.slots(g)[slot]
        return {f: self.val(getattr(b, f)) for f in BINDING_FIELDS}

    def live(self, g) -> list[int]:
        """Slots of Guest g whose interrupt is not 0."""
        return [s for s in range(len(self.st.slots(g))) if self.val(self.st.slots(g)[s].interrupt) != 0]

    def newer(self, g1, s1, g2, s2) -> bool:
        return self.val(self.st.newer(self.st.slots(g1)[s1], self.st.slots(g2)[s2]))

    def used_len(self, g, addr):
        if self.symbolic:
            return self.val(next(c for c in self.st.cells[g] if c.addr == addr).used_len)
        return self.st.guest(g).mem[addr].used_len

    def irqs(self, g):
        return self.val(self.st.irqs[g]) if self.symbolic else self.st.guest(g).irqs

    def dead(self, g) -> bool:
        return self.val(self.st.dead[g]) if self.symbolic else self.st.guest(g).dead is not None

    def stopped(self, g) -> bool:
        """The Guest never runs again: killed, or its Launcher exited (the checker holds both in `dead`)."""
        if self.symbolic:
            return self.val(self.st.dead[g])
        return self.st.guest(g).dead is not None or self.st.guest(g).closed

    def awaiting(self, g):
        """Its pending send while someone may still answer it (a Launcher that exited never will: the checker
        clears it, checker/symstate.py close)."""
        if not self.symbolic and self.st.guest(g).closed:
            return None
        return self.pending(g)

    def reason(self, g):
        """The kill reason (concrete reading only; the checker keeps a flag)."""
        return None if self.symbolic else self.st.guest(g).dead

    def pending(self, g):
        if self.symbolic:
            if not self.val(self.st.pending[g]):
                return None
            return self.val(self.st.pkey[g]), self.val(self.st.pdma[g])
        return self.st.guest(g).pending

    def status(self, g, dev):
        return self.val(self.st.status(g, dev))

    def failed(self) -> set[str]:
        """Names of the invariant checks that failed."""
        if self.symbolic:
            return {n for n, ok in self.st.checks if self.val(ok) is False}
        return {n for n, _ in self.st.findings}

    # ------------------------------------------------------------ running rules (effects applied)
    def perform(self, effects):
        for e in effects:
            apply(self.ops, self.st, e)
        return effects

    def bind_dma(self, g, key, dmas, num, irq):
        """BIND_DMA; returns eax (1 or 0) and keeps the effects in self.effects."""
        a = [self.arg(x) for x in (key, dmas, num, irq)]
        effects, result = bind_dma(self.ops, self.st, g, *a, when=self.when())
        self.effects = self.perform(effects)
        return self.val(result)

    def send_attempt(self, g, key, dma):
        effects, full = send_attempt(self.ops, self.st, g, self.arg(key), self.arg(dma), self.when())
        self.effects = self.perform(effects)
        return self.val(full)

    def send(self, g, key, dma):
        """The SEND_DMA hypercall: pre-clear, one attempt, a retry if the receiver was full."""
        attempts = []

        def run(effects):
            self.perform(effects)
            attempts.append(effects)
            return self.happened(effects) if not self.symbolic else effects

        hcall_send_dma(self.ops, self.st, g, self.arg(key), self.arg(dma), run, self.when())
        self.attempts = attempts
        self.effects = [e for a in attempts for e in a]
        return self.kinds(self.effects)

    def fill(self, g, key, length, checked=False, readv_failed=False):
        effects = fill(self.ops, self.st, g, self.arg(key), self.arg(length), self.when(), checked, readv_failed)
        self.effects = self.perform(effects)
        return self.kinds(self.effects)

    def output(self, g):
        """handle_output on the pending send (in the checker: st.pkey, st.pdma)."""
        self.start()
        if self.symbolic:
            key, dma = self.st.pkey[g], self.st.pdma[g]
        else:
            key, dma = self.st.guest(g).pending
        self.effects = self.perform(handle_output(self.ops, self.st, g, key, dma, self.when()))
        return self.kinds(self.effects)

    def status_write(self, g, dev, value, by):
        self.effects = self.perform(status_write(self.ops, self.st, g, dev, self.arg(value), by, self.when()))
        return self.kinds(self.effects)

    def send_irq(self, g, irq):
        self.effects = self.perform(send_irq(self.ops, self.st, g, self.arg(irq), self.when()))
        return self.kinds(self.effects)

    def close(self, g):
        self.effects = self.perform(release_all_dma(self.ops, self.st, g, self.when()))
        return self.kinds(self.effects)

    # ------------------------------------------------------------ rules that only decide or compute
    def get_dma_buffer(self, g, key):
        """(found, udma, irq, used_before); its kill effects are applied."""
        effects, found, udma, irq, used = get_dma_buffer(self.ops, self.st, g, self.arg(key), self.when())
        self.effects = self.perform(effects)
        return self.val(found), self.val(udma), self.val(irq), self.val(used)

    def check_dma_list(self, g, dma):
        """(ok, bad_len, bad_addr): the first bad section, for the kill reason."""
        self.start()
        walk = check_dma_list(self.ops, self.st, g, self.when(), self.arg(dma))
        ok, ln, addr = walk if isinstance(walk, tuple) else (walk.ok, walk.bad_len, walk.bad_addr)
        return self.val(ok), self.val(ln), self.val(addr)

    def address_ok(self, g, addr, length):
        return self.val(lguest_address_ok(self.ops, self.st, g, self.arg(addr), self.arg(length)))

    def futex(self, g, key):
        ok, owner, off = get_futex_key(self.ops, self.st, g, self.arg(key))
        return self.val(ok), self.val(owner), self.val(off)

    def copy_data(self, src_g, udma, dst_g, entry):
        """Bytes copy_data moves from descriptor udma of src_g into entry of dst_g."""
        self.start()
        udma, entry = self.arg(udma), self.arg(entry)
        if len(inspect.signature(copy_data).parameters) == 4:  # copy_data(ops, st, src walk, dst walk)
            src = check_dma_list(self.ops, self.st, src_g, self.when(), udma)
            dst = check_dma_list(self.ops, self.st, dst_g, True, entry)
            return self.val(copy_data(self.ops, self.st, src, dst))
        return self.val(copy_data(self.ops, self.st, src_g, self.when(), udma, dst_g, entry))


def restore_width():
    """Generator body of an autouse fixture: the tests may narrow SYM_WIDTH; put it back."""
    saved = SYM_WIDTH[0]
    try:
        yield
    finally:
        SYM_WIDTH[0] = saved
