"""What each record's fields may hold, and the checks that turn a Draft into a Record.

The grammar (grammars/lgt.lark) says which fields a record may have and of what
form (number, list, flags); `SPECS` below says, per record kind, what each one
is called in `Record.fields`, whether it is required, and what fits in it
(trace-format.md, "Lexical rules" and the record tables).  `Builder.build`
applies them: each named field at most once, the required ones present, every
number within its width, flag and type names known, `?` only in partial mode,
at most 16 sections and as many lengths as addresses, version 1.

`Builder.number` and `Builder.combine` are the only places where a number's
value is looked at; `lgt_shapes` overrides them to record, instead of values,
where each number goes, so the fast path runs exactly these checks.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

from .errors import LineError
from .lgt_syntax import Draft, Flags, Leaf, Pair, Seq
from .records import DEVICE_TYPES, FEATURE_BITS, STATUS_BITS, UNKNOWN, Record

PARTIAL_ONLY = "`?` (unrecorded value) is only accepted with --partial"
DEVICE_UNKNOWN = (
    "`?` for the device number I of `device N.I` is not supported (yet): a declaration must name its device"
)
LOST_PARTIAL_ONLY = "`lost` (records the capture dropped) is only accepted with --partial"
TRACE_VERSION = 2  # the newest; version 1 files stay valid (trace-format.md, "Version 2: the bytes")
TRACE_VERSIONS = (1, 2)
MAX_DATA_DIGITS = 8192  # `mem data=`: at most 4,096 bytes
SUM_DIGITS = 64  # `sum=`: a SHA-256
# Records and fields that only version 2 has: (kind, field or None for the record itself).
V2_ONLY = (("g.mem", None), ("host.deliver", "sum"))
MAX_SECTIONS = 16  # struct lguest_dma: LGUEST_MAX_DMA_SECTIONS


class Limit(NamedTuple):
    """The largest value a field takes, and how to name it in a message."""

    label: str
    width: str | None  # "u32", "u16", "u8", or None for a numbering (guest 0..255)
    max: int

    def describe(self) -> str:
        if self.width:
            return f"{self.label} ({self.width}, at most {self.max})"
        return f"{self.label} (at most {self.max})"


def u32(label: str) -> Limit:
    return Limit(label, "u32", 0xFFFF_FFFF)


def u16(label: str) -> Limit:
    return Limit(label, "u16", 0xFFFF)


def u8(label: str) -> Limit:
    return Limit(label, "u8", 0xFF)


GUEST_NO = Limit("a guest number", None, 255)
DEVICE_NO = Limit("a device number", None, 15)


class Names(NamedTuple):
    """The names a flag or type value may use (from records.py), and what they are."""

    label: str
    values: Mapping[str, int]


STATUS = Names("status bit", STATUS_BITS)
FEATURES = Names("feature", FEATURE_BITS)
TYPES = Names("device type", DEVICE_TYPES)

_ABSENT = object()


class Spec(NamedTuple):
    """One field of a record kind.

    `syntax` is the field as written (`key=`, `->`), or for a positional value
    its placeholder in trace-format.md (`ADDR`, `N`); `attr` is its key in
    `Record.fields`.  `limit` is a Limit, a pair of Limits for `gS:ADDR` and
    `N:F`, or None (text, or the header's version).
    """

    syntax: str
    attr: str
    limit: Limit | tuple | None
    required: bool = True
    names: Names | None = None
    max_items: int | None = None
    default: object = _ABSENT

    @property
    def positional(self) -> bool:
        return not (self.syntax.endswith("=") or self.syntax == "->")


_KEY = Spec("key=", "key", u32("key"))
_DMA = Spec("dma=", "dma", u32("dma"))
_IRQ = Spec("irq=", "irq", u8("irq"))
_GN = Spec("gN", "guest", GUEST_NO)
_STATUS = (Spec("dev=", "dev", DEVICE_NO), Spec("value=", "value", u16("status"), names=STATUS))

SPECS: dict[str, tuple[Spec, ...]] = {
    "header": (Spec("VERSION", "version", None),),
    "guest": (Spec("N", "guest", GUEST_NO), Spec("pages=", "pages", u32("pages"))),
    "device": (
        Spec("N", "guest", GUEST_NO),
        Spec("I", "dev", DEVICE_NO),
        Spec("type=", "type", u16("type"), names=TYPES),
        Spec("pfn=", "pfn", u32("pfn")),
        Spec("pages=", "pages", u16("pages")),
        Spec("features=", "features", u16("features"), required=False, names=FEATURES, default=0),
    ),
    "share": (
        Spec("NAME", "name", None),
        Spec("pages=", "pages", u32("pages")),
        Spec("map=", "map", (GUEST_NO, u32("pfn"))),
    ),
    "g.dma": (
        Spec("ADDR", "addr", u32("addr")),
        Spec("used_len=", "used_len", u32("used_len"), required=False),
        Spec("addr=", "addrs", u32("addr"), required=False, max_items=MAX_SECTIONS),
        Spec("len=", "lens", u16("a section length"), required=False, max_items=MAX_SECTIONS),
    ),
    "g.mem": (Spec("ADDR", "addr", u32("addr")), Spec("data=", "data", None)),
    "g.bind_dma": (
        _KEY,
        Spec("dmas=", "dmas", u32("dmas")),
        Spec("num=", "num", u16("num")),
        _IRQ,
        Spec("->", "result", u32("result"), required=False),
    ),
    "g.send_dma": (_KEY, _DMA),
    "g.status": _STATUS,
    "host.deliver": (
        Spec("from=", "src", (GUEST_NO, u32("addr"))),
        Spec("to=", "dst", (GUEST_NO, u32("addr"))),
        Spec("len=", "len", u32("len")),
        _IRQ,
        Spec("sum=", "sum", None, required=False),
    ),
    "host.full": (Spec("from=", "src", GUEST_NO), Spec("to=", "dst", GUEST_NO), _KEY, _IRQ),
    "host.pending": (_GN, _KEY, _DMA),
    "host.drop": (_GN, _KEY),
    "host.kill": (_GN, Spec("reason=", "reason", None)),
    "l.output": (_KEY, _DMA, Spec("len=", "len", u32("len"))),
    "l.fill": (
        _KEY,
        Spec("dma=", "dma", u32("dma"), required=False),
        Spec("len=", "len", u32("len")),
        Spec("irq=", "irq", u8("irq"), required=False),
    ),
    "l.nobuf": (_KEY,),
    "l.irq": (Spec("Q", "irq", u8("irq")),),
    "l.status": _STATUS,
    "l.close": (),
    "lost": (Spec("records=", "records", u32("records"), required=False),),
}

# Setup records that belong to one Guest: Record.guest is their N.
_GUEST_SETUP = ("guest", "device")

# Decimal digits beyond this many (after leading zeros) exceed any field: no
# need to convert them (and int() refuses more than 4300 digits anyway).
_MAX_DIGITS = 40
TOO_LARGE = 1 << 160


def to_int(text: str) -> int:
    """A NUMBER token's value (decimal, or hexadecimal after a lower-case 0x)."""
    if text.startswith("0x"):
        # Leading zeros do not count, as for decimal: 0x000...01 is 1 (the shape
        # cache's int() agrees, so both parse paths accept the same lines).
        digits = text[2:].lstrip("0")
        return int(digits or "0", 16) if len(digits) <= _MAX_DIGITS else TOO_LARGE
    digits = text.lstrip("0")
    return int(digits or "0") if len(digits) <= _MAX_DIGITS else TOO_LARGE


def _shown(text: str) -> str:
    return text if len(text) <= 24 else text[:20] + "..."


class Builder:
    """Draft -> Record, with every value check of the format.  One per mode."""

    def __init__(self, partial: bool = False):
        self.partial = partial

    def build(self, draft: Draft, text: str, line: int) -> Record:
        kind = draft.kind
        if kind == "lost" and not self.partial:
            raise LineError(draft.pos, LOST_PARTIAL_ONLY)
        specs = SPECS[kind]
        values = {}
        positional = [s for s in specs if s.positional]
        for spec, node in zip(positional, draft.args):
            if kind == "device" and type(node) is Leaf and node.kind == "unknown":
                raise LineError(node.pos, DEVICE_UNKNOWN)  # the grammar takes it only to say this
            values[spec.attr] = self.value(spec, node)
        named = {s.syntax: s for s in specs if not s.positional}
        seen: dict[str, int] = {}
        for field in draft.fields:
            first = seen.get(field.kw)
            if first is not None:
                raise LineError(field.pos, f"field {field.kw} given twice (first at column {first + 1})")
            seen[field.kw] = field.pos
            spec = named[field.kw]
            values[spec.attr] = self.value(spec, field.node)
        missing = [s.syntax for s in named.values() if s.required and s.syntax not in seen]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise LineError(draft.end, f"missing required field{plural} {', '.join(missing)}")
        if kind == "g.dma":
            _check_sections(draft, values)
        elif kind == "header":
            _check_version(draft)
        fields = {}
        for spec in specs:
            if spec.attr in values:
                fields[spec.attr] = values[spec.attr]
            elif spec.default is not _ABSENT:
                fields[spec.attr] = spec.default
        if draft.guest is not None:
            guest = self.number(draft.guest, GUEST_NO)
        elif kind in _GUEST_SETUP:
            guest = fields["guest"]
        else:
            guest = None
        return Record(kind, guest, fields, line, text, draft.ts)

    # ---- one value, by the form the grammar gave it

    def value(self, spec: Spec, node):
        if type(node) is Leaf:
            if node.kind == "string":
                return node.text
            if node.kind == "hex":
                return hex_value(spec, node)
            if node.kind == "name":
                return node.text if spec.names is None else self.name(node, spec.names)
            return self.number(node, spec.limit)
        if type(node) is Seq:
            if spec.max_items is not None and len(node.items) > spec.max_items:
                raise LineError(
                    node.items[spec.max_items].pos,
                    f"{spec.syntax} has {len(node.items)} entries: a descriptor has at most {spec.max_items} sections",
                )
            if spec.attr == "map":
                return [self.pair(item, spec.limit) for item in node.items]
            return [self.number(item, spec.limit) for item in node.items]
        if type(node) is Pair:
            return self.pair(node, spec.limit)
        if type(node) is Flags:
            return self.flags(node, spec)
        raise TypeError(f"unexpected {type(node).__name__} for {spec.syntax}")  # pragma: no cover

    def pair(self, node: Pair, limits) -> tuple:
        return (self.number(node.first, limits[0]), self.number(node.second, limits[1]))

    def flags(self, node: Flags, spec: Spec):
        parts = node.parts
        if len(parts) == 1 and parts[0].kind == "unknown":
            return self.number(parts[0], spec.limit)
        bits = 0
        numbers = []
        for part in parts:
            if part.kind == "name":
                bits |= self.name(part, spec.names)
            else:
                numbers.append(self.number(part, spec.limit))
        return self.combine(bits, numbers)

    def name(self, leaf: Leaf, names: Names) -> int:
        value = names.values.get(leaf.text)
        if value is None:
            allowed = ", ".join(names.values)
            raise LineError(
                leaf.pos, f'unknown {names.label} "{_shown(leaf.text)}": the names are {allowed}, or a number'
            )
        return value

    # ---- the two places where a number's value matters (see lgt_shapes)

    def number(self, leaf: Leaf, limit: Limit | None):
        """A number leaf's value, checked against its field's limit."""
        if leaf.kind == "num":
            value = to_int(leaf.text)
            if limit is not None and value > limit.max:
                raise LineError(leaf.pos, f"value {_shown(leaf.text)} does not fit {limit.describe()}")
            return value
        if leaf.kind == "unknown":
            if not self.partial:
                raise LineError(leaf.pos, PARTIAL_ONLY)
            return UNKNOWN
        # BAD_HEX: the grammar recognises 0X only so that we can say this
        raise LineError(
            leaf.pos, f'upper-case "0X" in {_shown(leaf.text)}: hexadecimal numbers start with a lower-case 0x'
        )

    def combine(self, bits: int, numbers: list) -> int:
        """The value of a flag field: its named bits or'ed with its numbers."""
        for n in numbers:
            bits |= n
        return bits


def _check_sections(draft: Draft, values: dict) -> None:
    addrs, lens = values.get("addrs"), values.get("lens")
    if addrs is not None and lens is not None and len(addrs) != len(lens):
        later = max((f for f in draft.fields if f.kw in ("addr=", "len=")), key=lambda f: f.pos)
        raise LineError(
            later.pos,
            f"addr= has {len(addrs)} entries but len= has {len(lens)}: the two lists must be the same length",
        )


def _check_version(draft: Draft) -> None:
    leaf = draft.args[0]
    if leaf.kind == "num" and to_int(leaf.text) not in TRACE_VERSIONS:
        raise LineError(leaf.pos, f"unsupported trace version {_shown(leaf.text)}: this reader knows versions 1 and 2")


def hex_value(spec: Spec, leaf: Leaf):
    """`data=` (bytes: an even number of hex digits, at most 8,192) or `sum=` (64 lower-case hex digits, a str)."""
    text = leaf.text
    if spec.attr == "sum":
        if len(text) != SUM_DIGITS or text != text.lower():
            raise LineError(leaf.pos, "sum= is a SHA-256: exactly 64 lower-case hex digits")
        return text
    if len(text) % 2:
        raise LineError(leaf.pos, f"data= has {len(text)} hex digits: two per byte, so an even number")
    if len(text) > MAX_DATA_DIGITS:
        raise LineError(leaf.pos, f"data= has {len(text)} hex digits: at most {MAX_DATA_DIGITS} (4,096 bytes)")
    return bytes.fromhex(text)
