"""The Launcher's rules (Documentation/lguest/lguest.c, lguest_user.c), decided."""

from __future__ import annotations

from . import constants as C
from .effects import Effect
from .host import get_dma_buffer, total_len
from .registry import rule


def watches(st, g):
    """(device index, watch_key, what the handler returns) of each device with an output handler, in creation order.

    The console watches key 0 and returns the writev count; the block device
    watches its page and returns 0 ("the block device uses the result field
    instead"); a tun net device watches its page (peer slot 0) and returns the
    writev count; a sharenet device, mapped from the shared file, has no
    handler at all.
    """
    maps, devs = st.maps(g), st.devices(g)
    memo = getattr(st, "watch_memo", None)  # the concrete state: the answer until a device or mapping changes
    if memo is not None:
        hit = memo.get(g)
        # devices(g) is a new tuple after each change; mappings are only ever added
        if hit is not None and hit[0] is devs and hit[1] == len(maps):
            return hit[2]
    shared_bases = {base for _, base, _ in maps}
    out = []
    for idx, d in devs:
        if d.type == C.CONSOLE:
            out.append((idx, 0, "total"))
        elif d.type == C.BLOCK and d.pages:
            out.append((idx, d.pfn * C.PAGE_SIZE, "zero"))
        elif d.type == C.NET and d.pages and d.pfn * C.PAGE_SIZE not in shared_bases:
            out.append((idx, d.pfn * C.PAGE_SIZE, "total"))
    if memo is not None and type(devs) is tuple:
        memo[g] = (devs, len(maps), out)
    return out


# handle_block_output keeps readv's result in an `unsigned int len` and stores it, `*lenp = len`: a readv that
# fails (-1) is stored as this, with no byte written.
READV_FAILED = 0xFFFF_FFFF


def block_reply_key(ops, st, g, key):
    """Is `key` the one handle_block_output asks GETDMA for: the page start (`dev->mem`) of one of g's block devices?

    Only the block device's handler asks GETDMA on its page start: the
    console asks on key 0 (handle_console_input), a tun device on its page
    plus 4 (handle_tun_input).
    """
    hit = ops.FALSE
    for _, watch, returns in watches(st, g):
        if returns == "zero":
            hit = ops.Or(hit, ops.Eq(key, watch))
    return hit


@rule("Documentation/lguest/lguest.c: handle_block_output")
def fill_bytes(ops, st, g, key, stored):
    """Bytes that land in the buffer of a fill that stored `stored` into its used_len.

    What readv returned, except the block reply's (u32)-1: its readv failed
    and wrote nothing.  The console never stores it (handle_console_input
    turns `len <= 0` into 0) and tun never does (handle_tun_input exits:
    err(1, "reading network")), so there it is a length like any other.
    """
    failed = ops.And(ops.Eq(stored, READV_FAILED), block_reply_key(ops, st, g, key))
    return ops.If(failed, 0, stored)


def check_pointer(ops, top, addr, size):
    """lguest.c _check_pointer: `addr >= top || addr + size >= top` exits the Launcher (errx); the u32 sum is
    the C's, wrap and all.  (Part of the dma2iov rule below.)"""
    return ops.And(ops.ULT(addr, top), ops.ULT(ops.Add(addr, size), top))


@rule("Documentation/lguest/lguest.c: dma2iov")
def dma2iov_ok(ops, st, g, dma):
    """dma2iov's check_pointer on the struct, then on each section up to the first 0 length: all pass?

    `top` is the Guest's pfn limit x PAGE_SIZE (tell_kernel hands the Host
    top / getpagesize()).  Unlike the Host's check_dma_list, nothing limits a
    section to a page.  A Guest whose RAM size is unknown is not checked.
    """
    limit = st.pfn_limit(g)
    if limit is None:
        st.note(f"g{g}: RAM size unknown (no `guest {g}` record): the Launcher's pointer checks skipped")
        return ops.TRUE
    top = min(limit * C.PAGE_SIZE, 0xFFFF_FFFF)  # the Launcher's `top` is a u32
    ok = check_pointer(ops, top, dma, C.DMA_SIZE)
    ended = ops.FALSE
    for i in range(st.sections):
        if ended is True or ok is False:
            break
        a, ln = st.rd_section(g, dma, i)
        ended = ops.Or(ended, ops.Eq(ln, 0))
        ok = ops.And(ok, ops.Or(ended, check_pointer(ops, top, a, ln)))
    return ok


@rule("Documentation/lguest/lguest.c: handle_output")
def handle_output(ops, st, g, key, dma, when=True):
    """The pending send's used_len: what the first device watching the key returns, or 0 when none does.

    dma2iov reads the descriptor's sections before any device is looked for,
    so they are read (and must have been written) whatever the key; when
    one of its check_pointer calls fails the Launcher exits there (errx), no
    used_len is stored, and the exit closes /dev/lguest.
    """
    iov_ok = dma2iov_ok(ops, st, g, dma)
    length = 0
    matched = ops.FALSE
    writev = ops.FALSE
    total = total_len(ops, st, g, True, dma)
    for _, watch, returns in watches(st, g):
        hit = ops.And(ops.Not(matched), ops.Eq(key, watch))
        if hit is False:
            continue
        value = total if returns == "total" else 0
        length = ops.If(hit, value, length)
        if returns == "total":
            writev = ops.Or(writev, hit)
        matched = ops.Or(matched, hit)
    # `len` is a writev that wrote everything.  Where the handler returns writev's result (console, tun),
    # the Launcher stores whatever writev returned: `writev` says so, and a shorter count or (u32)-1 (an
    # error) is a run the real Launcher makes too.  The model's own answer is the full write.
    effects = [Effect("output", ops.And(when, iov_ok), guest=g, key=key, dma=dma, len=length, writev=writev)]
    exits = ops.And(when, ops.Not(iov_ok))
    if exits is not False:
        effects.append(Effect("close", exits, guest=g, exit="Invalid address (dma2iov: check_pointer)"))
    return effects


@rule("Documentation/lguest/lguest.c: handle_console_input")
def fill(ops, st, g, key, length, when=True, checked=False, readv_failed=False):
    """Input for the Guest: GETDMA, readv into the buffer, used_len := len, LHREQ_IRQ; no buffer: discard.

    `length` is the input waiting (the environment's choice); readv into the
    iovec that dma2iov built from the buffer's sections stops at the iovec's
    end, so at most the sections' total lands.  The same pattern serves
    handle_tun_input and handle_block_output's reply.  A `checked` Launcher
    (not 2.6.23) also discards when the buffer GETDMA gave was not free, as
    the Launcher's own comment expects.

    The Launcher's get_dma_buffer converts the buffer GETDMA gave with
    dma2iov: a struct or section that does not end below `top` exits the
    Launcher there (errx), before readv, whatever the device.  That is also
    where a GETDMA whose entry the Host could not read ends: get_dma_buffer
    kills the Guest (lgread) yet returns the entry, and check_pointer
    rejects it.

    handle_block_output differs twice: when GETDMA gives no buffer the
    Launcher exits (`err(1, "Block request didn't give us a dma buffer")`),
    which closes /dev/lguest (lguest_user.c: close, release_all_dma); and
    `readv_failed` (the environment's choice) stores READV_FAILED, writing
    nothing (fill_bytes).  Elsewhere `readv_failed` changes nothing.
    """
    # lguest_user.c write(): once the Guest is dead every request answers -ENOENT before it is looked at, so
    # GETDMA finds nothing (and kills nobody) and the input is discarded.
    effects, found, udma, irq, used_before = get_dma_buffer(ops, st, g, key, ops.And(when, ops.Not(st.killed(g))))
    # (dma2iov reads the buffer only when GETDMA gave one; a plain False skips the reads.)
    iov_ok = ops.TRUE if found is False else ops.Or(ops.Not(found), dma2iov_ok(ops, st, g, udma))
    usable = found
    if checked:
        usable = ops.And(found, ops.Eq(used_before, 0))
    got = length
    # (readv comes after dma2iov: a buffer it exits on is never read.)
    if usable is not False and iov_ok is not False and not st.fault("launcher-ignores-iov-length"):
        got = ops.Min(length, total_len(ops, st, g, True, udma))  # dma2iov + readv
    extra = {}
    if readv_failed is not False:  # (prove never chooses it: its words are narrower than (u32)-1)
        got = ops.If(ops.And(readv_failed, block_reply_key(ops, st, g, key)), READV_FAILED, got)
        extra["bytes"] = fill_bytes(ops, st, g, key, got)
    extra["used_before"] = used_before
    effects.append(Effect("fill", ops.And(when, usable, iov_ok), guest=g, key=key, dma=udma, len=got, irq=irq, **extra))
    effects.append(Effect("nobuf", ops.And(when, ops.Not(usable), iov_ok), guest=g, key=key))
    # handle_block_output: `if (!lenp) err(1, ...)`.  The Launcher's exit closes /dev/lguest: every binding of the
    # Guest goes (release_all_dma) and it never runs again.  (A `checked` Launcher's refusal of a used buffer is
    # not this: GETDMA did give one.)
    exits = ops.And(when, ops.Not(found), block_reply_key(ops, st, g, key))
    if exits is not False:
        effects.append(Effect("close", exits, guest=g, exit="Block request didn't give us a dma buffer"))
    bad_iov = ops.And(when, ops.Not(iov_ok))
    if bad_iov is not False:
        effects.append(Effect("close", bad_iov, guest=g, exit="Invalid address (dma2iov: check_pointer)", dma=udma))
    return effects


@rule("drivers/lguest/lguest_user.c: user_send_irq")
def send_irq(ops, st, g, irq, when=True):
    """LHREQ_IRQ: set the bit in irqs_pending; irq >= 32 is refused (-EINVAL), and so is any request once the
    Guest is dead (lguest_user.c write: -ENOENT)."""
    ok = ops.And(when, ops.ULT(irq, C.LGUEST_IRQS))
    return [Effect("irq", ops.And(ok, ops.Not(st.killed(g))), guest=g, irq=irq)]


@rule("drivers/lguest/io.c: release_all_dma")
def release_all_dma(ops, st, g, when=True):
    """close(/dev/lguest): unlink every live binding of the Guest; the Guest is gone."""
    return [Effect("close", when, guest=g)]
