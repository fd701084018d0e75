"""Perform effects on the state; then let the monitors observe what was written.

Nothing here checks an invariant against a number a rule computed: the state
logs each write it performs (with the value it replaces) and the monitors of
spec/monitors.py judge the log and the state.  Replay (which may apply an
effect read from the trace instead of the one the model decided) and the
checker (which applies the model's) run the same monitors.
"""

from __future__ import annotations

from . import constants as C
from .monitors import HOST_COPY, futex_identity, observe


def kill_reason(f, value=lambda x: x) -> str:
    """The kill_guest() text for a kill effect, as the 2.6.23 Host words it."""
    reason, args = f["reason"], [value(a) for a in f.get("args", ())]
    if reason == "bad DMA entry" and len(args) == 2:
        return f"bad DMA entry: {args[0]}@{args[1]:#x}"
    if reason == "bad read address" and args:
        # lgread (core.c) of a whole struct lguest_dma: "bad read address %#lx len %u"
        return f"{reason} {args[0]:#x} len {C.DMA_SIZE}"
    if reason == "bad dma key" and args:
        return f"{reason} {args[0]:#x}"
    return reason


GETDMA_WHY = (
    " (GETDMA returned it because no entry of the binding was free: get_dma_buffer then "
    "gives the last entry, and user_get_dma stamps the irq over its used_len)"
)


def _bind(ops, st, f, w):
    g = f["guest"]
    # What the key names, by the memory (the monitors' record, not the Host's).
    nowner, noff = futex_identity(ops, st.maps(g), g, f["key"])
    for b, sel in f["slots"]:
        ww = ops.And(w, sel)
        if ww is False:
            continue
        st.set_binding(
            b,
            ww,
            owner=f["owner"],
            off=f["off"],
            dmas=f["dmas"],
            num_dmas=f["num"],
            next_dma=0,
            interrupt=f["irq"],
            key=f["key"],
            nowner=nowner,
            noff=noff,
        )
        st.mark_newest(b, ww)
        st.log_bind(g, b, ww)


def perform(ops, st, eff):
    """Perform one effect when its guard holds (no checks)."""
    k, w, f = eff.kind, eff.when, eff.f
    if k == "kill":
        st.kill(f["guest"], lambda: kill_reason(f), w)
    elif k == "deliver":
        (sg, sa), (dg, da) = f["src"], f["dst"]
        length = f["len"]
        who = f"{HOST_COPY}{sg}"
        st.wr_used_len(sg, sa, length, w)
        st.write_data(dg, da, length, who, "", w, host=True)
        if w is not False and getattr(st, "has_bytes", False):  # version 2: the bytes themselves
            st.deliver_bytes(f["src"], f["dst"], length, f.get("steps"), who, w)
        b = f.get("binding")
        if b is not None:
            st.set_binding(b, w, next_dma=ops.BitAnd(ops.Add(b.next_dma, 1), 0xFFFF))
        st.raise_irq(dg, f["irq"], w)
    elif k == "full":
        st.raise_irq(f["dst"], f["irq"], w)
    elif k == "pending":
        st.set_pending(f["guest"], (f["key"], f["dma"]), w)
    elif k in ("drop", "nobuf"):
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
        # `bytes`: what readv wrote, when it is not the used_len stored (launcher.fill_bytes: a failed block readv)
        landed = f.get("bytes", f["len"])
        st.write_data(g, f["dma"], landed, f"l{g}'s fill", GETDMA_WHY, w, stored=f["len"])
        if w is True and getattr(st, "has_bytes", False):  # version 2 does not record what a fill writes
            st.forget_sections(g, f["dma"], landed)
        st.raise_irq(g, f["irq"], w)
    elif k == "irq":
        st.raise_irq(f["guest"], f["irq"], w)
    elif k == "status":
        st.set_status(f["guest"], f["dev"], f["value"], f["by"], w)
    elif k == "close":
        for b in st.slots(f["guest"]):
            st.set_binding(b, ops.And(w, ops.Ne(b.interrupt, 0)), interrupt=0)
        st.close(f["guest"], w)
    else:  # pragma: no cover - the kinds are closed
        raise ValueError(f"unknown effect {k!r}")


def apply(ops, st, eff):
    """Perform one effect, then run the monitors over the writes it made."""
    if eff.when is False:
        return
    perform(ops, st, eff)
    observe(ops, st)
