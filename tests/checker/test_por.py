"""checker/por.py: the pairs of actions BMC may reorder are proved to commute, and reordering keeps the answers."""

from __future__ import annotations

import dataclasses

import pytest

from lgcheck.checker import bmc, por
from lgcheck.checker.config import Config
from lgcheck.spec.ops import Symbolic as ops

RING = Config(
    launcher="checked",
    sysfs=False,
    invariants=("write-to-used-buffer",),
    faults=("host-skips-used-len-check",),
    slots=1,
    sections=1,
    buffers=1,
    num_skbs=1,
    induction=False,
)


def _only(cfg):
    return bmc.status_free(cfg, bmc.rule_names(cfg))


def test_pairs_that_do_not_commute_are_refused():
    # Two writes to the same descriptor: the second one's values win, so the order matters.
    assert not por.commutes(RING, (0, "dma"), (0, "dma"), lambda x, y: ops.Eq(x["dma"], y["dma"]))
    # ... to two different descriptors: they commute, and the proof says so.
    assert por.commutes(RING, (0, "dma"), (0, "dma"), lambda x, y: ops.Ne(x["dma"], y["dma"]))
    # A write then a write to the same descriptor is the second write alone.
    assert por.absorbs(RING, (0, "dma"))
    only = _only(RING)
    fp = {c: por.footprint(RING, c, only) for c in [(0, "bind"), (1, "bind"), (0, "dma"), (1, "dma"), (0, "send")]}
    # Two binds both write the order of the bindings (which is newer): not independent.
    assert not por.independent(fp[(0, "bind")], fp[(1, "bind")])
    # g0's send writes into g1's ring, which g1's descriptor write writes too.
    assert not por.independent(fp[(0, "send")], fp[(1, "dma")])
    # Descriptor writes of two Guests touch disjoint fields.
    assert por.independent(fp[(0, "dma")], fp[(1, "dma")])
    red = por.reduction(RING, only)
    assert ((0, "bind"), (1, "bind")) not in red.independent
    assert ((0, "send"), (1, "dma")) not in red.independent
    assert ((0, "dma"), (1, "dma")) in red.independent
    assert red.dma_commutes == {0, 1} and red.dma_absorbs == {0, 1}


def test_a_wrong_commutation_claim_is_refused_by_the_proof():
    # The syntactic test refuses g0's send against g1's descriptor write; the z3 proof on the symbolic
    # steps refuses it too (a send reads the ring entry the write changes).
    assert not por.commutes(RING, (0, "send"), (1, "dma"))


def _small(**kw) -> Config:
    """2 Guests, 1 slot, 1 buffer, 1 section, BMC alone: a few seconds for both runs."""
    return Config(**{"guests": 2, "slots": 1, "buffers": 1, "sections": 1, "induction": False, **kw})


# (configuration, {invariant: (status, the run's length, or the depth it holds to)}); each but the 1-step one
# has commuting steps in the prefix of its runs (descriptor writes, binds, fills of two Guests).
CASES = [
    (dataclasses.replace(RING, depth=5), {"write-to-used-buffer": ("violated", 5)}),
    (
        _small(sysfs=False, faults=("guest-rebinds-key",), invariants=("key-collision",), depth=3),
        {"key-collision": ("holds", 3)},
    ),
    (
        _small(faults=("launcher-sets-driver-ok",), invariants=("status-forbidden-bit",), depth=3),
        {"status-forbidden-bit": ("violated", 1)},
    ),
    (
        _small(sysfs=False, faults=("host-copies-source-length",), invariants=("buffer-overflow",), depth=5),
        {"buffer-overflow": ("violated", 3)},
    ),
    (
        _small(
            guests=1, sysfs=False, faults=("launcher-ignores-iov-length",), invariants=("buffer-overflow",), depth=5
        ),
        {"buffer-overflow": ("violated", 2)},
    ),
]


@pytest.mark.parametrize("cfg,expected", CASES)
def test_reduced_and_unreduced_bmc_give_the_same_verdicts_and_shortest_lengths(cfg, expected, monkeypatch):
    answers = {}
    for on in ("0", "1"):
        monkeypatch.setenv("LGCHECK_POR", on)
        results, _ = bmc.check(cfg)
        answers[on] = {n: (r.status, r.steps if r.status == "violated" else r.depth) for n, r in results.items()}
    assert answers["0"] == answers["1"] == expected


def test_bmc_forbids_the_non_canonical_order_of_a_commuting_pair_and_only_with_the_reduction(monkeypatch):
    import z3

    cfg = dataclasses.replace(RING, depth=3)
    for on, forbidden in (("1", True), ("0", False)):
        monkeypatch.setenv("LGCHECK_POR", on)
        _, unrolling = bmc.check(cfg)
        a, b = unrolling.infos[0], unrolling.infos[1]
        code = {(c.guest, c.action): c.code for c in a.cases}
        solver = unrolling.solver
        # g1 writes a descriptor, then g0 does: the pair commutes, and g0's write comes first canonically.
        late = solver.check(a.sel == code[(1, "dma")], b.sel == code[(0, "dma")])
        early = solver.check(a.sel == code[(0, "dma")], b.sel == code[(1, "dma")])
        assert early == z3.sat
        assert late == (z3.unsat if forbidden else z3.sat)
        # Two binds do not commute: both orders stay.
        assert solver.check(a.sel == code[(1, "bind")], b.sel == code[(0, "bind")]) == z3.sat
