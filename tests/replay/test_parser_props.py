"""Properties of the `.lgt` reader, on generated records, lines, text and bytes.

- format_record then parse gives the record back, on both readings;
- the fast path (`parse_line`) and lark (`parse_line_lark`) agree on every
  line: the same Record, or the same error at the same line and column;
- any text or bytes give records or a TraceError, never another exception;
- a CRLF file reads as the same records as its LF twin.
"""

from __future__ import annotations

import os
import random
import re
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from lgcheck.replay.errors import TraceError
from lgcheck.replay.parser import parse_line, parse_line_lark, parse_text, read_trace
from lgcheck.replay.records import format_record

# tests/ holds the shared strategies; pytest puts only this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from strategies import record_lines, records, traces  # noqa: E402

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(parse, text: str, partial: bool):
    """What one reading makes of a line: a comparable record or error."""
    try:
        rec = parse(text, 5, "p.lgt", partial=partial)
    except TraceError as err:
        return ("error", err.path, err.line, err.column, err.message, err.source_line)
    if rec is None:
        return None
    return ("record", rec.kind, rec.guest, rec.fields, rec.line, rec.text, rec.ts)


def agree(text: str, partial: bool = False):
    fast = outcome(parse_line, text, partial)
    slow = outcome(parse_line_lark, text, partial)
    assert fast == slow, f"{text!r}:\n  fast {fast}\n  lark {slow}"
    return fast


# --------------------------------------------------------------- round trip


@FAST
@given(records(), st.booleans())
def test_format_then_parse_gives_the_record_back(rec, partial):
    text = format_record(rec)
    for parse in (parse_line, parse_line_lark):
        got = parse(text, 1, "p.lgt", partial=partial)
        assert got == rec, text
        assert (got.text, got.ts) == (text, rec.ts)


@FAST
@given(records(partial=True))
def test_round_trip_with_unknown_values_in_partial_mode(rec):
    text = format_record(rec)
    assert parse_line(text, 1, "p.lgt", partial=True) == rec
    assert parse_line_lark(text, 1, "p.lgt", partial=True) == rec


# ------------------------------------------------- fast path agrees with lark

_NUMBER = re.compile(r"0x[0-9a-fA-F]+|[0-9]+")


def _renumber(text: str, rng: random.Random) -> str:
    """`text` with each number replaced by another: same form, other form, too large."""

    def other(m: re.Match) -> str:
        n = rng.choice([0, 1, 7, 15, 16, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**40, rng.randrange(2**33)])
        style = rng.randrange(5)
        if style == 0:
            return hex(n)
        if style == 1:
            return str(n)
        if style == 2:
            return "0" + str(n)  # leading zero
        return hex(n) if m.group().startswith("0x") else str(n)

    return _NUMBER.sub(other, text)


@FAST
@given(record_lines(), st.booleans(), st.randoms(use_true_random=False))
def test_fast_path_agrees_with_lark_on_lines_of_a_known_shape(line, partial, rng):
    # The first reading teaches the cache the shape; the variants then go
    # through its template, with numbers that may not fit.
    agree(line, partial)
    for _ in range(4):
        agree(_renumber(line, rng), partial)


_STAMPS = ["0", "7", "0.5", "12.345678", "007.10", ".5", "1.", "1..2", "0x1", "1e3", "\u0661", "1.5.2", "", "?"]
_SEPS = [" ", "\t", "  ", " \t", ""]


@FAST
@given(
    record_lines(),
    st.sampled_from(_STAMPS),
    st.sampled_from(_STAMPS),
    st.sampled_from(_SEPS),
    st.booleans(),
    st.randoms(use_true_random=False),
)
def test_stamped_templates_agree_with_lark(line, first, then, sep, partial, rng):
    # A timestamped line without a comment teaches a template that reads the whole line,
    # timestamp included (lgt_shapes `stamped`); other stamps and numbers then go through it.
    line = line.split(" ", 1)[1] if line.startswith("@") else line
    for text in (f"@{first} {line}", f"@{first} {line}", f"@{then}{sep}{line}", f"@{first} {line} # c"):
        agree(text, partial)
    agree(_renumber(f"@{first} {line}", rng), partial)


_JUNK = ["", " ", "  ", "\t", "#", "x", "0", "0x", "0X", "9", "?", "=", ",", "[", "]", "|", ":", "->", '"', "@1", "g", "key="]


@st.composite
def mutated_lines(draw) -> str:
    """A valid line with a few small edits: most are errors, some still valid."""
    text = draw(record_lines(partial=draw(st.booleans())))
    if draw(st.booleans()):
        text = "@" + draw(st.from_regex(r"[0-9]{1,3}(\.[0-9])?", fullmatch=True)) + " " + text
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 3)))
        text = text[:i] + draw(st.sampled_from(_JUNK)) + text[j:]
    return text


@FAST
@example("g0 send_dma key=1 dma=2 # key=3", False)
@example("g0x1 send_dma key=1 dma=2", False)
@example("@1g0 send_dma key=1 dma=2", False)
@example("  @1 g0 send_dma key=1 dma=2", False)
@example("@0g0 mem 0 data=", False)
@example("@0g0 mem 0x10 data=00", False)
@example("g0 send_dma key=01 dma=0x0002", False)
@given(mutated_lines(), st.booleans())
def test_fast_path_agrees_with_lark_on_edited_lines(text, partial):
    agree(text, partial)
    agree(text, partial)  # the second time through the cache, if it learnt one


@FAST
@given(st.lists(st.tuples(st.sampled_from([0, 1, 2]), st.integers(0, 2**33)), min_size=1, max_size=5))
def test_fast_path_agrees_with_lark_when_hex_and_decimal_mix(numbers):
    for form, n in numbers:
        num = [str(n), hex(n), "0" + str(n)][form]
        agree(f"g{n % 300} bind_dma key={num} dmas={hex(n)} num={n % 70000} irq={num} -> {num}")


# --------------------------------------------------- never another exception


@FAST
@given(st.text(max_size=80), st.booleans())
def test_any_text_gives_records_or_a_trace_error(text, partial):
    try:
        recs = parse_text(text, "p.lgt", partial=partial)
    except TraceError as err:
        assert err.line >= 1 and err.column >= 1
        str(err)
    else:
        assert recs[0].kind == "header"
    for line in text.split("\n")[:5]:
        agree(line, partial)


_TMP = tempfile.mkdtemp(prefix="lgt-props-")


@FAST
@given(st.binary(max_size=120), st.sampled_from([b"", b"lguest-trace 1\n"]))
def test_any_bytes_give_records_or_a_trace_error(data, head):
    path = os.path.join(_TMP, "bytes.lgt")
    with open(path, "wb") as f:
        f.write(head + data)
    try:
        for rec in read_trace(path):
            assert rec.line >= 1
    except TraceError as err:
        str(err)


# ---------------------------------------------------------- whole traces


@FAST
@given(traces())
def test_a_generated_trace_reads_back(recs):
    text = "".join(format_record(r) + "\n" for r in recs)
    assert parse_text(text, "p.lgt") == recs


@FAST
@given(traces(), st.booleans())
def test_crlf_files_read_as_lf_files(recs, final_newline):
    lines = [format_record(r) for r in recs]
    lf = "\n".join(lines) + ("\n" if final_newline else "")
    crlf = lf.replace("\n", "\r\n")
    paths = []
    for name, text in (("lf.lgt", lf), ("crlf.lgt", crlf)):
        path = os.path.join(_TMP, name)
        with open(path, "wb") as f:
            f.write(text.encode())
        paths.append(path)
    got_lf, got_crlf = (list(read_trace(p)) for p in paths)
    assert got_lf == got_crlf == recs
    assert [(r.line, r.text) for r in got_lf] == [(r.line, r.text) for r in got_crlf]
    assert parse_text(crlf) == recs


@FAST
@given(traces(), st.integers(1, 11))
def test_a_timestamp_that_goes_back_is_reported_where_it_happens(recs, at):
    assume(len(recs) > at)
    for r in recs:
        r.ts = "5"
    recs[at].ts = "4.99"
    text = "".join(format_record(r) + "\n" for r in recs)
    try:
        parse_text(text, "p.lgt")
    except TraceError as err:
        assert (err.line, err.column) == (at + 1, 1)
        assert err.message == f"timestamp 4.99 is earlier than 5 on line {at}"
    else:
        raise AssertionError("no error")


# ------------------------------------------------- speed paths (issue 10 and 12)

_TS = st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,4})?", fullmatch=True)


def _ts_number(ts: str):
    from fractions import Fraction

    return Fraction(ts)


@FAST
@given(_TS, _TS)
@example("10", "9.5")
@example("09.50", "9.6")
@example("1.10", "1.1")
def test_a_timestamp_is_earlier_exactly_when_its_number_is_smaller(a, b):
    # Timestamps of equal width are compared as strings, others by their exact key:
    # either way the order must be the numbers' (leading and trailing zeros included).
    text = f"@{a} lguest-trace 1\n@{b} guest 0 pages=4\n"
    try:
        parse_text(text, "p.lgt")
        earlier = False
    except TraceError as err:
        assert err.message == f"timestamp {b} is earlier than {a} on line 1"
        earlier = True
    assert earlier == (_ts_number(b) < _ts_number(a))


_HEX = "0123456789abcdefABCDEF"


@FAST
@example("g0 mem 0x1000 data=00ff # a comment")
@example("g0 mem 0x1000 data=00ff\t")
@example("g0 mem 0x1000 data=00f")
@example("g0 mem 0x1000 data=00fg")
@example("g0  mem\t0x1000   data=ABcd")
@example("  g1 mem 4096 data=")
@example("g256 mem 0x1000 data=00")
@example("g0 mem 0x100000000 data=00")
@example("g0 mem 0x1000 data=00 data=11")
@example("g0 mem 0x1000 data=" + "00" * 70)
@example('g0 mem 0x1000 data="00"')
@example("@1.5 g0 mem 0x1000 data=0a0b")
@example("host deliver from=g0:0x1000 to=g1:0x2000 len=4 irq=1 sum=" + "ab" * 32 + " # c")
@example("host deliver from=g0:0x1000 to=g1:0x2000 len=4 irq=1 sum=" + "ab" * 32 + " sum=" + "cd" * 32)
@example("host deliver from=g0:0x1000 to=g1:0x2000 len=4 sum=" + "ab" * 32 + " irq=1")
@example("g0 send_dma key=0x1000 dma=0x2000 sum=" + "ab" * 32)
# sum= last, where its fast reading looks (one space before it, the only one): and its near misses
@example("host deliver from=g0:0x1000 to=g1:0x2000 len=4 irq=1  sum=" + "ab" * 32)
@example("host deliver from=g0:0x1000 to=g1:0x2000 len=4 irq=1\tsum=" + "ab" * 32)
@example("host deliver from=g0:0x1000 to=g1:0x2000 len=4 irq=1 sum=" + "AB" * 32)
@example("host deliver from=g0:0x1000 to=g1:0x2000 len=4 irq=1sum= sum=" + "ab" * 32)
@example("host deliver from=g0:0x1000 to=g1:0x2000 len=4 irq=1 sum=" + "ab" * 31 + "mem0")
@example(" sum=" + "ab" * 32)
@given(
    st.builds(
        lambda head, tail: head + tail,
        st.sampled_from(
            [
                "g0 mem 0x1000 data=00ff",
                "g3 mem 4096 data=",
                "@2 g0 mem 0x10 data=ab",
                "host deliver from=g0:0x1000 to=g1:0x2000 len=4 irq=1 sum=" + "ab" * 32,
            ]
        ),
        st.text(alphabet=_HEX + ' \t#x=gmemdatsu@."0', max_size=12),
    )
)
def test_version_2_lines_read_the_same_on_the_fast_path_and_by_lark(text):
    # The `mem` fast path reads before any scan for `"`, `#` or `sum=`; a deliver's
    # sum= is read by the deliver's template.  Whatever follows, lark must agree.
    agree(text, False)
    agree(text, False)
