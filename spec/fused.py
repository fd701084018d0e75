"""SEND_DMA and a Launcher's fill in one pass, for the common case (replay's hot path, concrete reading only).

An input-only trace is mostly sends and fills that go well: the key is
aligned, every descriptor field the Host reads was written, every address is
inside the Guest, the receiver's entry (or the Launcher's buffer) is free and
large enough.  In that case a send's effects come down to a few stores: the
wrapper's used_len := 0, then either a delivery (two used_len stores, the
binding's next_dma, one irq bit) or a `full` (one irq bit; the retry decides
the same on the same state), or, for a private key, the Launcher's output.

`send` and `fill` below compute exactly that, reading ConcreteState
directly, and allocate no Effect, Write or list.  Whenever the case is not the
common one (a kill, a drop, nobuf, a finding a monitor would file, a note,
a field never written, an unknown RAM size, a fault, version 2 bytes the
copy reads that are unknown, an array longer than MAX_WALK entries) they
return None having changed nothing,
and replay runs the general path: the rules of spec/ (compiled.py), then
apply.py and the monitors.  So each outcome they give is one the general path
gives too.  What is decided here is *which* entry (the Host's search, in
the words of dma_transfer and get_dma_buffer) and the sender's section check
(`source_walk`, check_dma_list's arithmetic in one loop, since the sender's
descriptor is new at nearly every send); the receiver's section checks are
the rules' own (check_dma_list) and the monitors' own (capacity), called
through compiled.py and kept per descriptor in `Desc.memo` until the Guest
writes that descriptor's addresses or lengths again (or its RAM size
changes).  tests/replay/test_fused.py replays generated, realistic and
mutated traces with and without this path and checks that findings, notes
and the final state agree, and checks `source_walk` against the rule.
"""

from __future__ import annotations

from hashlib import sha256

from . import constants as C
from .compiled import capacity, check_dma_list, copy_data_steps, get_futex_key
from .monitors import HOST_COPY, Write
from .ops import Concrete as ops
from .state import put_known

SHARED = C.SHARED_OWNER
DMA_SIZE = C.DMA_SIZE
SECTIONS = C.LGUEST_MAX_DMA_SECTIONS
PAGE_SHIFT = C.PAGE_SHIFT
PAGE = C.PAGE_SIZE
IRQS = C.LGUEST_IRQS
# Arrays up to this many entries are searched entry by entry; longer ones take the general path,
# whose search jumps over used entries in O(log) (spec/state.py UsedIndex: the cost model's bound).
MAX_WALK = 64

DELIVERED, FULL, OUTPUT, FILLED = "delivered", "full", "output", "filled"


def sections(st, g, addr, d, limit):
    """[limit, check_dma_list's Walk, the monitors' capacity, and for the Host's copy] of a descriptor, or None.

    (Each capacity is None until asked.)

    None when a field the rules would read was never written (they would file
    unknown-descriptor): every length up to the first 0, and the address of
    each section before it.  The answers depend only on those fields and on
    the Guest's RAM size (`limit`), so they are kept on the descriptor.
    """
    memo = d.memo
    if memo is not None and memo[0] == limit:
        return memo
    if not _known(d):
        return None
    memo = d.memo = [limit, check_dma_list(ops, st, g, True, addr), None, None]
    return memo


def _known(d) -> bool:
    """Every length up to the first 0, and the address of each section before it, was written."""
    lens, addrs = d.lens, d.addrs
    for i in range(SECTIONS):
        ln = lens[i]
        if type(ln) is not int:
            return False
        if ln == 0:
            return True
        if type(addrs[i]) is not int:
            return False
    return True


def answered(st, g, dma, n):
    """A private send's stores: the wrapper's used_len := 0, then the Launcher's used_len := n, at this line.

    (handle_output reads only the sections, which the caller checked were
    written, so doing both stores after it changes nothing it reads.)
    """
    st._set_used(g, dma, n)
    d = st.guests[g].mem[dma]
    d.prev_used_line = d.used_line


def source_walk(d, limit):
    """check_dma_list(g, readable=True, d) for a descriptor whose sections are all written (`_known`), in one loop.

    (ok, total, first): every section up to the first 0 length has its
    address ok (lguest_address_ok: addr + len below the end of memory, at most
    2^32), at most a page, and does not cross one; total is their sum, first
    the first length.  The sender's descriptor is new at nearly every send, so
    the rule's memo would not help; this is the rule's arithmetic without its
    calls, and tests/replay/test_fused.py checks it against the rule on
    generated sections.
    """
    lens, addrs = d.lens, d.addrs
    bound = 1 << 32 if (limit << PAGE_SHIFT) > (1 << 32) else limit << PAGE_SHIFT
    total = 0
    for i in range(SECTIONS):
        ln = lens[i]
        if ln == 0:
            break
        a = addrs[i]
        if a + ln >= bound or ln > PAGE or (a & (PAGE - 1)) + ln > PAGE:
            return False, total, lens[0]
        total += ln
    return True, total, lens[0]


def _capacity(st, g, addr, memo, host=False):
    """The monitors' capacity; for the Host's copy (`host`) the one that counts only what lands in the buffer.

    Not check_dma_list's verdict: that is the rule the monitor checks, and a rule that let a section
    cross its page must still meet buffer-overflow here, as on the rules' own path.
    """
    i = 3 if host else 2
    cap = memo[i]
    if cap is None:
        cap = memo[i] = capacity(ops, st, g, addr, host=host)
    return cap


def _key(st, gs, g, key):
    """get_futex_key's (owner, off) for an aligned key, kept until the Guest maps more shared memory."""
    hit = st.key_memo.get((g, key))
    if hit is not None and hit[0] == len(gs.maps):
        return hit[1], hit[2]
    _, owner, off = get_futex_key(ops, st, g, key)
    if len(st.key_memo) >= 1024:  # a few keys a Guest in real traffic; memory must not grow with keys
        st.key_memo.clear()
    st.key_memo[(g, key)] = (len(gs.maps), owner, off)
    return owner, off


def entries(b, gs):
    """The Desc of each entry of binding b's array, or None unless every entry is readable and written.

    Kept on the binding while its array (dmas, num) and its Guest's RAM size
    stay the same: a descriptor, once written, keeps its Desc object (state.py
    never removes one), so the table follows every later write to it.  An
    entry is readable when lguest_address_ok(addr, DMA_SIZE) holds: addr + 100
    below the end of the Guest's memory (at most 2^32), so all are when the
    last one is.
    """
    t = b.entries
    dmas, num, limit = b.dmas, b.num_dmas, gs.limit
    if t is not None and t[0] == dmas and t[1] == num and t[2] == limit:
        return t[3]
    if num == 0 or num > MAX_WALK or limit is None:
        return None
    if dmas + num * DMA_SIZE >= min(1 << 32, limit << PAGE_SHIFT):
        return None  # some entry is unreadable: a kill, if the search reaches it
    mem = gs.mem
    table = []
    for i in range(num):
        d = mem.get(dmas + i * DMA_SIZE)
        if d is None:
            return None  # never written: unknown-descriptor, if the search reaches it
        table.append(d)
    b.entries = (dmas, num, limit, table)
    return table


def send(st, g, key, dma, host="2.6.23"):
    """hcall_send_dma's common case: DELIVERED, FULL, OUTPUT (a private key: pending, the Launcher to answer), or None.

    The caller has checked that Guest g runs (no pending send, alive), that
    no Host record follows (input-only) and, for OUTPUT, that the Launcher's
    output is the model's to compute; the state has no faults.  `host`
    names the copy_data whose steps move a version 2 trace's bytes.

    Version 2 (the state keeps bytes): a delivery also copies the bytes
    (copy_data_steps, copy_judged), once its sources are known to be; when
    data-corrupted has something to say (or a side's bytes are unknown),
    the delivery's "bytes" Write is left in st.log for the caller to run
    the monitors over, as apply.py would.
    """
    if key & 3:
        return None  # bad sending DMA key: a kill
    gs = st.guests.get(g)
    if gs is None or gs.limit is None or key >= gs.limit << PAGE_SHIFT:
        return None  # (a key above the Guest's memory: the general path says what get_futex_key assumed)
    owner, off = _key(st, gs, g, key)
    if owner < SHARED:
        # `host pending`: the caller computes the Launcher's output (handle_output), then `answered`.
        d = gs.mem.get(dma)
        return OUTPUT if d is not None and _known(d) else None
    # The newest live binding of another Guest on the key (send_attempt's _newest, one pass).
    b = None
    for c in st._index.get((owner, off), ()):
        if c.guest != g and c.interrupt != 0 and c.owner == owner and c.off == off and (b is None or st.newer(c, b)):
            b = c
    if b is None:
        return None  # drop
    h = b.guest
    hs = st.guests.get(h)
    if hs is None or hs.limit is None:
        return None
    if dma + DMA_SIZE >= min(1 << 32, gs.limit << PAGE_SHIFT):
        return None  # the sender's struct is outside its memory (lguest_address_ok fails): a kill
    table = entries(b, hs)
    if table is None:
        return None
    # dma_transfer: the first entry from next_dma (circular) whose used_len is 0.
    num = b.num_dmas
    idx = b.next_dma % num
    entry = ed = None
    for _ in range(num):
        d = table[idx]
        u = d.used_len
        if u == 0:
            entry, ed = b.dmas + idx * DMA_SIZE, d
            break
        if type(u) is not int:
            return None  # never written, or `?`
        idx += 1
        if idx == num:
            idx = 0
    if entry is None:
        # Full: the irq is raised; the retry decides the same on the same state.
        st._set_used(g, dma, 0)
        irq = b.interrupt
        if irq < IRQS:
            hs.irqs |= 1 << irq
        return FULL
    dst = sections(st, h, entry, ed, hs.limit)
    if dst is None or dst[1].ok is not True:
        return None
    sd = gs.mem.get(dma)
    if sd is None or not _known(sd):
        return None
    ok, s_total, first = source_walk(sd, gs.limit)
    if not ok:
        return None
    d_total = dst[1].total
    ret = s_total if s_total <= d_total else d_total  # copy_data
    if ret == 0 and first != 0:
        return None  # the transfer fails: no irq
    if ret > _capacity(st, h, entry, dst, host=True) or (h, entry) in st.doubtful:
        return None  # buffer-overflow would be filed (or not checked)
    judged = True
    if st.has_bytes:
        # Version 2: which bytes go where (the rule itself); the bytes it reads must be known.  The
        # copy and data-corrupted's readings come before the stores below, which neither reads nor
        # changes (used_len, next_dma, irqs); not ready, nothing has changed.
        judged = copy_judged(st, g, dma, h, entry, ret, copy_data_steps(ops, st, g, dma, h, entry, host), None)
        if judged is None:
            return None
    # Performed as apply.py does (write-to-used-buffer holds: the entry's used_len was 0).  The
    # wrapper's used_len := 0 and the delivery's used_len := ret on the sender's descriptor, in one:
    # both at this line, so the line before is this line too.
    st._set_used(g, dma, ret)
    sd.prev_used_line = sd.used_line
    st._set_used(h, entry, ret)
    b.next_dma = (b.next_dma + 1) & 0xFFFF
    irq = b.interrupt
    if irq < IRQS:
        hs.irqs |= 1 << irq
    if judged is not True:
        # data-corrupted judges it (or notes unknown bytes): the caller runs the monitors over this write.
        st.log.append(Write("bytes", True, h, entry, None, (ret, g, dma), f"{HOST_COPY}{g}"))
    return DELIVERED


def fill(st, g, key, length):
    """handle_*_input's common case (GETDMA finds a free entry, the monitors file nothing): FILLED, or None."""
    if key & 3:
        return None
    gs = st.guests.get(g)
    if gs is None or gs.limit is None or gs.dead is not None or key >= gs.limit << PAGE_SHIFT:
        return None  # (a dead Guest's GETDMA answers -ENOENT: the general path says nobuf; a key above memory)
    owner, off = _key(st, gs, g, key)
    b = None
    for c in st._index.get((owner, off), ()):
        if c.guest == g and c.interrupt != 0 and c.owner == owner and c.off == off and (b is None or st.newer(c, b)):
            b = c
    if b is None:
        return None  # nobuf
    table = entries(b, gs)
    if table is None:
        return None
    # get_dma_buffer: the first entry with used_len 0 (none: the last one, which the monitors report).
    entry = ed = None
    for j, d in enumerate(table):
        u = d.used_len
        if u == 0:
            entry, ed = b.dmas + j * DMA_SIZE, d
            break
        if type(u) is not int:
            return None
    if entry is None or entry == 0:
        return None  # (an entry at address 0 is user_get_dma's -ENOENT: the general path says nobuf)
    got = sections(st, g, entry, ed, gs.limit)
    if got is None or not got[1].ok:
        return None  # (a section the Host would reject may be one the Launcher's dma2iov exits on: the rules say)
    # Replay writes the length the trace gives (a longer one than the buffer holds is buffer-overflow's).
    if length > _capacity(st, g, entry, got) or (g, entry) in st.doubtful:
        return None
    st._set_used(g, entry, length)
    if st.has_bytes:
        st.forget_sections(g, entry, length)  # version 2 does not record what a fill writes (apply.py)
    irq = b.interrupt
    if irq < IRQS:
        gs.irqs |= 1 << irq
    return FILLED


# ---------------------------------------------------------------- version 2: a delivery's bytes
# A delivery in a trace with bytes copies them (copy_data_steps' steps), and data-corrupted compares
# what the destination's sections then hold with the source's; a recorded sum= is checked against
# what the destination holds.  In the common case that is one call here (replay's full traces: the
# rule's own steps, engine.py deliver_v2; input-only: `send`, with the rule's steps), with C-level work only
# (slices, bytearray.find, hashlib); the rest is the state's deliver_bytes, the monitor and check_sum.
_OFF = PAGE - 1
_ZERO = b"\x00"  # an unknown byte's mark (find with a bytes needle is the quicker one)


def copy_ready(st, sg, dg, steps) -> bool:
    """delivered_bytes' common case: every byte a step reads is known, and every step stays within a page on both sides.

    (Sections never cross a page: check_dma_list.)  Otherwise the general
    copy runs: unknown source bytes make their destination unknown.
    """
    contents = st.contents
    if contents is None or steps is None or sg == dg:
        return False
    for _, frm, to, n in steps:
        so = frm & _OFF
        if so + n > PAGE or (to & _OFF) + n > PAGE:
            return False
        sp = contents.get((sg, frm >> PAGE_SHIFT))
        if sp is None or sp[1].find(_ZERO, so, so + n) != -1:
            return False
    return True


def _first_bytes(st, contents, g: int, addr: int, length: int):
    """The first `length` bytes a descriptor's sections hold, as data-corrupted reads them; None if unknown.

    The usual frame (all of them in section 0, within a page) is read inline, as st.section_bytes'
    first branch reads it; any other frame goes to that method.
    """
    d = st.guests[g].mem.get(addr)
    if d is not None:
        a, ln = d.addrs[0], d.lens[0]
        if type(ln) is int and ln >= length > 0 and type(a) is int and (a & _OFF) + length <= PAGE:
            off = a & _OFF
            p = contents.get((g, a >> PAGE_SHIFT))
            if p is None or p[1].find(_ZERO, off, off + length) != -1:
                return None
            return p[0][off : off + length]  # a copy (a bytearray: compared and hashed as the bytes would be)
    return st.section_bytes(g, addr, length)


def delivered_bytes(st, sg, sa, dg, da, length, steps, recorded):
    """A delivery's bytes (version 2) in one call: the copy performed, data-corrupted's comparison, the `sum=` check.

    `steps` are copy_data_steps' (the rule's own on the deliver effect, or
    the rule's), with 2.6.23's defect or `--host fixed`'s copy; the
    caller has checked `copy_ready` (else the state's deliver_bytes does the
    copy).  It moves each step's bytes and known-marks (all ones: the bytes
    read were known) as ConcreteState.deliver_bytes does.  Then it does
    what the data-corrupted monitor does: it reads what the destination's
    stored sections hold now and what the source's hold, both in section
    order (st.section_bytes, the monitor's own walk over the state, its
    usual frame inline; never the steps), and compares them; then, if the trace gave
    one, compares the recorded sum with the SHA-256 of what the destination
    holds.  It returns True when both agree (nothing to report; the state
    is what the general path leaves, st.received included), False when
    either does not, or when a side's bytes are unknown: the caller then
    runs the monitor (and check_sum) on this same state, which file the
    finding or note with their wording.
    """
    # What data-corrupted read of an earlier delivery must not stand for this one: a later sum= check
    # would hash it (same Guest, descriptor and length) where this delivery's bytes are unknown.
    st.received = None
    contents = st.contents
    for _, frm, to, n in steps:
        sp = contents.get((sg, frm >> PAGE_SHIFT))
        if sp is None:  # (copy_ready saw it: an earlier step's new page made the store forget it, new_page)
            st.forget_bytes(dg, to, n)
            continue
        _move(st, contents, sp, frm & _OFF, dg, to, n)
    return _judged(st, contents, sg, sa, dg, da, length, recorded)


def copy_judged(st, sg, sa, dg, da, length, steps, recorded):
    """copy_ready, then delivered_bytes, in one call (replay's recorded delivery, engine.py deliver_v2).

    None when copy_ready would say no (nothing changed: the caller takes the
    state's deliver_bytes); else delivered_bytes' answer.  A copy of one step
    (the usual frame) is done here without a further call: the step's bytes
    and known-marks moved as _move moves them, then data-corrupted's two
    readings as _judged reads them (each side's own stored descriptor and the
    page its section 0 lies in, looked up anew: never the step's addresses
    or pages), their usual frame inline; any other frame of either side goes
    to _judged.  When each side's section 0 is exactly the step's range (the
    usual frame: same address, `length` bytes), what both readings would
    give is known without reading: the bytes just moved.
    """
    contents = st.contents
    if contents is None or steps is None or sg == dg:
        return None
    if len(steps) != 1:
        return delivered_bytes(st, sg, sa, dg, da, length, steps, recorded) if copy_ready(st, sg, dg, steps) else None
    _, frm, to, n = steps[0]
    so, do = frm & _OFF, to & _OFF
    if so + n > PAGE or do + n > PAGE:
        return None
    sp = contents.get((sg, frm >> PAGE_SHIFT))
    if sp is None or sp[1].find(_ZERO, so, so + n) != -1:
        return None
    st.received = None  # (as delivered_bytes, below: the copy is its loop's one step)
    moved = _move(st, contents, sp, so, dg, to, n)
    # data-corrupted's readings of the state now (as _first_bytes reads them): the destination's
    # descriptor, then the source's, each by its own section 0 when all `length` bytes lie there.
    guests = st.guests
    d, s = guests[dg].mem.get(da), guests[sg].mem.get(sa)
    try:
        # (A field never written (None) or unknown (`?`) refuses `&` and `<`: the TypeError sends it to _judged.)
        a, ln, b, sl = d.addrs[0], d.lens[0], s.addrs[0], s.lens[0]
        off, soff = a & _OFF, b & _OFF
        if ln < length or sl < length or length <= 0 or off + length > PAGE or soff + length > PAGE:
            return _judged(st, contents, sg, sa, dg, da, length, recorded)
    except (AttributeError, TypeError):  # (a descriptor never written: None has no addrs)
        return _judged(st, contents, sg, sa, dg, da, length, recorded)
    if a == to and b == frm and length == n:
        # Both readings are the step's own ranges (the usual frame): the destination's `length` bytes
        # at `a` are those just written there, all known, and the source's at `b` those the step read,
        # known (checked above) and unchanged (another Guest's page): both are `moved`, with no
        # lookup, find or slice more.  A step off by a byte on either side fails this test and is
        # read from the state below.
        st.received = (dg, da, length, moved)
        return recorded is None or sha256(moved).hexdigest() == recorded
    p = contents.get((dg, a >> PAGE_SHIFT))
    if p is None or p[1].find(_ZERO, off, off + length) != -1:
        return False  # the destination's bytes are unknown: the monitor notes it
    q = contents.get((sg, b >> PAGE_SHIFT))
    if q is None or q[1].find(_ZERO, soff, soff + length) != -1:
        return False
    got = p[0][off : off + length]  # a copy (a bytearray: compared and hashed as the bytes would be)
    if got != q[0][soff : soff + length]:
        return False
    st.received = (dg, da, length, got)
    return recorded is None or sha256(got).hexdigest() == recorded


def _move(st, contents, sp, so, dg, to, n):
    """One copy step's bytes: n of source page `sp` from offset `so` to Guest dg's address `to`, now known there.

    Returns the bytes moved (a copy, a bytearray: compared and hashed as the bytes would be).
    """
    do = to & _OFF
    key = (dg, to >> PAGE_SHIFT)
    dp = contents.get(key)
    if dp is None:
        dp = st.new_page(key)
    moved = sp[0][so : so + n]
    put_known(dp, do, moved)
    return moved


def _judged(st, contents, sg, sa, dg, da, length, recorded):
    """delivered_bytes' second half, after the copy: data-corrupted's two readings of the state, then the sum."""
    got = _first_bytes(st, contents, dg, da, length)
    if got is None:
        return False
    want = _first_bytes(st, contents, sg, sa, length)
    if want is None or got != want:
        return False
    st.received = (dg, da, length, got)
    return recorded is None or sha256(got).hexdigest() == recorded
