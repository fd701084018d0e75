"""Hypothesis strategies for lgcheck's tests: valid trace records, and lines.

`records(partial=False)` draws a valid `Record` of any kind, shaped exactly as
the parser builds it (records.py documents the shapes): small values, the
boundaries of each field's width, and anything between; with `partial=True`,
values the capture may leave unrecorded are sometimes `UNKNOWN`.
`record_lines()` draws such a record as `.lgt` text, and `traces()` a whole
valid trace (header first, timestamps that never decrease).
"""

from __future__ import annotations

from hypothesis import strategies as st

from lgcheck.replay.records import KINDS, UNKNOWN, Record, format_record

U32 = 0xFFFF_FFFF
U16 = 0xFFFF
U8 = 0xFF


def upto(top: int) -> st.SearchStrategy[int]:
    """0..top, favouring 0, 1 and top (the boundaries) and small values."""
    return st.one_of(st.sampled_from([0, 1, top]), st.integers(0, min(top, 64)), st.integers(0, top))


def value(top: int, partial: bool) -> st.SearchStrategy:
    """A value of a field that the capture may leave unrecorded (`?`)."""
    return st.one_of(st.just(UNKNOWN), upto(top)) if partial else upto(top)


guests = upto(255)
devices = upto(15)
timestamps = st.one_of(st.none(), st.from_regex(r"[0-9]{1,5}(\.[0-9]{1,4})?", fullmatch=True))
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True)
reasons = st.text(alphabet=st.characters(blacklist_characters='"\n\r', blacklist_categories=("Cs", "Cc")), max_size=20)


def _maybe(draw, fields: dict, name: str, strategy) -> None:
    """Draw whether the optional field `name` is written, and its value."""
    if draw(st.booleans()):
        fields[name] = draw(strategy)


@st.composite
def records(draw, partial: bool = False, kinds: tuple[str, ...] | None = None) -> Record:
    """A valid Record of one of `kinds` (default: every kind)."""
    kind = draw(st.sampled_from(kinds or (KINDS if partial else tuple(k for k in KINDS if k != "lost"))))
    v = lambda top: value(top, partial)  # noqa: E731 - a short local alias
    f: dict = {}
    guest = None
    if kind == "header":
        f = {"version": draw(st.sampled_from([1, 2]))}
    elif kind == "guest":
        guest = draw(guests)
        f = {"guest": guest, "pages": draw(v(U32))}
    elif kind == "device":
        guest = draw(guests)
        f = {
            "guest": guest,
            "dev": draw(devices),
            "type": draw(v(U16)),
            "pfn": draw(v(U32)),
            "pages": draw(v(U16)),
            "features": draw(v(U16)),
        }
    elif kind == "share":
        f = {
            "name": draw(names),
            "pages": draw(v(U32)),
            "map": draw(st.lists(st.tuples(guests, v(U32)), max_size=4)),
        }
    elif kind == "lost":
        _maybe(draw, f, "records", v(U32))
    elif kind.startswith("host."):
        f = draw(_host_fields(kind, partial))
    else:
        guest = draw(guests)
        f = draw(_actor_fields(kind, partial))
    return Record(kind, guest, f, ts=draw(timestamps))


@st.composite
def _actor_fields(draw, kind: str, partial: bool) -> dict:
    v = lambda top: value(top, partial)  # noqa: E731
    if kind == "g.dma":
        f = {"addr": draw(v(U32))}
        _maybe(draw, f, "used_len", v(U32))
        n = draw(st.integers(0, 16))
        if draw(st.booleans()):
            f["addrs"] = draw(st.lists(v(U32), min_size=n, max_size=n))
        if draw(st.booleans()):
            f["lens"] = draw(st.lists(v(U16), min_size=n, max_size=n))
        return f
    if kind == "g.mem":  # version 2
        return {"addr": draw(v(U32)), "data": draw(st.binary(max_size=64))}
    if kind == "g.bind_dma":
        f = {"key": draw(v(U32)), "dmas": draw(v(U32)), "num": draw(v(U16)), "irq": draw(v(U8))}
        _maybe(draw, f, "result", v(U32))
        return f
    if kind == "g.send_dma":
        return {"key": draw(v(U32)), "dma": draw(v(U32))}
    if kind in ("g.status", "l.status"):
        return {"dev": draw(v(15)), "value": draw(v(U16))}  # `dev=?`: any of the Guest's devices
    if kind == "l.output":
        return {"key": draw(v(U32)), "dma": draw(v(U32)), "len": draw(v(U32))}
    if kind == "l.fill":
        f = {"key": draw(v(U32))}
        _maybe(draw, f, "dma", v(U32))
        f["len"] = draw(v(U32))
        _maybe(draw, f, "irq", v(U8))
        return f
    if kind == "l.nobuf":
        return {"key": draw(v(U32))}
    if kind == "l.irq":
        return {"irq": draw(v(U8))}
    if kind == "l.close":
        return {}
    raise AssertionError(kind)


@st.composite
def _host_fields(draw, kind: str, partial: bool) -> dict:
    v = lambda top: value(top, partial)  # noqa: E731
    if kind == "host.deliver":
        f = {
            "src": (draw(guests), draw(v(U32))),
            "dst": (draw(guests), draw(v(U32))),
            "len": draw(v(U32)),
            "irq": draw(v(U8)),
        }
        _maybe(draw, f, "sum", st.binary(min_size=32, max_size=32).map(bytes.hex))  # version 2
        return f
    if kind == "host.full":
        return {"src": draw(guests), "dst": draw(guests), "key": draw(v(U32)), "irq": draw(v(U8))}
    if kind == "host.pending":
        return {"guest": draw(guests), "key": draw(v(U32)), "dma": draw(v(U32))}
    if kind == "host.drop":
        return {"guest": draw(guests), "key": draw(v(U32))}
    if kind == "host.kill":
        return {"guest": draw(guests), "reason": draw(reasons)}
    raise AssertionError(kind)


def record_lines(partial: bool = False) -> st.SearchStrategy[str]:
    """A valid record as one line of `.lgt` text."""
    return records(partial).map(format_record)


@st.composite
def traces(draw, partial: bool = False, max_records: int = 12) -> list[Record]:
    """A valid trace as records: the header first, timestamps never decreasing."""
    body = draw(st.lists(records(partial).filter(lambda r: r.kind != "header"), max_size=max_records))
    recs = [draw(records(partial, kinds=("header",)))] + body
    if any(r.kind == "g.mem" or "sum" in r.fields for r in body):
        recs[0].fields["version"] = 2  # version 2's record and field are input errors in a version 1 file
    clock = 0
    for rec in recs:
        if rec.ts is not None:
            clock += draw(st.integers(0, 3))
            rec.ts = str(clock)
    return recs


def outcome(records) -> list:
    """What a reader yields, as data two readers' answers can be compared on: each record, or its error."""
    from lgcheck.replay.errors import TraceError

    out = []
    try:
        for rec in records:
            out.append((rec.kind, rec.guest, rec.fields, rec.line, rec.text, rec.ts))
    except TraceError as err:
        out.append(("error", err.line, err.column, err.message))
    return out
