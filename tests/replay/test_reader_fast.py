"""The read loop's own fast path (replay/parser.py `_records`) reads what the line-by-line way reads.

Once the header is read, `_records` looks each line's whole-line shape key up
itself and calls the template there, checking only the timestamp order (with
a shortcut for timestamps of equal width).  The reference below gives every
line to `parse` (the shape cache's full way, itself checked against lark in
test_parser_props.py): `_records(..., ways=False)`.  On generated traces whose
lines repeat a few shapes with other numbers (some too large, some in another
base), timestamps of mixed widths, now and then going back, both must give
the same records, or the same error at the same line and column after them;
from a string and from a file (whose keys come from the chunk's bytes).
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lgcheck.replay import parser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from strategies import outcome, record_lines  # noqa: E402


def reference(text: str, partial: bool = False):
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return outcome(parser._records([(1, lines)], "p.lgt", partial, ways=False))


def check(text: str, tmp_path: Path | None = None, partial: bool = False):
    want = reference(text, partial)
    assert outcome(parser._records(parser._text_lines(text, "p.lgt"), "p.lgt", partial)) == want, text
    if tmp_path is not None:
        path = tmp_path / "p.lgt"
        path.write_text(text)
        got = outcome(parser.read_trace(str(path), partial=partial))
        assert [x if x[0] != "error" else x[:3] for x in got] == [x if x[0] != "error" else x[:3] for x in want]
    return want


def _renumber(text: str, rng: random.Random) -> str:
    def other(m: re.Match) -> str:
        n = rng.choice([0, 1, 7, 15, 16, 255, 256, 65535, 65536, 2**32 - 1, 2**32, rng.randrange(2**33)])
        return hex(n) if m.group().startswith("0x") != (rng.random() < 0.1) else str(n)

    return re.sub(r"0x[0-9a-f]+|(?<![g@.0-9])[0-9]+", other, text)


@st.composite
def stamped_traces(draw) -> str:
    rng = draw(st.randoms(use_true_random=False))
    shapes = draw(st.lists(record_lines(), min_size=1, max_size=3))
    n = draw(st.integers(1, 25))
    clock = sorted(rng.randrange(0, 20000) for _ in range(n))
    if draw(st.booleans()) and n > 1:
        i = rng.randrange(n - 1)
        clock[i], clock[i + 1] = clock[i + 1], clock[i] + 1  # one step back (or a tie moved on)
    dotted = draw(st.booleans())
    lines = ["lguest-trace 1", "guest 0 pages=16"]
    for t in clock:
        line = rng.choice(shapes)
        if line.startswith("lguest-trace") or line.startswith("@"):
            continue
        if rng.random() < 0.8:
            line = _renumber(line, rng) if rng.random() < 0.5 else line
        if rng.random() < 0.9:
            stamp = f"{t / 1000:.{rng.choice((3, 3, 4))}f}" if dotted else str(t)
            line = f"@{stamp} {line}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stamped_traces())
@example("lguest-trace 1\n@1.5 l0 fill key=1 len=300\n@1.6 l0 irq 3\n@1.7 l0 irq 300\n")
@example("lguest-trace 1\n@9.99 l0 irq 3\n@10.00 l0 irq 4\n@09.99 l0 irq 5\n")
@example("lguest-trace 1\n@10 l0 irq 3\n@10.5 l0 irq 4\n@9.5 l0 irq 5\n")
def test_the_read_loop_agrees_with_the_line_by_line_way(text):
    check(text)


def test_a_number_known_in_a_wide_field_is_still_checked_in_a_narrow_one(tmp_path):
    # The memos of number texts are per bound: 300 read as a length does not make it an irq.
    text = "lguest-trace 1\n@1.5 l0 fill key=1 len=300\n@1.6 l0 irq 3\n@1.7 l0 irq 300\n"
    got = check(text, tmp_path)
    assert got[-1] == ("error", 4, 13, "value 300 does not fit irq (u8, at most 255)")
    assert len(got) == 4


def test_a_huge_decimal_on_a_stamped_line_gets_the_format_s_message(tmp_path):
    # int() refuses more than 4300 digits: the line goes to lark, which says what is wrong.
    text = f"lguest-trace 1\n@1.0 g0 send_dma key=1 dma=0x2\n@1.5 g0 send_dma key={'9' * 5000} dma=0x2\n"
    got = check(text, tmp_path)
    assert got[-1][:3] == ("error", 3, 22)
    assert "does not fit key (u32" in got[-1][3]


def test_the_memos_stay_bounded():
    from lgcheck.replay import lgt_shapes

    text = "lguest-trace 1\n" + "".join(f"@1.{i:05} l0 fill key={i} len=1\n" for i in range(3 * lgt_shapes.MEMO_SIZE))
    text += f"@2.0 l0 fill key={'0' * 40}1 len=1\n"
    assert len(parser.parse_text(text)) == 3 * lgt_shapes.MEMO_SIZE + 2
    for memo in lgt_shapes._MEMOS.values():
        assert len(memo) <= lgt_shapes.MEMO_SIZE
        assert all(len(k) <= lgt_shapes.MEMO_TEXT for k in memo)


def test_a_chunk_s_own_loop_takes_only_lines_that_start_with_their_stamp(tmp_path, monkeypatch):
    # `_stamps` lets a whole chunk through only if every line starts with `@`: the line met
    # before, written after another first character (a comment, an indent, a typo) or empty,
    # is read as what it is, never as that record again.
    monkeypatch.setattr(parser, "CHUNK", 200)  # the odd line in a chunk after the header's
    again = "0.000200 g0 send_dma key=1 dma=0x2"
    head = "lguest-trace 1\n" + "".join(f"@{again}\n" for _ in range(20))
    for odd, want in [
        (f"#{again}", None),  # a comment: no record
        (f" @{again}", "g.send_dma"),  # indented: the same record
        ("", None),  # a blank line
        (f"X{again}", "error"),
    ]:
        got = check(head + odd + f"\n@{again}\n", tmp_path)
        kinds = [x[0] for x in got]
        assert kinds[:21] == ["header"] + ["g.send_dma"] * 20, kinds
        if want == "error":
            assert got[-1][:3] == ("error", 22, 1), got
        elif want is None:
            assert len(got) == 22 and got[-1][3] == 23, got
        else:
            assert len(got) == 23, got
