"""Version 2 (bytes): replay finds exactly the corrupted deliveries.

- generated multi-section traffic between two Guests (random section splits on
  both sides, bytes from a small alphabet so that equal bytes are common)
  replays with `data-corrupted` at exactly the sends where an independent
  byte-level computation in this file says some received byte differs from the
  source's byte at the same offset; the finding names the first wrong byte;
- the same traffic on a Host that adds srcoff (the fix) has no finding;
- a recorded sum= is compared: the model's own sum replays clean, another is a
  divergence, and data-corrupted is then judged from the recorded sum;
- --emit writes sum= when the source's bytes are known and not when they are not;
- a version 1 trace replays with no bytes kept at all (the old path).

The byte-level computation here does not walk copy_data's loop: byte p of the
destination lies in destination section d (starting at offset D) and source
section s (starting at S); the 2.6.23 step that moves it starts at
max(D, S) and reads from the start of source section s (no srcoff), so it
gets source section s's byte p - max(D, S), where the right byte is p - S.
"""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgcheck.cli import main
from lgcheck.replay.engine import Replay, replay_records
from lgcheck.replay.parser import parse_text

SETUP = """lguest-trace 2
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=1
share net pages=1 map=[0:0x2001, 1:0x2001]
"""
KEY = 0x2001004
RX, TX = 0x100000, 0x180000  # descriptor arrays of the receiver (g1) and sender (g0)


def _offsets(lens):
    out, at = [], 0
    for n in lens:
        out.append(at)
        at += n
    return out


def received_2623(src: list[bytes], dst_lens: list[int]) -> bytes:
    """What 2.6.23 delivers, byte by byte, by the closed form in the module docstring."""
    total = min(sum(map(len, src)), sum(dst_lens))
    s_starts, d_starts = _offsets([len(b) for b in src]), _offsets(dst_lens)
    out = bytearray()
    for p in range(total):
        s = max(i for i, a in enumerate(s_starts) if a <= p)
        d = max(i for i, a in enumerate(d_starts) if a <= p)
        out.append(src[s][p - max(s_starts[s], d_starts[d])])
    return bytes(out)


def build(sends, sums: bool = False) -> tuple[str, list[int]]:
    """An input-only trace of these sends [(source sections' bytes, destination section lengths)], and their lines."""
    lines = SETUP.splitlines()
    for i, (_, dst_lens) in enumerate(sends):
        addrs = ", ".join(hex((0x200 + 16 * i + j) << 12) for j in range(len(dst_lens)))
        lines.append(f"g1 dma {RX + 100 * i:#x} used_len=0 addr=[{addrs}] len=[{', '.join(map(str, dst_lens))}]")
    lines.append(f"g1 bind_dma key={KEY:#x} dmas={RX:#x} num={len(sends)} irq=1 -> 1")
    send_lines = []
    for i, (src, _) in enumerate(sends):
        pages = [(0x400 + 16 * i + j) << 12 for j in range(len(src))]
        lens = ", ".join(str(len(b)) for b in src)
        lines.append(f"g0 dma {TX + 100 * i:#x} addr=[{', '.join(map(hex, pages))}] len=[{lens}]")
        for a, b in zip(pages, src):
            lines.append(f"g0 mem {a:#x} data={b.hex()}")
        lines.append(f"g0 send_dma key={KEY:#x} dma={TX + 100 * i:#x}")
        send_lines.append(len(lines))
    return "\n".join(lines) + "\n", send_lines


def replay(text, **model):
    return replay_records(parse_text(text, "gen.lgt"), "gen.lgt", **model)


section = st.lists(st.sampled_from([0, 1, 2]), min_size=1, max_size=24).map(bytes)
a_send = st.tuples(
    st.lists(section, min_size=1, max_size=4),
    st.lists(st.integers(1, 30), min_size=1, max_size=4),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(a_send, min_size=1, max_size=4))
def test_data_corrupted_exactly_where_the_bytes_differ(sends):
    text, send_lines = build(sends)
    result = replay(text)
    found = {f.line: f for f in result.findings if f.rule == "data-corrupted"}
    assert [f for f in result.findings if f.rule != "data-corrupted"] == []
    expected = {}
    for (src, dst_lens), line in zip(sends, send_lines):
        got = received_2623(src, dst_lens)
        want = b"".join(src)[: len(got)]
        if got != want:
            expected[line] = next(i for i in range(len(got)) if got[i] != want[i])
    assert set(found) == set(expected), (text, [f.message for f in found.values()])
    for line, first in expected.items():
        m = re.search(r": bytes? (\d+)", found[line].message)
        assert m and int(m.group(1)) == first, found[line].message


@settings(max_examples=60, deadline=None)
@given(st.lists(a_send, min_size=1, max_size=4))
def test_a_host_that_adds_srcoff_corrupts_nothing(sends):
    text, _ = build(sends)
    result = replay(text, host="fixed")
    assert result.findings == []


SPLIT = [([bytes(range(10, 24)), bytes(range(100, 150))], [10, 1504])]  # 14 + 50 into 10 + 1504


def test_the_split_example_names_the_wrong_bytes_and_their_origin():
    text, (line,) = build(SPLIT)
    (f,) = replay(text).findings
    assert (f.rule, f.line) == ("data-corrupted", line)
    assert "bytes 10-13 of what the destination received" in f.message
    assert "they are the source's bytes 0-3" in f.message


def _full(text):
    out = io.StringIO()
    replay_records(parse_text(text, "gen.lgt"), "gen.lgt", emit=out)
    return out.getvalue()


def test_emit_writes_the_sum_of_what_was_received_and_it_replays_clean():
    text, _ = build(SPLIT)
    full = _full(text)
    (deliver,) = [x for x in full.splitlines() if x.startswith("host deliver")]
    got = received_2623(*SPLIT[0])
    assert deliver.endswith(f"len=64 irq=1 sum={hashlib.sha256(got).hexdigest()}")
    again = replay(full)
    assert [(f.rule, f.line) for f in again.findings] == [("data-corrupted", full.splitlines().index(deliver) + 1)]


def test_a_recorded_sum_that_differs_is_a_divergence_judged_by_the_recorded_sum():
    text, _ = build(SPLIT)
    full = _full(text)
    src = b"".join(SPLIT[0][0])
    right = hashlib.sha256(src).hexdigest()  # a Host that copied right
    full_right = re.sub(r"sum=[0-9a-f]+", f"sum={right}", full)
    r = replay(full_right)
    assert [f.rule for f in r.findings] == ["divergence"], r.findings
    other = hashlib.sha256(b"x" * 64).hexdigest()
    r = replay(re.sub(r"sum=[0-9a-f]+", f"sum={other}", full))
    assert sorted(f.rule for f in r.findings) == ["data-corrupted", "divergence"]
    assert "is not the SHA-256 of the source's first 64 bytes" in next(
        f.message for f in r.findings if f.rule == "data-corrupted"
    )


def test_a_wrong_sum_on_an_empty_send_is_a_divergence_not_corrupted_data():
    # A 0-byte deliver with a sum other than SHA-256 of nothing was also data-corrupted, "the destination
    # received other bytes": it received none.
    import os

    trace = os.path.join(os.path.dirname(__file__), "..", "..", "traces", "v2-net-bytes.lgt")
    text = open(trace).read()
    text = text.replace("g0 dma 0x1b00000 addr=[0x1e00000] len=[64]", "g0 dma 0x1b00000 addr=[0x1e00000] len=[0]")
    first = re.search(r"host deliver from=g0:0x1b00000 to=g1:0x1c8f000 len=64 irq=1 sum=[0-9a-f]+", text).group(0)
    text = text.replace(first, "host deliver from=g0:0x1b00000 to=g1:0x1c8f000 len=0 irq=1 sum=" + "0" * 64, 1)
    r = replay(text)
    assert [(f.rule, f.line) for f in r.findings] == [("divergence", text[: text.index("len=0 irq=1")].count("\n") + 1)]


def test_unknown_source_bytes_skip_the_check_with_a_note_and_emit_no_sum():
    text, _ = build(SPLIT)
    text = "\n".join(x for x in text.splitlines() if not x.startswith("g0 mem 0x401000")) + "\n"
    r = replay(text)
    assert r.findings == [] and any("data not checked" in n for n in r.notes)
    assert "sum=" not in _full(text)


def _state_after(text):
    rp = Replay("gen.lgt")
    rp.run(parse_text(text, "gen.lgt"))
    return rp.st


def test_a_fill_makes_its_bytes_unknown():
    text, _ = build([([b"\x01" * 8], [8])])
    assert _state_after(text).read_bytes(1, 0x200 << 12, 8) == b"\x01" * 8  # delivered, so known
    # handed back, then refilled by g1's Launcher: version 2 does not record what a fill writes
    text += "g1 dma 0x100000 used_len=0\nl1 fill key=0x2001004 len=8\n"
    assert _state_after(text).read_bytes(1, 0x200 << 12, 8) is None


def test_a_mem_record_over_a_descriptor_is_an_input_error():
    text = SETUP + "g0 dma 0x1000 addr=[0x2000] len=[4]\ng0 mem 0x1050 data=" + "00" * 40 + "\n"
    r = replay(text)
    assert r.error is not None and r.error.line == 8 and "overlaps g0's descriptor at 0x1000" in r.error.message


def test_a_version_1_trace_keeps_no_bytes():
    text, _ = build(SPLIT)
    v1 = "\n".join(x for x in text.splitlines() if not x.startswith("g0 mem")).replace(
        "lguest-trace 2", "lguest-trace 1"
    )
    rp = Replay("gen.lgt")
    result = rp.run(parse_text(v1 + "\n", "gen.lgt"))
    assert result.findings == [] and result.notes == []
    assert rp.st.has_bytes is False and not getattr(rp.st, "contents", None)


@settings(max_examples=150, deadline=None)
@given(
    lens=st.lists(st.sampled_from([0, 1, 7, 60, 4000, 4096]), min_size=1, max_size=3),
    addrs=st.lists(st.sampled_from([0x1000, 0x1FF0, 0x2FFC, 0x5000, 0xFFFF_FFF8]), min_size=3, max_size=3),
    given_=st.lists(st.tuples(st.sampled_from([0x1000, 0x1FF0, 0x2FFA, 0x5000, 0xFFFF_FFF0]), st.integers(1, 40))),
    n=st.sampled_from([0, 1, 8, 60, 100, 4096, 9000]),
)
def test_section_bytes_reads_what_the_monitors_walk_reads(lens, addrs, given_, n):
    """st.section_bytes (one call; the usual frame one slice) == the bytes of monitors.received's walk."""
    from lgcheck.spec.monitors import received
    from lgcheck.spec.ops import Concrete
    from lgcheck.spec.state import ConcreteState

    s = ConcreteState()
    s.write_desc(0, 0x9000, 0, addrs[: len(lens)], lens)
    for i, (a, k) in enumerate(given_):
        s.write_bytes(0, a, bytes((i + j) % 251 for j in range(k)))
    assert s.section_bytes(0, 0x9000, n) == received(Concrete, s, 0, 0x9000, n)[0]
    assert s.section_bytes(0, 0xA000, n) == received(Concrete, s, 0, 0xA000, n)[0]  # never written


def test_mem_records_between_new_descriptors_sort_the_addresses_once(monkeypatch):
    """The overlap test's sorted addresses are kept sorted as descriptors come (O(D) a new one, not a sort a `mem`)."""
    from lgcheck.replay import engine

    sorts = []
    real = __builtins__["sorted"] if isinstance(__builtins__, dict) else __builtins__.sorted

    def counted(xs, **kw):
        if type(xs) is type({}.values()):  # the descriptor addresses (mem_overlap), not other sorts
            sorts.append(len(xs))
        return real(xs, **kw)

    monkeypatch.setattr(engine, "sorted", counted, raising=False)
    lines = [SETUP.rstrip("\n")]
    for i in range(200):
        lines.append(f"g0 dma {0x400000 - i * 0x1000:#x} addr=[0x2000] len=[4]")  # descending: each one first
        lines.append(f"g0 mem {0x300000 + i * 8:#x} data=0011")
    ok = replay("\n".join(lines) + "\n")
    assert ok.error is None and ok.findings == []
    assert len(sorts) == 1
    # still an input error where a mem covers a descriptor written after the sort
    r = replay("\n".join(lines) + f"\ng0 mem {0x400000 - 150 * 0x1000 + 96:#x} data=" + "00" * 8 + "\n")
    assert r.error is not None and f"overlaps g0's descriptor at {0x400000 - 150 * 0x1000:#x}" in r.error.message


_WRAPS = [
    "g0 mem 0xfffffffe data=01020304",  # the canonical head (lgt_shapes.read_mem)
    "g0  mem   0xfffffffe   data=01020304",  # another head (MEM_HEAD, then lark)
    "@5 g0 mem 4294967295 data=0102",  # a timestamp and a decimal address
    "g0 mem 0xfffff001 data=" + "00" * 4096 + "  # across the last page, past the end",
]


@pytest.mark.parametrize("line", _WRAPS)
@pytest.mark.parametrize("options", [[], ["--partial"], ["--emit", "EMIT"], ["--jobs", "2"]])
def test_a_mem_record_past_the_32_bit_address_space_is_an_input_error(tmp_path, capsys, line, options):
    """A u32 address never wraps: bytes past 0xffffffff are refused at ADDR's column, on every reader path."""
    # A descriptor first too: mem_fast's overlap branch must not let the record through either.
    path = tmp_path / "wrap.lgt"
    path.write_text(SETUP + "g0 dma 0x1000 addr=[0x2000] len=[4]\n" + line + "\n")
    files = [str(path)] if "EMIT" in options else [str(path), str(path)]  # --emit takes one file
    options = [str(tmp_path / "out.lgt") if o == "EMIT" else o for o in options]
    assert main(["replay", *options, *files]) == 2
    out = capsys.readouterr().out
    column = line.index("0x" if "0x" in line else "4294967295") + 1
    assert f"wrap.lgt:8:{column}: error: `mem` at " in out
    assert "runs past the end of the 32-bit address space" in out and "Traceback" not in out


def test_a_mem_record_ending_at_the_last_address_is_accepted():
    r = replay(SETUP + "g0 mem 0xfffffffc data=01020304\ng0 mem 0xffffff00 data=" + "00" * 256 + "\n")
    assert r.error is None and r.findings == []


_SHARED = """lguest-trace 2
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
guest 1 pages=8192
device 1.0 type=net pfn=0x3001 pages=1 features=NOCSUM|1
guest 2 pages=8192
device 2.0 type=net pfn=0x2001 pages=1 features=NOCSUM|2
{early}share net pages=1 map=[0:0x2001, 1:0x3001, 2:0x2001]
g2 dma 0x1c8f000 used_len=0 addr=[0x1d00000] len=[4]
g2 bind_dma key=0x2001008 dmas=0x1c8f000 num=1 irq=1 -> 1
{late}g0 dma 0x1b00000 addr=[0x2001100] len=[4]
g0 send_dma key=0x2001008 dma=0x1b00000
host deliver from=g0:0x1b00000 to=g2:0x1c8f000 len=4 irq=1 sum={sum}
"""


def test_a_shared_page_holds_what_any_guest_mapping_it_wrote_last():
    """setup_net_file maps the file MAP_SHARED: g1's write at its own address is what g0's send carries."""
    late = "g0 mem 0x2001100 data=aaaaaaaa\ng1 mem 0x3001100 data=bbbbbbbb\n"
    res = replay(_SHARED.format(early="", late=late, sum=hashlib.sha256(b"\xbb" * 4).hexdigest()))
    assert res.findings == [] and res.verdict == "ok"
    res = replay(_SHARED.format(early="", late=late, sum=hashlib.sha256(b"\xaa" * 4).hexdigest()))
    assert {f.rule for f in res.findings} == {"divergence", "data-corrupted"}


def test_bytes_written_before_the_share_maps_their_page_are_forgotten():
    """The file's page replaces the /dev/zero page the Guest wrote: its old bytes are unknown, nothing judged."""
    early = "g0 mem 0x2001100 data=aaaaaaaa\n"
    res = replay(_SHARED.format(early=early, late="", sum=hashlib.sha256(b"\xaa" * 4).hexdigest()))
    assert res.findings == []
    assert any("never given" in n for n in res.notes)
