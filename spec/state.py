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
    set_binding               change binding fields, when a guard holds
    raise_irq, kill, set_status, set_pending
    newer(b, c), mark_newest  the bucket order: list_add puts a new binding first
    check(name, ok, message)  an invariant the step must keep
    note(text)                a remark that is not a finding

Every write takes a guard `when`: in this reading it is a Python bool, and a
False guard changes nothing.
"""

from __future__ import annotations

from . import constants as C


class UnknownValue(Exception):
    """A partial trace left a value the step needs unrecorded (`?`)."""


class Binding:
    """struct lguest_dma_info: one slot of a Guest's binding table."""

    __slots__ = ("guest", "slot", "owner", "off", "dmas", "num_dmas", "next_dma", "interrupt", "stamp", "line")

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
        self.line = None  # the trace line that last bound it (replay's related locations)

    def __repr__(self) -> str:
        return (
            f"Binding(g{self.guest}[{self.slot}] key=({self.owner:#x},{self.off:#x}) dmas={self.dmas:#x} "
            f"num={self.num_dmas} next={self.next_dma} irq={self.interrupt})"
        )


class Desc:
    """struct lguest_dma at one address; None marks a field never written."""

    __slots__ = ("used_len", "addrs", "lens", "used_line", "lens_line")

    def __init__(self):
        self.used_len = None
        self.addrs = [None] * C.LGUEST_MAX_DMA_SECTIONS
        self.lens = [None] * C.LGUEST_MAX_DMA_SECTIONS
        self.used_line = None  # trace lines that last set used_len / the section lengths
        self.lens_line = None


class Device:
    """struct lguest_device_desc, as the Launcher's new_dev_desc wrote it."""

    __slots__ = ("type", "features", "pfn", "pages", "status", "line")

    def __init__(self, type: int, features: int, pfn: int, pages: int, status=0):
        self.type = type
        self.features = features
        self.pfn = pfn
        self.pages = pages
        self.status = status
        self.line = None  # the trace line that last wrote the status


class Guest:
    __slots__ = ("gid", "pages", "devices", "maps", "slots", "mem", "irqs", "dead", "closed", "pending", "limit")

    def __init__(self, gid: int):
        self.gid = gid
        self.pages = None  # RAM pages; None: no `guest` record, size unknown
        self.devices: dict[int, Device] = {}
        self.maps: list[tuple[int, int, int]] = []
        self.slots = [Binding(gid, i) for i in range(C.LGUEST_MAX_DMA)]
        self.mem: dict[int, Desc] = {}
        self.irqs = 0  # bitmap of raised interrupts (irqs_pending)
        self.dead = None  # the first kill reason
        self.closed = False
        self.pending = None  # (key, dma) of a send waiting for the Launcher
        self.limit = None

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

    def __init__(self, partial: bool = False):
        self.guests: dict[int, Guest] = {}
        self.shares: list[tuple[str, int, list[tuple[int, int]]]] = []
        self.stamp = 0
        self.partial = partial
        self._index: dict[tuple[int, int], dict[Binding, None]] = {}
        self.findings: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self._noted: set[str] = set()
        self.faults: frozenset[str] = frozenset()
        self.doubtful: set[tuple[int, int]] = set()
        self.related: dict[tuple[str, str], tuple] = {}

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

    def devices(self, g):
        # Device index order is the Launcher's creation order (new_dev_desc).
        return sorted(self.guest(g).devices.items())

    def pfn_limit(self, g):
        gs = self.guests.get(g)
        return gs.limit if gs is not None else None

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
        if field == "used_len":
            d.used_len = 0
        else:
            name, i = field[:-1].split("[")
            (d.lens if name == "len" else d.addrs)[int(i)] = 0
        self.doubtful.add((g, addr))
        return 0

    def is_doubtful(self, g, addr) -> bool:
        """Was a field of this descriptor unknown (taken as 0)?  Checks on its size would be echoes."""
        return (g, addr) in self.doubtful

    def rd_used_len(self, g, addr):
        d = self.guest(g).mem.get(addr)
        v = None if d is None else d.used_len
        if v is None:
            return self._unknown(g, addr, "used_len")
        if not isinstance(v, int):
            raise UnknownValue(f"g{g} descriptor {addr:#x} used_len")
        return v

    def rd_section(self, g, addr, i):
        d = self.guest(g).mem.get(addr)
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
            d = self._desc_for_write(g, addr)
            d.used_len = value
            d.used_line = self.cursor.line

    def _desc_for_write(self, g, addr):
        mem = self.guest(g).mem
        d = mem.get(addr)
        if d is None:
            d = mem[addr] = Desc()
        return d

    def write_desc(self, g, addr, used_len=None, addrs=None, lens=None):
        """The Guest's own store into a struct lguest_dma (a `gN dma` record)."""
        d = self._desc_for_write(g, addr)
        if used_len is not None:
            d.used_len = used_len
            d.used_line = self.cursor.line
        if lens is not None:
            d.lens_line = self.cursor.line
            n = len(lens)
            d.lens[:n] = lens
            d.lens[n:] = [0] * (C.LGUEST_MAX_DMA_SECTIONS - n)
        if addrs is not None:
            n = len(addrs)
            d.addrs[:n] = addrs
            if lens is not None:
                d.addrs[n:] = [0] * (C.LGUEST_MAX_DMA_SECTIONS - n)

    # ------------------------------------------------------------ bindings
    def set_binding(self, b: Binding, when=True, **fields):
        if when is not True:
            return
        for k, v in fields.items():
            setattr(b, k, v)
        if "owner" in fields or "off" in fields:
            self._index.setdefault((b.owner, b.off), {})[b] = None
            b.line = self.cursor.line

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

    def close(self, g, when=True):
        if when is True:
            self.guest(g).closed = True

    def status(self, g, dev):
        d = self.guest(g).devices.get(dev)
        return 0 if d is None else d.status

    def set_status(self, g, dev, value, when=True):
        if when is True:
            d = self.guest(g).devices.get(dev)
            if d is not None:
                d.status = value
                d.line = self.cursor.line

    def set_pending(self, g, value, when=True):
        if when is True:
            self.guest(g).pending = value

    def check(self, name, ok, message):
        if ok is False:
            text = message() if callable(message) else message
            self.findings.append((name, text))
            if self.relate is not None:
                self.related[(name, text)] = self.relate(self, name, text)
        elif ok is not True:
            raise TypeError(f"concrete check {name} got {ok!r}")

    def note(self, text):
        if text not in self._noted:
            self._noted.add(text)
            self.notes.append(text)

    def fault(self, name) -> bool:
        return name in self.faults
