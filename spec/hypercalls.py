"""Hypercalls as the Guest makes them: the wrapper's own stores, then the Host's attempts."""

from __future__ import annotations

from .effects import Effect
from .host import send_attempt
from .registry import rule


def _marks(st):
    """How many notes and findings the state holds (None for a state that keeps neither)."""
    notes, findings = getattr(st, "notes", None), getattr(st, "findings", None)
    if isinstance(notes, list) and isinstance(findings, list):
        return len(notes), len(findings)
    return None


@rule("drivers/lguest/lguest.c: lguest_send_dma")
def hcall_send_dma(ops, st, g, key, dma, apply, when=True, host="2.6.23"):
    """SEND_DMA: the wrapper sets used_len to 0; the Host tries once, and once more if the receiver was full.

    `apply(effects)` performs one attempt's effects and returns those that
    happened (replay may substitute the trace's own records); the retry runs
    only if a `full` happened.  `host` names the Host's copy_data (spec/host.py HOSTS).
    """
    st.wr_used_len(g, dma, 0, when)
    marks = _marks(st)
    effects, decided_full = send_attempt(ops, st, g, key, dma, when, host)
    # The retry is decided on the state the first attempt saw: a `full`
    # attempt changes nothing a lookup or a transfer reads (only an irq bit,
    # or a dead flag), so it is the state the retry sees too; deciding it
    # before applying keeps the symbolic terms of the two attempts shared.
    if decided_full is True and marks is not None and _marks(st) == marks:
        # Known full, and the first attempt wrote no note or finding (an
        # unwritten field read as 0 would): the same search on the same
        # state under the same guard decides the same effects again.
        retry = [Effect(e.kind, e.when, **e.f) for e in effects]
    else:
        retry, _ = send_attempt(ops, st, g, key, dma, decided_full, host)
    happened = apply(effects)
    full = ops.Or(*[e.when for e in happened if e.kind == "full"])
    if full is not False:
        if decided_full is False:  # replay followed a recorded `full` the model did not decide
            retry, _ = send_attempt(ops, st, g, key, dma, full, host)
        apply(retry)
