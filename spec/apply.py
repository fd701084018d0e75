"""Perform effects on the state, checking the invariants as each one lands.

The invariant checks live here, at the one place where the state changes, so
replay (which may apply an effect read from the trace instead of the one the
model decided) and the checker (which applies the model's) check the same
things.  Messages are built lazily, from concrete values only.
"""

from __future__ import annotations

from . import constants as C
from .host import live_match, total_len


def bits(v: int) -> str:
    """A status value in words: ACKNOWLEDGE|DRIVER, with any unnamed bits in hex."""
    names = [n for n, b in C.STATUS_BITS.items() if v & b]
    rest = v & ~sum(C.STATUS_BITS.values())
    if rest or not names:
        names.append(hex(rest) if rest else "0")
    return "|".join(names)


def kill_reason(f, value=lambda x: x) -> str:
    """The kill_guest() text for a kill effect, as the 2.6.23 Host words it."""
    reason, args = f["reason"], [value(a) for a in f.get("args", ())]
    if reason == "bad DMA entry" and len(args) == 2:
        return f"bad DMA entry: {args[0]}@{args[1]:#x}"
    if reason in ("bad dma key", "bad read address") and args:
        return f"{reason} {args[0]:#x}"
    return reason


def plural_bytes(n) -> str:
    return f"{n} byte" if n == 1 else f"{n} bytes"


def key_inside_device(ops, st, g, key):
    """Key 0 (the console's) or inside a page of one of the Guest's devices with pages."""
    inside = ops.Eq(key, 0)
    for _, d in st.devices(g):
        if d.pages:
            lo = d.pfn * C.PAGE_SIZE
            inside = ops.Or(inside, ops.And(ops.UGE(key, lo), ops.ULT(key, lo + d.pages * C.PAGE_SIZE)))
    return inside


def _bind(ops, st, f, w):
    g, owner, off, key = f["guest"], f["owner"], f["off"], f["key"]
    for b, sel in f["slots"]:
        ww = ops.And(w, sel)
        if ww is False:
            continue
        for c in st.bucket(owner, off):
            if c is b:
                continue
            st.check(
                "key-collision",
                ops.Implies(ww, ops.Not(live_match(ops, c, owner, off))),
                lambda c=c: (
                    f"g{g} binds key {key:#x}, which g{c.guest}'s live binding (slot {c.slot}, "
                    f"dmas {c.dmas:#x}) already holds: "
                    + (
                        "a send on a shared key reaches only the newest other Guest's binding"
                        if owner >= C.SHARED_OWNER
                        else "GETDMA and unbind find only one of the two"
                    )
                ),
            )
        st.check(
            "key-outside-device",
            ops.Implies(ww, key_inside_device(ops, st, g, key)),
            lambda: (
                f"g{g} binds key {key:#x}, which lies in no page of its devices "
                f"({_device_pages(st, g)}); by convention a key is an address in its device's page"
            ),
        )
        st.set_binding(
            b,
            ww,
            owner=owner,
            off=off,
            dmas=f["dmas"],
            num_dmas=f["num"],
            next_dma=0,
            interrupt=f["irq"],
        )
        st.mark_newest(b, ww)


def _device_pages(st, g) -> str:
    spans = [
        f"dev {i}: {d.pfn * C.PAGE_SIZE:#x}-{(d.pfn + d.pages) * C.PAGE_SIZE - 1:#x}"
        for i, d in st.devices(g)
        if d.pages
    ]
    return ", ".join(spans) if spans else "it has no device pages"


def _write_data(ops, st, w, g, dma, length, used_before, who, why="", cap=None):
    """Checks for a write of `length` bytes into descriptor `dma` of Guest g."""
    st.check(
        "write-to-used-buffer",
        ops.Implies(w, ops.Eq(used_before, 0)),
        lambda: (
            f"{who} writes {plural_bytes(length)} into g{g}'s descriptor {dma:#x}, whose used_len was "
            f"{used_before}, not 0: the Guest has not handed it back, and its data is overwritten{why}"
        ),
    )
    if st.is_doubtful(g, dma):
        return  # its lengths were never written: replay already said so
    if cap is None:
        cap = total_len(ops, st, g, True, dma)
    st.check(
        "buffer-overflow",
        ops.Implies(w, ops.ULE(length, cap)),
        lambda: (
            f"{who} writes {plural_bytes(length)} into g{g}'s descriptor {dma:#x}, "
            f"whose sections hold only {plural_bytes(cap)}"
        ),
    )


def _status(ops, st, f, w):
    g, dev, new, by = f["guest"], f["dev"], f["value"], f["by"]
    old = st.status(g, dev)
    cleared = ops.BitAnd(old, ops.BitNot(new))
    st.check(
        "status-cleared",
        ops.Implies(w, ops.Eq(cleared, 0)),
        lambda: (
            f"{'g' if by == 'guest' else 'l'}{g} writes status {bits(new)} to device {dev}, clearing "
            f"{bits(cleared)} (was {bits(old)}): status bits are only ever set"
        ),
    )
    newly = ops.BitAnd(new, ops.BitNot(old))
    if by == "guest":
        bad = ops.BitAnd(newly, C.REMOVED)
        rule_text = "only the Host or Launcher may set REMOVED"
    else:
        bad = ops.BitAnd(newly, ops.BitNot(C.REMOVED))
        rule_text = "a Launcher may set only REMOVED; the rest belong to the Guest"
    st.check(
        "status-forbidden-bit",
        ops.Implies(w, ops.Eq(bad, 0)),
        lambda: f"{'g' if by == 'guest' else 'l'}{g} newly sets {bits(bad)} on device {dev}: {rule_text}",
    )
    st.set_status(g, dev, new, w)


def apply(ops, st, eff):
    """Perform one effect when its guard holds, checking the invariants it could break."""
    k, w, f = eff.kind, eff.when, eff.f
    if w is False:
        return
    if k == "kill":
        st.kill(f["guest"], lambda: kill_reason(f), w)
    elif k == "deliver":
        (sg, sa), (dg, da) = f["src"], f["dst"]
        length = f["len"]
        st.wr_used_len(sg, sa, length, w)
        # The entry's used_len when the Host chose it; a recorded deliver
        # (replay following a trace) is checked against the state now.
        before = f["used_before"] if "used_before" in f else st.rd_used_len(dg, da)
        _write_data(ops, st, w, dg, da, length, before, f"the Host's send from g{sg}", cap=f.get("cap"))
        st.wr_used_len(dg, da, length, w)
        b = f.get("binding")
        if b is not None:
            st.set_binding(b, w, next_dma=ops.BitAnd(ops.Add(b.next_dma, 1), 0xFFFF))
        st.raise_irq(dg, f["irq"], w)
    elif k == "full":
        st.raise_irq(f["dst"], f["irq"], w)
    elif k == "pending":
        st.set_pending(f["guest"], (f["key"], f["dma"]), w)
    elif k == "drop":
        pass
    elif k == "bind":
        _bind(ops, st, f, w)
    elif k == "unbind":
        for b, sel in f["slots"]:
            st.set_binding(b, ops.And(w, sel), interrupt=0)
    elif k == "output":
        st.wr_used_len(f["guest"], f["dma"], f["len"], w)
        st.set_pending(f["guest"], None, w)
    elif k == "fill":
        g = f["guest"]
        _write_data(
            ops,
            st,
            w,
            g,
            f["dma"],
            f["len"],
            f["used_before"],
            f"l{g}'s fill",
            " (GETDMA returned it because no entry of the binding was free: get_dma_buffer then "
            "gives the last entry, and user_get_dma stamps the irq over its used_len)",
        )
        st.wr_used_len(g, f["dma"], f["len"], w)
        st.raise_irq(g, f["irq"], w)
    elif k == "nobuf":
        pass
    elif k == "irq":
        st.raise_irq(f["guest"], f["irq"], w)
    elif k == "status":
        _status(ops, st, f, w)
    elif k == "close":
        for b in st.slots(f["guest"]):
            st.set_binding(b, ops.And(w, ops.Ne(b.interrupt, 0)), interrupt=0)
        st.close(f["guest"], w)
    else:  # pragma: no cover - the kinds are closed
        raise ValueError(f"unknown effect {k!r}")
