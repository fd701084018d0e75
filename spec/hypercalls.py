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
    effects, decided_full = send_attempt(ops, st, g, key, dma, when)
    # The retry is decided on the state the first attempt saw: a `full`
    # attempt changes nothing a lookup or a transfer reads (only an irq bit,
    # or a dead flag), so it is the state the retry sees too; deciding it
    # before applying keeps the symbolic terms of the two attempts shared.
    retry, _ = send_attempt(ops, st, g, key, dma, decided_full)
    happened = apply(effects)
    full = ops.Or(*[e.when for e in happened if e.kind == "full"])
    if full is not False:
        if decided_full is False:  # replay followed a recorded `full` the model did not decide
            retry, _ = send_attempt(ops, st, g, key, dma, full)
        apply(retry)
