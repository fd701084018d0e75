"""Version 2's fused delivery step (spec/fused.py copy_ready, delivered_bytes) agrees with the general path.

Replay runs each trace with the fused paths (the default) and with
`Replay.fused = False` (every delivery's bytes through the state's
deliver_bytes, the monitors and check_sum).  Findings (rule, line, message,
related lines, certainty), notes, the record count, any input error, the
final model state *and its bytes* (every kept page's bytes and known-marks),
and the `--emit` output must be the same, on: the bundled version 2 traces
(2.6.23's copy and `--host fixed`); generated multi-section traffic with and
without the defect, input-only and full (with `sum=`), and mutated (a sum
changed, a `mem` record dropped, a length or address changed); and
benchmarks/v2_speed.py's trace, as is and mutated.  The copy the fused
send runs (the compiled rule) is checked against the written rule
copy_data_steps on generated sections.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgcheck.replay.engine import Replay
from lgcheck.replay.parser import parse_text
from lgcheck.spec import compiled, fused, host
from lgcheck.spec.ops import Concrete
from lgcheck.spec.state import ConcreteState

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import v2_speed  # noqa: E402
from test_fused import _NUM, _mutate, _state  # noqa: E402
from test_v2_bytes import a_send, build  # noqa: E402

pytestmark = pytest.mark.skipif(compiled.INTERPRETED, reason="the fused path is off under LGCHECK_INTERPRETED=1")


def _bytes(st):
    return sorted((k, bytes(d), bytes(m)) for k, (d, m) in (st.contents or {}).items())


def _outcome(text, on: bool, emit: bool, **model):
    try:
        recs = parse_text(text, "v2.lgt")
    except Exception:  # an input error the parser finds: nothing to compare
        return None
    out = io.StringIO() if emit else None
    rp = Replay("v2.lgt", emit=out, **model)
    rp.fused = on
    res = rp.run(recs)
    findings = [(f.rule, f.line, f.message, tuple(f.related), f.certain) for f in res.findings]
    err = None if res.error is None else res.error.text
    return (findings, list(res.notes), res.records, err, _state(rp.st), _bytes(rp.st), out and out.getvalue())


def agree(text: str, **model):
    """Fused on and off give the same outcome, at full speed and with --emit; returns the full-speed one."""
    fast = _outcome(text, True, False, **model)
    if fast is None:
        return None
    assert fast == _outcome(text, False, False, **model)
    assert _outcome(text, True, True, **model) == _outcome(text, False, True, **model)
    return fast


def full(text: str, **model) -> str:
    """The trace as replay completes it (--emit, general path): every Host answer, `sum=` where bytes are known."""
    out = io.StringIO()
    rp = Replay("v2.lgt", emit=out, **model)
    rp.fused = False
    rp.run(parse_text(text, "v2.lgt"))
    return out.getvalue()


def test_bundled_version_2_traces():
    n = 0
    for path in sorted((ROOT / "traces").glob("*.lgt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if not re.search(r"^lguest-trace 2$", text, re.M) or "lost" in text or "?" in text:
            continue
        for h in ("2.6.23", "fixed"):
            agree(text, host=h)
        n += 1
    assert n >= 4


@settings(max_examples=40, deadline=None)
@given(st.lists(a_send, min_size=1, max_size=4), st.sampled_from(["2.6.23", "fixed"]), st.randoms())
def test_generated_multi_section_traffic(sends, h, rng):
    text, _ = build(sends)
    agree(text, host=h)  # input-only: fused.send copies the bytes
    whole = full(text, host=h)
    res = agree(whole, host=h)  # full, with sum=: the recorded delivery's fused step
    if h == "2.6.23":
        assert {f[0] for f in res[0]} <= {"data-corrupted"}
    else:
        assert res[0] == []
    lines = whole.splitlines()
    for _ in range(3):  # mutated: a sum changed, a mem dropped, a number changed
        i = rng.randrange(len(lines))
        bad = list(lines)
        if "sum=" in bad[i] and rng.random() < 0.5:
            bad[i] = re.sub(r"sum=(.)", lambda m: "sum=" + "0123456789abcdef"[(int(m.group(1), 16) + 1) % 16], bad[i])
        elif " mem " in bad[i] and rng.random() < 0.5:
            del bad[i]
        else:  # a number of a Guest record changed: a length, an address, a key
            spots = list(_NUM.finditer(bad[i])) if bad[i][:1] == "g" else []
            if spots:
                m = rng.choice(spots)
                v = str(rng.choice([0, 1, 3, 14, 100, 1504, 0x2001004, 0x200000, 0x401000]))
                bad[i] = bad[i][: m.start()] + v + bad[i][m.end() :]
        agree("\n".join(bad) + "\n", host=h)


def test_the_speed_benchmarks_trace_as_is_and_mutated(tmp_path):
    _, v2, _ = v2_speed.write_pair(str(tmp_path), 1500)
    text = Path(v2).read_text()
    res = agree(text)
    assert (res[0], res[3]) == ([], None)
    rng = random.Random(5)
    for _ in range(4):
        agree(_mutate(text, rng, rng.randrange(1, 6)))


_SECTIONS = st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 3)), min_size=1, max_size=16)


@settings(max_examples=300, deadline=None)
@given(_SECTIONS, _SECTIONS, st.sampled_from(["2.6.23", "fixed"]))
def test_the_fused_sends_copy_is_the_rules_copy(src, dst, h):
    s = ConcreteState()
    s.write_desc(0, 0x1000, 0, [a for a, _ in src], [n for _, n in src])
    s.write_desc(1, 0x2000, 0, [a for a, _ in dst], [n for _, n in dst])
    mine = fused.copy_data_steps(Concrete, s, 0, 0x1000, 1, 0x2000, h)  # the compiled rule, usual frame direct
    assert mine == host.copy_data_steps(Concrete, s, 0, 0x1000, 1, 0x2000, h)
    assert not s.notes and not s.findings


# A delivery into the same descriptor, with the same length, as an earlier one whose bytes the monitor
# read; this one's source bytes are partly unknown (no `mem` covers its first 6), so data-corrupted reads
# nothing.  Its sum= must then be checked against nothing, not against the earlier delivery's bytes
# (found by an attack on the fused path: it hashed the stale reading, a false divergence).
STALE = """lguest-trace 2
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1
share net pages=1 map=[0:0x2001, 1:0x2001]
g1 dma 0x1c8f000 used_len=0 addr=[0x1d00000, 0x1d01000] len=[4, 16]
g1 bind_dma key=0x2001004 dmas=0x1c8f000 num=1 irq=1 -> 1
g0 dma 0x1b00000 addr=[0x1e00000] len=[10]
g0 mem 0x1e00000 data=aaaaaaaaaaaaaaaaaaaa
g0 send_dma key=0x2001004 dma=0x1b00000
host deliver from=g0:0x1b00000 to=g1:0x1c8f000 len=10 irq=1 sum=FIRST
g1 dma 0x1c8f000 used_len=0
g0 dma 0x1b00064 addr=[0x1e02000] len=[10]
g0 mem 0x1e02000 data=010203040506
g0 send_dma key=0x2001004 dma=0x1b00064
host deliver from=g0:0x1b00064 to=g1:0x1c8f000 len=10 irq=1 sum=SUM
"""


RIGHT = "a1ed9f0b6a1ab98de3e95b4841d606a7abff365cdb89ab9682a19786783b25e8"  # what the destination now holds
FIRST = "a635350fba999db54f96e1a9b33991592373148e66c3a467e189633c8da94739"  # the first delivery's bytes


@pytest.mark.parametrize("sum_, rules", [(RIGHT, []), (FIRST, ["divergence"])])
def test_an_earlier_deliverys_bytes_never_stand_for_a_later_sum(sum_, rules):
    findings = agree(STALE.replace("FIRST", FIRST).replace("SUM", sum_))[0]
    assert [(rule, line) for rule, line, *_ in findings] == [(r, 17) for r in rules]


# copy_judged (engine.py deliver_v2's one call) against the two calls it stands for, on the same state.
HOSTS = ["2.6.23", "fixed"]
_FRAMES = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 4095), st.integers(1, 48)), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(_FRAMES, _FRAMES, st.lists(st.booleans(), min_size=3, max_size=3), st.sampled_from(HOSTS), st.booleans())
def test_copy_judged_is_copy_ready_then_delivered_bytes(src, dst, known, h, right_sum):
    def state():
        s = ConcreteState()
        s.write_desc(0, 0x1000, 0, [(0x100 + p) << 12 | o for p, o, _ in src], [n for *_, n in src])
        s.write_desc(1, 0x2000, 0, [(0x200 + p) << 12 | o for p, o, _ in dst], [n for *_, n in dst])
        for i, (p, o, n) in enumerate(src):
            if known[i]:
                s.write_bytes(0, (0x100 + p) << 12 | o, bytes((i * 7 + j) % 256 for j in range(n)))
        s.write_bytes(1, 0x200 << 12, b"\x05")  # the destination's page exists (and one byte is known)
        return s

    a, b = state(), state()
    steps = compiled.copy_data_steps(Concrete, a, 0, 0x1000, 1, 0x2000, h)
    length = sum(n for *_, n in steps)
    source = a.section_bytes(0, 0x1000, length)
    recorded = hashlib.sha256(source).hexdigest() if right_sum and source is not None else "0" * 64
    got = fused.copy_judged(a, 0, 0x1000, 1, 0x2000, length, steps, recorded)
    if fused.copy_ready(b, 0, 1, steps):
        want = fused.delivered_bytes(b, 0, 0x1000, 1, 0x2000, length, steps, recorded)
    else:
        want = None
    assert got is want
    assert _bytes(a) == _bytes(b) and a.received == b.received


# copy_judged's own reading (the usual frame, inline) is data-corrupted's: each side's stored descriptor and
# the page its section 0 lies in, never the copy's step.  A step that writes one byte off, or reads the source
# one byte off (a copy routine gone wrong), must be caught by that reading, as the general path catches it.
@pytest.mark.parametrize("shift_to, shift_from", [(0, 0), (1, 0), (0, 1), (-1, 0)])
def test_copy_judged_reads_the_state_not_the_copys_step(shift_to, shift_from):
    data = bytes(range(7, 7 + 60))

    def state():
        s = ConcreteState()
        s.write_desc(0, 0x1000, 0, [0x100010], [60])  # the usual frame: one source section ...
        s.write_desc(1, 0x2000, 0, [0x200020, 0x201000], [1536, 100])  # ... a longer first destination section
        s.write_bytes(0, 0x10000C, bytes(range(200, 204)) + data + bytes(range(100, 104)))
        s.write_bytes(1, 0x200000, bytes(64))
        return s

    a, b = state(), state()
    steps = [(True, 0x100010 + shift_from, 0x200020 + shift_to, 60)]
    right = hashlib.sha256(data).hexdigest()
    got = fused.copy_judged(a, 0, 0x1000, 1, 0x2000, 60, steps, right)
    want = fused.delivered_bytes(b, 0, 0x1000, 1, 0x2000, 60, steps, right)
    assert got is want is (shift_to == shift_from == 0)
    assert _bytes(a) == _bytes(b) and a.received == b.received
    assert (a.received is not None) is (got is True)
    # A wrong sum with the right bytes: judged False (check_sum words it), the reading kept for it.
    c = state()
    assert fused.copy_judged(c, 0, 0x1000, 1, 0x2000, 60, [(True, 0x100010, 0x200020, 60)], "0" * 64) is False
    assert c.received == (1, 0x2000, 60, data)
