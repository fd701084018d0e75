"""Why: the explanations that finish replay's messages, in the words of the 2.6.23 code.

A finding tells what was expected and what happened; these functions add
which check, cursor or handler made the difference, so that a newcomer does
not need to open the code.
"""

from __future__ import annotations

from ..spec import constants as C
from ..spec.apply import kill_reason
from ..spec.host import total_len
from ..spec.launcher import watches
from ..spec.ops import Concrete as ops
from .answers import to_record
from .records import format_record


def kill(st, f) -> str:
    """The bad-dma message for a kill: what the Host did, and which check the Guest failed."""
    reason = kill_reason(f)
    g = f["guest"]
    args = f.get("args", ())
    if f["reason"] in FUTEX_CALLS and args and type(args[0]) is int and args[0] & 3 == 0:
        # An aligned key fails get_futex_key only where no vma holds it (host.get_futex_key).
        return (
            f"the Host kills g{g}: {reason}: {FUTEX_CALLS[f['reason']]}'s key {args[0]:#x} lies above the Guest's "
            "memory, where no mapping of its Launcher holds it (get_futex_key: find_extend_vma finds no vma, -EFAULT)"
        )
    text = {
        "bad dma key": "BIND_DMA's key must be 4-aligned (get_futex_key)",
        "bad sending DMA key": "SEND_DMA's key must be 4-aligned (get_futex_key)",
        "bad registered DMA buffer": "GETDMA's key must be 4-aligned (get_futex_key); the Guest dies "
        "for its Launcher's key",
        "bad read address": "the descriptor must lie inside the Guest's memory (lguest_address_ok)",
        "bad address in registered DMA struct": "a bound descriptor must lie inside the receiving Guest's memory",
    }.get(f["reason"])
    if text is None:
        text = section(st, g, f.get("args", ()))
    return f"the Host kills g{g}: {reason}: {text}"


FUTEX_CALLS = {"bad dma key": "BIND_DMA", "bad sending DMA key": "SEND_DMA", "bad registered DMA buffer": "GETDMA"}


def section(st, g, args) -> str:
    """Which of check_dma_list's three conditions the section fails."""
    if len(args) != 2:
        return "check_dma_list rejects one of its sections"
    length, addr = args
    if length > C.PAGE_SIZE:
        return f"check_dma_list: a section of {length} bytes is longer than a page (4096)"
    if addr % C.PAGE_SIZE + length > C.PAGE_SIZE:
        return (
            f"check_dma_list: the section {addr:#x}+{length} crosses a page boundary "
            f"(at {(addr // C.PAGE_SIZE + 1) * C.PAGE_SIZE:#x})"
        )
    limit = st.pfn_limit(g)
    end = addr + length
    if limit is not None and end // C.PAGE_SIZE >= limit:
        extra = (
            " (lguest_address_ok rejects a range whose end is exactly the limit, though every byte lies below it)"
            if end == limit * C.PAGE_SIZE
            else ""
        )
        return (
            f"check_dma_list: the section ends at {end:#x}, but lguest_address_ok needs "
            f"(addr+len)/4096 below pfn_limit {limit:#x}{extra}"
        )
    return "check_dma_list: the section's address wraps around"


def pointer(st, g, dma) -> str:
    """Which of dma2iov's check_pointer calls fails (lguest.c: `addr >= top || addr + size >= top`)."""
    limit = st.pfn_limit(g)
    if limit is None:
        return "check_pointer fails"
    top = min(limit * C.PAGE_SIZE, 0xFFFF_FFFF)
    if dma >= top or (dma + C.DMA_SIZE) & 0xFFFF_FFFF >= top:
        return f"the descriptor {dma:#x} (100 bytes) does not end below top = pfn limit x 4096 = {top:#x}"
    for i in range(st.sections):
        a, ln = st.rd_section(g, dma, i)
        if ln == 0:
            break
        if a >= top or (a + ln) & 0xFFFF_FFFF >= top:
            return f"its section {i} ({a:#x}+{ln}) does not end below top = pfn limit x 4096 = {top:#x}"
    return "check_pointer fails"


def expected(computed) -> str:
    """What the model expected instead, in record form."""
    if not computed:
        return "it expects no Host record"
    return "it expects " + ", ".join(f"`{format_record(to_record(e))}`" for e in computed)


def deliver_mismatch(comp, r) -> str:
    """Why the model's deliver differs from a recorded one: the cursor, or copy_data's length."""
    if comp.kind == "deliver" and r.kind == "host.deliver":
        (dg, da), (rg, ra) = comp.f["dst"], r.fields["dst"]
        if (dg, da) != (rg, ra):
            b = comp.f["binding"]
            return (
                f": g{dg}'s binding (dmas {b.dmas:#x}, num {b.num_dmas}) has cursor next_dma={b.next_dma}, "
                f"and the first entry from there with used_len 0 is {da:#x}"
            )
        if comp.f["len"] != r.fields["len"]:
            return f": copy_data moves min(source total, destination total) = {comp.f['len']} bytes"
    return ""


def bind(rec, result) -> str:
    """Why BIND_DMA returns what the model says."""
    f = rec.fields
    g = rec.guest
    if f["irq"] >= C.LGUEST_IRQS:
        return f"irq {f['irq']} is not below LGUEST_IRQS (32), so bind_dma fails at once"
    if f["key"] % 4:
        return f"key {f['key']:#x} is not 4-aligned: get_futex_key fails and the Host kills g{g}"
    if f["irq"] == 0:
        if result:
            return "irq 0 unbinds, and a slot with this key and dmas exists"
        return f"irq 0 unbinds, but no slot of g{g} has key {f['key']:#x} with dmas {f['dmas']:#x}"
    if result:
        return f"g{g} has a free slot in its table of {C.LGUEST_MAX_DMA}"
    return f"all {C.LGUEST_MAX_DMA} of g{g}'s binding slots are in use"


def output(st, g, key, dma) -> str:
    """Which device answers a pending send, and with what."""
    for idx, watch, returns in watches(st, g):
        if watch == key:
            dev = st.guest(g).devices[idx]
            name = {C.CONSOLE: "console", C.BLOCK: "block", C.NET: "tun net"}.get(dev.type, "device")
            if returns == "zero":
                return f"device {g}.{idx} ({name}) watches key {key:#x}, and its handler always returns 0"
            total = total_len(ops, st, g, True, dma)
            return f"device {g}.{idx} ({name}) watches key {key:#x} and writes the sections' {total} bytes"
    return f"no device of g{g} with an output handler watches key {key:#x}"
