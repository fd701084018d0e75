"""The read loop's own ways (lines met before, version 2 templates) read what lark reads.

`_records` reads a line it has met twice before in the file (same text after
its timestamp) as the record it was, checking the timestamp's order by string
comparison when the chunk's timestamps are all of one form; it reads `mem`
lines and delivers with `sum=` by templates in a version 2 trace.  The
reference gives every line to lark (`parse_line_lark`) and applies the rules
that span lines (`_records(..., ways=False)`).  On generated traces that
repeat a few lines (so that the table of lines met before fills), with
version 1 or 2 headers, `mem` and `sum=` lines, `?` with and without
--partial, timestamps of one width or of several (now and then going back),
LF or CRLF, blank and comment lines, bad lines anywhere, and chunks of 50
bytes to 64 KiB (lines straddle their ends), the file reader must give the
same records, or the same error at the same line and column after them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lgcheck.replay import parser
from lgcheck.replay.errors import TraceError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from strategies import outcome, record_lines  # noqa: E402

ODD = [
    "",
    "   ",
    "# a comment",
    "g0 send_dma key=0x10 dma=0x20 # a comment",
    "l0 irq 300",  # too large
    "g0 bogus",
    "@x g0 dma 0x1",
    "host deliver from=g0:0x1 to=g1:0x2 len=3 irq=4 sum=ABC",  # not a SHA-256
    "g0 mem 0x10 data=abc",  # odd number of digits
    "g0 mem 0x10 data=" + "ab" * 600,  # a long line (over 1,024 characters)
    "g0 mem 0x10 data=" + "cd" * 4097,  # over 8,192 digits
    "g999 mem 0x10 data=abcd",
    # Over SEEN_TEXT and under LONG_LINE: in version 2 the chunk's loop tries read_mem first.
    "g0 mem 0x10 data=" + "ab" * 100,
    "g0 mem  0x10 data=" + "ab" * 100,  # not canonical: read_mem refuses it, the templates or lark read it
    "g0 mem 0x10 data=" + "ab" * 99 + "a",  # an odd number of digits
    "g0 send_dma key=0x10 dma=0x20 # " + "c" * 200,  # not a `mem` line, as long
    "lguest-trace 1",  # a second header
]


SEND = "lguest-trace 1\n" + "".join(f"@1.{i:06} g0 send_dma key=0x10 dma=0x20\n" for i in range(4))
SENDS = SEND + "".join(f"@1.{i:06} g0 send_dma key=0x10 dma=0x20\n" for i in range(4, 16))
SENDS_AFTER = "".join(f"@1.{i:06} g0 send_dma key=0x10 dma=0x20\n" for i in range(30, 36))
DELIVER = "host deliver from=g0:0x10 to=g1:0x20 len=2 irq=3 sum="


def by_lark(text: str, partial: bool, monkeypatch):
    """Every line through lark alone, and the rules that span lines."""
    with monkeypatch.context() as m:
        m.setattr(
            parser._CACHES[partial],
            "parse",
            lambda line, lineno, path: parser.parse_line_lark(line, lineno, path, partial=partial),
        )
        return outcome(parser._records(parser._text_lines(text, "t.lgt"), "t.lgt", partial, ways=False))


@st.composite
def looping_traces(draw) -> str:
    rng = draw(st.randoms(use_true_random=False))
    shapes = []
    for line in draw(st.lists(record_lines(partial=True), min_size=1, max_size=4)):
        if line.startswith("@"):
            line = line.split(" ", 1)[1]
        if not line.startswith("lguest-trace"):
            shapes.append(line)
    if not shapes:
        shapes = ["l0 irq 3"]
    n = draw(st.integers(1, 60))
    stamps = draw(st.sampled_from(["one width", "one width", "several widths", "none", "most"]))
    t = rng.randrange(10**6)
    lines = [f"lguest-trace {draw(st.sampled_from([1, 2, 2]))}"]
    for _ in range(n):
        r = rng.random()
        line = rng.choice(ODD) if r < 0.08 else rng.choice(shapes)
        t += rng.choice([0, 1, 1, 7, 300])
        if rng.random() < 0.05:
            t = max(0, t - 500)  # a step back
        if stamps == "one width":
            stamp = f"{t / 10**6:.6f}"
        elif stamps == "several widths":
            stamp = rng.choice([f"{t / 10**6:.6f}", f"{t / 10**3:.3f}", str(t)])
        else:
            stamp = None if stamps == "none" or rng.random() < 0.1 else f"{t / 10**6:.6f}"
        if stamp is not None and line:
            line = f"@{stamp} {line}"
        lines.append(line)
    end = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    if end == "mixed":
        return "".join(line + rng.choice(["\n", "\r\n"]) for line in lines)
    return end.join(lines) + draw(st.sampled_from([end, ""]))


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(looping_traces(), st.booleans(), st.sampled_from([50, 200, 1000, 1 << 16]))
@example(SEND + "@0.000001 g0 send_dma key=0x10 dma=0x20\n", False, 50)  # met before, and earlier
# A chunk of lines stamped alike, of which one is not quite: the chunk's own loop must not take it.
@example(SENDS + "@12.34567 g0 send_dma key=0x10 dma=0x20\n" + SENDS_AFTER, False, 200)  # the point elsewhere
@example(SENDS + "@1.00000\u0661 g0 send_dma key=0x10 dma=0x20\n" + SENDS_AFTER, False, 200)  # not an ASCII digit
@example(SENDS + "@1.000020\tg0 send_dma key=0x10 dma=0x20\n@1.000020\n", False, 200)  # a tab; a stamp alone
@example(SENDS + "@1.000020 g0 send_dma key=0x10 dma=0x20 \n" + SENDS_AFTER, True, 200)  # a blank at the end
@example(SENDS + "@1.000005 g0 send_dma key=0x10 dma=0x20\n" + SENDS_AFTER, False, 200)  # back, in mid-chunk
@example(SENDS + "@1.0000159 g0 send_dma key=0x10 dma=0x20\n@1.000015 l0 irq 3\n", False, 200)  # longer, then back
@example(SENDS + "@1.0000159 g0 send_dma key=0x10 dma=0x20\n" + SENDS_AFTER, False, 200)  # a longer one
@example(  # lines never met again, of shapes that take turns, then a value too large for the latest's
    SENDS
    + "".join(
        f"@2.{i:06} g0 dma 0x{i:x} addr=[0x{7 * i:x}] len=[{i}]\n@2.{i:06} l0 fill key=0 len={i}\n" for i in range(9)
    )
    + "@3.000000 g0 dma 0x1 addr=[0x2] len=[65536]\n",
    False,
    200,
)
@example(
    "lguest-trace 2\n" + "g0 mem 0x10 data=abcd\n" * 3 + f"{DELIVER}{'ab' * 32}\n" * 2 + f"{DELIVER}{'AB' * 32}\n",
    False,
    50,
)
@example(  # `mem` lines over SEEN_TEXT and under LONG_LINE in the chunk's own loop (read_mem first), and others as long
    "lguest-trace 2\n"
    + "g0 send_dma key=0x10 dma=0x20\n" * 3
    + "".join(f"g0 mem 0x{i:x} data={'ab' * 100}\ng0 send_dma key=0x10 dma=0x20\n" for i in range(16, 20))
    + "\n".join(ODD[i] for i in (-5, -4, -2, -3))
    + "\n",
    False,
    1000,
)
def test_the_loop_reads_what_lark_reads(tmp_path, monkeypatch, text, partial, chunk):
    want = by_lark(text, partial, monkeypatch)
    path = tmp_path / "t.lgt"
    path.write_bytes(text.encode())
    monkeypatch.setattr(parser, "CHUNK", chunk)
    assert outcome(parser.read_trace(str(path), partial=partial)) == want
    assert outcome(parser._records(parser._text_lines(text, "t.lgt"), "t.lgt", partial)) == want


@pytest.mark.parametrize("version", [1, 2])
def test_a_line_met_before_is_a_record_of_its_own(tmp_path, version):
    # The third sighting comes from the table: its fields are a dict of its own, and a
    # version 2 line in a version 1 trace is still refused, wherever it comes from.
    deliver = DELIVER + "ab" * 32
    text = f"lguest-trace {version}\n" + "".join(f"@1.{i:06} g0 send_dma key=0x10 dma=0x20\n" for i in range(4))
    text += f"@2.000000 {deliver}\n" * 3
    path = tmp_path / "t.lgt"
    path.write_text(text)
    got = []
    with pytest.raises(TraceError) if version == 1 else _nothing():
        for rec in parser.read_trace(str(path)):
            got.append(rec)
    sends = [r for r in got if r.kind == "g.send_dma"]
    assert [r.line for r in sends] == [2, 3, 4, 5] and [r.ts for r in sends] == [f"1.{i:06}" for i in range(4)]
    sends[3].fields["key"] = 99
    assert sends[2].fields["key"] == 16
    assert len([r for r in got if r.kind == "host.deliver"]) == (3 if version == 2 else 0)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
