"""The fast path: parse a line by its shape, with lark run once per shape.

Replay must read 100,000 records/s; lark's LALR parser reads some 10,000
lines/s.  But a trace repeats a few dozen line shapes: `g0 send_dma key=0x…
dma=0x…` differs from the next send only in its numbers.  A line's *shape* is
the line with each decimal number run replaced by one placeholder and each
`0x…` number by another, after its timestamp and comment are cut off.  The
first line of a shape goes through lark and `lgt_fields` (the slow path: the
only definition of the syntax and of the checks); if it is a valid hot record,
a *template* is compiled from it: a regular expression that matches exactly
the lines of that shape (the line's text, escaped, with `([0-9]+)` for each
decimal placeholder and `(0x[0-9a-fA-F]+)` for each hex one), and a small
function that builds the Record from the captured numbers, checking each
against the same `Limit` the slow path used.

Why that is exact: a template is made only from a line lark accepted, in which
every number run is a whole NUMBER token (or the digits of `gN`/`lN`) followed
by a character that cannot continue a token; replacing such a run with another
run of the same form does not change how lark cuts the line into tokens, so a
line the template matches parses as its first line did, to the same fields and
with the same shape-level checks (fields present and single, list lengths,
names, `?`).  Only the widths depend on the digits, and the template checks
those; when one does not fit, it returns None and the caller re-parses the line
with lark, which gives the error its message and column.

Finding the template: the cache is keyed by the line with its digits and
letters a-f deleted (a C-speed `bytes.translate`; the `x` of each `0x` stays),
which is the same for all lines of a shape; a key may map to several templates
(shapes differing only in those characters), and each template's regex decides.
This costs a tenth of substituting placeholders with a regex, which would
double the time per line.  The reader's loop (parser._records) computes the
key of each line it has not met before and calls the key's first template
itself for lines after the header (`first`, or in a version 2 trace
`first_v2`, which also holds the templates of `mem` lines and of delivers
with `sum=`, learnt by `learn_line`); `ShapeCache.parse` is the way for
everything else.

Numbers: a template looks each number's text up in a memo of its field's
bound (one dict per Limit.max, shared by all templates: text -> value, only
values within the bound), and only on a miss runs int() and the bound's
test.  Traces repeat their keys, addresses, lengths and Guest numbers: a
lookup costs a third of int() and the test.  A memo holds at most MEMO_SIZE
texts of at most MEMO_TEXT characters, the first it met.
"""

from __future__ import annotations

import re
from binascii import unhexlify
from typing import Callable, NamedTuple

from .lgt_fields import MAX_DATA_DIGITS, Builder, Limit, to_int
from .lgt_syntax import Draft, Leaf
from .records import GUEST_KINDS, HOST_KINDS, LAUNCHER_KINDS, Record

# The cache keeps at most this many keys and starts afresh when full: memory
# must not grow with the trace, and real traces have a few dozen shapes.
MAX_SHAPES = 2048
MAX_PER_KEY = 8
# A line whose shaped part is longer than this is not learnt (lark reads it,
# in time linear in its length): a template holds its line's text, so 2,048
# templates of long lines that differ only in spacing would hold gigabytes
# of patterns.  Real records are shorter (a 16-section `dma` is about 330).
MAX_TEMPLATE_CHARS = 512

# Kinds worth a template.  Setup records are rare, and host.kill carries a
# quoted string (whose text the shape would need to keep): both take lark.
HOT_KINDS = frozenset(GUEST_KINDS + LAUNCHER_KINDS + HOST_KINDS) - {"host.kill", "g.mem"}

# Version 2's long hex runs would make every line a shape of its own: a `mem`
# line is read by one regex (MEM_RE, checked as the slow path checks it), and
# a deliver's `sum=` is cut out, the rest read by its template, then put back.
# Anything these do not accept goes to lark, which gives the error.
# MEM_HEAD matches what comes before `data=`; the digits after it are read by
# binascii.unhexlify (strict: hex digits only, an even number), whose result
# must have half as many bytes as there are digits: no regex runs over the
# 8,192 digits.
MEM_HEAD = re.compile(r"[ \t]*g([0-9]+)[ \t]+mem[ \t]+(0x[0-9a-fA-F]+|[0-9]+)[ \t]+")
# The head as writers write it (benchmarks/gen_trace, --emit, prove's .lgt): read first.
MEM_CANON = re.compile(r"g([0-9]{1,3}) mem 0x([0-9a-fA-F]{1,8}) ")
SUM_RE = re.compile(r"[ \t]+sum=([0-9a-f]{64})(?=[ \t]|$)")
SUM_HEX = re.compile(r"[0-9a-f]{64}")  # a sum's digits, where the line's last 64 characters are

NUMBER_RE = re.compile(r"0x[0-9a-fA-F]+|[0-9]+")  # as the grammar's NUMBER
TIMESTAMP_RE = re.compile(r"@([0-9]+(?:\.[0-9]+)?)")  # as the grammar's TIMESTAMP
# A stamped template's timestamp, in the form of its first line's (the shape key keeps the point).
STAMP_DOT, STAMP_INT = r"@([0-9]+\.[0-9]+)", r"@([0-9]+)"
_HEX_GROUP = "(0x[0-9a-fA-F]+)"
_DEC_GROUP = "([0-9]+)"
KEY_DELETE = b"0123456789abcdefABCDEF"  # deleted from a line to make its shape key

# What a template returns besides a Record (None: "use lark for this line").
NOMATCH = "nomatch"  # the line is not of this template's shape
BLANK = "blank"  # blank or comment-only: no record


# ----------------------------------------------------------- compiling a shape


class Slot(NamedTuple):
    """Where a number goes, in place of its value, while compiling a template."""

    pos: int
    end: int
    limit: Limit


class SumSlot(NamedTuple):
    """Where a deliver's `sum=` digits go (version 2): 64 lower-case hex digits, kept as text."""

    pos: int
    end: int


class FlagExpr(NamedTuple):
    """A flag value with numeric parts: bits | slot | slot ..."""

    bits: int
    slots: list


class _SkeletonBuilder(Builder):
    """The slow path's Builder, recording where numbers go instead of values.

    All other checks run as in the slow path; they passed for the line being
    compiled, and depend only on its shape.
    """

    def number(self, leaf, limit):
        if leaf.kind == "num":
            return Slot(leaf.pos, leaf.end, limit)
        return super().number(leaf, limit)  # `?` -> UNKNOWN (partial mode)

    def combine(self, bits, numbers):
        return FlagExpr(bits, numbers) if numbers else bits

    def value(self, spec, node):
        if spec.attr == "sum" and type(node) is Leaf and node.kind == "hex":
            super().value(spec, node)  # checked as the slow path checks it (it passed: the line is valid)
            return SumSlot(node.pos, node.end)
        return super().value(spec, node)


def _mem_data(rest: str, at: int) -> bytes | None:
    """The bytes of a `mem` line's `data=` (hex only, an even number of digits, within the bound), else None."""
    if len(rest) - at - 5 > MAX_DATA_DIGITS:
        return None
    try:
        return unhexlify(rest[at + 5 :])
    except ValueError:
        return None


# A `mem` line as writers write it, its timestamp (if any) included: read by
# `read_mem` without a key (its thousands of digits are not scanned twice).
MEM_LINE = re.compile(r"(?:@([0-9]+(?:\.[0-9]+)?) )?g([0-9]{1,3}) mem 0x([0-9a-fA-F]{1,8}) data=")
_new = object.__new__


def read_mem(text: str, line: int) -> Record | None:
    """A version 2 `gN mem 0xADDR data=HEX` line written canonically, else None (the caller takes lark's way).

    Checked as the slow path checks it: the head by MEM_LINE (at most 3 and
    8 digits: no overflow past the guest test), the digits by unhexlify
    (strict: hex only, an even number), at most MAX_DATA_DIGITS of them.
    """
    m = MEM_LINE.match(text)
    if m is None:
        return None
    at = m.end()
    if len(text) - at > MAX_DATA_DIGITS:
        return None
    try:
        data = unhexlify(text[at:])
    except ValueError:  # binascii.Error (odd length, not hex) or a character that is not ASCII
        return None
    ts, g, addr = m.groups()
    g = int(g)
    if g > 255:
        return None
    # The slots one by one, not Record.__init__ (a Python frame): as the templates do (`_generate`).
    r = _new(Record)
    r.kind, r.guest, r.fields = "g.mem", g, {"addr": int(addr, 16), "data": data}
    r.line, r.text, r.ts = line, text, ts
    return r


def _mem_template(rest, text, line, ts):
    """The template of `mem` lines (their key keeps no digit, whatever the data's length): `read_mem`."""
    return read_mem(text, line)


def compile_template(
    draft: Draft | None, text: str, start: int, stop: int, partial: bool, stamped: bool = False
) -> Callable:
    """The template for lines shaped like `text[start:stop]`.

    `text` has been parsed (by lark, to `draft`, None for a blank line) and is
    valid; `text[start:stop]` is its shaped part, after the timestamp and
    before the comment.  A line that is not a hot record, or whose numbers do
    not map one to one onto number tokens, gets a template that sends the
    lines of its shape to lark.

    `stamped`: the template matches the whole line, its timestamp `@...` (of
    text[:start]'s form: digits, with a point or without) included and taken
    from the match; the line has no comment (stop is its end).
    """
    # A deliver's sum= (version 2) is one run of its own, of 64 lower-case hex digits,
    # and the number runs are looked for around it, not inside it.
    sums = _sum_runs(draft)
    runs = []
    prev = start
    for pos, end in sums + [(stop, stop)]:
        runs += [(m.start(), m.end(), m.group().startswith("0x")) for m in NUMBER_RE.finditer(text, prev, pos)]
        if pos < stop:
            runs.append((pos, end, SUM))
        prev = end
    pattern = _pattern(text, start, stop, runs)
    if stamped:
        pattern = (STAMP_DOT if "." in text[:start] else STAMP_INT) + pattern
    if draft is None:
        return _constant(pattern, BLANK)
    if draft.kind not in HOT_KINDS:
        return _constant(pattern, None)
    skeleton = _SkeletonBuilder(partial).build(draft, text, 0)
    index = {pos: i for i, (pos, _, _) in enumerate(runs)}
    slots: list[Slot | None] = [None] * len(runs)
    for slot in _slots_of([skeleton.guest, skeleton.fields]):
        i = index.get(slot.pos)
        if i is None or runs[i][1] != slot.end or slots[i] is not None:
            return _constant(pattern, None)
        if (type(slot) is SumSlot) != (runs[i][2] is SUM):
            return _constant(pattern, None)
        slots[i] = slot
    for slot, (_, end, _) in zip(slots, runs):
        # every run a whole token (of a number or gN), ended by a character
        # that no token could continue with: see the module docstring
        if slot is None or (end < stop and (text[end].isalnum() or text[end] == "_")):
            return _constant(pattern, None)
    return _generate(pattern, skeleton, slots, [hexa for _, _, hexa in runs], stamped)


SUM = "sum"  # a run's kind: a sum='s digits (else True: hexadecimal number, False: decimal)
_SUM_GROUP = "([0-9a-f]{64})"


def _sum_runs(draft: Draft | None) -> list:
    """Where the line's sum= digits are (a deliver of version 2), as [(pos, end)], else []."""
    if draft is None or draft.kind != "host.deliver":
        return []
    return [(f.node.pos, f.node.end) for f in draft.fields if f.kw == "sum=" and type(f.node) is Leaf]


def _pattern(text: str, start: int, stop: int, runs) -> str:
    pieces = []
    prev = start
    for pos, end, hexa in runs:
        pieces.append(re.escape(text[prev:pos]))
        pieces.append(_SUM_GROUP if hexa is SUM else _HEX_GROUP if hexa else _DEC_GROUP)
        prev = end
    pieces.append(re.escape(text[prev:stop]))
    return "".join(pieces)


def _constant(pattern: str, result) -> Callable:
    """A template that gives `result` (BLANK, or None: use lark) for its shape."""
    fullmatch = re.compile(pattern).fullmatch

    def template(rest, text, line, ts):
        return NOMATCH if fullmatch(rest) is None else result

    return template


def _slots_of(value):
    if type(value) is Slot or type(value) is SumSlot:
        yield value
    elif type(value) is FlagExpr:
        yield from value.slots
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _slots_of(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _slots_of(v)


# Number text -> value, one memo per bound (Limit.max), shared by all templates:
# a trace repeats its keys, descriptor addresses, lengths and Guest numbers, and
# a dict lookup costs a third of int() and the bound's test.  Bounded: at most
# MEMO_SIZE texts of at most MEMO_TEXT characters each; a full memo keeps what it
# has (the texts met first: a trace's keys, rings and Guests come early).  It
# used to start afresh when full, but random lengths and addresses then emptied
# it every thousand lines, at the cost of a call and of refilling it.
_MEMOS: dict[int, dict[str, int]] = {}
MEMO_SIZE = 1 << 10
MEMO_TEXT = 12


def _generate(pattern: str, skeleton: Record, slots: list[Slot], hexa: list[bool], stamped: bool = False) -> Callable:
    """Write the template as a small Python function and compile it.

    Generated code, rather than a loop over instructions, because the
    template is the inner loop of replay: a straight-line function that
    matches, converts and compares with constants runs several times faster.
    Only field names, kinds and integer constants reach the source (other
    constants go through the namespace), never text from the trace.
    """
    names = {"Record": Record, "new": object.__new__, "NOMATCH": NOMATCH}
    names["fullmatch"] = re.compile(pattern).fullmatch
    var = {slot.pos: f"v{i}" for i, slot in enumerate(slots)}

    def expr(value) -> str:
        if type(value) is Slot or type(value) is SumSlot:
            return var[value.pos]
        if type(value) is FlagExpr:
            return "(" + " | ".join([str(value.bits)] + [expr(s) for s in value.slots]) + ")"
        if type(value) is int:
            return str(value)
        if value is None:
            return "None"
        if type(value) is list:
            return "[" + ", ".join(expr(v) for v in value) + "]"
        if type(value) is tuple:
            return "(" + "".join(expr(v) + ", " for v in value) + ")"
        name = f"c{len(names)}"
        names[name] = value  # UNKNOWN, or any other constant
        return name

    lines = [
        "def template(rest, text, line, ts):",
        "    m = fullmatch(rest)",
        "    if m is None: return NOMATCH",
    ]
    if slots or stamped:
        targets = ("ts, " if stamped else "") + "".join(f"a{i}, " for i in range(len(slots)))
        lines.append(f"    {targets}= m.groups()")
    for i, (slot, hx) in enumerate(zip(slots, hexa)):
        if hx is SUM:  # the digits, as text (the regex took 64 lower-case hex digits)
            lines.append(f"    v{i} = a{i}")
            continue
        # A number's text seen before, in a field of the same bound, has its value
        # in that bound's memo (within the bound: no test); else int() and the test.
        memo = _MEMOS.setdefault(slot.limit.max, {})
        names[f"get{i}"], names[f"memo{i}"] = memo.get, memo
        lines.append(f"    v{i} = get{i}(a{i})")
        lines.append(f"    if v{i} is None:")
        lines.append(f"        v{i} = int(a{i}, 16)" if hx else f"        v{i} = int(a{i})")
        lines.append(f"        if v{i} > {slot.limit.max}: return None")
        lines.append(f"        if len(memo{i}) < {MEMO_SIZE} and len(a{i}) <= {MEMO_TEXT}: memo{i}[a{i}] = v{i}")
    fields = "{" + ", ".join(f"{k!r}: {expr(v)}" for k, v in skeleton.fields.items()) + "}"
    # The slots filled one by one rather than through Record.__init__: a
    # Python-level __init__ frame per record costs a tenth of the reader's time.
    lines.append("    r = new(Record)")
    lines.append(f"    r.kind = {skeleton.kind!r}; r.guest = {expr(skeleton.guest)}; r.fields = {fields}")
    lines.append("    r.line = line; r.text = text; r.ts = ts")
    lines.append("    return r")
    code = "\n".join(lines) + "\n"
    exec(compile(code, f"<lgt template {skeleton.kind}>", "exec"), names)
    template = names["template"]
    template.source = code  # for debugging and tests
    return template


# ---------------------------------------------------------------- the cache


class ShapeCache:
    """Line -> Record through templates, falling back to `slow` (lark).

    `slow(text, line, path)` must return `(record_or_None, draft_or_None)` or
    raise the line's TraceError.  One cache per mode: with --partial, `?` is a
    valid value, so the same shape may be valid in one mode and not the other.
    """

    parse: Callable[[str, int, str], Record | None]
    """parse(text, line, path): one line (without its line ending) -> Record,
    None if blank, or the line's TraceError (from `slow`)."""

    def __init__(self, partial: bool, slow: Callable):
        self.partial = partial
        self.slow = slow
        self.shapes: dict[bytes, list] = {}  # key -> templates, see the module docstring
        self.first: dict[bytes, Callable] = {}  # key -> its first template (the reader's loop tries it first)
        # The same and the keys of version 2 lines (`mem`, `sum=`): a version 2 trace's loop uses it.
        self.first_v2: dict[bytes, Callable] = {}
        self.parse = self._make_parse()

    def _make_parse(self) -> Callable:
        # A closure over locals: this is the loop replay spends its time in,
        # and local names are faster than attribute and global lookups.
        slow = self.slow
        learn = self._learn
        lookup = self.shapes.get
        match_ts = TIMESTAMP_RE.match
        delete = KEY_DELETE
        Record_ = Record
        mem_head, sum_search = MEM_HEAD.fullmatch, SUM_RE.search
        mem_canon = MEM_CANON.fullmatch
        hex64 = SUM_HEX.fullmatch

        def parse(text: str, line: int, path: str) -> Record | None:
            if text[:1] == "@":
                # A stamped template reads the whole line, timestamp included: one
                # key, one match (a line with a comment, `sum=` or `mem` has none).
                try:
                    templates = lookup(text.encode().translate(None, delete))
                    if templates is not None:
                        for template in templates:
                            record = template(text, text, line, None)
                            if type(record) is Record_:
                                return record
                            if record is not NOMATCH:
                                break  # a value does not fit: the way below says so
                except ValueError:  # int() refuses over 4300 digits: the way below (lark) says what is wrong
                    pass
            ts = None
            start = 0
            rest = text
            if text[:1] == "@":
                m = match_ts(text)
                if m is not None:
                    ts = m.group(1)
                    start = m.end()
                    rest = text[start:]
                    if rest[:1] not in (" ", "\t"):
                        return slow(text, line, path)[0]  # the grammar wants a blank after a timestamp
            at = rest.find("data=", 0, 64)
            if at > 0:
                # Version 2's `mem` line, read first: thousands of digits are not
                # scanned for `"`, `#` or `sum=` when the head matches and
                # unhexlify takes every digit (strict: hex only, an even number).
                # Anything else (a comment, blanks, an error) takes the way below.
                m = mem_canon(rest, 0, at)
                if m is not None:
                    # The canonical head (`gN mem 0xADDR `, at most 8 digits: no overflow):
                    # two int() calls, no to_int and no u32 test.
                    data = _mem_data(rest, at)
                    g = int(m.group(1))
                    if data is not None and g <= 255:
                        return Record_("g.mem", g, {"addr": int(m.group(2), 16), "data": data}, line, text, ts)
                m = mem_head(rest, 0, at)
                if m is not None:
                    data = _mem_data(rest, at)
                    if data is not None:
                        g, addr = to_int(m.group(1)), to_int(m.group(2))
                        if g <= 255 and addr <= 0xFFFF_FFFF:
                            return Record_("g.mem", g, {"addr": addr, "data": data}, line, text, ts)
            if '"' in rest:
                return slow(text, line, path)[0]  # a `#` may be inside the string
            if "#" in rest:
                # A comment is ignored by the grammar, and outside a string no
                # token can hold a `#`: the line means the same without it.
                rest = rest[: rest.index("#")]
            got_sum = None
            if "sum=" in rest:
                # A deliver's sum= (version 2): cut out, the rest read by the
                # deliver's own template; any other case goes to v2() below.
                # As writers put it (last, after one space, the only sum=): read
                # where it is, what SUM_RE's first match would find there.
                n = len(rest)
                if (
                    n > 69
                    and rest.find("sum=") == n - 68
                    and rest[n - 69] == " "
                    and rest[n - 70] not in " \t"
                    and hex64(rest, n - 64) is not None
                    and "mem" not in rest
                ):
                    got_sum = rest[n - 64 :]
                    rest = rest[: n - 69]
                else:
                    m = sum_search(rest)
                    if m is None or "sum=" in rest[m.end() :] or "mem" in rest:
                        return v2(text, rest, line, path, ts)
                    got_sum = m.group(1)
                    rest = rest[: m.start()] + rest[m.end() :]
            elif "mem" in rest:
                return v2(text, rest, line, path, ts)
            try:
                key = rest.encode().translate(None, delete)
                if ts is not None:
                    key = b"@" + key
                templates = lookup(key)
                if templates is not None:
                    for template in templates:
                        record = template(rest, text, line, ts)
                        if type(record) is Record_:
                            if got_sum is not None:
                                if record.kind != "host.deliver" or "sum" in record.fields:
                                    return slow(text, line, path)[0]
                                record.fields["sum"] = got_sum
                            return record
                        if record is NOMATCH:
                            continue
                        if record is BLANK:
                            # Nothing but a sum= is no blank line: lark says what it is.
                            return None if got_sum is None else slow(text, line, path)[0]
                        # None: a value does not fit, or a shape lark must
                        # see; lark re-derives the error, message and column.
                        return slow(text, line, path)[0]
            except ValueError:
                # int() refuses a number of over 4300 digits; encode() a lone
                # surrogate (from a str, never from a file): lark will say.
                return slow(text, line, path)[0]
            if got_sum is not None:  # not learnt yet, or a shape lark must see: the slower way
                return v2(text, text[start:].split("#", 1)[0], line, path, ts)
            return learn(key, text, line, path, start, start + len(rest))

        def v2(text: str, rest: str, line: int, path: str, ts) -> Record | None:
            at = rest.find("data=")
            m = mem_head(rest, 0, at) if at > 0 else None
            if m is not None:
                digits = rest[at + 5 :]
                if digits[-1:] in (" ", "\t"):  # trailing blanks (rare): one more copy
                    digits = digits.rstrip(" \t")
                try:
                    data = unhexlify(digits)
                except ValueError:  # binascii.Error: odd length or a non-hex character
                    data = None
                g, addr = to_int(m.group(1)), to_int(m.group(2))
                if (
                    data is not None
                    and 2 * len(data) == len(digits)
                    and len(digits) <= MAX_DATA_DIGITS
                    and g <= 255
                    and addr <= 0xFFFF_FFFF
                ):
                    return Record_("g.mem", g, {"addr": addr, "data": data}, line, text, ts)
                return slow(text, line, path)[0]
            m = sum_search(rest)
            if m is None or "sum=" in rest[m.end() :]:
                return slow(text, line, path)[0]
            inner = rest[: m.start()] + rest[m.end() :]
            try:
                record = parse(inner if ts is None else f"@{ts}{inner}", line, path)
            except Exception:
                record = None
            if type(record) is not Record_ or record.kind != "host.deliver" or "sum" in record.fields:
                return slow(text, line, path)[0]
            record.fields["sum"] = m.group(1)
            record.text = text
            return record

        return parse

    def _learn(self, key, text, line, path, start, stop) -> Record | None:
        record, draft = self.slow(text, line, path)  # raises if the line is bad
        if stop - start > MAX_TEMPLATE_CHARS:
            return record
        try:
            template = compile_template(draft, text, start, stop, self.partial)
        except Exception:  # a template is an optimisation: never fail a line over it
            return record
        self._keep(key, template)
        if start > 0 and stop == len(text) and draft is not None and draft.kind in HOT_KINDS:
            # Timestamped, without a comment: a stamped template too, under the whole line's key.
            try:
                stamped = compile_template(draft, text, start, stop, self.partial, stamped=True)
            except Exception:
                return record
            self._keep(text.encode().translate(None, KEY_DELETE), stamped)
        return record

    def learn_line(self, key: bytes, text: str, line: int, path: str) -> None:
        """A whole-line template for a valid version 2 line (`mem`, or a deliver with `sum=`), filed under its key.

        The reader's loop calls this for a line it read the slow way; the
        template reads the line's sum= with the rest, so later lines of its
        shape take the loop's template way (in a version 2 trace only: see
        `first_v2`).  Once per key: a key with templates is left alone.
        """
        if key is None or key in self.shapes or "#" in text or '"' in text:
            return
        if " mem " in text:
            self._keep(key, _mem_template, v2=True)  # a `mem` key is that of every canonical mem line
            return
        start = 0
        if text[:1] == "@":
            m = TIMESTAMP_RE.match(text)
            if m is None or text[m.end() : m.end() + 1] not in (" ", "\t"):
                return
            start = m.end()
        if len(text) - start > MAX_TEMPLATE_CHARS:
            return
        try:
            record, draft = self.slow(text, line, path)
            if draft is None or draft.kind != "host.deliver":
                return
            template = compile_template(draft, text, start, len(text), self.partial, stamped=start > 0)
        except Exception:  # a template is an optimisation: never fail a line over it
            return
        self._keep(key, template, v2=True)

    def _keep(self, key, template, v2: bool = False) -> None:
        """File `template` under `key`; `v2`: it reads a version 2 line (the key's other templates too)."""
        templates = self.shapes.get(key)
        firsts = (self.first_v2,) if v2 else (self.first, self.first_v2)
        if templates is None:
            if len(self.shapes) >= MAX_SHAPES:
                self.shapes.clear()  # in place: parse() and the reader hold their .get
                self.first.clear()
                self.first_v2.clear()
            self.shapes[key] = [template]
            for first in firsts:
                first[key] = template
        else:
            if len(templates) >= MAX_PER_KEY:
                del templates[0]
                for first in firsts:
                    first[key] = templates[0]
            templates.append(template)


__all__ = [
    "ShapeCache",
    "read_mem",
    "KEY_DELETE",
    "compile_template",
    "HOT_KINDS",
    "MAX_SHAPES",
    "MAX_TEMPLATE_CHARS",
    "BLANK",
    "NOMATCH",
]
