"""The state of the Host and Launchers, concrete reading (replay's model).

Rules reach the state only through the methods below, which the checker's
symbolic state (checker/symstate.py) implements too:

    slots(g)                  the Guest's binding table (lg->dma[])
    bucket(owner, off)        bindings that may hold this futex key (dma_hash[])
    maps(g)                   (share index, base address, size) of the Guest's shared mappings
    devices(g)                (index, Device) pairs of the Guest's device table, in index order
    pfn_limit(g)              first pfn above the Guest's memory, or None if unknown
    bound(n)                  a Python upper bound for a loop over n array entries
    sections                  how many sections a descriptor has (16)
    rd_used_len / rd_section  read a descriptor field (reports an unknown one)
    wr_used_len               write a descriptor's used_len, when a guard holds
    write_data                the Host's or a Launcher's copy into a descriptor (used_len := bytes), logged
    holders(b, owner, off)    bindings that may share b's key (by stored identity or by what the key names)
    log                       the writes the monitors have not yet seen (spec/monitors.py)
    set_binding               change binding fields, when a guard holds
    raise_irq, kill, set_pending
    killed(g)                 whether the Host has killed the Guest (lg->dead is set)
    set_status                a status store, logged with the value it replaces
    newer(b, c), mark_newest  the bucket order: list_add puts a new binding first
    check(name, ok, message)  an invariant the step must keep
    note(text)                a remark that is not a finding

Version 2 (bytes; the concrete reading only, see "bytes" at the end of
ConcreteState): `has_bytes`, `write_bytes` / `read_bytes` (a sparse map of the
bytes a trace gave, unknown elsewhere), `deliver_bytes` (the Host's copy,
step by step, logged as a Write of kind "bytes"), `forget_sections`,
`forget_desc_bytes` (a descriptor written over bytes), `forget_guest_bytes`.  The
symbolic state keeps no bytes: it has none of these, and rules ask first.

Every write takes a guard `when`: in this reading it is a Python bool, and a
False guard changes nothing.
"""

from __future__ import annotations

import bisect
import hashlib

from . import constants as C
from .env import INTERPRETED
from .monitors import Write
from .registry import FINDINGS


class UnknownValue(Exception):
    """A partial trace left a value the step needs unrecorded (`?`)."""


class Binding:
    """struct lguest_dma_info: one slot of a Guest's binding table."""

    __slots__ = (
        "guest", "slot", "owner", "off", "dmas", "num_dmas", "next_dma", "interrupt", "stamp", "indexed",
        "key", "nowner", "noff", "named", "line", "entries",
    )

    def __init__(self, guest: int, slot: int):
        self.guest = guest
        self.slot = slot
        self.owner = C.NO_OWNER
        self.off = 0
        self.dmas = 0
        self.num_dmas = 0
        self.next_dma = 0
        self.interrupt = 0  # 0: the slot is free (io.c: unlink_dma)
        self.stamp = 0  # bind order: a bucket walk meets newer bindings first
        self.indexed = None  # the key under which ConcreteState's index lists it (live bindings only)
        self.key = 0  # the key as the Guest passed it (not in lguest_dma_info: the monitors' record)
        self.nowner, self.noff = C.NO_OWNER, 0  # what that key names (monitors.futex_identity)
        self.named = None  # the identity under which the named index lists it (live bindings only)
        self.line = None  # the trace line that last bound it (replay's related locations)
        self.entries = None  # spec/fused.py: (dmas, num, RAM size, the Desc of each entry), while those hold

    def __repr__(self) -> str:
        return (
            f"Binding(g{self.guest}[{self.slot}] key=({self.owner:#x},{self.off:#x}) dmas={self.dmas:#x} "
            f"num={self.num_dmas} next={self.next_dma} irq={self.interrupt})"
        )


class Desc:
    """struct lguest_dma at one address; None marks a field never written."""

    __slots__ = ("used_len", "addrs", "lens", "used_line", "lens_line", "prev_used_line", "memo")

    def __init__(self):
        self.memo = None  # spec/fused.py's reading of the sections; every writer of addrs or lens clears it
        self.used_len = None
        self.addrs = [None] * C.LGUEST_MAX_DMA_SECTIONS
        self.lens = [None] * C.LGUEST_MAX_DMA_SECTIONS
        self.used_line = None  # trace lines that last set used_len / the section lengths
        self.lens_line = None
        self.prev_used_line = None  # used_line before the latest write (what a monitor after it relates to)


class Device:
    """struct lguest_device_desc, as the Launcher's new_dev_desc wrote it."""

    __slots__ = ("type", "features", "pfn", "pages", "status", "line", "prev_line")

    def __init__(self, type: int, features: int, pfn: int, pages: int, status=0):
        self.type = type
        self.features = features
        self.pfn = pfn
        self.pages = pages
        self.status = status
        self.line = None  # the trace line that last wrote the status
        self.prev_line = None  # line before the latest write (what a monitor after it relates to)


class IntervalMap:
    """Disjoint intervals of u32 keys, each with a value; painting a range overrides what was there.

    Key translation (get_futex_key) takes the last shared mapping that holds a
    key; painting each mapping as it is added gives that mapping by one
    bisection, whatever the number of shares.  Memory: two entries a mapping.
    """

    __slots__ = ("starts", "vals", "painted", "answers")

    def __init__(self):
        self.starts = [0]
        self.vals = [None]
        self.painted = 0  # how many of the Guest's mappings are painted
        self.answers = {}  # key -> ConcreteState.maps_at's answer while no mapping is added

    def _cut(self, x: int) -> None:
        i = bisect.bisect_right(self.starts, x) - 1
        if self.starts[i] != x:
            self.starts.insert(i + 1, x)
            self.vals.insert(i + 1, self.vals[i])

    def paint(self, lo: int, hi: int, value) -> None:
        if hi <= lo:
            return
        self._cut(lo)
        self._cut(hi)
        i = bisect.bisect_left(self.starts, lo)
        j = bisect.bisect_left(self.starts, hi)
        del self.starts[i + 1 : j]
        del self.vals[i + 1 : j]
        self.vals[i] = value

    def at(self, x: int):
        return self.vals[bisect.bisect_right(self.starts, x) - 1]


_FULL = (1 << 64) - 1


class UsedIndex:
    """The descriptors of one Guest whose used_len is a known non-zero number, for skipping them fast.

    A binding's entries are at dmas + 100*i: one residue r = address mod 100
    and consecutive indices address // 100.  Per residue, a 64-ary tree of
    bitmaps: level 0 bit p is set when the descriptor at index p is used;
    level l+1 bit q is set when the 64 bits of level-l word q are all set.
    `next_free` finds the first index at or after p that is not used in
    O(levels) dictionary lookups (5 levels of 64 cover the 2^32 / 100 indices), however
    many used entries it skips; `set` is O(levels).  Memory: at most one word
    per level per used descriptor.
    """

    __slots__ = ("trees",)
    LEVELS = 5

    def __init__(self):
        self.trees: dict[int, list[dict[int, int]]] = {}

    def set(self, addr: int, used: bool) -> None:
        tree = self.trees.get(addr % 100)
        if tree is None:
            if not used:
                return
            tree = self.trees[addr % 100] = [{} for _ in range(self.LEVELS)]
        p = addr // 100
        for level in tree:
            w, bit = p >> 6, 1 << (p & 63)
            old = level.get(w, 0)
            new = old | bit if used else old & ~bit
            if new == old:
                return
            if new:
                level[w] = new
            else:
                del level[w]
            if (old == _FULL) == (new == _FULL):
                return
            used = new == _FULL
            p = w

    def next_free(self, residue: int, p: int) -> int:
        """The first index >= p (of this residue) whose descriptor is not known used."""
        tree = self.trees.get(residue)
        if tree is None:
            return p
        return self._next_zero(tree, 0, p)

    def _next_zero(self, tree, lv: int, p: int) -> int:
        level = tree[lv]
        w = p >> 6
        m = level.get(w, 0) | ((1 << (p & 63)) - 1)
        if m != _FULL:
            return (w << 6) | ((~m & (m + 1)).bit_length() - 1)
        if lv + 1 == len(tree):
            return (w + 1) << 6  # beyond every index a u32 address has
        w = self._next_zero(tree, lv + 1, w + 1)
        m = level.get(w, 0)
        return (w << 6) | ((~m & (m + 1)).bit_length() - 1)


class DeviceTable(dict):
    """A Guest's devices by index; `version` counts the stores, so that their sorted list is made once per change."""

    __slots__ = ("version", "listed")

    def __init__(self):
        super().__init__()
        self.version = 0
        self.listed = None  # (version, the (index, Device) pairs in index order)

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.version += 1

    def __delitem__(self, key):
        super().__delitem__(key)
        self.version += 1

    def _refuse(self, *args, **kwargs):
        raise TypeError("a DeviceTable changes only by item assignment or del (its sorted list is cached)")

    pop = popitem = clear = update = setdefault = __ior__ = _refuse

    def __reduce__(self):
        # pickle (partial mode copies candidate states by one pickle) would otherwise fill the
        # dict through __setitem__ before the slots exist
        return (_device_table, (dict(self),))


def _device_table(items):
    table = DeviceTable()
    for key, value in items.items():
        table[key] = value
    return table


class Guest:
    __slots__ = (
        "gid",
        "pages",
        "devices",
        "maps",
        "slots",
        "mem",
        "irqs",
        "dead",
        "closed",
        "pending",
        "limit",
        "map_index",
        "used",
    )

    def __init__(self, gid: int):
        self.gid = gid
        self.pages = None  # RAM pages; None: no `guest` record, size unknown
        self.devices: dict[int, Device] = DeviceTable()
        self.maps: list[tuple[int, int, int]] = []
        self.slots = [Binding(gid, i) for i in range(C.LGUEST_MAX_DMA)]
        self.mem: dict[int, Desc] = {}
        self.irqs = 0  # bitmap of raised interrupts (irqs_pending)
        self.dead = None  # the first kill reason
        self.closed = False
        self.pending = None  # (key, dma) of a send waiting for the Launcher
        self.limit = None
        self.map_index = IntervalMap()  # key -> the shared mapping that translates it (the last one added)
        self.used = UsedIndex()  # which descriptors hold a used_len known to be non-zero

    def recompute_limit(self):
        if self.pages is None:
            self.limit = None
            return
        top = self.pages + 1  # RAM, then the device descriptor page
        for d in self.devices.values():
            if d.pages:
                top = max(top, d.pfn + d.pages)
        self.limit = top


class _NoCursor:
    line = None


def _spans(addr, n):
    """(page, offset in it, offset in the n bytes, length) of each page's part of n bytes at addr (u32 wrap)."""
    pos = 0
    while pos < n:
        a = (addr + pos) & 0xFFFF_FFFF
        page, off = a >> C.PAGE_SHIFT, a & (C.PAGE_SIZE - 1)
        k = min(n - pos, C.PAGE_SIZE - off)
        yield page, off, pos, k
        pos += k


def _reindex(index: dict, b, old, new):
    """Move binding b from bucket `old` to bucket `new` of `index` (None: in no bucket); returns `new`."""
    if new != old:
        if old is not None:
            bucket = index[old]
            del bucket[b]
            if not bucket:
                del index[old]
        if new is not None:
            index.setdefault(new, {})[b] = None
    return new


class SharedPage(tuple):
    """A page of a shared mapping's bytes: (data, known-marks) as every page of `contents`, plus which
    page of which share it is (`share`) and the (Guest, page) keys it is stored under (`aliases`)."""

    def __new__(cls, content, share=None):
        return super().__new__(cls, content)

    def __init__(self, content, share=None):
        self.share = share
        self.aliases = []

    def __getnewargs__(self):
        return (tuple(self),)


class ConcreteState:
    """Replay's state: Python ints, any number of Guests, memory by address.

    `cursor.line` is the trace line being applied (replay sets `cursor` to its
    record stream): each write remembers it, so that a finding can name the
    earlier line that set what it reads (`related`, filled by the `relate`
    hook when a check fails).  O(1) per write.
    """

    sections = C.LGUEST_MAX_DMA_SECTIONS
    cursor = _NoCursor
    relate = None
    monitored = None  # every invariant's monitor observes (spec/monitors.py observe)

    def __init__(self, partial: bool = False):
        self.guests: dict[int, Guest] = {}
        self.shares: list[tuple[str, int, list[tuple[int, int]]]] = []
        self.stamp = 0
        self.partial = partial
        self._index: dict[tuple[int, int], dict[Binding, None]] = {}
        self._named: dict[tuple[int, int], dict[Binding, None]] = {}
        self.log: list[Write] = []
        self.findings: list[tuple[str, str]] = []  # of the current record; replay takes them after each
        self.notes: list[str] = []  # replay takes them as they come (take_notes)
        self._noted: set[str] = set()  # notes without a line number, said once (bounded: few texts)
        self._noted_line: tuple[str, set[str]] = ("", set())  # notes of the latest line, said once
        self.faults: frozenset[str] = frozenset()
        self.doubtful: set[tuple[int, int]] = set()
        self.related: dict[tuple[str, str], tuple] = {}
        self.watch_memo: dict[int, tuple] = {}  # Guest -> spec/launcher.py watches' answer, with what it read
        self.key_memo: dict[tuple[int, int], tuple] = {}  # (Guest, key) -> spec/fused.py's get_futex_key answer
        # (Guest, key) above the Guest's memory that the Launcher does not map: replay sets one for the record
        # whose recorded answer is get_futex_key's failure (host.get_futex_key), and clears it after.
        self.unmapped: set[tuple[int, int]] = set()

    # ------------------------------------------------------------ guests
    def guest(self, g: int) -> Guest:
        """Guest g's state; a Guest first named by a record gets one (with RAM size unknown)."""
        try:
            return self.guests[g]
        except KeyError:
            gs = self.guests[g] = Guest(g)
            return gs

    def slots(self, g):
        return self.guest(g).slots

    def bucket(self, owner, off):
        return tuple(self._index.get((owner, off), ()))

    def maps(self, g):
        return self.guest(g).maps

    def add_map(self, g, sid, base, size):
        """Guest g maps shared region `sid` at `base`: later mappings win where they overlap (get_futex_key)."""
        self.guest(g).maps.append((sid, base, size))
        if self.contents:
            self.link_shared(g, base, size)

    def maps_at(self, g, key):
        """The shared mappings get_futex_key must look at for this key (in creation order): at most three."""
        gs = self.guest(g)
        index = gs.map_index
        if index.painted == len(gs.maps):
            # The answer for a key stays the same until a mapping is added: a trace
            # uses a few keys over and over, so each is looked up once (bounded memory).
            hit = index.answers.get(key)
            if hit is not None:
                return hit
        else:
            index.answers.clear()
        while index.painted < len(gs.maps):  # mappings added since: painted in order, each once
            m = gs.maps[index.painted]
            # get_futex_key tests ukey >= base and ukey < (base + size) mod 2^32.
            index.paint(m[1], (m[1] + m[2]) & 0xFFFF_FFFF, m)
            index.painted += 1
        # The one holding the key, and those holding its neighbours: the rule's own comparisons
        # (evaluated on these) decide, so an off-by-one at a boundary is the rule's, not this index's.
        found = {m for m in (index.at((key - 1) & 0xFFFF_FFFF), index.at(key), index.at((key + 1) & 0xFFFF_FFFF)) if m}
        if len(index.answers) >= 64:  # a few keys a Guest in real traffic; memory must not grow with keys
            index.answers.clear()
        hit = index.answers[key] = tuple(sorted(found))
        return hit

    def skip_used(self, g, dmas, lo, hi):
        """The first entry index in [lo, hi) of the array at `dmas` that is not readable-and-known-used, or hi.

        An entry is skipped only when lguest_address_ok accepts its 100 bytes
        and its used_len is a known non-zero number: exactly the entries on
        which the search of a free entry (dma_transfer, get_dma_buffer) moves
        on without any effect.
        """
        if lo >= hi:
            return hi
        gs = self.guest(g)
        # lguest_address_ok(addr, 100): addr + 100 < 2^32 and (addr + 100) >> 12 < limit.
        bound = 1 << 32 if gs.limit is None else min(1 << 32, gs.limit << C.PAGE_SHIFT)
        room = bound - dmas - C.DMA_SIZE  # entry i readable iff 100*i < room
        readable = 0 if room <= 0 else (room + C.DMA_SIZE - 1) // C.DMA_SIZE
        hi_r = min(hi, readable)
        if lo >= hi_r:
            return lo
        base = dmas // C.DMA_SIZE
        k = gs.used.next_free(dmas % C.DMA_SIZE, base + lo) - base
        return min(k, hi_r) if k < hi_r else hi_r

    def devices(self, g):
        # Device index order is the Launcher's creation order (new_dev_desc).
        devs = self.guest(g).devices
        listed = getattr(devs, "listed", None)
        if listed is not None and listed[0] == devs.version:
            return listed[1]  # a tuple: the callers only read it
        out = tuple(sorted(devs.items()))
        if isinstance(devs, DeviceTable):
            devs.listed = (devs.version, out)
        return out

    def pfn_limit(self, g):
        gs = self.guests.get(g)
        return gs.limit if gs is not None else None

    def key_mapped(self, g, key) -> bool:
        """Does the Launcher of Guest g map the address `key` (find_extend_vma)?  See host.get_futex_key."""
        return not self.unmapped or (g, key) not in self.unmapped

    @staticmethod
    def bound(n):
        return n

    # ------------------------------------------------------------ memory
    def _unknown(self, g, addr, field):
        if self.partial:
            raise UnknownValue(f"g{g} descriptor {addr:#x} {field}")
        self.check(
            "unknown-descriptor",
            False,
            lambda: f"g{g}'s descriptor at {addr:#x} is used but its {field} was never written; taken as 0",
        )
        # Taken as 0 from now on, so one unwritten field is reported once.
        d = self._desc_for_write(g, addr)
        d.memo = None
        if field == "used_len":
            self._set_used(g, addr, 0)
        else:
            name, i = field[:-1].split("[")
            (d.lens if name == "len" else d.addrs)[int(i)] = 0
        self.doubtful.add((g, addr))
        return 0

    def is_doubtful(self, g, addr) -> bool:
        """Was a field of this descriptor unknown (taken as 0)?  Checks on its size would be echoes."""
        return (g, addr) in self.doubtful

    def rd_used_len(self, g, addr):
        gs = self.guests.get(g)
        d = (gs if gs is not None else self.guest(g)).mem.get(addr)
        v = None if d is None else d.used_len
        if v is None:
            return self._unknown(g, addr, "used_len")
        if not isinstance(v, int):
            raise UnknownValue(f"g{g} descriptor {addr:#x} used_len")
        return v

    def rd_section(self, g, addr, i):
        gs = self.guests.get(g)
        d = (gs if gs is not None else self.guest(g)).mem.get(addr)
        ln = None if d is None else d.lens[i]
        if ln is None:
            return 0, self._unknown(g, addr, f"len[{i}]")
        if not isinstance(ln, int):
            raise UnknownValue(f"g{g} descriptor {addr:#x} len[{i}]")
        if ln == 0:
            return 0, 0  # the array ends here; its address is never looked at
        a = d.addrs[i]
        if a is None:
            return self._unknown(g, addr, f"addr[{i}]"), ln
        if not isinstance(a, int):
            raise UnknownValue(f"g{g} descriptor {addr:#x} addr[{i}]")
        return a, ln

    def wr_used_len(self, g, addr, value, when=True):
        if when is True:
            self._set_used(g, addr, value)

    def _set_used(self, g, addr, value):
        d = self._desc_for_write(g, addr)
        old = d.used_len
        d.used_len = value
        d.prev_used_line, d.used_line = d.used_line, self.cursor.line
        used = type(value) is int and value != 0
        if used != (type(old) is int and old != 0):  # the index holds exactly the known non-zero used_lens
            self.guest(g).used.set(addr, used)

    def write_data(self, g, addr, nbytes, who, why="", when=True, stored=None, host=False):
        """nbytes land in the descriptor; its used_len becomes `stored` (default nbytes); `host`: the Host's copy."""
        if when is True:
            try:
                old = self.rd_used_len(g, addr)
            except UnknownValue:  # partial mode: the monitor cannot tell
                old = None
            self.log.append(Write("data", True, g, addr, old, nbytes, who, why, host))
            self.wr_used_len(g, addr, nbytes if stored is None else stored)

    def _desc_for_write(self, g, addr):
        mem = self.guest(g).mem
        d = mem.get(addr)
        if d is None:
            d = mem[addr] = Desc()
        return d

    def write_desc(self, g, addr, used_len=None, addrs=None, lens=None):
        """The Guest's own store into a struct lguest_dma (a `gN dma` record)."""
        gs = self.guests.get(g)
        if gs is None:
            gs = self.guest(g)
        d = gs.mem.get(addr)
        if d is None:
            d = gs.mem[addr] = Desc()
        if used_len is not None:  # as _set_used, inline: this is the commonest record
            old = d.used_len
            d.used_len = used_len
            d.prev_used_line, d.used_line = d.used_line, self.cursor.line
            used = type(used_len) is int and used_len != 0
            if used != (type(old) is int and old != 0):
                gs.used.set(addr, used)
        if lens is not None or addrs is not None:
            d.memo = None
        if lens is not None:
            d.lens_line = self.cursor.line
            n = len(lens)
            d.lens[:n] = lens
            d.lens[n:] = _ZERO_PAD[min(n, C.LGUEST_MAX_DMA_SECTIONS)]
        if addrs is not None:
            n = len(addrs)
            d.addrs[:n] = addrs
            if lens is not None:
                d.addrs[n:] = _ZERO_PAD[min(n, C.LGUEST_MAX_DMA_SECTIONS)]
        if self.has_bytes:
            self.forget_desc_bytes(g, addr)

    # ------------------------------------------------------------ bindings
    def set_binding(self, b: Binding, when=True, **fields):
        if when is not True:
            return
        for k, v in fields.items():
            setattr(b, k, v)
        # The indexes list live bindings only, each under its current key:
        # every reader of a bucket looks for live ones (live_match), and
        # memory stays bounded by the live bindings, not by the binds made.
        live = b.interrupt != 0
        b.indexed = _reindex(self._index, b, b.indexed, (b.owner, b.off) if live else None)
        b.named = _reindex(self._named, b, b.named, (b.nowner, b.noff) if live else None)
        if "owner" in fields or "off" in fields:
            b.line = self.cursor.line

    def log_bind(self, g, b, when=True):
        if when is True:
            self.log.append(Write("bind", True, g, b))

    def holders(self, b, owner, off):
        out = dict(self._index.get((b.owner, b.off), {}))
        out.update(self._named.get((owner, off), {}))
        out.pop(b, None)
        return tuple(out)

    @staticmethod
    def newer(b, c) -> bool:
        return b.stamp > c.stamp

    def mark_newest(self, b, when=True):
        if when is True:
            self.stamp += 1
            b.stamp = self.stamp

    # ------------------------------------------------------------ the rest
    def raise_irq(self, g, irq, when=True):
        if when is True and irq < C.LGUEST_IRQS:
            self.guest(g).irqs |= 1 << irq

    def kill(self, g, reason, when=True):
        if when is True:
            gs = self.guest(g)
            if gs.dead is None:  # kill_guest keeps only the first reason
                gs.dead = reason() if callable(reason) else reason

    def killed(self, g) -> bool:
        return self.guest(g).dead is not None

    def close(self, g, when=True):
        if when is True:
            self.guest(g).closed = True

    def status(self, g, dev):
        d = self.guest(g).devices.get(dev)
        return 0 if d is None else d.status

    def set_status(self, g, dev, value, who="guest", when=True):
        if when is True:
            d = self.guest(g).devices.get(dev)
            if d is not None:
                self.log.append(Write("status", True, g, dev, d.status, value, who))
                d.status = value
                d.prev_line, d.line = d.line, self.cursor.line

    def set_pending(self, g, value, when=True):
        if when is True:
            self.guest(g).pending = value

    def check(self, name, ok, message):
        if name not in FINDINGS:
            raise ValueError(f"a check filed under {name!r}, which is no finding of spec/registry.py")
        if ok is False:
            text = message() if callable(message) else message
            self.findings.append((name, text))
            if self.relate is not None:
                self.related[(name, text)] = self.relate(self, name, text)
        elif ok is not True:
            raise TypeError(f"concrete check {name} got {ok!r}")

    def note(self, text):
        # A note about one line ("line N: ...") is said once for that line;
        # the other notes (a few texts per Guest or descriptor) once per trace.
        if text.startswith("line "):
            head = text.split(":", 1)[0]
            if head != self._noted_line[0]:
                self._noted_line = (head, set())
            seen = self._noted_line[1]
        else:
            seen = self._noted
        if text not in seen:
            seen.add(text)
            self.notes.append(text)

    def fault(self, name) -> bool:
        return name in self.faults

    # ------------------------------------------------------------ bytes (version 2)
    # (Guest, page) -> (data, known): two bytearrays of a page, known[i] 1 where
    # data[i] was given.  Only pages a `mem` record or a copy wrote exist; a
    # trace without `mem` records never creates one, and `has_bytes` stays
    # False, so version 1 replays take none of these paths.  Ranges are moved
    # by slicing (C speed); no loop runs per byte.
    has_bytes = False
    contents = None  # becomes the dict of pages at the first write_bytes
    received = None  # (Guest, descriptor, length, bytes) the data-corrupted monitor last read
    # Replay's fused delivery step (spec/fused.py delivered_bytes): while `defer_copy` is set, deliver_bytes
    # only keeps its arguments in `deferred` (nothing copied, nothing logged); replay then performs them.
    defer_copy = False
    deferred = None
    probe = None  # the symbolic state's free offset (checker/symstate.py); here every byte is read
    # Pages of contents kept at most (8 KiB each with their known-marks: 128 MiB).  A capture's `mem`
    # records may touch any page of 4 GiB per Guest: past this many, the page kept longest is forgotten
    # (its bytes unknown, said once in a note), so memory stays bounded whatever the capture holds.
    max_pages = 16384
    pages_forgotten = 0
    # Guest -> the page numbers it has in `contents` (kept by new_page, the eviction and the forgetting
    # below), so that forgetting one Guest's bytes costs its pages, not a walk over every Guest's.
    page_sets = None

    shared_pages = None  # (share index, page within the share) -> the one page every Guest mapping it sees

    def _shared_at(self, g, page):
        """(share index, page within the share) that Guest g sees at `page`, or None for its own memory.

        The Launcher mmaps the file MAP_SHARED over its /dev/zero page (setup_net_file), so every Guest
        that maps the share reads and writes the same bytes; the last mapping holding the page wins, as
        for keys (maps_at).
        """
        gs = self.guests.get(g)
        if gs is None or not gs.maps:
            return None
        addr = page << _SHIFT
        hit = None
        for sid, base, size in self.maps_at(g, addr):
            if base <= addr < base + size:
                hit = (sid, (addr - base) >> _SHIFT)
        return hit

    def _aliases(self, sh):
        """Every (Guest, page) that sees shared page `sh` now."""
        sid, idx = sh
        out = []
        for h, hs in self.guests.items():
            for s, base, size in hs.maps:
                if s == sid and idx << _SHIFT < size:
                    page = (base >> _SHIFT) + idx
                    if self._shared_at(h, page) == sh and (h, page) not in out:
                        out.append((h, page))
        return out

    def link_shared(self, g, base, size):
        """A share now mapped at [base, base+size) in Guest g: the bytes Guest g had there are gone (the
        file's replace them, unknown).  (A share's own pages are made only after its record has mapped
        it in every Guest it names, so there is nothing of the share to link here.)"""
        lo, hi = base >> _SHIFT, (base + size) >> _SHIFT
        contents = self.contents
        mine = self.page_sets.get(g, set()) if self.page_sets else set()
        for k in [k for k in contents if k[0] == g and lo <= k[1] < hi]:
            self._unlink(k, contents.pop(k), mine)

    def _drop_shared(self, p):
        """Shared page p is forgotten under every (Guest, page) key that still holds it."""
        contents, sets = self.contents, self.page_sets
        for k in p.aliases:
            if contents.get(k) is p:
                del contents[k]
                sets.get(k[0], set()).discard(k[1])
        self.shared_pages.pop(p.share, None)

    def _unlink(self, k, p, mine):
        """Key k no longer holds page p: no other page's bookkeeping may still name it."""
        mine.discard(k[1])
        if type(p) is SharedPage and k in p.aliases:  # an earlier share's page, seen here no more
            p.aliases.remove(k)

    def new_page(self, key):
        """A page of contents for key (Guest, page number), every byte unknown: the one place pages are made.

        A page inside a shared mapping is one page under every (Guest, page) that maps it: a write
        through one Guest's address is read through another's.
        """
        contents = self.contents
        sets = self.page_sets
        if sets is None:
            sets = self.page_sets = {}
        if len(contents) >= self.max_pages:
            oldkey = next(iter(contents))  # the page kept longest (dicts keep their insertion order)
            old = contents.pop(oldkey)
            sets[oldkey[0]].discard(oldkey[1])
            if type(old) is SharedPage:
                self._drop_shared(old)
            self.pages_forgotten += 1
            if self.pages_forgotten == 1:
                self.note(
                    f"the bytes of more than {self.max_pages:,} pages were given: the model keeps "
                    f"{self.max_pages:,} at most ({self.max_pages * 2 * _PAGE >> 20} MiB), so from here on the "
                    "page it kept longest is forgotten for each new one (its bytes are unknown: a sum= or a "
                    "data-corrupted judgement that needs them is not made, and says so)"
                )
        sh = self._shared_at(*key)
        if sh is None:
            p = contents[key] = (bytearray(_PAGE), bytearray(_PAGE))
            sets.setdefault(key[0], set()).add(key[1])
            return p
        if self.shared_pages is None:
            self.shared_pages = {}
        p = self.shared_pages.get(sh)
        if p is None:
            p = self.shared_pages[sh] = SharedPage((bytearray(_PAGE), bytearray(_PAGE)), sh)
        for k in self._aliases(sh) + [key]:
            if contents.get(k) is not p:
                contents[k] = p
                p.aliases.append(k)
                sets.setdefault(k[0], set()).add(k[1])
        return p

    def write_bytes(self, g, addr, data):
        """Guest g's memory at addr now holds `data` (bytes): a `mem` record, or a copy."""
        contents = self.contents
        if contents is None:
            contents = self.contents = {}
            self.has_bytes = True
        n = len(data)
        off = addr & _PAGE_MASK
        if off + n <= _PAGE:  # within one page: every section (check_dma_list), most `mem`s
            key = (g, addr >> _SHIFT)
            p = contents.get(key)
            if p is None:
                p = self.new_page(key)
            put_known(p, off, data)
            return
        for page, off, pos, k in _spans(addr, n):
            p = contents.get((g, page))
            if p is None:
                p = self.new_page((g, page))
            put_known(p, off, data[pos : pos + k])

    def forget_bytes(self, g, addr, n):
        """n bytes at addr are unknown from now on."""
        contents = self.contents
        if not contents:
            return
        for page, off, _, k in _spans(addr, n):
            p = contents.get((g, page))
            if p is not None:
                p[1][off : off + k] = bytes(k)

    def forget_desc_bytes(self, g, addr):
        """The struct's 100 bytes at addr are unknown: the descriptor lives there now.

        The model keeps a descriptor's fields apart from the bytes, and a field
        never written is unknown, so bytes a `mem` record gave there earlier no
        longer say what the memory holds: a copy that reads them must not be
        judged (data-corrupted, sum=) against them.
        """
        contents = self.contents
        if not contents:
            return
        off = addr & _PAGE_MASK
        if off + C.DMA_SIZE <= _PAGE:  # the usual struct, within one page: one slice
            p = contents.get((g, addr >> _SHIFT))
            if p is not None:
                p[1][off : off + C.DMA_SIZE] = _NO_MARKS
            return
        self.forget_bytes(g, addr, C.DMA_SIZE)

    def forget_guest_bytes(self, g):
        """Every byte of Guest g is unknown (a descriptor written at an address the trace did not record)."""
        mine = self.page_sets.pop(g, None) if self.page_sets else None
        if mine:
            contents = self.contents
            for page in mine:
                p = contents.pop((g, page), None)
                if type(p) is SharedPage:
                    # The struct may lie in the shared page, which every Guest mapping it reads: its bytes
                    # are unknown under every address, not only g's.
                    self._drop_shared(p)

    def forget_all_bytes(self):
        """Every byte of every Guest is unknown (a `lost` may have written any)."""
        if self.has_bytes:
            self.contents = {}
            self.page_sets = {}
            self.shared_pages = None

    def read_byte(self, g, addr):
        """The byte at addr in Guest g's memory (an int), or None if unknown (the monitors' byte_at)."""
        b = self.read_bytes(g, addr, 1)
        return None if b is None else b[0]

    def read_bytes(self, g, addr, n):
        """The n bytes at addr in Guest g's memory, or None if one of them is unknown."""
        contents = self.contents
        if contents is None:
            return None if n else b""
        off = addr & (C.PAGE_SIZE - 1)
        if off + n <= C.PAGE_SIZE:  # within one page: every section (check_dma_list), most `mem`s
            p = contents.get((g, addr >> C.PAGE_SHIFT))
            if p is None or p[1].find(0, off, off + n) != -1:
                return None if n else b""
            return bytes(p[0][off : off + n])
        out = []
        for page, off, _, k in _spans(addr, n):
            p = contents.get((g, page))
            if p is None or p[1].find(0, off, off + k) != -1:
                return None
            out.append(p[0][off : off + k])
        return b"".join(out)

    def stored_sections(self, g, desc, n):
        """(address, length) of the descriptor's sections in order, up to n bytes in all; None if one is unwritten.

        Read from the stored struct directly (no unknown-descriptor finding):
        the data-corrupted monitor's own walk over a descriptor the Host has
        already read, and the bookkeeping of bytes.
        """
        d = self.guest(g).mem.get(desc)
        if d is None:
            return None
        a, ln = d.addrs[0], d.lens[0]
        if type(ln) is int and ln >= n > 0 and type(a) is int:
            return [(a, n)]  # the usual frame: all n bytes in the first section
        out = []
        for a, ln in zip(d.addrs, d.lens):
            if n <= 0 or ln == 0:
                break
            if type(a) is not int or type(ln) is not int:
                return None
            k = min(ln, n)
            out.append((a, k))
            n -= k
        return out

    def section_bytes(self, g, desc, n):
        """The first n bytes of the descriptor's stored sections read in order, or None if one is unknown.

        stored_sections and read_bytes in one call (the data-corrupted
        monitor's own walk, and the sums): the usual frame, all n bytes in
        section 0 within one page, is one slice of the page, with no list
        built.  The same bytes as the general walk below, which any other
        layout takes.
        """
        gs = self.guests.get(g)
        d = (gs if gs is not None else self.guest(g)).mem.get(desc)
        if d is None:
            return None
        a, ln = d.addrs[0], d.lens[0]
        if type(ln) is int and ln >= n > 0 and type(a) is int:
            off = a & _PAGE_MASK
            contents = self.contents
            if off + n <= _PAGE and contents is not None:
                p = contents.get((g, a >> _SHIFT))
                if p is None or p[1].find(0, off, off + n) != -1:
                    return None
                return bytes(p[0][off : off + n])
        secs = self.stored_sections(g, desc, n)
        if not secs:
            return None if secs is None or n else b""
        parts = []
        for a, k in secs:
            b = self.read_bytes(g, a, k)
            if b is None:
                return None
            parts.append(b)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def forget_sections(self, g, desc, n):
        """The first n bytes of the descriptor's sections are unknown (a fill, or a copy replay cannot follow)."""
        if not self.has_bytes:
            return
        secs = self.stored_sections(g, desc, n)
        if secs is None:
            return
        for a, k in secs:
            self.forget_bytes(g, a, k)

    def section_sum(self, g, desc, n):
        """SHA-256 (hex) of the first n bytes of the descriptor's sections in order, or None if one is unknown."""
        b = self.section_bytes(g, desc, n)
        return hashlib.sha256(b).hexdigest() if b is not None and len(b) == n else None

    def deliver_bytes(self, src, dst, length, steps, who, when=True):
        """The Host's copy of a delivery, performed: each step (guard, from, to, n) moves n bytes from the source
        Guest's address `from` to the destination Guest's `to`; unknown source bytes make their
        destination unknown.  Logged as a Write of kind "bytes": new = (length, source Guest, source descriptor).
        `steps` None (a recorded delivery the model did not compute) makes the destination unknown.
        """
        if not self.has_bytes or when is not True:
            return
        self.received = None  # set by the data-corrupted monitor when it reads this delivery
        if self.defer_copy:
            self.deferred = (src, dst, length, steps, who)
            return
        (sg, sa), (dg, da) = src, dst
        if steps is None:
            self.forget_sections(dg, da, length)
            return
        contents = self.contents
        for _, frm, to, n in steps:  # every step listed ran (copy_data_steps, concrete reading)
            so, do = frm & _PAGE_MASK, to & _PAGE_MASK
            if so + n <= _PAGE and do + n <= _PAGE:
                # Both sides within one page (every step of a checked copy: sections never
                # cross a page): the bytes and their known-marks move together, two slices.
                sp = contents.get((sg, frm >> _SHIFT))
                dp = contents.get((dg, to >> _SHIFT))
                if dp is None:
                    if sp is None:
                        continue  # unknown onto unknown
                    dp = self.new_page((dg, to >> _SHIFT))
                if sp is None:
                    dp[1][do : do + n] = bytes(n)
                else:
                    dp[0][do : do + n] = sp[0][so : so + n]
                    dp[1][do : do + n] = sp[1][so : so + n]
                continue
            data = self.read_bytes(sg, frm, n)
            if data is None:
                self.forget_bytes(dg, to, n)
            else:
                self.write_bytes(dg, to, data)
        self.log.append(Write("bytes", True, dg, da, None, (length, sg, sa), who))


if INTERPRETED:
    # The rules as written, with no shortcut of the concrete state's: skip_used restates dma_transfer's and
    # get_dma_buffer's free test (used_len 0), which a mutation of that test (checker/mutations.py) does not
    # change; mutation runs replay so, and a counterexample of a mutated rule then replays without divergence.
    del ConcreteState.skip_used

    def _every_binding(self, owner, off):
        """The symbolic reading's bucket: every slot of every Guest, live or not, whatever its key.

        The index lists live bindings only, under their key: a shortcut that restates live_match's
        tests (interrupt != 0, the same key), so a mutation of those tests changed prove's verdict
        but not replay's (live-match-ignores-interrupt's counterexample diverged).
        """
        return tuple(b for gs in self.guests.values() for b in gs.slots)

    ConcreteState.bucket = _every_binding

_ONES = memoryview(b"\x01" * C.PAGE_SIZE)  # sliced without a copy
_NO_MARKS = bytes(C.DMA_SIZE)  # a descriptor's known-marks, all unknown (forget_desc_bytes)


def put_known(page, off, data) -> None:
    """`data` into a page of `contents` (bytes, known-marks) at `off`, those bytes now known.

    The marks are written only where one was unknown: a buffer written again
    (the usual case) costs one find.  The one place the known-marks are set:
    a `mem` record (the state's and replay's own way), and a copy's step
    (spec/fused.py).
    """
    n = len(data)
    page[0][off : off + n] = data
    marks = page[1]
    if marks.find(b"\x00", off, off + n) != -1:
        marks[off : off + n] = _ONES[:n]
_PAGE, _PAGE_MASK, _SHIFT = C.PAGE_SIZE, C.PAGE_SIZE - 1, C.PAGE_SHIFT
# The zeros after n given sections (write_desc): made once, not per record.
_ZERO_PAD = [(0,) * (C.LGUEST_MAX_DMA_SECTIONS - n) for n in range(C.LGUEST_MAX_DMA_SECTIONS + 1)]
