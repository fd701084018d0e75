"""The chunked file reader (replay/parser.py `_file_lines`) reads what a line-by-line reader reads.

The reference below reads one line at a time with a bounded readline, as
the reader did before it read chunks.  On generated files (valid traces with
CRLF and LF endings, lines cut, bytes that are not UTF-8, over-long lines,
no final line ending) and with chunks as small as one byte, so that every
line and every multi-byte character is split somewhere, both give the same
records, or the same error at the same line and column after the same records.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lgcheck.replay import parser
from lgcheck.replay.errors import TraceError
from lgcheck.replay.records import format_record

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from strategies import traces  # noqa: E402


def reference_lines(data: bytes, name: str):
    """(line number, text) of each line: the line-by-line reader."""
    import io

    f = io.BytesIO(data)
    limit = 4 * parser.MAX_LINE + 3
    lineno = 0
    while True:
        raw = f.readline(limit)
        if not raw:
            return
        lineno += 1
        if raw[-1:] == b"\n":
            raw = raw[:-2] if raw[-2:-1] == b"\r" else raw[:-1]
            cut = False
        else:
            cut = len(raw) == limit
        if len(raw) > parser.MAX_LINE:
            parser._check_length(name, lineno, raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise parser._utf8_error(name, lineno, raw[: 4 * parser.MAX_LINE], exc) from None
        yield lineno, [text]
        if cut:
            return


def outcome(batches, name="t.lgt"):
    out = []
    try:
        for rec in parser._records(batches, name, False):
            out.append((rec.kind, rec.guest, rec.fields, rec.line, rec.text, rec.ts))
    except TraceError as e:
        out.append(("error", e.line, e.column, e.message))
    return out


def chunked(data: bytes, size: int, monkeypatch):
    import io

    monkeypatch.setattr(parser, "CHUNK", size)
    return outcome(parser._file_lines(io.BytesIO(data), "t.lgt"))


@st.composite
def files(draw):
    lines = [format_record(r) for r in draw(traces(max_records=10))]
    ends = [draw(st.sampled_from([b"\n", b"\r\n", b"\n"])) for _ in lines]
    data = b"".join(x.encode() + e for x, e in zip(lines, ends))
    what = draw(st.sampled_from(["clean", "no-final-end", "bad-byte", "multibyte", "cr-inside"]))
    if what == "no-final-end":
        data = data.rstrip(b"\r\n")
    elif what == "bad-byte" and data:
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + b"\xff" + data[i:]
    elif what == "multibyte":
        data += "# é ü 字 \U0001f600\n".encode()
    elif what == "cr-inside" and data:
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + b"\r" + data[i:]
    return data


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(files(), st.sampled_from([1, 2, 3, 7, 64, 1 << 16]))
def test_chunked_and_line_by_line_readers_agree(monkeypatch, data, size):
    assert chunked(data, size, monkeypatch) == outcome(reference_lines(data, "t.lgt"))


@pytest.mark.parametrize("size", [1000, 1 << 16])
@pytest.mark.parametrize("ending", [b"\n", b""])
def test_an_over_long_line_is_reported_alike(monkeypatch, size, ending):
    head = b"lguest-trace 1\nguest 0 pages=16\n"
    for n in (parser.MAX_LINE, parser.MAX_LINE + 1, 4 * parser.MAX_LINE + 10):
        data = head + b"# " + b"x" * n + ending + b"guest 1 pages=16\n"
        assert chunked(data, size, monkeypatch) == outcome(reference_lines(data, "t.lgt"))
