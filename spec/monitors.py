"""The seven invariants, as monitors that observe the state, never the rules' own numbers.

A rule decides effects and `apply` performs them; every performed write that an
invariant speaks of is logged by the state as a `Write` (what kind, under which
guard, where, the value there *before* as the state held it, the value written
and who wrote it).  After each effect, `observe` hands the new writes to the
monitors registered for their kind.  A monitor reads only the log and the state:
the `used_len` of the descriptor actually written, the section lengths stored in
that descriptor (summed here, by our own walk, not by the Host's total_len or
check_dma_list), the status value before and after, the raw key a Guest passed
and the live bindings now in the table.  So a rule that checks one entry and
writes another, miscounts a length or aliases two keys is caught, in replay and
in prove alike (both readings run this same code).

The seventh, `data-corrupted` (version 2), observes writes of kind "bytes":
the state logs one per delivery whose bytes it follows (new = (length,
source Guest, source descriptor)); the monitor reads both descriptors'
sections in order and the bytes in memory after the copy.  The symbolic state
keeps bytes too when prove is asked about data (checker/symstate.py: any
contents, overwritten by the copy's runs): there the monitor compares the two
bytes at one free offset (`st.probe`, found by the monitor's own walk,
`byte_at`), which the solver may place anywhere.

Declared like hypothesis' `@invariant`: one function per invariant, registered
under its finding name; `lgcheck rules` and the tests read the registry.
"""

from __future__ import annotations

from typing import Callable

from . import constants as C
from .registry import FINDINGS


class Write:
    """One observed write: kind is "data", "status", "bind" or "bytes" (version 2)."""

    __slots__ = ("kind", "when", "guest", "where", "old", "new", "who", "why", "host")

    def __init__(self, kind, when, guest, where, old=None, new=None, who="", why="", host=False):
        self.kind, self.when, self.guest, self.where = kind, when, guest, where
        self.old, self.new, self.who, self.why = old, new, who, why
        self.host = host  # the Host's copy (spec/apply.py "deliver"), which buffer-overflow holds to its pages

    def __repr__(self) -> str:
        return (
            f"Write({self.kind}, g{self.guest}, {self.where!r}, old={self.old!r}, new={self.new!r}, when={self.when!r})"
        )


# How a write of the Host's copy names its writer (spec/apply.py "deliver"; the sender's number follows).
HOST_COPY = "the Host's send from g"

MONITORS: dict[str, tuple[str, Callable]] = {}  # finding name -> (write kind, monitor)


def monitor(name: str, kind: str):
    """Register the monitor of invariant `name` over writes of `kind`."""
    f = FINDINGS.get(name)
    if f is None or f.invariant is None:
        raise ValueError(f"monitor {name!r} is not an invariant of spec/registry.py FINDINGS")

    def mark(fn):
        if name in MONITORS:
            raise ValueError(f"invariant {name} has two monitors")
        MONITORS[name] = (kind, fn)
        return fn

    return mark


def observe(ops, st):
    """Run the monitors over the writes logged since the last call."""
    log = st.log
    if not log:
        return
    writes = list(log)
    log.clear()
    # A state may watch fewer invariants (the search watches only those it is asked about: a check of
    # another could never be reported, and no monitor changes what a later step does).
    by_kind = st.monitored or _BY_KIND
    for w in writes:
        for fn in by_kind.get(w.kind, ()):
            fn(ops, st, w)


def plural_bytes(n) -> str:
    return f"{n} byte" if n == 1 else f"{n} bytes"


def bits(v: int) -> str:
    """A status value in words: ACKNOWLEDGE|DRIVER, with any unnamed bits in hex."""
    names = [n for n, b in C.STATUS_BITS.items() if v & b]
    rest = v & ~sum(C.STATUS_BITS.values())
    if rest or not names:
        names.append(hex(rest) if rest else "0")
    return "|".join(names)


# ---------------------------------------------------------------- buffers
def capacity(ops, st, g, addr, host=False):
    """Bytes the descriptor's stored sections hold: len[0] + len[1] + ... up to the first 0.

    The monitor's own walk over the state (not the Host's total_len or
    check_dma_list, which it is there to check).  For the Host's copy
    (`host`), a section counts only if every byte of it lies in the Guest's
    memory and in one page: the Host copies into one page it mapped
    (copy_data: maddr + addr % PAGE_SIZE), so a byte past that page, or past
    the Guest's memory, lands in memory that is not the buffer.  The count
    stops at the first such section (the copy fills the sections in order).
    """
    total = 0
    ended = False
    limit = st.pfn_limit(g) if host else None
    for i in range(st.sections):
        a, ln = st.rd_section(g, addr, i)
        ended = ops.Or(ended, ops.Eq(ln, 0))
        if host:
            ended = ops.Or(ended, ops.Not(_lands_in_page(ops, a, ln, limit)))
        if ended is True:
            break
        total = ops.Add(total, ops.If(ended, 0, ln))
    return total


def _lands_in_page(ops, a, ln, limit):
    """Bytes a..a+ln-1 lie in one page, and below pfn `limit` (None: the RAM size is unknown, not checked)."""
    ok = ops.ULE(ops.Add(ops.BitAnd(a, C.PAGE_SIZE - 1), ln), C.PAGE_SIZE)
    if limit is not None:
        ok = ops.And(ok, ops.Not(ops.AddOverflows(a, ln)), ops.ULE(ops.Add(a, ln), limit * C.PAGE_SIZE))
    return ok


def ring_entry(ops, st, g, addr):
    """Is `addr` an entry of one of Guest g's live bindings: dmas + i x DMA_SIZE with i < num_dmas?

    The monitor's own reading of the binding table the state holds (not the
    binding the rule chose): a Guest hands a descriptor over by binding the
    array it is in, and memory outside those arrays is not a buffer, whatever
    its first 4 bytes (read as used_len) hold.
    """
    inside = False
    for b in st.slots(g):
        num = b.num_dmas
        if ops.is_concrete(addr) and ops.is_concrete(b.dmas) and ops.is_concrete(num):
            off = ops.Sub(addr, b.dmas)
            entry = ops.And(
                ops.UGE(addr, b.dmas), ops.Eq(ops.URem(off, C.DMA_SIZE), 0), ops.ULT(ops.UDiv(off, C.DMA_SIZE), num)
            )
        else:  # the symbolic reading: entry by entry, up to the most a binding holds (no divider circuit)
            entry = ops.Or(
                *[ops.And(ops.ULT(i, num), ops.Eq(addr, ops.Add(b.dmas, i * C.DMA_SIZE))) for i in range(st.bound(num))]
            )
        inside = ops.Or(inside, ops.And(_live(ops, b), entry))
        if inside is True:
            break
    return inside


@monitor("write-to-used-buffer", "data")
def write_to_used_buffer(ops, st, w):
    """Data lands only in a descriptor whose used_len (as stored just before the write) is 0."""
    if w.old is None:
        return  # a partial trace left it unrecorded
    st.check(
        "write-to-used-buffer",
        ops.Implies(w.when, ops.Eq(w.old, 0)),
        lambda: (
            f"{w.who} writes {plural_bytes(w.new)} into g{w.guest}'s descriptor {w.where:#x}, whose used_len was "
            f"{w.old}, not 0: the Guest has not handed it back, and its data is overwritten{w.why}"
        ),
    )
    st.check(
        "write-to-used-buffer",
        ops.Implies(w.when, ring_entry(ops, st, w.guest, w.where)),
        lambda: (
            f"{w.who} writes {plural_bytes(w.new)} into g{w.guest}'s descriptor {w.where:#x}, which is no entry "
            f"of a live binding of g{w.guest} ({bound_arrays(st, w.guest)}): the Guest never handed it over"
        ),
    )


def bound_arrays(st, g) -> str:
    spans = [f"slot {b.slot}: {b.dmas:#x} x {b.num_dmas}" for b in st.slots(g) if b.interrupt != 0]
    return ", ".join(spans) if spans else "it has none"


@monitor("buffer-overflow", "data")
def buffer_overflow(ops, st, w):
    """No more bytes land in a descriptor than its stored sections hold."""
    if st.is_doubtful(w.guest, w.where):
        return  # its lengths were never written: replay already said so
    cap = capacity(ops, st, w.guest, w.where, host=w.host)
    st.check(
        "buffer-overflow",
        ops.Implies(w.when, ops.ULE(w.new, cap)),
        lambda: (
            f"{w.who} writes {plural_bytes(w.new)} into g{w.guest}'s descriptor {w.where:#x}, "
            f"whose sections hold only {plural_bytes(cap)}"
        ),
    )


# ---------------------------------------------------------------- bytes (version 2)
def received(ops, st, g, desc, n):
    """The first n bytes of a descriptor's sections read in order from memory (section 0, then 1, ...).

    The monitor's own walk over the stored descriptor (not copy_data's
    steps).  Returns (bytes, where): `where` lists (offset in the whole,
    section index, section address, length); bytes is None if one of them
    (or a section field) is unknown.
    """
    secs = st.stored_sections(g, desc, n)
    if not secs:
        return (None if secs is None or n else b""), []
    if len(secs) == 1:  # the usual frame: one section
        a, k = secs[0]
        return st.read_bytes(g, a, k), [(0, 0, a, k)]
    parts, where = [], []
    got = 0
    for i, (a, k) in enumerate(secs):
        b = st.read_bytes(g, a, k)
        if b is None:
            return None, where
        parts.append(b)
        where.append((got, i, a, k))
        got += k
    return b"".join(parts), where


def _span(lo, hi) -> str:
    return f"byte {lo}" if hi == lo + 1 else f"bytes {lo}-{hi - 1}"


def byte_at(ops, st, g, desc, i):
    """The byte at offset i of what a descriptor's sections hold, read in order (section 0, then 1, ...).

    The monitor's own walk over the stored descriptor, for one offset (the
    symbolic reading's probe): the section whose span of offsets holds i,
    then the state's byte at that section's address plus i's place in it.
    An offset past the sections reads address 0.
    """
    addr, start, ended = 0, 0, ops.FALSE
    for j in range(st.sections):
        a, ln = st.rd_section(g, desc, j)
        ended = ops.Or(ended, ops.Eq(ln, 0))
        if ended is True:
            break
        here = ops.And(ops.Not(ended), ops.ULE(start, i), ops.ULT(ops.Sub(i, start), ln))
        addr = ops.If(here, ops.Add(a, ops.Sub(i, start)), addr)
        start = ops.Add(start, ops.If(ended, 0, ln))
    return st.read_byte(g, addr)


@monitor("data-corrupted", "bytes")
def data_corrupted(ops, st, w):
    """Byte i of what the destination received is byte i of what the source held (both read in section order)."""
    length, sg, sa = w.new
    probe = getattr(st, "probe", None)
    if probe is not None:
        # The symbolic reading: one free offset stands for every offset, so the check fails
        # exactly when some byte the copy delivered differs from the source's byte there.
        got = byte_at(ops, st, w.guest, w.where, probe)
        want = byte_at(ops, st, sg, sa, probe)
        st.check(
            "data-corrupted",
            ops.Implies(ops.And(w.when, ops.ULT(probe, length)), ops.Eq(got, want)),
            "the destination's byte differs from the source's at the same offset",
        )
        return
    # Both sides read by the state's walk over the stored descriptors (st.section_bytes: the
    # bytes received() below reads, in one call); where they lie is looked up on failure only.
    got = st.section_bytes(w.guest, w.where, length)
    want = st.section_bytes(sg, sa, length)
    if got is None or want is None:
        line = getattr(st.cursor, "line", None)
        at = f"line {line}: " if line is not None else ""
        side = f"g{sg}'s source {sa:#x}" if want is None else f"g{w.guest}'s destination {w.where:#x}"
        st.note(
            f"{at}data not checked: bytes of {side} are unknown (no `mem` record gave them, or what the trace "
            "does not record was stored over them since: a fill, a descriptor)"
        )
        return
    st.received = (w.guest, w.where, length, got)  # what the destination holds now: replay's sum= reads it
    if got == want:
        return  # kept (a concrete check that holds files nothing)
    n = min(len(got), len(want))
    if len(got) != len(want) and got[:n] == want[:n]:
        return  # the sections hold fewer bytes on one side: the bytes both hold agree
    # The failure path only: the first and last differing bytes, and where those bytes are in the source.
    where = received(ops, st, w.guest, w.where, length)[1]
    lo = next(i for i in range(n) if got[i] != want[i])
    hi = next(i for i in range(n - 1, lo - 1, -1) if got[i] != want[i]) + 1
    sec = next(x for x in reversed(where) if x[0] <= lo)
    came = want.find(got[lo:hi])
    if came >= 0:
        origin = f"{'it is' if hi - lo == 1 else 'they are'} the source's {_span(came, came + hi - lo)}"
    else:
        origin = "they are not a run of the source's bytes"

    def message():
        return (
            f"the Host's copy into g{w.guest}'s descriptor {w.where:#x} from g{sg}'s {sa:#x} ({plural_bytes(length)}): "
            f"{_span(lo, hi)} of what the destination received (from its section {sec[1]} at "
            f"{sec[2] + lo - sec[0]:#x}) should be the source's {_span(lo, hi)}, but {origin}"
        )

    st.check("data-corrupted", False, message)


# ---------------------------------------------------------------- status
def _actor(w) -> str:
    return f"{'l' if w.who == 'launcher' else 'g'}{w.guest}"


@monitor("status-cleared", "status")
def status_cleared(ops, st, w):
    """A status write keeps every bit that was set."""
    cleared = ops.BitAnd(w.old, ops.BitNot(w.new))
    st.check(
        "status-cleared",
        ops.Implies(w.when, ops.Eq(cleared, 0)),
        lambda: (
            f"{_actor(w)} writes status {bits(w.new)} to device {w.where}, clearing "
            f"{bits(cleared)} (was {bits(w.old)}): status bits are only ever set"
        ),
    )


@monitor("status-forbidden-bit", "status")
def status_forbidden_bit(ops, st, w):
    """A Guest never newly sets REMOVED; a Launcher newly sets nothing but REMOVED."""
    newly = ops.BitAnd(w.new, ops.BitNot(w.old))
    if w.who == "launcher":
        bad = ops.BitAnd(newly, ops.BitNot(C.REMOVED))
        text = "a Launcher may set only REMOVED; the rest belong to the Guest"
    else:
        bad = ops.BitAnd(newly, C.REMOVED)
        text = "only the Host or Launcher may set REMOVED"
    st.check(
        "status-forbidden-bit",
        ops.Implies(w.when, ops.Eq(bad, 0)),
        lambda: f"{_actor(w)} newly sets {bits(bad)} on device {w.where}: {text}",
    )


# ---------------------------------------------------------------- keys
def futex_identity(ops, maps, g, key):
    """What a key names, by the memory: (share, offset) inside a shared mapping, else (Guest, address).

    The monitor's own reading of the trace format's rule ("addresses inside a
    shared mapping have the same key in every Guest that maps it; all other
    keys are private"), kept apart from the Host's get_futex_key.
    """
    owner, off = g, key
    for sid, base, size in maps:
        inside = ops.And(ops.ULE(base, key), ops.ULT(ops.Sub(key, base), size))
        owner = ops.If(inside, C.SHARED_OWNER + sid, owner)
        off = ops.If(inside, ops.Sub(key, base), off)
    return owner, off


def _live(ops, b):
    return ops.Ne(b.interrupt, 0)


@monitor("key-collision", "bind")
def key_collision(ops, st, w):
    """A new live binding shares its key with no other live binding (stored identity, or what the keys name).

    What a key names (futex_identity) is recorded with the binding when it is
    made (nowner, noff), so each comparison here is two equalities.
    """
    b = w.where
    clashes = []
    for c in st.holders(b, b.nowner, b.noff):
        same_stored = ops.And(ops.Eq(c.owner, b.owner), ops.Eq(c.off, b.off))
        same_named = ops.And(ops.Eq(c.nowner, b.nowner), ops.Eq(c.noff, b.noff))
        clash = ops.And(_live(ops, c), ops.Or(same_stored, same_named))
        if clash is not False:
            clashes.append((c, clash))
    ok = ops.And(*[ops.Implies(ops.And(w.when, _live(ops, b)), ops.Not(x)) for _, x in clashes])

    def message():
        held = [c for c, x in clashes if x is True]
        why = (
            "a send on a shared key reaches only the newest other Guest's binding"
            if b.nowner >= C.SHARED_OWNER
            else "GETDMA and unbind find only one of the two"
        )
        if len(held) == 1:
            c = held[0]
            return (
                f"g{w.guest} binds key {b.key:#x}, which g{c.guest}'s live binding "
                f"(slot {c.slot}, dmas {c.dmas:#x}) already holds: {why}"
            )
        names = ", ".join(f"g{c.guest} slot {c.slot}" for c in held[:3])
        more = f" and {len(held) - 3} more" if len(held) > 3 else ""
        return f"g{w.guest} binds key {b.key:#x}, which {len(held)} live bindings ({names}{more}) already hold: {why}"

    st.check("key-collision", ok, message)


def key_inside_device(ops, st, g, key):
    """Key 0 (the console's) or inside a page of one of the Guest's devices with pages."""
    inside = ops.Eq(key, 0)
    for _, d in st.devices(g):
        if d.pages:
            lo = d.pfn * C.PAGE_SIZE
            inside = ops.Or(inside, ops.And(ops.UGE(key, lo), ops.ULT(key, lo + d.pages * C.PAGE_SIZE)))
    return inside


def device_pages(st, g) -> str:
    spans = [
        f"dev {i}: {d.pfn * C.PAGE_SIZE:#x}-{(d.pfn + d.pages) * C.PAGE_SIZE - 1:#x}"
        for i, d in st.devices(g)
        if d.pages
    ]
    return ", ".join(spans) if spans else "it has no device pages"


@monitor("key-outside-device", "bind")
def key_outside_device(ops, st, w):
    """A new live binding's key (as the Guest passed it) lies in a page of its devices, or is 0."""
    b = w.where
    st.check(
        "key-outside-device",
        ops.Implies(ops.And(w.when, _live(ops, b)), key_inside_device(ops, st, w.guest, b.key)),
        lambda: (
            f"g{w.guest} binds key {b.key:#x}, which lies in no page of its devices "
            f"({device_pages(st, w.guest)}); by convention a key is an address in its device's page"
        ),
    )


def by_kind(names=None) -> dict[str, list]:
    """{write kind: the monitors over it}, of the invariants `names` (None: all of them)."""
    out: dict[str, list] = {}
    for name, (kind, fn) in MONITORS.items():
        if names is None or name in names:
            out.setdefault(kind, []).append(fn)
    return out


_BY_KIND = by_kind()
