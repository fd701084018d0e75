"""The `.lgt` reader on examples: every record kind, every input error.

Each input error kind of trace-format.md has a test asserting its exact
message, line and column, so a change in wording is a deliberate one.  Most
tests run on both readings of a line, the shape-cache fast path
(`parse_line`) and lark alone (`parse_line_lark`), which must agree.
"""

from __future__ import annotations

import pytest
from lark import Lark, Token

from lgcheck.replay import lgt_fields, lgt_syntax
from lgcheck.replay.errors import TraceError
from lgcheck.replay.lgt_shapes import MAX_SHAPES, ShapeCache
from lgcheck.replay.parser import parse_line, parse_line_lark, parse_text, read_trace
from lgcheck.replay.records import KINDS, UNKNOWN, Record, format_record

BOTH = pytest.mark.parametrize("parse", [parse_line, parse_line_lark], ids=["fast", "lark"])


def one(parse, text: str, *, partial: bool = False) -> Record:
    """`text` parsed twice, so the fast path's second reading uses its template."""
    parse(text, 1, "t.lgt", partial=partial)
    rec = parse(text, 1, "t.lgt", partial=partial)
    assert rec is not None
    return rec


def error(parse, text: str, *, partial: bool = False, lineno: int = 7) -> TraceError:
    with pytest.raises(TraceError) as info:
        parse(text, lineno, "t.lgt", partial=partial)
    err = info.value
    assert (err.path, err.line, err.source_line) == ("t.lgt", lineno, text)
    return err


def trace_error(text: str) -> TraceError:
    with pytest.raises(TraceError) as info:
        parse_text(text, "t.lgt")
    return info.value


# ------------------------------------------------------------ every record kind

EXAMPLES = [
    ("lguest-trace 1", Record("header", None, {"version": 1})),
    ("guest 3 pages=16384", Record("guest", 3, {"guest": 3, "pages": 16384})),
    (
        "device 0.1 type=block pfn=16385 pages=1 features=RANDOMNESS|NOCSUM",
        Record("device", 0, {"guest": 0, "dev": 1, "type": 3, "pfn": 16385, "pages": 1, "features": 0xC000}),
    ),
    (
        "device 2.15 pages=0 pfn=0 type=7",
        Record("device", 2, {"guest": 2, "dev": 15, "type": 7, "pfn": 0, "pages": 0, "features": 0}),
    ),
    (
        "share net0 pages=1 map=[0:16386, 1:0x4002]",
        Record("share", None, {"name": "net0", "pages": 1, "map": [(0, 16386), (1, 0x4002)]}),
    ),
    ("share empty pages=0 map=[]", Record("share", None, {"name": "empty", "pages": 0, "map": []})),
    (
        "g0 dma 0x3f100 used_len=0 addr=[0x3d000, 0x3e000] len=[13,256]",
        Record("g.dma", 0, {"addr": 0x3F100, "used_len": 0, "addrs": [0x3D000, 0x3E000], "lens": [13, 256]}),
    ),
    ("g1 dma 0x3f000 used_len=0", Record("g.dma", 1, {"addr": 0x3F000, "used_len": 0})),
    (
        "g0 bind_dma irq=2 key=0 dmas=0x3f000 num=1 -> 1",
        Record("g.bind_dma", 0, {"key": 0, "dmas": 0x3F000, "num": 1, "irq": 2, "result": 1}),
    ),
    (
        "g0 bind_dma key=4 dmas=8 num=0 irq=0",
        Record("g.bind_dma", 0, {"key": 4, "dmas": 8, "num": 0, "irq": 0}),
    ),
    ("g0 mem 0x3d000 data=48692aFF", Record("g.mem", 0, {"addr": 0x3D000, "data": b"Hi*\xff"})),
    ("g2 mem 16 data=", Record("g.mem", 2, {"addr": 16, "data": b""})),
    (
        "host deliver from=g0:0x3f100 to=g1:0x3e000 sum=" + "0a" * 32 + " len=13 irq=2",
        Record(
            "host.deliver", None, {"src": (0, 0x3F100), "dst": (1, 0x3E000), "len": 13, "irq": 2, "sum": "0a" * 32}
        ),
    ),
    ("g255 send_dma key=0 dma=0x3f100", Record("g.send_dma", 255, {"key": 0, "dma": 0x3F100})),
    ("g0 status dev=1 value=ACKNOWLEDGE|DRIVER|0x100", Record("g.status", 0, {"dev": 1, "value": 0x103})),
    (
        "host deliver from=g0:0x3f100 to=g1:0x3e000 len=13 irq=2",
        Record("host.deliver", None, {"src": (0, 0x3F100), "dst": (1, 0x3E000), "len": 13, "irq": 2}),
    ),
    (
        "host full from=g0 to=g1 key=0x4000 irq=3",
        Record("host.full", None, {"src": 0, "dst": 1, "key": 0x4000, "irq": 3}),
    ),
    ("host pending g0 key=0 dma=0x3f100", Record("host.pending", None, {"guest": 0, "key": 0, "dma": 0x3F100})),
    ("host drop g2 key=0x4000", Record("host.drop", None, {"guest": 2, "key": 0x4000})),
    (
        'host kill g0 reason="bad # dma, addr=3"',
        Record("host.kill", None, {"guest": 0, "reason": "bad # dma, addr=3"}),
    ),
    ("l0 output key=0 dma=0x3f100 len=13", Record("l.output", 0, {"key": 0, "dma": 0x3F100, "len": 13})),
    ("l0 fill key=0 dma=0x3f000 len=1 irq=2", Record("l.fill", 0, {"key": 0, "dma": 0x3F000, "len": 1, "irq": 2})),
    ("l0 fill key=0 len=0", Record("l.fill", 0, {"key": 0, "len": 0})),
    ("l3 nobuf key=0x10", Record("l.nobuf", 3, {"key": 16})),
    ("l1 irq 5", Record("l.irq", 1, {"irq": 5})),
    ("l0 status dev=0 value=REMOVED", Record("l.status", 0, {"dev": 0, "value": 8})),
    ("l7 close", Record("l.close", 7, {})),
]


def test_examples_cover_every_kind():
    # `lost` is partial mode only: tests/replay/test_partial.py parses it
    assert {rec.kind for _, rec in EXAMPLES} == set(KINDS) - {"lost"}


@BOTH
@pytest.mark.parametrize("text, expected", EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_every_kind_parses_to_its_documented_fields(parse, text, expected):
    rec = one(parse, text)
    assert rec == expected
    assert (rec.kind, rec.guest, rec.fields) == (expected.kind, expected.guest, expected.fields)
    assert (rec.line, rec.text, rec.ts) == (1, text, None)


@BOTH
@pytest.mark.parametrize("text, expected", EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_every_kind_prints_back_to_the_same_record(parse, text, expected):
    assert one(parse, format_record(expected)) == expected


@BOTH
def test_timestamp_comment_and_blanks(parse):
    rec = one(parse, "@12.50 g0 send_dma dma=1 key=2  # sent # twice")
    assert (rec.ts, rec.fields, rec.text) == ("12.50", {"key": 2, "dma": 1}, "@12.50 g0 send_dma dma=1 key=2  # sent # twice")
    assert one(parse, "\t l0\tclose\t").guest == 0  # tabs separate tokens too
    for blank in ["", "   ", "\t", "# a comment", "   # indented comment 1 2 3"]:
        assert parse(blank, 1, "t.lgt") is None


@BOTH
def test_partial_mode_turns_question_marks_into_unknown(parse):
    rec = one(parse, "g0 dma ? used_len=? addr=[?, 0x10] len=[1, ?]", partial=True)
    assert rec.fields == {"addr": UNKNOWN, "used_len": UNKNOWN, "addrs": [UNKNOWN, 16], "lens": [1, UNKNOWN]}
    assert one(parse, "g0 status dev=1 value=?", partial=True).fields["value"] is UNKNOWN
    assert one(parse, "device 0.0 type=? pfn=? pages=? features=?", partial=True).fields["type"] is UNKNOWN
    assert one(parse, "g0 bind_dma key=1 dmas=2 num=3 irq=4 -> ?", partial=True).fields["result"] is UNKNOWN


def test_parse_text_keeps_line_numbers_and_text():
    recs = parse_text("lguest-trace 1\n\n# c\nguest 0 pages=1\r\n@1 l0 close\n")
    assert [(r.kind, r.line, r.text, r.ts) for r in recs] == [
        ("header", 1, "lguest-trace 1", None),
        ("guest", 4, "guest 0 pages=1", None),
        ("l.close", 5, "@1 l0 close", "1"),
    ]


def test_read_trace_streams_records_from_a_file(tmp_path):
    path = tmp_path / "t.lgt"
    path.write_bytes(b"lguest-trace 1\r\ng0 send_dma key=0 dma=1\r\ng0 send_dma key=0 dma=2\nl0 close")
    recs = list(read_trace(path))
    assert [(r.kind, r.line, r.text) for r in recs] == [
        ("header", 1, "lguest-trace 1"),
        ("g.send_dma", 2, "g0 send_dma key=0 dma=1"),
        ("g.send_dma", 3, "g0 send_dma key=0 dma=2"),
        ("l.close", 4, "l0 close"),
    ]


def test_read_trace_yields_records_before_an_error(tmp_path):
    path = tmp_path / "t.lgt"
    path.write_text("lguest-trace 1\nl0 close\nl0 frob\n")
    it = read_trace(str(path))
    assert next(it).kind == "header"
    assert next(it).kind == "l.close"
    with pytest.raises(TraceError) as info:
        next(it)
    assert (info.value.line, info.value.column) == (3, 4)


# ------------------------------------------------------------- input errors


def test_empty_file(tmp_path):
    path = tmp_path / "e.lgt"
    path.write_bytes(b"")
    with pytest.raises(TraceError) as info:
        list(read_trace(path))
    assert str(info.value) == f'{path}:1:1: error: no records: a trace starts with the header "lguest-trace 1"'
    assert str(trace_error("# only a comment\n\n")) == (
        't.lgt:1:1: error: no records: a trace starts with the header "lguest-trace 1"'
    )


def test_missing_file(tmp_path):
    path = tmp_path / "missing.lgt"
    with pytest.raises(TraceError) as info:
        read_trace(path)  # raised at the call, before iterating
    err = info.value
    assert (err.line, err.column, err.source_line) == (0, 0, None)
    assert str(err) == f"{path}: error: cannot open trace: No such file or directory"


def test_header_missing():
    err = trace_error("# comment\n@1 g0 send_dma key=0 dma=1\n")
    assert str(err) == (
        't.lgt:2:4: error: a trace must start with the header "lguest-trace 1"\n'
        "    @1 g0 send_dma key=0 dma=1\n"
        "       ^"
    )


def test_header_not_first():
    err = trace_error("lguest-trace 1\nl0 close\n  lguest-trace 1\n")
    assert (err.line, err.column) == (3, 3)
    assert err.message == 'a second header: "lguest-trace 1" may only be the first record (it is on line 1)'


@BOTH
def test_version_other_than_1_or_2(parse):
    assert one(parse, "lguest-trace 2").fields == {"version": 2}
    err = error(parse, "lguest-trace 3")
    assert (err.column, err.message) == (14, "unsupported trace version 3: this reader knows versions 1 and 2")


V1_ONLY_ERRORS = [
    ("g0 mem 0x10 data=00", 1, "a `mem` record is version 2: this trace's header says version 1 (lguest-trace 2)"),
    (
        "host deliver from=g0:1 to=g1:2 len=3 irq=4 sum=" + "ab" * 32,
        44,
        "the field sum= is version 2: this trace's header says version 1 (lguest-trace 2)",
    ),
]


@pytest.mark.parametrize("line, column, message", V1_ONLY_ERRORS)
def test_version_2_records_in_a_version_1_file(line, column, message):
    err = trace_error("lguest-trace 1\n" + line + "\n")
    assert (err.line, err.column, err.message) == (2, column, message)
    assert len(parse_text("lguest-trace 2\n" + line + "\n")) == 2  # the same line is valid in version 2


SUM_DIGITS = "sum= is a SHA-256: exactly 64 lower-case hex digits"
V2_BAD = [
    ("g0 mem 0x10 data=abc", 18, "data= has 3 hex digits: two per byte, so an even number"),
    ("g0 mem 0x10 data=" + "00" * 4097, 18, "data= has 8194 hex digits: at most 8192 (4,096 bytes)"),
    ("g0 mem 0x100000000 data=00", 8, "value 0x100000000 does not fit addr (u32, at most 4294967295)"),
    ("g256 mem 0x10 data=00", 2, "value 256 does not fit a guest number (at most 255)"),
    ("g0 mem 0x10 data=0g", 19, 'unexpected "g": expected one of a space, end of line'),
    ("host deliver from=g0:1 to=g1:2 len=3 irq=4 sum=" + "AB" * 32, 48, SUM_DIGITS),
    ("host deliver from=g0:1 to=g1:2 len=3 irq=4 sum=" + "ab" * 31, 48, SUM_DIGITS),
]


@BOTH
@pytest.mark.parametrize("line, column, message", V2_BAD)
def test_version_2_value_errors(parse, line, column, message):
    err = error(parse, line)
    assert (err.column, err.message) == (column, message)


@BOTH
def test_unknown_record(parse):
    err = error(parse, "frob 1")
    assert (err.column, err.message) == (
        1,
        'unknown record "frob": expected one of lguest-trace, guest, device, share, gN, host, lN,'
        " a timestamp @SECONDS",
    )
    err = error(parse, "g0 sendd_dma key=1 dma=2")
    assert (err.column, err.message) == (4, 'unknown record "sendd_dma": expected one of dma, mem, bind_dma, send_dma, status')
    err = error(parse, "host frob")
    assert (err.column, err.message) == (
        6,
        'unknown record "frob": expected one of deliver, full, pending, drop, kill',
    )


@BOTH
def test_unknown_or_misspelt_field(parse):
    err = error(parse, "g0 bind_dma key=1 dma=2 num=3 irq=4")
    assert (err.column, err.message) == (19, 'unknown field "dma=": expected one of key=, dmas=, num=, irq=, ->')
    err = error(parse, "host deliver from=g0:1 to=g1:2 lenght=3 irq=4")
    assert (err.column, err.message) == (32, 'unknown field "lenght=": expected one of from=, to=, len=, irq=, sum=')


@BOTH
def test_field_given_twice(parse):
    err = error(parse, "g0 send_dma key=1 dma=2 key=1")
    assert (err.column, err.message) == (25, "field key= given twice (first at column 13)")


@BOTH
def test_required_field_missing(parse):
    err = error(parse, "g0 bind_dma key=1 num=3  # no dmas=, irq=")
    assert (err.column, err.message) == (24, "missing required fields dmas=, irq=")
    err = error(parse, "l0 fill key=1 dma=2")
    assert (err.column, err.message) == (20, "missing required field len=")
    err = error(parse, "device 0.0 pfn=1 pages=1")
    assert (err.column, err.message) == (25, "missing required field type=")


TOO_LARGE = [
    # (line, column of the value, message)
    ("g0 dma 0x100000000", 8, "value 0x100000000 does not fit addr (u32, at most 4294967295)"),
    ("g0 dma 1 addr=[1, 4294967296] len=[1, 1]", 19, "value 4294967296 does not fit addr (u32, at most 4294967295)"),
    ("g0 dma 1 used_len=4294967296", 19, "value 4294967296 does not fit used_len (u32, at most 4294967295)"),
    ("g0 dma 1 len=[65536]", 15, "value 65536 does not fit a section length (u16, at most 65535)"),
    ("g0 send_dma key=0x1ffffffff dma=1", 17, "value 0x1ffffffff does not fit key (u32, at most 4294967295)"),
    ("g0 bind_dma key=1 dmas=2 num=65536 irq=4", 30, "value 65536 does not fit num (u16, at most 65535)"),
    ("g0 bind_dma key=1 dmas=2 num=3 irq=300", 36, "value 300 does not fit irq (u8, at most 255)"),
    ("g0 bind_dma key=1 dmas=2 num=3 irq=4 -> 4294967296", 41, "value 4294967296 does not fit result (u32, at most 4294967295)"),
    ("g0 status dev=16 value=1", 15, "value 16 does not fit a device number (at most 15)"),
    ("g0 status dev=1 value=DRIVER|0x10000", 30, "value 0x10000 does not fit status (u16, at most 65535)"),
    ("g256 send_dma key=1 dma=2", 2, "value 256 does not fit a guest number (at most 255)"),
    ("l0 irq 256", 8, "value 256 does not fit irq (u8, at most 255)"),
    ("l0 output key=1 dma=2 len=4294967296", 27, "value 4294967296 does not fit len (u32, at most 4294967295)"),
    ("l0 fill key=1 len=4294967296", 19, "value 4294967296 does not fit len (u32, at most 4294967295)"),
    ("host deliver from=g0:1 to=g300:2 len=3 irq=4", 28, "value 300 does not fit a guest number (at most 255)"),
    ("host deliver from=g0:1 to=g1:2 len=4294967296 irq=4", 36, "value 4294967296 does not fit len (u32, at most 4294967295)"),
    ("host full from=g0 to=g1 key=1 irq=256", 35, "value 256 does not fit irq (u8, at most 255)"),
    ("host pending g256 key=1 dma=2", 15, "value 256 does not fit a guest number (at most 255)"),
    ("guest 256 pages=1", 7, "value 256 does not fit a guest number (at most 255)"),
    ("guest 0 pages=4294967296", 15, "value 4294967296 does not fit pages (u32, at most 4294967295)"),
    ("device 0.16 type=1 pfn=1 pages=1", 10, "value 16 does not fit a device number (at most 15)"),
    ("device 0.0 type=65536 pfn=1 pages=1", 17, "value 65536 does not fit type (u16, at most 65535)"),
    ("device 0.0 type=1 pfn=4294967296 pages=1", 23, "value 4294967296 does not fit pfn (u32, at most 4294967295)"),
    ("device 0.0 type=1 pfn=1 pages=65536", 31, "value 65536 does not fit pages (u16, at most 65535)"),
    ("device 0.0 type=1 pfn=1 pages=1 features=0x10000", 42, "value 0x10000 does not fit features (u16, at most 65535)"),
    ("share s pages=1 map=[0:1, 256:2]", 27, "value 256 does not fit a guest number (at most 255)"),
    ("share s pages=1 map=[0:4294967296]", 24, "value 4294967296 does not fit pfn (u32, at most 4294967295)"),
    ("share s pages=4294967296 map=[]", 15, "value 4294967296 does not fit pages (u32, at most 4294967295)"),
]


@BOTH
@pytest.mark.parametrize("text, column, message", TOO_LARGE, ids=[t for t, _, _ in TOO_LARGE])
def test_value_too_large_for_its_field(parse, text, column, message):
    err = error(parse, text)
    assert (err.column, err.message) == (column, message)


@BOTH
def test_largest_values_fit(parse):
    rec = one(parse, "g255 bind_dma key=4294967295 dmas=0xffffffff num=65535 irq=255 -> 0xFFFFFFFF")
    assert rec.guest == 255 and rec.fields["result"] == 0xFFFF_FFFF
    assert one(parse, "device 0.15 type=0xffff pfn=0 pages=65535").fields["dev"] == 15


@BOTH
def test_a_huge_number_is_an_error_not_a_crash(parse):
    digits = "9" * 5000  # beyond int()'s 4300-digit limit
    err = error(parse, f"l0 irq {digits}")
    assert (err.column, err.message) == (8, f"value {digits[:20]}... does not fit irq (u8, at most 255)")


@BOTH
def test_more_than_16_sections(parse):
    addrs = ", ".join(["0x1000"] * 17)
    err = error(parse, f"g0 dma 0x10 addr=[{addrs}]")
    assert (err.column, err.message) == (147, "addr= has 17 entries: a descriptor has at most 16 sections")
    err = error(parse, "g0 dma 0x10 len=[" + ",".join(["1"] * 18) + "]")
    assert (err.column, err.message) == (50, "len= has 18 entries: a descriptor has at most 16 sections")


@BOTH
def test_addr_and_len_lists_of_different_lengths(parse):
    err = error(parse, "g0 dma 0x10 len=[1] addr=[1, 2]")
    assert (err.column, err.message) == (21, "addr= has 2 entries but len= has 1: the two lists must be the same length")


@BOTH
def test_unknown_flag_and_type_names(parse):
    err = error(parse, "g0 status dev=1 value=ACKNOWLEDGE|DRIVERS")
    assert (err.column, err.message) == (
        35,
        'unknown status bit "DRIVERS": the names are ACKNOWLEDGE, DRIVER, DRIVER_OK, REMOVED, REMOVED_ACK, FAILED,'
        " or a number",
    )
    err = error(parse, "device 0.0 type=block pfn=1 pages=1 features=CSUM")
    assert (err.column, err.message) == (46, 'unknown feature "CSUM": the names are NOCSUM, RANDOMNESS, or a number')
    err = error(parse, "device 0.0 type=disk pfn=1 pages=1")
    assert (err.column, err.message) == (17, 'unknown device type "disk": the names are console, net, block, or a number')
    err = error(parse, "device 0.0 type=net|1 pfn=1 pages=1")
    assert (err.column, err.message) == (20, 'unexpected "|1": expected one of a space, end of line')


def test_timestamps_that_go_back():
    err = trace_error("lguest-trace 1\n@2.0 l0 close\n@2 l0 close\n\n@02.10 l1 close\n@1.5 l0 close\n")
    assert str(err) == (
        "t.lgt:6:1: error: timestamp 1.5 is earlier than 02.10 on line 5\n    @1.5 l0 close\n    ^"
    )
    # equal timestamps, and a header with one, are fine
    assert len(parse_text("@0 lguest-trace 1\n@0 l0 close\nl0 close\n@0.0 l0 close\n")) == 4


@BOTH
def test_question_mark_outside_partial_mode(parse):
    err = error(parse, "g0 send_dma key=? dma=1")
    assert (err.column, err.message) == (17, "`?` (unrecorded value) is only accepted with --partial")
    err = error(parse, "g0 status dev=? value=1")
    assert (err.column, err.message) == (15, "`?` (unrecorded value) is only accepted with --partial")
    # dev=? in partial mode: any of the Guest's devices
    assert one(parse, "l0 status dev=? value=1", partial=True).fields == {"dev": UNKNOWN, "value": 1}
    # a device declaration must name its device, in either mode; a Guest number is never `?`
    for partial in (False, True):
        err = error(parse, "device 0.? type=net pfn=1 pages=1", partial=partial)
        assert err.column == 10 and "`device N.I` is not supported (yet)" in err.message, err.message
        err = error(parse, "guest ? pages=1", partial=partial)
        assert (err.column, err.message) == (7, 'unexpected "?": expected a number')


def test_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "bad.lgt"
    path.write_bytes("lguest-trace 1\nhost kill g0 reason=\"é\xff\"\n".encode("latin-1").replace(b"\xe9", "é".encode()))
    with pytest.raises(TraceError) as info:
        list(read_trace(path))
    err = info.value
    assert (err.line, err.column) == (2, 23)
    assert err.message == "not UTF-8: byte 0xff (invalid start byte)"
    assert err.source_line == 'host kill g0 reason="é\ufffd"'


@BOTH
def test_upper_case_hex_prefix(parse):
    err = error(parse, "g0 send_dma key=0X10 dma=1")
    assert (err.column, err.message) == (17, 'upper-case "0X" in 0X10: hexadecimal numbers start with a lower-case 0x')


SYNTAX = [
    ("g0 send_dma", 12, "missing required fields key=, dma="),
    ("g0", 3, "unexpected end of line: expected one of dma, mem, bind_dma, send_dma, status"),
    ("@1 # a timestamp alone", 3, "unexpected end of line: expected one of lguest-trace, guest, device, share, gN, host, lN"),
    ("g0dma 1", 3, 'unexpected "dma": expected a space'),
    ("g0 send_dma key= 1 dma=2", 17, "unexpected space: expected a number"),
    ("g0 send_dma key=1dma=2", 18, 'unexpected "dma=": expected one of a space, end of line'),
    ("g0 send_dma key=1  x", 20, 'unexpected "x": expected one of key=, dma='),
    ("l0 close x", 10, 'unexpected "x": expected end of line'),
    ("g0 dma 1 addr=[1 ,2]", 17, "unexpected space: expected one of a comma, ]"),
    ("g0 dma 1 addr=[1,", 18, "unexpected end of line: expected a number"),
    ("g0 dma 1 addr=1", 15, 'unexpected "1": expected ['),
    ('host kill g0 reason="no end', 21, 'unterminated string: a quoted string ends with " on the same line'),
    ("host kill g0 reason=bare", 21, 'unexpected "bare": expected a quoted string "..."'),
    ("host deliver from=g0 to=g1:1 len=1 irq=1", 21, "unexpected space: expected :"),
    ("g0 bind_dma key=1 dmas=2 num=3 irq=4 ->1", 40, 'unexpected "1": expected a space'),
    ("g0x1 send_dma key=1 dma=2", 3, 'unexpected "x1": expected a space'),
    ("g0 send_dma key=0x dma=1", 18, 'unexpected "x": expected one of a space, end of line'),
    ("l0 close\r", 9, 'unexpected "\\r": expected end of line'),
]


@BOTH
@pytest.mark.parametrize("text, column, message", SYNTAX, ids=[t for t, _, _ in SYNTAX])
def test_syntax_errors_say_what_was_expected(parse, text, column, message):
    err = error(parse, text)
    assert (err.column, err.message) == (column, message)


@BOTH
@pytest.mark.parametrize("text, _c, _m", SYNTAX + TOO_LARGE, ids=[t for t, _, _ in SYNTAX + TOO_LARGE])
def test_messages_never_name_lark_terminals(parse, text, _c, _m):
    message = error(parse, text).message
    for internal in ("__ANON", "LSQB", "RSQB", "_WS", "$END", "NUMBER", "KEY_EQ", "GN", "Token", "UnexpectedToken"):
        assert internal not in message


# ------------------------------------------------------------------ TraceError


def test_trace_error_format():
    err = TraceError("a.lgt", 3, 5, "bad thing", "\tg0 x")
    assert str(err) == "a.lgt:3:5: error: bad thing\n    \tg0 x\n    \t   ^"
    assert str(TraceError("a.lgt", 3, 9, "at end", "l0")) == "a.lgt:3:9: error: at end\n    l0\n            ^"
    assert str(TraceError("a.lgt", 3, 5, "no source")) == "a.lgt:3:5: error: no source"
    assert str(TraceError("a.lgt", 0, 0, "cannot open")) == "a.lgt: error: cannot open"


def test_trace_error_pickles():
    import pickle

    err = pickle.loads(pickle.dumps(TraceError("a.lgt", 3, 5, "bad", "src")))
    assert (err.path, err.line, err.column, err.message, err.source_line) == ("a.lgt", 3, 5, "bad", "src")


# ---------------------------------------------------- grammar, tables, cache


def _after(prefix: str) -> set[str]:
    """The words lark accepts after `prefix` and a space (a record up to its fields)."""
    ip = lgt_syntax.PARSER.parse_interactive(prefix)
    ip.exhaust_lexer()
    ip.feed_token(Token("_WS", " "))
    return {lgt_syntax.WORDS[t] for t in ip.accepts() if lgt_syntax.WORDS.get(t)}


FIELD_PREFIXES = {
    "header": None,
    "guest": "guest 0",
    "device": "device 0.0",
    "share": "share s",
    "g.dma": "g0 dma 1",
    "g.mem": "g0 mem 1",
    "g.bind_dma": "g0 bind_dma",
    "g.send_dma": "g0 send_dma",
    "g.status": "g0 status",
    "host.deliver": "host deliver",
    "host.full": "host full",
    "host.pending": "host pending g0",
    "host.drop": "host drop g0",
    "host.kill": "host kill g0",
    "l.output": "l0 output",
    "l.fill": "l0 fill",
    "l.nobuf": "l0 nobuf",
    "l.irq": None,
    "l.status": "l0 status",
    "l.close": None,
    "lost": "lost",
}


@pytest.mark.parametrize("kind", KINDS)
def test_grammar_and_field_table_agree(kind):
    named = {s.syntax for s in lgt_fields.SPECS[kind] if not s.positional}
    prefix = FIELD_PREFIXES[kind]
    if prefix is None:
        assert named == set()
    else:
        assert _after(prefix) - {"end of line"} == named


def test_the_grammar_loads_as_a_package_resource():
    parser = Lark.open_from_package(lgt_syntax.GRAMMAR_PACKAGE, lgt_syntax.GRAMMAR_FILE, ("",), parser="lalr")
    assert parser.parse("l0 close").children[0].data == "l_close"


def test_fast_path_compiles_one_template_per_shape():
    cache = ShapeCache(False, lambda text, line, path: (parse_line_lark(text, line, path), _draft(text)))
    for n in range(50):
        cache.parse(f"g{n % 4} send_dma key={n:#x} dma={n * 100:#x}", n, "t.lgt")
        cache.parse(f"host deliver from=g0:{n:#x} to=g1:{n:#x} len={n} irq=1  # n={n}", n, "t.lgt")
    assert sum(len(t) for t in cache.shapes.values()) == 2
    rec = cache.parse("g3 send_dma key=0x5 dma=0x7", 9, "t.lgt")
    assert rec == Record("g.send_dma", 3, {"key": 5, "dma": 7}) and rec.line == 9


PITFALLS = [
    # (a valid line that teaches the cache a shape, a line the shape must not swallow)
    ("g0 send_dma key=1 dma=2", "@1g0 send_dma key=1 dma=2"),  # no space after the timestamp
    ("@1 g0 send_dma key=1 dma=2", "g0 send_dma key=1 dma=2"),
    ("g5 send_dma key=1 dma=2", "g0x5 send_dma key=1 dma=2"),  # gN is decimal
    ("g0 send_dma key=0x1 dma=2", "g0 send_dma key=0x1 dma=0x2"),  # another shape, also valid
    ("g0 send_dma key=1 dma=2", "g0 send_dma key=01 dma=2"),  # leading zeros are decimal
    ("g0 send_dma key=1 dma=2", "g0 send_dma key=4294967296 dma=2"),
    ("g0 send_dma key=1 dma=2", "g0 send_dma key=1 dma=2 # key=0X1 ?"),
    ("g0 status dev=1 value=DRIVER|1", "g0 status dev=1 value=DRIVER|99999"),
    ("l0 close", "  @1 l0 close"),
    ("l0 close", "l0 close\x00"),
    ("host deliver from=g0:1 to=g1:2 len=3 irq=4", "host deliver from=g0:1 to=g1:2 len=3 irq=4\r"),
]


@pytest.mark.parametrize("teach, probe", PITFALLS)
def test_fast_path_learns_a_shape_but_not_more(teach, probe):
    cache = ShapeCache(False, lambda text, line, path: (parse_line_lark(text, line, path), _draft(text)))
    assert cache.parse(teach, 1, "t.lgt") == parse_line_lark(teach, 1, "t.lgt")
    try:
        expected = parse_line_lark(probe, 2, "t.lgt")
    except TraceError as err:
        with pytest.raises(TraceError) as info:
            cache.parse(probe, 2, "t.lgt")
        assert info.value.args == err.args
    else:
        got = cache.parse(probe, 2, "t.lgt")
        assert (got, got.text, got.ts) == (expected, expected.text, expected.ts)


def test_fast_path_cache_is_bounded():
    cache = ShapeCache(False, lambda text, line, path: (parse_line_lark(text, line, path), _draft(text)))
    for n in range(MAX_SHAPES + 10):
        cache.parse("l0 close" + " " * n, 1, "t.lgt")  # each a shape of its own
    assert len(cache.shapes) <= MAX_SHAPES


def _draft(text):
    return lgt_syntax.parse_draft(text)
