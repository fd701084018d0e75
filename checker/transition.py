"""One step of the checked model: a Guest or a Launcher acts; the Host answers.

The Host and the Launcher are the spec's rules, run on the symbolic state;
only the Guests (and the Launcher's input: which key, how many bytes) are the
environment, free within the domain of `--guests`.  Every action of every
Guest is run on the same state under the guard "this one was chosen"; the
guards exclude each other, so the guarded updates compose into the choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

from ..spec import constants as C
from ..spec.apply import apply
from ..spec.devices import status_write
from ..spec.host import bind_dma
from ..spec.hypercalls import hcall_send_dma
from ..spec.launcher import fill, handle_output
from ..spec.ops import SYM_WIDTH
from ..spec.ops import Symbolic as ops
from .config import Config
from .symstate import SymState

GUEST_ACTIONS = ("dma", "bind", "send", "status", "sysfs")
LAUNCHER_ACTIONS = ("output", "fill", "lstatus")
ACTIONS = GUEST_ACTIONS + LAUNCHER_ACTIONS
# The status writes: the only actions a status invariant needs, and the only ones that touch status
# (bfs.cones and bmc.status_free cut on them).
STATUS_ACTIONS = ("status", "sysfs", "lstatus")
BAD_ADDR = 0xF000  # an address far above every Guest's memory


@dataclass
class Case:
    guest: int
    action: str
    guard: object
    effects: list = field(default_factory=list)
    result: object = None  # BIND_DMA's return value
    extra: dict = field(default_factory=dict)
    code: int = -1  # the value of the step's `sel` that chooses this case


@dataclass
class StepInfo:
    k: int
    sel: object
    params: dict
    cases: list[Case]
    checks: list[tuple[str, object]]
    filed: set = field(default_factory=set)  # invariants some check was filed for (even a check folded to True)
    domains: list = field(default_factory=list)  # the environment's choices (also in the step's constraints)
    cuts: list = field(default_factory=list)  # [(invariant, check)]: checker/copy_lemma.py's hypothesis per copy

    def violation(self, names) -> object:
        bad = [ops.Not(ok) for n, ok in self.checks if n in names]
        return ops.Or(*bad) if bad else False

    def cut_violation(self, names) -> object:
        """The step breaks the copy lemma's hypothesis (where the lemma holds, implied by `violation`)."""
        bad = [ops.Not(ok) for n, ok in self.cuts if n in names]
        return ops.Or(*bad) if bad else False


def _one_of(x, values, ops=ops):
    return ops.Or(*[ops.Eq(x, v) for v in values])


def _params(cfg: Config, k: int) -> dict:
    bv = lambda n: z3.BitVec(f"{n}@{k}", SYM_WIDTH[0])  # noqa: E731
    p = {n: bv(n) for n in ("sel", "dma", "used", "key", "dmas", "num", "irq", "dev", "value", "len", "bit", "drv")}
    p["addrs"] = [bv(f"addr{j}") for j in range(cfg.sections)]
    p["lens"] = [bv(f"len{j}") for j in range(cfg.sections)]
    return p


def _sections_ok(cfg, p, ops=ops):
    """Sections a conforming driver builds: in RAM, at most a page, never crossing one; ended by a 0.

    Where in its page a conforming section starts changes nothing the
    protocol looks at (check_dma_list passes either way; only lengths are
    copied and compared), so section j starts at the start of data page j:
    one canonical address instead of thousands of equivalent ones.
    """
    lo, hi = cfg.data_pages
    conds = []
    ended = False
    for j, (a, ln) in enumerate(zip(p["addrs"], p["lens"])):
        page = lo + j % (hi - lo)
        inside = ops.And(ops.Eq(a, page * C.PAGE_SIZE), ops.ULE(ln, C.PAGE_SIZE))
        empty = ops.And(ops.Eq(ln, 0), ops.Eq(a, 0))
        conds.append(ops.If(ended, empty, ops.Or(empty, inside)))
        ended = ops.Or(ended, ops.Eq(ln, 0))
    return ops.And(*conds)


def _any_sections(cfg, p, ops=ops):
    """Any Guest: any values, but a 0 length ends the list (the rest reads as 0, as the trace format says)."""
    conds = []
    ended = False
    for a, ln in zip(p["addrs"], p["lens"]):
        conds.append(ops.Implies(ended, ops.And(ops.Eq(ln, 0), ops.Eq(a, 0))))
        conds.append(ops.ULE(ln, 0xFFFF))
        ended = ops.Or(ended, ops.Eq(ln, 0))
    return ops.And(*conds)


def encode_step(cfg: Config, st: SymState, k: int, constraints: list, only=None) -> StepInfo:
    """Apply one step to `st` (in place) and return what decoding needs.

    `only` (a set of (guest, action), else every action): encode just those
    cases, each with its usual `sel` code.  checker/bfs.py `witness` fixes a
    known run's action at each step anyway, and the cases it leaves out
    would only add guarded updates whose guard is False under that choice
    (the encoding of the other actions was most of its time).
    """
    p = _params(cfg, k)
    sel = p["sel"]
    conforming = cfg.guest_mode == "conforming"
    cases = []
    code = 0
    guards = []
    domains = []
    for g in range(cfg.guests):
        running = ops.And(ops.Not(st.dead[g]), ops.Not(st.pending[g]))
        for action in ACTIONS:
            if (action == "lstatus" and "launcher-sets-driver-ok" not in cfg.faults) or (
                action == "sysfs" and not cfg.sysfs
            ):
                code += 1
                continue
            if only is not None and (g, action) not in only:
                code += 1
                continue
            enabled = st.pending[g] if action == "output" else running
            guard = ops.And(ops.Eq(sel, code), enabled)
            case = Case(g, action, guard, code=code)
            code += 1
            dom = _run(cfg, st, g, action, p, guard, case, conforming)
            constraints.append(ops.Implies(guard, dom))
            domains.append(constraints[-1])
            cases.append(case)
            guards.append(guard)
    constraints.append(ops.Or(*guards))
    checks, st.checks = st.checks, []
    filed, st.filed = st.filed, set()
    cuts = st.cuts or []
    if st.cuts is not None:
        st.cuts = []
    return StepInfo(k, sel, p, cases, checks, filed, domains, cuts)


# The rules `perform` runs: spec/'s own modules.  The explicit-state search (checker/bfs.py) passes
# spec/compiled.py's concrete reading of the same modules instead (the code replay runs).
RULES = {
    "bind_dma": bind_dma,
    "hcall_send_dma": hcall_send_dma,
    "status_write": status_write,
    "fill": fill,
    "handle_output": handle_output,
    "apply": apply,
}


def _run(cfg, st, g, action, p, when, case, conforming):
    """Run one action under `when`; return the constraint its parameters must meet."""
    dom = domain(ops, cfg, st, g, action, p, conforming)
    perform(ops, cfg, st, g, action, p, when, case)
    return dom


def domain(ops, cfg, st, g, action, p, conforming):
    """What Guest g (or its Launcher) may choose for `action` in state `st`: a constraint over `p`.

    Read from the state before the action (the same state `perform` then
    changes).  BMC asserts it under the action's guard (Symbolic ops, `p` of
    z3 variables); the explicit-state search (checker/bfs.py) asks it of
    concrete candidates (Concrete ops, `p` of ints), which must make it True.
    """
    one_of = lambda x, values: _one_of(x, values, ops)  # noqa: E731
    cells = cfg.cells
    if action == "dma":
        addr, used = p["dma"], p["used"]
        if conforming:
            current = st.rd_used_len(g, addr)
            return ops.And(
                one_of(addr, cells), ops.Or(ops.Eq(used, 0), ops.Eq(used, current)), _sections_ok(cfg, p, ops)
            )
        return ops.And(one_of(addr, cells), _any_sections(cfg, p, ops))

    if action == "bind":
        key, dmas, num, irq = p["key"], p["dmas"], p["num"], p["irq"]
        if not conforming:
            return ops.And(one_of(dmas, cfg.arrays + cells + [BAD_ADDR]), ops.ULE(num, cfg.buffers), ops.ULE(irq, 255))
        # A driver binds its device's key once (probe) and unbinds it with the
        # array it bound (close): it decides by its own record of what it
        # bound, never by the Host's futex identity of the key.
        drv = p["drv"]
        choices = []
        for d, (kk, q) in enumerate(cfg.bindable(g)):
            if type(drv) is int and drv != d:  # a concrete candidate: another driver's choice is False
                continue  # (unread: its array may hold a value the search has not decided yet)
            mine = ops.And(ops.Eq(drv, d), ops.Eq(key, kk))
            bound = st.drv_bound[g][d]
            if cfg.num_skbs:
                bind_new = ops.And(ops.Eq(irq, q), ops.Eq(dmas, cfg.driver_array(d)), ops.Eq(num, cfg.bind_nums(d)[0]))
                # (A driver that holds its binding binds nothing, so its array is not read, and no deferred
                # value decided, unless the fault lets it bind again: then as BMC reads it, ready or not.)
                if bound is not True or "guest-rebinds-key" in cfg.faults:
                    bind_new = ops.And(bind_new, _ready(ops, cfg, st, g, d))
            else:
                bind_new = ops.And(
                    ops.Eq(irq, q), one_of(dmas, cfg.arrays), ops.UGE(num, 1), ops.ULE(num, cfg.buffers)
                )
            if "guest-rebinds-key" not in cfg.faults:
                bind_new = ops.And(bind_new, ops.Not(bound))
            unbind = ops.And(bound, ops.Eq(irq, 0), ops.Eq(num, 0), ops.Eq(dmas, st.drv_dmas[g][d]))
            choices.append(ops.And(mine, ops.Or(bind_new, unbind)))
        return ops.Or(*choices)

    if action == "send":
        key, dma = p["key"], p["dma"]
        if conforming:
            return ops.And(ops.Eq(dma, cfg.send_cell), one_of(key, send_keys(cfg, g)))
        return one_of(dma, cells + [BAD_ADDR])

    if action in ("status", "sysfs"):
        dev, value, bit = p["dev"], p["value"], p["bit"]
        if action == "sysfs" or not conforming:
            # lguest_bus.c status_store: Guest userspace writes the whole field.
            return ops.And(one_of(dev, [0, 1, 2]), ops.ULE(value, 0xFFFF))
        # The bus and drivers only OR in ACKNOWLEDGE, DRIVER, DRIVER_OK or FAILED.
        old = ops.If(ops.Eq(dev, 0), st.status(g, 0), ops.If(ops.Eq(dev, 1), st.status(g, 1), st.status(g, 2)))
        set_bit = ops.Eq(value, ops.BitOr(old, bit))
        if "guest-clears-status" in cfg.faults:
            set_bit = ops.Or(set_bit, ops.Eq(value, ops.BitAnd(old, ops.BitNot(bit))))
        return ops.And(one_of(dev, [0, 1, 2]), one_of(bit, DRIVER_BITS), set_bit)

    if action == "output":
        return True

    if action == "fill":
        # The input waiting is the environment's; how much of it lands is the Launcher's (spec/launcher.fill).
        return ops.And(one_of(p["key"], fill_keys(cfg)), ops.ULE(p["len"], 0xFFFF))

    if action == "lstatus":
        return one_of(p["dev"], [0, 1, 2])

    raise ValueError(action)


def _ready(ops, cfg, st, g, d):
    """What a 2.6.23 driver's array holds when it binds it (with --num-skbs).

    Every entry is free (used_len 0).  The net driver's entries each hold
    a receive skb (lguest_net.c lguestnet_open: fill_slot for all NUM_SKBS
    entries, new sections, wmb, used_len = 0, then BIND_DMA) and the
    console's its input buffer (hvc_lguest.c lguestcons_probe: cons_input
    = {addr[0] = inbuf, len[0] = 256}); the block driver binds bd->dma
    with len[0] = 0 (lguest_blk.c lguestblk_probe) and fills it per request.
    """
    base = cfg.driver_array(d)
    conds = []
    for i in range(cfg.bind_nums(d)[0]):
        addr = base + i * C.DMA_SIZE
        conds.append(ops.Eq(st.rd_used_len(g, addr), 0))
        if d != 1:
            conds.append(ops.Ne(st.rd_section(g, addr, 0)[1], 0))
    return ops.And(*conds)


DRIVER_BITS = (C.ACKNOWLEDGE, C.DRIVER, C.DRIVER_OK, C.FAILED)


def send_keys(cfg, g):
    """The keys a conforming Guest sends on: the console, the block page, every other Guest's net slot."""
    return [0, cfg.block_key] + [cfg.net_key(q) for q in range(cfg.guests) if q != g]


def fill_keys(cfg):
    """The keys the Launcher delivers input on: the console's and the block device's."""
    return [0, cfg.block_key]


def perform(ops, cfg, st, g, action, p, when, case, rules=None):
    """Perform `action` with parameters `p` under `when`: the spec's rules change `st`, `case` gets the effects.

    `rules` (default RULES) names the rule functions: the search passes their compiled concrete reading.
    """
    r = RULES if rules is None else rules
    bind_dma, hcall_send_dma, status_write = r["bind_dma"], r["hcall_send_dma"], r["status_write"]
    fill, handle_output, apply = r["fill"], r["handle_output"], r["apply"]

    def _apply_all(st, effects, ops=ops):  # each effect performed by the rules' own apply
        for e in effects:
            apply(ops, st, e)
        return effects

    if action == "dma":
        st.write_cell(g, p["dma"], p["used"], p["addrs"], p["lens"], when)
        return

    if action == "bind":
        key, dmas, num, irq = p["key"], p["dmas"], p["num"], p["irq"]
        effects, result = bind_dma(ops, st, g, key, dmas, num, irq, when)
        case.effects = _apply_all(st, effects, ops)
        case.result = result
        if cfg.guest_mode != "conforming":
            return
        drv = p["drv"]
        for d in range(len(cfg.bindable(g))):
            bound = st.drv_bound[g][d]
            here = ops.And(when, ops.Eq(drv, d))
            # An unbind forgets the device; a bind that returned 1 remembers it.
            now = ops.If(ops.Eq(irq, 0), False, ops.Or(bound, ops.Eq(result, 1)))
            st.drv_bound[g][d] = ops.If(here, now, bound)
            st.drv_dmas[g][d] = ops.If(ops.And(here, ops.Ne(irq, 0), ops.Eq(result, 1)), dmas, st.drv_dmas[g][d])
        return

    if action == "send":
        attempts = []
        hcall_send_dma(
            ops,
            st,
            g,
            p["key"],
            p["dma"],
            lambda effs: attempts.extend(_apply_all(st, effs, ops)) or effs,
            when,
            host=cfg.host,
        )
        case.effects = attempts
        return

    if action in ("status", "sysfs"):
        dev, value = p["dev"], p["value"]
        effects = []
        for d in range(3):
            effects += status_write(ops, st, g, d, value, "guest", ops.And(when, ops.Eq(dev, d)))
        case.effects = _apply_all(st, effects, ops)
        return

    if action == "output":
        case.effects = _apply_all(st, handle_output(ops, st, g, st.pkey[g], st.pdma[g], when), ops)
        return

    if action == "fill":
        checked = cfg.launcher == "checked"
        case.effects = _apply_all(st, fill(ops, st, g, p["key"], p["len"], when, checked=checked), ops)
        return

    if action == "lstatus":
        dev = p["dev"]
        effects = []
        for d in range(3):
            effects += status_write(
                ops, st, g, d, ops.BitOr(st.status(g, d), C.DRIVER_OK), "launcher", ops.And(when, ops.Eq(dev, d))
            )
        case.effects = _apply_all(st, effects, ops)
        return

    raise ValueError(action)
