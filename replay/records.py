"""Trace records: what one line of a `.lgt` file says, as plain data.

The parser (replay/parser.py) turns text into `Record`s; the engine runs them on
the spec; `format_record` writes them back as text (used by `--emit` and by the
checker's counterexamples).  A record's `kind` names the actor and the verb:

    setup     header, guest, device, share
    Guest     g.dma, g.bind_dma, g.send_dma, g.status
    Host      host.deliver, host.full, host.pending, host.drop, host.kill
    Launcher  l.output, l.fill, l.nobuf, l.irq, l.status, l.close

`fields` holds the record's values under the format's own names, with these
shapes (ints unless said otherwise; `UNKNOWN` where the trace wrote `?`):

    header        version
    guest         guest (int), pages
    device        guest, dev, type, pfn, pages, features
    share         name (str), pages, map (list of (guest, pfn))
    g.dma         addr, [used_len], [addrs (list)], [lens (list)]
    g.mem         addr, data (bytes)                      version 2
    g.bind_dma    key, dmas, num, irq, [result]
    g.send_dma    key, dma
    g.status      dev, value
    host.deliver  src (guest, addr), dst (guest, addr), len, irq, [sum (str: 64 hex digits, version 2)]
    host.full     src (guest), dst (guest), key, irq
    host.pending  guest, key, dma
    host.drop     guest, key
    host.kill     guest, reason (str)
    l.output      key, dma, len
    l.fill        key, len, [dma], [irq]
    l.nobuf       key
    l.irq         irq
    l.status      dev, value
    l.close       (none)
    lost          [records]   (partial mode only: a gap in the capture)

For g.* and l.* records `guest` is N of `gN`/`lN`; optional fields that the
line left out are simply absent from `fields`.
"""

from __future__ import annotations

from ..spec import constants as C


class _Unknown:
    """The value `?`: the capture did not record it (partial mode only)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "?"

    def __reduce__(self):
        return (_unknown, ())


def _unknown() -> "_Unknown":
    return UNKNOWN


UNKNOWN = _Unknown.__new__(_Unknown)

# The format's names for status bits, features and device types (spec/constants.py).
STATUS_BITS, FEATURE_BITS, DEVICE_TYPES = C.STATUS_BITS, C.FEATURE_BITS, C.DEVICE_TYPES

GUEST_KINDS = ("g.dma", "g.mem", "g.bind_dma", "g.send_dma", "g.status")
HOST_KINDS = ("host.deliver", "host.full", "host.pending", "host.drop", "host.kill")
LAUNCHER_KINDS = ("l.output", "l.fill", "l.nobuf", "l.irq", "l.status", "l.close")
SETUP_KINDS = ("header", "guest", "device", "share")
GAP_KINDS = ("lost",)
KINDS = SETUP_KINDS + GUEST_KINDS + HOST_KINDS + LAUNCHER_KINDS + GAP_KINDS


class Record:
    """One record of a trace: kind, the guest it belongs to, its fields.

    `line` is the 1-based line number in the file, `text` the line as written
    (without its end-of-line), `ts` the `@` timestamp as written (a string,
    so that it prints back unchanged) or None.
    """

    __slots__ = ("kind", "guest", "fields", "line", "text", "ts")

    def __init__(self, kind, guest=None, fields=None, line=0, text="", ts=None):
        self.kind = kind
        self.guest = guest
        self.fields = {} if fields is None else fields
        self.line = line
        self.text = text
        self.ts = ts

    def __eq__(self, other):
        if not isinstance(other, Record):
            return NotImplemented
        return (self.kind, self.guest, self.fields, self.ts) == (
            other.kind,
            other.guest,
            other.fields,
            other.ts,
        )

    def __hash__(self):
        return hash((self.kind, self.guest))

    def __repr__(self) -> str:
        return f"Record({self.kind!r}, guest={self.guest!r}, fields={self.fields!r}, line={self.line})"

    @property
    def actor(self) -> str:
        return self.kind.split(".", 1)[0] if "." in self.kind else "setup"


# ---------------------------------------------------------------- printing


def _num(v, hexa=False) -> str:
    if v is UNKNOWN:
        return "?"
    return hex(v) if hexa and v else str(v)


def _flags(value: int, names: dict) -> str:
    if value is UNKNOWN:
        return "?"
    parts = []
    rest = value
    for name, bit in names.items():
        if rest & bit:
            parts.append(name)
            rest &= ~bit
    if rest or not parts:
        parts.append(str(rest))
    return "|".join(parts)


def _list(values, hexa=False) -> str:
    return "[" + ", ".join(_num(v, hexa) for v in values) + "]"


def format_record(rec: Record) -> str:
    """The record as one line of `.lgt` text (no newline, no comment)."""
    f = rec.fields
    k = rec.kind
    g = rec.guest
    if k == "header":
        s = f"lguest-trace {f['version']}"
    elif k == "guest":
        s = f"guest {g} pages={_num(f['pages'])}"
    elif k == "device":
        typ = {v: n for n, v in DEVICE_TYPES.items()}.get(f["type"], str(f["type"]))
        s = f"device {g}.{f['dev']} type={typ} pfn={_num(f['pfn'])} pages={_num(f['pages'])}"
        if f.get("features"):
            s += f" features={_flags(f['features'], FEATURE_BITS)}"
    elif k == "share":
        m = ", ".join(f"{n}:{_num(p)}" for n, p in f["map"])
        s = f"share {f['name']} pages={_num(f['pages'])} map=[{m}]"
    elif k == "g.dma":
        s = f"g{g} dma {_num(f['addr'], True)}"
        if "used_len" in f:
            s += f" used_len={_num(f['used_len'])}"
        if "addrs" in f:
            s += f" addr={_list(f['addrs'], True)}"
        if "lens" in f:
            s += f" len={_list(f['lens'])}"
    elif k == "g.mem":
        s = f"g{g} mem {_num(f['addr'], True)} data={f['data'].hex()}"
    elif k == "g.bind_dma":
        s = (
            f"g{g} bind_dma key={_num(f['key'], True)} dmas={_num(f['dmas'], True)}"
            f" num={_num(f['num'])} irq={_num(f['irq'])}"
        )
        if "result" in f:
            s += f" -> {_num(f['result'])}"
    elif k == "g.send_dma":
        s = f"g{g} send_dma key={_num(f['key'], True)} dma={_num(f['dma'], True)}"
    elif k == "g.status":
        s = f"g{g} status dev={f['dev']} value={_flags(f['value'], STATUS_BITS)}"
    elif k == "host.deliver":
        (sg, sa), (dg, da) = f["src"], f["dst"]
        s = (
            f"host deliver from=g{sg}:{_num(sa, True)} to=g{dg}:{_num(da, True)}"
            f" len={_num(f['len'])} irq={_num(f['irq'])}"
        )
        if f.get("sum") is not None:
            s += f" sum={f['sum']}"
    elif k == "host.full":
        s = f"host full from=g{f['src']} to=g{f['dst']} key={_num(f['key'], True)} irq={_num(f['irq'])}"
    elif k == "host.pending":
        s = f"host pending g{f['guest']} key={_num(f['key'], True)} dma={_num(f['dma'], True)}"
    elif k == "host.drop":
        s = f"host drop g{f['guest']} key={_num(f['key'], True)}"
    elif k == "host.kill":
        s = f'host kill g{f["guest"]} reason="{f["reason"]}"'
    elif k == "l.output":
        s = f"l{g} output key={_num(f['key'], True)} dma={_num(f['dma'], True)} len={_num(f['len'])}"
    elif k == "l.fill":
        s = f"l{g} fill key={_num(f['key'], True)}"
        if "dma" in f:
            s += f" dma={_num(f['dma'], True)}"
        s += f" len={_num(f['len'])}"
        if "irq" in f:
            s += f" irq={_num(f['irq'])}"
    elif k == "l.nobuf":
        s = f"l{g} nobuf key={_num(f['key'], True)}"
    elif k == "l.irq":
        s = f"l{g} irq {_num(f['irq'])}"
    elif k == "l.status":
        s = f"l{g} status dev={f['dev']} value={_flags(f['value'], STATUS_BITS)}"
    elif k == "l.close":
        s = f"l{g} close"
    elif k == "lost":
        s = "lost" if f.get("records") is None else f"lost records={_num(f['records'])}"
    else:  # pragma: no cover - kinds are closed
        raise ValueError(f"unknown record kind {k!r}")
    if rec.ts is not None:
        s = f"@{rec.ts} {s}"
    return s
