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

def _refused_at_addr(tmp_path, capsys, name, text, line, options, lineno, what):
    """`text` (whose line `lineno` is `line`) is an input error at ADDR's column on the reader path `options`."""
    path = tmp_path / name
    path.write_text(text)
    files = [str(path)] if "EMIT" in options else [str(path), str(path)]  # --emit takes one file
    options = [str(tmp_path / "emitted.lgt") if o == "EMIT" else o for o in options]
    assert main(["replay", *options, *files]) == 2
    out = capsys.readouterr().out
    words = line.split()
    head = next(w for w in words if w in ("mem", "dma"))
    addr = words[words.index(head) + 1]
    column = line.index(addr, line.index(" " + head + " ") + len(head) + 1) + 1
    assert f"{name}:{lineno}:{column}: error: {what}" in out, out
    assert "Traceback" not in out
    return out



@pytest.mark.parametrize("line", _WRAPS)
@pytest.mark.parametrize("options", [[], ["--partial"], ["--emit", "EMIT"], ["--jobs", "2"]])
def test_a_mem_record_past_the_32_bit_address_space_is_an_input_error(tmp_path, capsys, line, options):
    """A u32 address never wraps: bytes past 0xffffffff are refused at ADDR's column, on every reader path."""
    # A descriptor first too: mem_fast's overlap branch must not let the record through either.
    text = SETUP + "g0 dma 0x1000 addr=[0x2000] len=[4]\n" + line + "\n"
    out = _refused_at_addr(tmp_path, capsys, "wrap.lgt", text, line, options, 8, "`mem` at ")
    assert "runs past the end of the 32-bit address space" in out


def test_a_mem_record_ending_at_the_last_address_is_accepted():
    # (In a Guest whose memory reaches it: RAM below pfn 0xfffff, its descriptor page the last page.)
    r = replay(
        SETUP + "guest 2 pages=0xfffff\ng2 mem 0xfffffffc data=01020304\ng2 mem 0xffffff00 data=" + "00" * 256 + "\n"
    )
    assert r.error is None and r.findings == []


# The Guest's memory is what lguest_address_ok lets it address: below the pfn limit, the first pfn above its
# RAM, its descriptor page and its device pages (SETUP: 0x2002, so the last byte is at 0x2001fff).
_OUTSIDE = [
    "g0 mem 0x2001fff data=0102",  # one byte past the end
    "g0  mem   0x2002000   data=01",  # the first page above, another head
    "@5 g0 mem 4294963200 data=" + "00" * 4096,  # the last page of 4 GiB, decimal, a timestamp
]


@pytest.mark.parametrize("line", _OUTSIDE)
@pytest.mark.parametrize("options", [[], ["--partial"], ["--emit", "EMIT"], ["--jobs", "2"]])
def test_a_mem_record_outside_the_guests_memory_is_an_input_error(tmp_path, capsys, line, options):
    """No byte lies outside the Guest's memory: refused at ADDR's column, on every reader path.

    The page it names is kept already (a device that covered it was replaced by a smaller one, hot-plug):
    mem_fast's store into a kept page must not let the record through either.
    """
    setup = SETUP + "device 0.1 type=block pfn=0xfffff pages=1\ng0 mem 0x2002000 data=00\ng0 mem 0xfffff000 data=00\n"
    text = setup + "device 0.1 type=block pfn=0x2002 pages=0\ng0 dma 0x1000 used_len=0\n" + line + "\n"
    out = _refused_at_addr(tmp_path, capsys, "out.lgt", text, line, options, 12, "`mem` at ")
    assert "lies outside g0's memory" in out and "ends at 0x2001fff (pfn limit 0x2002" in out


def test_a_mem_record_needs_the_memory_when_it_comes_not_later():
    late = "g0 mem 0x2002000 data=01\ndevice 0.1 type=block pfn=0x2002 pages=1\n"
    r = replay(SETUP + late)
    assert r.error is not None and r.error.line == 7 and "lies outside g0's memory" in r.error.message
    r = replay(SETUP + "".join(reversed(late.splitlines(keepends=True))))  # the device first: its page is memory
    assert r.error is None and r.notes == []


def test_a_mem_record_may_fill_its_guests_last_byte():
    # lguest_address_ok refuses a range that ends exactly at the limit (the Host's off-by-one); the byte is memory.
    r = replay(SETUP + "g0 mem 0x2001ffe data=0102\n")
    assert r.error is None and r.notes == []


@pytest.mark.parametrize(
    "setup",
    [
        "lguest-trace 2\n",  # no `guest` record: its RAM size is unknown
        "lguest-trace 2\nguest 0 pages=?\n",  # partial mode: the size is `?`
        "lguest-trace 2\nguest 0 pages=8192\ndevice 0.0 type=net pfn=? pages=1\n",  # a device's extent is `?`
    ],
)
def test_a_mem_record_of_a_guest_of_unknown_size_is_not_checked_and_says_so(setup):
    text = setup + "g0 mem 0xfffff000 data=0102\n"
    r = replay_records(parse_text(text, "gen.lgt", partial=True), "gen.lgt", partial=True)
    assert r.error is None and r.findings == []
    assert any(
        "address checks skipped" in n or "memory size is unknown" in n or "RAM size is `?`" in n for n in r.notes
    )
    if "guest" not in setup:
        assert "g0: RAM size unknown (no `guest 0` record): address checks skipped" in r.notes


# A descriptor stored over bytes a `mem` record gave: the bytes there are the struct's now, which the
# trace does not give, so no judgement may rest on the old ones.  Source sections 14 + 50 into 10 + 1504
# (the split 2.6.23 corrupts): the stale bytes give a certain data-corrupted, the unknown ones a note.
_OVER = """g1 dma 0x100000 used_len=0 addr=[0x200000, 0x201000] len=[10, 1504]
g1 bind_dma key=0x2001004 dmas=0x100000 num=1 irq=1 -> 1
g0 mem 0x400000 data={a}
g0 mem 0x401000 data={b}
g0 dma 0x180000 addr=[0x400000, 0x401000] len=[14, 50]
{desc}g0 send_dma key=0x2001004 dma=0x180000
""".format(a=bytes(range(10, 24)).hex(), b=bytes(range(100, 150)).hex(), desc="{desc}")


def _over(desc: str = "") -> str:
    return SETUP + _OVER.format(desc=desc)


@pytest.mark.parametrize("desc", ["g0 dma 0x400004 used_len=0\n", "g0 dma 0x3fffce used_len=0\n"])
@pytest.mark.parametrize("full", [False, True], ids=["input-only", "full"])
@pytest.mark.parametrize("options", [[], ["--partial"], ["--emit", "EMIT"], ["--jobs", "2"]])
def test_a_descriptor_stored_over_given_bytes_makes_them_unknown(tmp_path, capsys, desc, full, options):
    """Within a page and across one; the fused send, the recorded deliver (copy_judged); every reader path."""
    # The control: with the bytes as given, the split corrupts them (so the finding below came from bytes).
    assert [f.rule for f in replay(_over()).findings] == ["data-corrupted"]
    text = _over(desc)
    if full:
        # The full trace the model writes without the descriptor (its sum= from the given bytes),
        # with the descriptor stored before the send.
        text = _full(_over()).replace("g0 send_dma", desc + "g0 send_dma")
        assert "sum=" in text
    path = tmp_path / "over.lgt"
    path.write_text(text)
    emit = tmp_path / "out.lgt"
    files = [str(path)] if "EMIT" in options else [str(path), str(path)]
    options = [str(emit) if o == "EMIT" else o for o in options]
    assert main(["replay", *options, *files]) == 0
    out = capsys.readouterr().out
    assert "data-corrupted" not in out and "divergence" not in out, out
    assert f"note: line {text.count(chr(10))}: data not checked: bytes of g0's source 0x180000 are unknown" in out
    if emit.exists() and not full:
        (deliver,) = [x for x in emit.read_text().splitlines() if x.startswith("host deliver")]
        assert "sum=" not in deliver  # no sum of bytes the model does not know


def test_a_descriptor_forgets_only_its_own_100_bytes():
    st_ = _state_after(SETUP + "g0 mem 0x400000 data=" + "5a" * 300 + "\ng0 dma 0x400064 used_len=0\n")
    assert st_.read_bytes(0, 0x400000, 100) == b"\x5a" * 100
    assert st_.read_bytes(0, 0x4000C8, 100) == b"\x5a" * 100
    assert all(st_.read_byte(0, a) is None for a in range(0x400064, 0x4000C8))


def test_a_descriptor_at_an_unknown_address_makes_every_byte_of_its_guest_unknown():
    text = SETUP + "g0 mem 0x400000 data=5a5a\ng1 mem 0x400000 data=5a5a\ng0 dma ? used_len=0\n"
    rp = Replay("gen.lgt", partial=True)
    rp.run(parse_text(text, "gen.lgt", partial=True))
    assert rp.st.read_bytes(0, 0x400000, 2) is None and rp.st.read_bytes(1, 0x400000, 2) == b"ZZ"
    assert any("its bytes: the struct may lie over any, all unknown now" in n for n in rp.result.notes)


_DMA_WRAPS = [
    "g0 dma 0xffffff9d used_len=0",  # its 100th byte at 0x1_0000_0000
    "g0  dma   0xfffffff0   addr=[0x2000] len=[4]",  # another head, wider spacing
    "@5 g0 dma 4294967295",  # a timestamp and a decimal address
]


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("line", _DMA_WRAPS)
@pytest.mark.parametrize("options", [[], ["--partial"], ["--emit", "EMIT"], ["--jobs", "2"]])
def test_a_descriptor_past_the_32_bit_address_space_is_an_input_error(tmp_path, capsys, version, line, options):
    """A struct lguest_dma is 100 bytes and a u32 address never wraps: as for `mem`, at ADDR's column, every path."""
    text = SETUP.replace("lguest-trace 2", f"lguest-trace {version}") + line + "\n"
    out = _refused_at_addr(tmp_path, capsys, "wrap.lgt", text, line, options, 7, "descriptor at ")
    assert "runs past the end of the 32-bit address space" in out


def test_a_descriptor_ending_at_the_last_address_is_accepted():
    for version in (1, 2):
        r = replay(SETUP.replace("lguest-trace 2", f"lguest-trace {version}") + "g0 dma 0xffffff9c used_len=0\n")
        assert r.error is None and r.findings == []


def test_an_overlapping_descriptor_is_refused_at_its_address_whatever_the_spacing():
    line = "g0   dma  0x1010 used_len=0"
    r = replay(SETUP + "g0 dma 0x1000 used_len=0\n" + line + "\n")
    assert r.error is not None and (r.error.line, r.error.column) == (8, line.index("0x1010") + 1)


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
    assert any("data not checked: bytes of" in n and "are unknown" in n for n in res.notes)


# A shared page is one page under several (Guest, page) keys: forgetting one Guest's bytes, or evicting the
# page at the store's cap, must reach it under every key, and leave no key naming a page it no longer holds.
_SHARE3 = _SHARED.split("g2 dma")[0].format(early="")


def test_a_descriptor_at_an_unknown_address_forgets_the_shared_page_for_every_guest():
    text = _SHARE3 + "g1 mem 0x3001100 data=bbbbbbbb\ng0 mem 0x1000 data=01\ng1 mem 0x1000 data=02\n"
    rp = Replay("gen.lgt", partial=True)
    rp.run(parse_text(text, "gen.lgt", partial=True))
    assert rp.st.read_bytes(0, 0x2001100, 4) == b"\xbb" * 4  # g1's write, read through g0's mapping
    rp.run(parse_text(text + "g0 dma ? used_len=0\n", "gen.lgt", partial=True))
    st_ = rp.st
    assert st_.read_bytes(0, 0x1000, 1) is None and st_.read_bytes(1, 0x1000, 1) == b"\x02"
    # The struct may lie in the shared page: g1 and g2 no longer know its bytes either.
    assert st_.read_bytes(1, 0x3001100, 4) is None and st_.read_bytes(2, 0x2001100, 4) is None


def test_a_shared_page_evicted_at_the_cap_leaves_no_key_behind():
    rp = Replay("gen.lgt")
    rp.st.max_pages = 3  # the shared page is stored under three keys (g0, g1, g2): a fourth page evicts it
    rp.run(parse_text(_SHARE3 + "g1 mem 0x3001100 data=bbbbbbbb\ng0 mem 0x5000 data=01\n", "gen.lgt"))
    st_ = rp.st
    assert all(st_.read_bytes(g, a, 4) is None for g, a in [(0, 0x2001100), (1, 0x3001100), (2, 0x2001100)])
    assert st_.read_bytes(0, 0x5000, 1) == b"\x01" and len(st_.contents) == 1
    assert {g: s for g, s in st_.page_sets.items() if s} == {0: {0x5}}
