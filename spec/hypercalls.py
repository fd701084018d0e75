"""Hypercalls as the Guest makes them: the wrapper's own stores, then the Host's attempts."""

from __future__ import annotations

from .host import send_attempt
from .registry import rule


@rule("drivers/lguest/lguest.c: lguest_send_dma")
def hcall_send_dma(ops, st, g, key, dma, apply, when=True):
    """SEND_DMA: the wrapper sets used_len to 0; the Host tries once, and once more if the receiver was full.

    `apply(effects)` performs one attempt's effects and returns those that
    happened (replay may substitute the trace's own records); the retry runs
    only if a `full` happened.
    """
    st.wr_used_len(g, dma, 0, when)
    effects, _ = send_attempt(ops, st, g, key, dma, when)
    happened = apply(effects)
    full = ops.Or(*[e.when for e in happened if e.kind == "full"])
    if full is not False:
        effects, _ = send_attempt(ops, st, g, key, dma, full)
        apply(effects)
