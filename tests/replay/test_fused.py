"""spec/fused.py (replay's one-pass sends and fills) agrees with the general path.

Replay runs each trace twice: with the fused path (the default) and with
`Replay.fused = False` (every record through the rules of spec/, apply.py and
the monitors).  Findings (rule, line, message, related lines, certainty),
notes, the record count, any input error and the final model state
(descriptors, bindings, irqs, pending sends, kills) must be the same, on:
every bundled trace; realistic traces (benchmarks/realistic.py, 1 and 4
Guests); and those traces with numbers changed at random (kills, drops,
unwritten fields, overflows, full receivers: the cases the fused path hands
back), and generated valid runs (tests/model_strategies.py).
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lgcheck.replay.engine import Replay
from lgcheck.replay.parser import parse_text
from lgcheck.spec import compiled, fused
from lgcheck.spec.ops import Concrete
from lgcheck.spec.state import ConcreteState

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
import realistic  # noqa: E402
from model_strategies import valid_runs  # noqa: E402

pytestmark = pytest.mark.skipif(compiled.INTERPRETED, reason="the fused path is off under LGCHECK_INTERPRETED=1")


def _state(st):
    out = []
    for g, gs in sorted(st.guests.items()):
        descs = sorted(
            (a, d.used_len, tuple(d.addrs), tuple(d.lens), d.used_line, d.prev_used_line) for a, d in gs.mem.items()
        )
        slots = [(b.owner, b.off, b.dmas, b.num_dmas, b.next_dma, b.interrupt, b.stamp) for b in gs.slots]
        out.append((g, gs.irqs, gs.dead, gs.closed, gs.pending, descs, slots))
    return out, sorted(st.doubtful)


def _outcome(path, recs, fused: bool):
    rp = Replay(str(path))
    rp.fused = fused
    res = rp.run(recs)
    findings = [(f.rule, f.line, f.message, tuple(f.related), f.certain) for f in res.findings]
    err = None if res.error is None else res.error.text
    return findings, list(res.notes), res.records, err, _state(rp.st), sorted(rp.completed.items())


def agree(path, text: str):
    try:
        recs = parse_text(text, str(path))
    except Exception:  # an input error the parser finds: nothing to compare
        return None
    fast = _outcome(path, list(recs), True)
    slow = _outcome(path, list(recs), False)
    assert fast[:4] == slow[:4]
    assert fast[4:] == slow[4:]
    return fast


def test_every_bundled_trace_replays_the_same_with_and_without_the_fused_path():
    n = 0
    for path in sorted((ROOT / "traces").glob("*.lgt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "lost" in text or "?" in text:
            continue  # partial traces: the fused path never runs in partial mode
        agree(path, text)
        n += 1
    assert n > 20


def _trace(tmp_path, guests, records, seed):
    path = tmp_path / f"r{guests}-{seed}.lgt"
    realistic.write_trace(str(path), records, guests, seed=seed)
    return path, path.read_text()


@pytest.mark.parametrize("guests", [1, 4])
def test_realistic_traces_replay_the_same(tmp_path, guests):
    path, text = _trace(tmp_path, guests, 3000, 3)
    findings, notes, records, err, _, _ = agree(path, text)
    assert (findings, err, records) == ([], None, 3000)


_NUM = re.compile(r"(?<=[=\[ ,])(0x[0-9a-f]+|[0-9]+)(?=[\] ,]|$)")
_ODD = [0, 1, 2, 3, 4, 99, 100, 4096, 0x1000, 0x4001000, 0x4001004, 0xFFFFFFF0, 0x100064, 0x102000, 1536, 65535]


def _mutate(text: str, rng: random.Random, k: int) -> str:
    """Change k numbers (mostly past the setup: RAM sizes, bindings and shares now and then), drop or copy lines."""
    lines = text.splitlines()
    for _ in range(k):
        i = rng.randrange(1 if rng.random() < 0.3 else 40, len(lines))
        what = rng.random()
        if what < 0.15:
            del lines[i]
            continue
        if what < 0.25:
            lines.insert(i, lines[rng.randrange(40, len(lines))].split(" ", 1)[1])  # untimestamped: still ordered
            continue
        spots = list(_NUM.finditer(lines[i]))[1:]  # not the timestamp
        if spots:
            m = rng.choice(spots)
            v = rng.choice(_ODD)
            lines[i] = lines[i][: m.start()] + (hex(v) if m.group().startswith("0x") else str(v)) + lines[i][m.end() :]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(12))
def test_mutated_realistic_traces_replay_the_same(tmp_path, seed):
    guests = (1, 4)[seed % 2]
    path, text = _trace(tmp_path, guests, 1200, 10 + seed)
    rng = random.Random(seed)
    for _ in range(6):
        agree(path, _mutate(text, rng, rng.randrange(1, 12)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_runs())
def test_generated_runs_replay_the_same(run):
    agree("run.lgt", run.text())


_ADDRS = st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([0, 4095, 4096, 0x3FFF000, 2**32 - 4096, 2**32 - 1]))
_LENS = st.one_of(st.integers(0, 65535), st.sampled_from([0, 1, 4095, 4096, 4097]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_ADDRS, _LENS), min_size=1, max_size=16), st.integers(0, 2**21))
def test_the_senders_section_check_is_check_dma_lists(sections, pages):
    s = ConcreteState()
    gs = s.guest(0)
    gs.pages = pages
    gs.recompute_limit()
    addrs, lens = [a for a, _ in sections], [n for _, n in sections]
    s.write_desc(0, 0x1000, 0, addrs, lens)
    walk = compiled.check_dma_list(Concrete, s, 0, True, 0x1000)
    ok, total, first = fused.source_walk(gs.mem[0x1000], gs.limit)
    assert ok == walk.ok
    assert first == walk.first
    if ok:
        assert total == walk.total
    assert not s.notes and not s.findings


def test_the_fused_delivery_asks_the_hosts_capacity_not_the_rules_verdict():
    """A Host copy into a section crossing its page: the fused path hands back unless the copy fits what lands.

    With the real check_dma_list such a descriptor never passes, so the two capacities agree on every trace
    above; under a rule that let the section cross (checker/mutations.py page-end-off-by-one) the fused path
    must still meet buffer-overflow's own count (capacity(host=True)), as the rules' path does.
    """
    sys.path.insert(0, str(ROOT / "tests" / "spec"))
    from spec_fixtures import World

    from lgcheck.spec import constants as C

    w = World("concrete")
    st, g, entry = w.st, 1, w.cfg.arrays[0]
    st.write_desc(g, entry, 0, [0x3000 - 0x10, 0], [0x20, 0])  # 0x10 bytes in its page, 0x10 past it
    d, limit = st.guest(g).mem[entry], st.guest(g).limit
    memo = fused.sections(st, g, entry, d, limit)
    assert fused._capacity(st, g, entry, memo) == 0x20  # what the stored lengths say (the Launcher's fill)
    assert fused._capacity(st, g, entry, memo, host=True) == 0  # the copy's one page holds none of a crossing section
    assert memo[2:] == [0x20, 0] and C.PAGE_SIZE == 0x1000
