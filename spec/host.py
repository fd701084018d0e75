"""The Host's I/O rules (drivers/lguest/io.c, core.c, lguest_user.c), decided.

Each function reads the state through `st` and computes with `ops`, and
returns the `Effect`s of the step; none of them writes the state (apply.py
does).  They are written once for both readings: a Python `if` here only ever
tests configuration (a fault, a static loop bound) or is a `_known_false` /
`_known_true` shortcut, which never changes the result, only skips work
whose guard is already a plain False (or True).
"""

from __future__ import annotations

from . import constants as C
from .effects import Effect
from .registry import rule


def _known_false(x) -> bool:
    return x is False


def _known_true(x) -> bool:
    return x is True


@rule("drivers/lguest/core.c: lguest_address_ok")
def lguest_address_ok(ops, st, g, addr, length):
    """(addr+len)/PAGE_SIZE < pfn_limit, and addr+len does not wrap."""
    limit = st.pfn_limit(g)
    if limit is None:  # no `guest` record: the model does not know the RAM size
        st.note(f"g{g}: RAM size unknown (no `guest {g}` record): address checks skipped")
        return ops.TRUE
    end = ops.Add(addr, length)
    return ops.And(ops.Not(ops.AddOverflows(addr, length)), ops.ULT(ops.LShR(end, C.PAGE_SHIFT), limit))


@rule("kernel/futex.c: get_futex_key")
def get_futex_key(ops, st, g, ukey):
    """A key's futex identity: (file, offset) inside a shared mapping, else (Guest, address).

    Returns (ok, owner, off); ok is false for a key that is not 4-aligned
    (-EINVAL), or that no mapping of the Launcher holds (find_extend_vma
    finds no vma: -EFAULT).  Below the Guest's pfn limit every address is
    mapped (lguest.c main: map_zeroed_pages over RAM, the descriptor page,
    each device's pages); above it lie only the Launcher's own mappings (its
    binary, heap, libraries, stack), which a trace does not show:
    `st.key_mapped` says (replay: as the trace's answer shows, else mapped).
    """
    ok = ops.And(ops.Eq(ops.BitAnd(ukey, 3), 0), st.key_mapped(g, ukey))
    owner, off = g, ukey
    # The concrete state finds the one mapping that decides by bisection (maps_at); the loop gives the same.
    maps_at = getattr(st, "maps_at", None)
    for sid, base, size in st.maps(g) if maps_at is None else maps_at(g, ukey):
        inside = ops.And(ops.UGE(ukey, base), ops.ULT(ukey, ops.Add(base, size)))
        owner = ops.If(inside, C.SHARED_OWNER + sid, owner)
        off = ops.If(inside, ops.Sub(ukey, base), off)
    return ok, owner, off


def live_match(ops, b, owner, off):
    """A live binding (interrupt != 0) whose futex key is (owner, off): key_eq on a linked dma_info."""
    return ops.And(ops.Ne(b.interrupt, 0), ops.Eq(b.owner, owner), ops.Eq(b.off, off))


def _newest(ops, st, cands, match):
    """One-hot choice of the newest matching binding: the first a bucket walk meets (list_add at the head).

    Binding i is chosen when it matches and no other matching binding is
    newer.  When every match is a plain bool (the concrete reading), that is
    "matches, and the newest match is not newer than it", found in one pass;
    otherwise (symbolic) each pair is compared.  Both give the same list.
    """
    if all(m is True or m is False for m in match):
        best = None
        for b, m in zip(cands, match):
            if m and (best is None or st.newer(b, best)):
                best = b
        return [bool(m) and not st.newer(best, b) for b, m in zip(cands, match)]
    chosen = []
    for i, b in enumerate(cands):
        c = match[i]
        if _known_false(c):
            chosen.append(False)
            continue
        for j, o in enumerate(cands):
            if j != i and not _known_false(match[j]):
                c = ops.And(c, ops.Not(ops.And(match[j], st.newer(o, b))))
        chosen.append(c)
    return chosen


@rule("drivers/lguest/io.c: bind_dma")
def bind_dma(ops, st, g, ukey, dmas, num, irq, when=True):
    """BIND_DMA: irq >= 32 fails; a bad key kills; irq 0 unbinds; else the lowest free slot.

    Returns (effects, result).
    """
    effects = []
    irq_ok = ops.ULT(irq, C.LGUEST_IRQS)
    ok, owner, off = get_futex_key(ops, st, g, ukey)
    effects.append(Effect("kill", ops.And(when, irq_ok, ops.Not(ok)), guest=g, reason="bad dma key", args=(ukey,)))
    go = ops.And(when, irq_ok, ok)
    slots = st.slots(g)

    # unbind_dma: the first slot in index order with key_eq and the same dmas,
    # free or not: it does not look at interrupt.
    unbinding = ops.And(go, ops.Eq(irq, 0))
    found = ops.FALSE
    sel = []
    if not _known_false(unbinding):
        for b in slots:
            hit = ops.And(ops.Not(found), ops.Eq(b.owner, owner), ops.Eq(b.off, off), ops.Eq(b.dmas, dmas))
            sel.append((b, hit))
            found = ops.Or(found, hit)
            if _known_true(found):
                break
        effects.append(Effect("unbind", ops.And(unbinding, found), guest=g, slots=sel))
    unbound = ops.And(unbinding, found)

    binding = ops.And(go, ops.Ne(irq, 0))
    free = ops.FALSE
    sel = []
    if not _known_false(binding):
        for b in slots:
            hit = ops.And(ops.Not(free), ops.Eq(b.interrupt, 0))
            sel.append((b, hit))
            free = ops.Or(free, hit)
            if _known_true(free):
                break
        effects.append(
            Effect(
                "bind",
                ops.And(binding, free),
                guest=g,
                slots=sel,
                key=ukey,
                owner=owner,
                off=off,
                dmas=dmas,
                num=num,
                irq=irq,
            )
        )
    bound = ops.And(binding, free)
    result = ops.If(ops.Or(unbound, bound), 1, 0)
    return effects, result


def _add(effects, kind, when, **fields):
    """Record an effect, unless its guard is already known false."""
    if when is not False:
        effects.append(Effect(kind, when, **fields))


class Walk:
    """What one pass over a descriptor's sections learns (check_dma_list, copy_data's totals)."""

    __slots__ = ("ok", "bad_len", "bad_addr", "total", "first")

    def __init__(self, ok, bad_len, bad_addr, total, first):
        self.ok, self.bad_len, self.bad_addr, self.total, self.first = ok, bad_len, bad_addr, total, first


@rule("drivers/lguest/io.c: check_dma_list")
def check_dma_list(ops, st, g, readable, dma):
    """Every section up to the first 0 length: address ok, at most a page, not crossing a page.

    Returns a Walk: ok, the first bad section (for the kill reason), and, for
    copy_data, the sections' total and first length (valid when ok holds).
    An unreadable struct was zero-filled by lgread: it has no sections.
    """
    ok = ops.TRUE
    ended = ops.Not(readable)
    bad_len = bad_addr = total = first = 0
    for i in range(st.sections):
        if _known_true(ended) or _known_false(ok):
            break
        a, ln = st.rd_section(g, dma, i)
        if i == 0:
            first = ops.If(ended, 0, ln)
        active = ops.And(ops.Not(ended), ops.Ne(ln, 0))
        ended = ops.Or(ended, ops.Eq(ln, 0))
        if _known_false(active):
            break
        good = ops.And(
            lguest_address_ok(ops, st, g, a, ln),
            ops.ULE(ln, C.PAGE_SIZE),
            ops.ULE(ops.Add(ops.BitAnd(a, C.PAGE_SIZE - 1), ln), C.PAGE_SIZE),
        )
        bad_here = ops.And(active, ok, ops.Not(good))
        if not _known_false(bad_here):
            bad_len = ops.If(bad_here, ln, bad_len)
            bad_addr = ops.If(bad_here, a, bad_addr)
            ok = ops.And(ok, ops.Not(bad_here))
        total = ops.Add(total, ops.If(active, ln, 0))
    return Walk(ok, bad_len, bad_addr, total, first)


def total_len(ops, st, g, readable, dma):
    """Bytes a descriptor's sections hold: the sum of len[] up to the first 0."""
    total = 0
    ended = ops.Not(readable)
    for i in range(st.sections):
        if _known_true(ended):
            break
        _, ln = st.rd_section(g, dma, i)
        ended = ops.Or(ended, ops.Eq(ln, 0))
        total = ops.Add(total, ops.If(ended, 0, ln))
    return total


@rule("drivers/lguest/io.c: copy_data")
def copy_data(ops, st, src: Walk, dst: Walk):
    """Bytes copied: sections are walked until either side runs out, so min(total src, total dst).

    The real loop copies from src->addr[si] without adding srcoff, so a source
    section split over two destination sections repeats its start: wrong bytes,
    right count.  Traces carry no data, so only the count is modelled.
    """
    if st.fault("host-copies-source-length"):
        return src.total  # a Host that forgets the destination's size
    return ops.Min(src.total, dst.total)


HOSTS = ("2.6.23", "fixed")  # `--host`: the real copy_data, or one that adds srcoff to the source address


def _section_at(ops, st, g, dma, idx, cache):
    """Section `idx` of a descriptor: (addr, len), (0, 0) past the last one.

    A plain index reads that one section (the concrete reading reads no
    section copy_data does not reach, as the C loop); a symbolic one is an
    If-chain over every section, read once per descriptor (`cache`).
    """
    if isinstance(idx, int):
        return st.rd_section(g, dma, idx) if idx < st.sections else (0, 0)
    if not cache:
        cache.extend(st.rd_section(g, dma, j) for j in range(st.sections))
    a, ln = 0, 0
    for j in range(st.sections - 1, -1, -1):
        hit = ops.Eq(idx, j)
        a, ln = ops.If(hit, cache[j][0], a), ops.If(hit, cache[j][1], ln)
    return a, ln


@rule("drivers/lguest/io.c: copy_data")
def copy_data_steps(ops, st, g, src_dma, h, dst_dma, host="2.6.23"):
    """The steps of copy_data's loop, as 2.6.23 forms their addresses: [(guard, from, to, bytes), ...].

    io.c: copy_data walks si/srcoff and di/dstoff while both sides have a
    section; each step moves len = min(src->len[si] - srcoff, dst->len[di] -
    dstoff) bytes with

        __copy_from_user(maddr + (dst->addr[di] + dstoff) % PAGE_SIZE,
                         (void __user *)src->addr[si], len)

    so the destination address adds dstoff and the source address does NOT
    add srcoff: when a destination section ends inside a source section, the
    next step copies that source section's start again (right count, wrong
    bytes).  `host="fixed"` (not 2.6.23) adds srcoff, as the comment above
    the loop intends.  The count is copy_data's, above; this rule says which
    bytes go where.

    Each step moves at least one side to its next section, so 2 x sections
    - 1 steps bound the loop; a step's guard says it ran (always True in the
    concrete reading, which lists only the steps that ran).
    """
    fixed = host == "fixed"
    steps = []
    src_cache, dst_cache = [], []
    si = di = srcoff = dstoff = 0
    sa, sl = _section_at(ops, st, g, src_dma, 0, src_cache)
    da, dl = _section_at(ops, st, h, dst_dma, 0, dst_cache)
    active = ops.And(ops.Ne(sl, 0), ops.Ne(dl, 0))
    for _ in range(2 * st.sections - 1):
        if _known_false(active):
            break
        ln = ops.Min(ops.Sub(sl, srcoff), ops.Sub(dl, dstoff))
        frm = ops.Add(sa, srcoff) if fixed else sa
        steps.append((active, frm, ops.Add(da, dstoff), ln))
        srcoff = ops.Add(srcoff, ln)
        dstoff = ops.Add(dstoff, ln)
        src_done = ops.Eq(srcoff, sl)
        dst_done = ops.Eq(dstoff, dl)
        if not _known_false(src_done):
            si = ops.If(src_done, ops.Add(si, 1), si)
            srcoff = ops.If(src_done, 0, srcoff)
            na, nl = _section_at(ops, st, g, src_dma, si, src_cache)
            sa, sl = ops.If(src_done, na, sa), ops.If(src_done, nl, sl)
        if not _known_false(dst_done):
            di = ops.If(dst_done, ops.Add(di, 1), di)
            dstoff = ops.If(dst_done, 0, dstoff)
            na, nl = _section_at(ops, st, h, dst_dma, di, dst_cache)
            da, dl = ops.If(dst_done, na, da), ops.If(dst_done, nl, dl)
        active = ops.And(active, ops.Ne(sl, 0), ops.Ne(dl, 0))
    return steps


@rule("drivers/lguest/io.c: dma_transfer")
def dma_transfer(ops, st, g, udma, b, when, host="2.6.23"):
    """Copy the sent descriptor into the first free entry from the cursor; always raise the irq.

    Returns (effects, full): full holds when no entry was free (send_dma retries once).
    """
    h = b.guest
    effects = []
    # lgread of the source: if it is outside memory the sender dies and the
    # struct reads as zeros, i.e. an empty (ping) send.
    src_ok = lguest_address_ok(ops, st, g, udma, C.DMA_SIZE)
    _add(effects, "kill", ops.And(when, ops.Not(src_ok)), guest=g, reason="bad read address", args=(udma,))

    found = ops.FALSE
    failed = ops.FALSE
    entry = 0
    used_at = 0  # the chosen entry's used_len when it was chosen
    num = b.num_dmas
    # (next_dma + i) % num_dmas, with the one division done once: start < num
    # and i < num, so start + i needs at most one subtraction.
    start = ops.URemBounded(b.next_dma, num, st.bound(num))
    skips_check = st.fault("host-skips-used-len-check")
    # Whose descriptors the free test reads used_len from: the receiver's (lgread of dst->used_len).
    # One name for both the test and the concrete state's skip below, so that they cannot differ (a
    # mutation of the test once went unseen by the skip: replay and prove then disagreed).
    free_in = h
    # The concrete state can jump over entries that are readable and used
    # (the loop would move on past each with no effect): skip_used.
    skip = None if skips_check else getattr(st, "skip_used", None)
    n = st.bound(num)
    i = 0
    while i < n:
        if _known_true(found) or _known_true(failed):
            break
        if skip is not None:
            i = _skip_circular(ops, st, skip, free_in, b.dmas, start, num, i)
            if i >= n:
                break
        active = ops.ULT(i, num)
        if found is not False or failed is not False:  # (both known false: nothing to add)
            active = ops.And(active, ops.Not(found), ops.Not(failed))
        idx = ops.Add(start, i)
        idx = ops.If(ops.UGE(idx, num), ops.Sub(idx, num), idx)
        addr = ops.Add(b.dmas, ops.Mul(idx, C.DMA_SIZE))
        readable = lguest_address_ok(ops, st, h, addr, C.DMA_SIZE)
        unreadable = ops.And(active, ops.Not(readable))
        if not _known_false(unreadable):
            _add(
                effects,
                "kill",
                ops.And(when, unreadable),
                guest=h,
                reason="bad address in registered DMA struct",
                args=(),
            )
            failed = ops.Or(failed, unreadable)
            if _known_false(ops.And(active, readable)):
                i += 1
                continue
        used = st.rd_used_len(free_in, addr)
        free = ops.TRUE if skips_check else ops.Eq(used, 0)
        hit = ops.And(active, readable, free)
        entry = ops.If(hit, addr, entry)
        used_at = ops.If(hit, used, used_at)
        found = ops.Or(found, hit)
        i += 1

    go = ops.And(when, found)
    if not _known_false(go):
        dst = check_dma_list(ops, st, h, True, entry)
        _add(
            effects,
            "kill",
            ops.And(go, ops.Not(dst.ok)),
            guest=h,
            reason="bad DMA entry",
            args=(dst.bad_len, dst.bad_addr),
        )
        src = check_dma_list(ops, st, g, src_ok, udma)
        _add(
            effects,
            "kill",
            ops.And(go, dst.ok, ops.Not(src.ok)),
            guest=g,
            reason="bad DMA entry",
            args=(src.bad_len, src.bad_addr),
        )
        both = ops.And(dst.ok, src.ok)
        ret = 0 if _known_false(both) else ops.If(both, copy_data(ops, st, src, dst), 0)
        # "Transferring 0 bytes is OK if the source buffer was empty": else the
        # transfer fails with no interrupt and nothing but the kills recorded.
        delivered = ops.And(go, ops.Or(ops.Ne(ret, 0), ops.Eq(src.first, 0)))
        # Version 2: which bytes go where (only when the state keeps bytes: a trace that gave them, or a
        # model asked about data-corrupted).
        steps = None
        if getattr(st, "has_bytes", False) and not _known_false(delivered):
            steps = copy_data_steps(ops, st, g, udma, h, entry, host)
        _add(
            effects,
            "deliver",
            delivered,
            src=(g, udma),
            dst=(h, entry),
            len=ret,
            irq=b.interrupt,
            binding=b,
            used_before=used_at,
            cap=ops.If(dst.ok, dst.total, 0),
            steps=steps,
        )
    full = ops.And(when, ops.Not(found), ops.Not(failed))
    _add(effects, "full", full, src=g, dst=h, irq=b.interrupt, binding=b)
    return effects, full


def _skip_circular(ops, st, skip, h, dmas, start, num, i):
    """dma_transfer's walk visits entries start, start+1, ..., num-1, 0, ..., start-1: skip used ones from step i."""
    if start + i < num:
        k = skip(h, dmas, start + i, num)
        if k > start + i:
            lguest_address_ok(ops, st, h, ops.Add(dmas, (start + i) * C.DMA_SIZE), C.DMA_SIZE)  # its note
        if k < num:
            return k - start
        i = num - start
    k = skip(h, dmas, i - (num - start), start)
    if k > i - (num - start):
        lguest_address_ok(ops, st, h, ops.Add(dmas, (i - (num - start)) * C.DMA_SIZE), C.DMA_SIZE)
    return k + (num - start)


@rule("drivers/lguest/io.c: send_dma")
def send_attempt(ops, st, g, ukey, udma, when=True, host="2.6.23"):
    """One attempt of SEND_DMA: private keys go to the Launcher; shared keys to the newest other Guest's binding.

    Returns (effects, full).
    """
    if _known_false(when):
        return [], False
    effects = []
    ok, owner, off = get_futex_key(ops, st, g, ukey)
    _add(effects, "kill", ops.And(when, ops.Not(ok)), guest=g, reason="bad sending DMA key", args=(ukey,))
    live = ops.And(when, ok)
    shared = ops.UGE(owner, C.SHARED_OWNER)
    _add(effects, "pending", ops.And(live, ops.Not(shared)), guest=g, key=ukey, dma=udma)
    if _known_false(ops.And(live, shared)):
        return effects, False

    # "Don't send to ourselves": the sender's own bindings are skipped.
    cands = [b for b in st.bucket(owner, off) if b.guest != g]
    match = [live_match(ops, b, owner, off) for b in cands]
    chosen = _newest(ops, st, cands, match)
    anyone = ops.Or(*match) if match else ops.FALSE
    _add(effects, "drop", ops.And(live, shared, ops.Not(anyone)), guest=g, key=ukey)
    full = ops.FALSE
    for b, c in zip(cands, chosen):
        w = ops.And(live, shared, c)
        if _known_false(w):
            continue
        effs, f = dma_transfer(ops, st, g, udma, b, w, host)
        for e in effs:
            if e.kind == "full":
                e.f["key"] = ukey
        effects.extend(effs)
        full = ops.Or(full, f)
    return effects, full


@rule("drivers/lguest/io.c: get_dma_buffer")
def get_dma_buffer(ops, st, g, ukey, when=True):
    """GETDMA's lookup: the Guest's own newest binding on the key, its first entry with used_len 0, else its LAST entry.

    Returns (effects, found, udma, irq, used_before): used_before is the
    chosen entry's used_len before user_get_dma stamps the irq into it.
    """
    effects = []
    ok, owner, off = get_futex_key(ops, st, g, ukey)
    effects.append(
        Effect("kill", ops.And(when, ops.Not(ok)), guest=g, reason="bad registered DMA buffer", args=(ukey,))
    )
    live = ops.And(when, ok)
    cands = [b for b in st.bucket(owner, off) if b.guest == g]
    match = [live_match(ops, b, owner, off) for b in cands]
    chosen = _newest(ops, st, cands, match)
    udma, irq, used_before, found = 0, 0, 0, ops.FALSE
    for b, c in zip(cands, chosen):
        w = ops.And(live, c)
        if _known_false(w):
            continue
        ret, used_at, done = 0, 0, ops.FALSE
        skip = getattr(st, "skip_used", None)  # concrete: jump over readable, used entries (see dma_transfer)
        n = st.bound(b.num_dmas)
        j = 0
        while j < n:
            if _known_true(done):
                break
            if skip is not None:
                k = skip(g, b.dmas, j, n)
                if k > j:
                    # entries j..k-1 are readable and used: the walk passes them, keeping the last one
                    last = ops.Add(b.dmas, (k - 1) * C.DMA_SIZE)
                    lguest_address_ok(ops, st, g, last, C.DMA_SIZE)  # its note, if the RAM size is unknown
                    ret, used_at = last, st.rd_used_len(g, last)
                    j = k
                    if j >= n:
                        break
            active = ops.And(ops.ULT(j, b.num_dmas), ops.Not(done))
            addr = ops.Add(b.dmas, j * C.DMA_SIZE)
            readable = lguest_address_ok(ops, st, g, addr, C.DMA_SIZE)
            effects.append(
                Effect("kill", ops.And(w, active, ops.Not(readable)), guest=g, reason="bad read address", args=(addr,))
            )
            if _known_false(ops.And(active, readable)):
                used = 0
            else:
                used = ops.If(readable, st.rd_used_len(g, addr), 0)
            ret = ops.If(active, addr, ret)
            used_at = ops.If(active, used, used_at)
            done = ops.Or(done, ops.And(active, ops.Eq(used, 0)))
            j += 1
        udma = ops.If(w, ret, udma)
        irq = ops.If(w, b.interrupt, irq)
        used_before = ops.If(w, used_at, used_before)
        # user_get_dma answers -ENOENT when the address is 0: no entry (num_dmas 0), or an entry at 0.
        found = ops.Or(found, ops.And(w, ops.Ne(ret, 0)))
    return effects, found, udma, irq, used_before
