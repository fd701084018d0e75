"""Witnesses of possible findings: one completion of a partial trace that has the finding.

A possible finding (replay/partial.py) holds in some completions of the trace
and not in others.  Its *witness* is one completion that has it, written as
a full trace: a value for every `?` up to the finding's record, the records
for every `lost` (none at first: "at most N" includes zero), and the
model's own answer wherever an answer was missing.  Line numbers are kept
(what a completion leaves out becomes an empty line or a comment), so the
witness replays, outside partial mode, to the same rule at the same line;
a `lost` filled with k > 1 records moves the lines after it down by k - 1
(the choices say so, and the witness is cut at the finding's moved line).

How values are chosen: a `?` takes the last value the same field had in an
earlier record of the same kind and Guest (else of any Guest, else 0); or 0,
or 0x100000 (a length past any section, a pfn past any RAM), or 1 (for
`dev=?`: the device the Guest's last status record of that kind named, 0, 15 or 1);
a bind's result and GETDMA's choice are left to the model.  Each choice is
written as one completion up to the last possible finding and replayed once;
a finding it reproduces is witnessed by that completion cut at its line (the
witness is what replay itself says, never assumed).

A finding that no such completion reproduces, with a `lost` before it, may
need the lost records to do something (a lost status write that set a bit
the finding's write clears, a lost bind, a lost send that filled a buffer).
Records for the last `lost` before it are then drawn from the trace itself
(`fillers`): known records of the finding's Guest (and binds of its key),
nearest first: of the finding's own kind (a status write to the same
device), then binds (re-bind what was lost), then sends, fills, descriptor
writes (repeat the Guest's last send); one record, then two in a row of the
same kind, never more than the `lost`'s records=N.  Each is written in place
of the `lost` and replayed: it is a witness when the finding is there and
the filled records raise no finding themselves (what was lost is not
judged).  A finding that no choice reproduces gets no witness, and the
report says so: the search is bounded, not complete.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import tempfile

from .findings import Finding
from .records import UNKNOWN, Record, format_record

# Answers a completion may leave to the model (trace-format.md): a `?` in one drops it.
ANSWERS = ("host.deliver", "host.full", "host.pending", "host.drop", "host.kill", "l.output")
STRATEGIES = ("before", "zero", "large", "one")
FIXED = {"zero": 0, "one": 1, "large": 0x100000}
# Fields a trace may leave out, the model then giving its own (a bind's result, GETDMA's choice).
MODEL_CHOOSES = {("g.bind_dma", "result"), ("l.fill", "dma"), ("l.fill", "irq")}


def _slots(rec: Record):
    """(field, index, value) for each value of a record; index is None for a plain field."""
    for k, v in rec.fields.items():
        if isinstance(v, tuple) and k in ("src", "dst"):
            yield k, 1, v[1]
        elif isinstance(v, list) and k == "map":
            for i, (_, p) in enumerate(v):
                yield k, i, p
        elif isinstance(v, list):
            for i, x in enumerate(v):
                yield k, i, x
        else:
            yield k, None, v


class Pools:
    """The last known value of each field, by (kind, Guest, field, index) and by (kind, field), as records stream."""

    def __init__(self):
        self.by_guest: dict[tuple, int] = {}
        self.by_kind: dict[tuple, int] = {}

    def see(self, r: Record) -> None:
        for k, i, v in _slots(r):
            if isinstance(v, int) and v is not UNKNOWN:
                self.by_guest[(r.kind, r.guest, k, i)] = v
                self.by_kind[(r.kind, k)] = v

    def value(self, rec: Record, field: str, index, how: str) -> int:
        if field == "dev":  # a device number, 0..15: `dev=?` takes the last one written, 0, 1 or 15
            last = self.by_guest.get((rec.kind, rec.guest, field, index), 0)
            return {"zero": 0, "one": 1, "large": 15}.get(how, last)
        if how in FIXED:
            from .candidates import _largest

            return min(FIXED[how], _largest(rec.kind, field))  # a witness must be a trace the format accepts
        v = self.by_guest.get((rec.kind, rec.guest, field, index))
        if v is None:
            v = self.by_kind.get((rec.kind, field), 0)
        return v


def _filled(rec: Record, pools: Pools, how: str) -> Record:
    fields = {}
    for k, v in rec.fields.items():
        if v is UNKNOWN and (rec.kind, k) in MODEL_CHOOSES:
            continue  # left out: the model's own answer
        if v is UNKNOWN:
            v = pools.value(rec, k, None, how)
        elif isinstance(v, tuple) and k in ("src", "dst") and v[1] is UNKNOWN:
            v = (v[0], pools.value(rec, k, 1, how))
        elif isinstance(v, list) and k == "map":
            v = [(g, pools.value(rec, k, i, how) if p is UNKNOWN else p) for i, (g, p) in enumerate(v)]
        elif isinstance(v, list):
            v = [pools.value(rec, k, i, how) if x is UNKNOWN else x for i, x in enumerate(v)]
        fields[k] = v
    return Record(rec.kind, rec.guest, fields, rec.line, "", rec.ts)


def _has_unknown(rec: Record) -> bool:
    return any(v is UNKNOWN for _, _, v in _slots(rec))


KEPT_CHOICES = 50  # choices a witness lists record by record (JSON `choices`); the rest are only counted


class Choices:
    """What one completion chose, record by record, in memory bounded by KEPT_CHOICES, not by the trace's `?`s.

    A capture with a `?` in every record would otherwise hold one entry per
    record up to the finding, for each witness.  Kept: the first KEPT_CHOICES
    entries, and every `lost` filled with records (one per completion: the
    lines after it move, so `moved_line` needs it wherever it is); the rest
    are counted by what they are, which is what the report says of a witness.
    Iterating gives the kept entries (the fills too), in line order.
    """

    def __init__(self):
        self.kept: list[dict] = []
        self.fills: list[dict] = []
        self.total = self.values = self.lost = self.filled = self.dropped = 0
        self.at: dict[int, Choices] = {}  # completion(cuts=...): the choices up to each of those lines

    def add(self, c: dict) -> None:
        self.total += 1
        if c.get("record"):
            self.values += 1
        elif "record" in c:
            self.dropped += 1  # an answer with a `?`, left to the model
        if "lost" in c:
            self.lost += 1
            if c["lost"]:
                self.filled += 1
                self.fills.append(c)
        if len(self.kept) < KEPT_CHOICES:
            self.kept.append(c)

    def copy(self) -> Choices:
        other = Choices()
        other.kept, other.fills = list(self.kept), list(self.fills)
        other.total, other.values, other.lost = self.total, self.values, self.lost
        other.filled, other.dropped = self.filled, self.dropped
        return other

    @property
    def more(self) -> int:
        """Entries counted but not kept."""
        return self.total - len(self.kept)

    def __iter__(self):
        kept = {id(c) for c in self.kept}
        extra = [c for c in self.fills if id(c) not in kept]
        return iter(sorted(self.kept + extra, key=lambda c: c["line"]))

    def __len__(self) -> int:
        return self.total


def completion(records, upto: int, how: str, out, fill: dict | None = None, cuts=()) -> Choices:
    """Write to `out` the trace up to line `upto` completed one way; returns what it chose, record by record.

    `fill` maps a `lost`'s line to the records (text) written in its place (else none).  For each line of
    `cuts`, the result's `at` gives what was chosen up to that line (each finding's witness is the
    completion cut at its line)."""
    pools = Pools()
    line = 0
    chosen = Choices()
    cuts = sorted(set(cuts))
    k = 0
    for r in records:
        while k < len(cuts) and r.line > cuts[k]:
            chosen.at[cuts[k]] = chosen.copy()
            k += 1
        if r.line > upto:
            break
        while line < r.line - 1:
            out.write("\n")
            line += 1
        if r.kind == "lost" and fill and fill.get(r.line):
            text = "\n".join(fill[r.line])  # one line each: the lines after this one move down
            chosen.add({"line": r.line, "lost": list(fill[r.line])})
        elif r.kind == "lost":
            text = f"# {format_record(r)}: none of them in this completion"
            chosen.add({"line": r.line, "lost": []})
        elif not _has_unknown(r):
            text = r.text.split("#", 1)[0].rstrip() if r.text else format_record(r)
        elif r.kind in ANSWERS:
            text = "# an answer with a `?`: the model's own in this completion"
            chosen.add({"line": r.line, "record": None})
        else:
            text = format_record(_filled(r, pools, how))
            chosen.add({"line": r.line, "record": text})
        pools.see(r)
        out.write(text + "\n")
        line += 1
    for cut in cuts[k:]:
        chosen.at[cut] = chosen.copy()
    return chosen


def findings_of(path: str, **model) -> set[tuple[str, int]] | None:
    """(rule, line) of each finding of a full trace replayed outside partial mode; None if it is not a valid trace."""
    from .engine import replay_file

    r = replay_file(path, **model)
    return None if r.error is not None else {(f.rule, f.line) for f in r.findings}


def head(path: str, upto: int, spool: bool = False):
    """The first `upto` lines of a file: as a string, or with `spool` in an anonymous temporary file (read
    from its start), so that a witness of a long trace is not held in memory."""
    out = tempfile.TemporaryFile("w+", encoding="utf-8") if spool else io.StringIO()
    with open(path, encoding="utf-8") as fh:
        for i, text in enumerate(fh):
            if i >= upto:
                break
            out.write(text)
    if not spool:
        return out.getvalue()
    out.seek(0)
    return out


def witnesses(source, findings, *, limit: int = 10, spool: bool = False, **model) -> dict[int, tuple | None]:
    """Witnesses of the first `limit` possible findings: index -> (full trace text, Choices), or None if none found.

    With `spool` the text is an anonymous temporary file (see head()) that write() copies from: a witness is
    a completion as long as the trace up to its finding, too long to hold in memory for a long capture.

    `source()` gives the partial trace's records afresh (they stream: memory
    stays flat).  Each strategy writes one completion up to the last of
    these findings and replays it once; a finding it reproduces gets that
    completion cut at its line.
    """
    # islice: the possible findings may be many (and spilled to disk); only the first `limit` are wanted.
    wanted = list(itertools.islice(((i, f) for i, f in enumerate(findings) if not f.certain), limit))
    out: dict[int, tuple[str, Choices] | None] = {i: None for i, _ in wanted}
    if not wanted:
        return out
    upto = max(f.line for _, f in wanted)
    with tempfile.TemporaryDirectory(prefix="lgcheck-witness-") as d:
        for how in STRATEGIES:
            todo = [(i, f) for i, f in wanted if out[i] is None]
            if not todo:
                break
            p = os.path.join(d, f"{how}.lgt")
            with open(p, "w", encoding="utf-8") as fh:
                chosen = completion(source(), upto, how, fh, cuts=[f.line for _, f in todo])
            got = findings_of(p, **model)
            if got is None:
                continue
            for i, f in todo:
                if (f.rule, f.line) in got:
                    out[i] = (head(p, f.line, spool), chosen.at[f.line])
        tries = MAX_FILLS
        for i, f in wanted:
            if out[i] is None and tries > 0:
                out[i], tries = _with_lost_records(source, f, d, tries, model, spool)
    return out


# Kinds of record a `lost` may be filled with (inputs the trace shows elsewhere; answers stay the model's).
FILLER_KINDS = ("g.status", "l.status", "g.bind_dma", "g.send_dma", "l.fill", "g.dma", "l.output", "l.irq")
MAX_FILLS = 48  # completions with lost records tried per call (each is one replay up to its finding)
PER_FINDING = 8  # of those, for one finding
WINDOW = 400  # lines after the finding whose records may fill a `lost` before it


def _key(r: Record):
    """What makes two records "of the same kind" for filling: kind, Guest, and a status write's device."""
    return (r.kind, r.guest, r.fields.get("dev") if r.kind in ("g.status", "l.status") else None)


def fillers(source, f: Finding) -> tuple[Record | None, list[list[str]]]:
    """The last `lost` before finding f, and the record lists to try in its place, most likely first."""
    lost: Record | None = None
    target: Record | None = None
    before: dict[tuple, list[Record]] = {}  # key -> the last two such records before the `lost`
    after: dict[tuple, list[Record]] = {}  # key -> the first two after the finding's record
    seen: dict[tuple, list[Record]] = before
    for r in source():
        if r.line > f.line + WINDOW:
            break
        if r.line == f.line and r.kind != "lost":
            target, seen = r, after
            continue
        if r.kind == "lost" and r.line < f.line:
            lost, before = r, {}
            seen = before
            continue
        if r.kind in FILLER_KINDS and not _has_unknown(r):
            xs = seen.setdefault(_key(r), [])
            if seen is before:
                xs.append(r)
                del xs[:-2]
            elif len(xs) < 2:
                xs.append(r)
    if lost is None or target is None or lost.fields.get("records") == 0:
        return lost, []
    n = lost.fields.get("records")
    n = n if isinstance(n, int) else 3  # an unbounded `lost` (no count, or `records=?`): a few are as good as any

    def related(k) -> int | None:
        """Order of a kind of record as a filler for this finding: None if it cannot matter."""
        kind, g, _ = k
        if k == _key(target):
            return 0
        if kind == "g.bind_dma":
            return (
                1
                if g == target.guest
                or any(r.fields.get("key") == target.fields.get("key") for r in before.get(k, []) + after.get(k, []))
                else None
            )
        if g != target.guest:
            return None
        return 2 + FILLER_KINDS.index(kind)

    keys = sorted({k for k in (*after, *before) if related(k) is not None}, key=related)
    singles, pairs = [], []
    for k in keys:
        for r in after.get(k, [])[:1] + before.get(k, [])[-1:]:
            singles.append([_text(r)])
        if k == _key(target) and _one_bit_more(target) is not None:
            singles.append([_one_bit_more(target)])
        if n >= 2:
            for xs in (after.get(k, []), before.get(k, [])):
                if len(xs) == 2:
                    pairs.append([_text(xs[0]), _text(xs[1])])
    if _key(target) not in keys and _one_bit_more(target) is not None:
        singles.insert(0, [_one_bit_more(target)])
    shorter = _shorter_sections(source, target) if f.rule == "buffer-overflow" else None
    if shorter is not None:
        singles.insert(0, [shorter])
    out: list[list[str]] = []
    for c in singles + pairs:
        if c not in out and len(c) <= n:
            out.append(c)
    return lost, out[:PER_FINDING]


def _one_bit_more(r: Record) -> str | None:
    """For a status write of V: the same write with one bit more that its writer may newly set (a Guest any
    but REMOVED, a Launcher only REMOVED), so that the write of V after it clears that bit."""
    from ..spec import constants as C

    if r.kind not in ("g.status", "l.status") or _has_unknown(r):
        return None
    v = r.fields["value"]
    allowed = (C.REMOVED,) if r.kind == "l.status" else (C.ACKNOWLEDGE, C.DRIVER, C.DRIVER_OK, C.REMOVED_ACK, C.FAILED)
    bit = next((b for b in allowed if not v & b), None)
    if bit is None:
        return None
    return format_record(Record(r.kind, r.guest, dict(r.fields, value=v | bit), r.line, "", r.ts))


def _shorter_sections(source, target: Record) -> str | None:
    """For a fill of L bytes into descriptor D: a `g dma D` that gives D one section of L - 1 bytes at the
    address the Guest last wrote there (a lost descriptor write that the fill then overflows)."""
    f = target.fields
    g, dma, n = target.guest, f.get("dma"), f.get("len")
    if target.kind != "l.fill" or not isinstance(dma, int) or not isinstance(n, int) or n < 1:
        return None
    addr = None
    for r in source():
        if r.line >= target.line:
            break
        if r.kind == "g.dma" and r.guest == g and r.fields.get("addr") == dma:
            xs = r.fields.get("addrs")
            if xs and isinstance(xs[0], int):
                addr = xs[0]
    return None if addr is None else f"g{g} dma {dma:#x} addr=[{addr:#x}] len=[{n - 1}]"


def _text(r: Record) -> str:
    return r.text.split("#", 1)[0].strip() if r.text else format_record(r)


def _with_lost_records(source, f: Finding, d: str, tries: int, model, spool=False) -> tuple[tuple | None, int]:
    """A witness of f with records in place of the last `lost` before it; (witness or None, tries left)."""
    lost, choices = fillers(source, f)
    p = os.path.join(d, "lost.lgt")
    for recs in choices:
        if tries <= 0:
            break
        tries -= 1
        moved = len(recs) - 1
        with open(p, "w", encoding="utf-8") as fh:
            chosen = completion(source(), f.line, "before", fh, {lost.line: recs})
        got = findings_of(p, **model)
        if got is None or (f.rule, f.line + moved) not in got:
            continue
        if any(lost.line <= line <= lost.line + moved for _, line in got):
            continue  # the filled records raise a finding themselves: not what a `lost` may hide
        return (head(p, f.line + moved, spool), chosen), tries
    return None, tries


def moved_line(line: int, chosen) -> int:
    """Where the trace's line `line` is in a witness that filled some `lost`s (k records move later lines by k-1)."""
    return line + sum(max(0, len(c["lost"]) - 1) for c in chosen if "lost" in c and c["line"] < line)


def base_name(path: str, taken: dict[str, str]) -> str:
    """The <trace> part of the witnesses' names for `path`: its name without .lgt, and `-2`, `-3`, ... after
    it when another trace of this run (a/run.lgt, b/run.lgt) has that name already, so that the second's
    witnesses do not overwrite the first's.  `taken` maps the names given so far to their traces."""
    stem = "stdin" if path == "-" else os.path.splitext(os.path.basename(path))[0] or "trace"
    base, k = stem, 1
    while taken.get(base, path) != path:
        k += 1
        base = f"{stem}-{k}"
    taken[base] = path
    return base


NAME_MAX = 255  # bytes of one file name (Linux, macOS)
_TMP_EXTRA = len(".") + len(".XXXXXXXX.tmp")  # what mkstemp adds around the name of the file it stands in for


def _fitted(base: str, tail: str) -> str:
    """base + tail, with base cut so that the name (and its temporary file's) fits in NAME_MAX bytes.

    A trace's name may already be near the limit, and the witness's name is longer: writing it failed with
    ENAMETOOLONG (an internal error).  A cut base ends in `~` and 8 hex digits of the whole base's hash, so
    two long names that share their beginning still get witnesses of their own.
    """
    room = NAME_MAX - _TMP_EXTRA - len(os.fsencode(tail))
    raw = os.fsencode(base)
    if len(raw) <= room:
        return base + tail
    mark = "~" + hashlib.sha256(raw).hexdigest()[:8]
    cut = raw[: max(0, room - len(mark))]
    return _decode_cut(cut) + mark + tail


def _decode_cut(raw: bytes) -> str:
    """Bytes cut at a byte count, as a name: a UTF-8 character the cut split is dropped whole."""
    for drop in range(4):
        try:
            return raw[: len(raw) - drop].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return os.fsdecode(raw)  # not UTF-8 at all: its bytes as they are (surrogateescape)


WITNESS_MARK = "# witness: a completion of "  # the comment every witness holds (write())


def _replaceable(path: str) -> bool:
    """May a witness be written at `path`: nothing is there, a link (replaced, never followed), or a witness
    an earlier run wrote (a regular file holding the witness comment near its start)?  A file of the user's
    that merely has the name (a capture called run.line17.write-to-used-buffer.lgt) is never replaced."""
    try:
        if os.path.islink(path) or not os.path.lexists(path):
            return True
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    return b"\n" + WITNESS_MARK.encode() in head


def write(directory: str, path: str, finding: Finding, text: str, chosen=(), base: str | None = None) -> str:
    """Write a witness as DIR/<base>.line<N>.<rule>.lgt (base: the trace's name without .lgt); returns its path.

    Written to a temporary file renamed over the name: a symbolic link there is replaced, never followed
    into the file it names."""
    os.makedirs(directory, exist_ok=True)
    if base is None:
        base = "stdin" if path == "-" else os.path.splitext(os.path.basename(path))[0] or "trace"
    out = os.path.join(directory, _fitted(base, f".line{finding.line}.{finding.rule}.lgt"))
    k = 1
    while not _replaceable(out):
        k += 1  # someone else's file has the name: the witness takes the next free one, never that file's place
        out = os.path.join(directory, _fitted(base, f".line{finding.line}.{finding.rule}-{k}.lgt"))
    name = "".join(c if c.isprintable() else "?" for c in os.path.basename(path))  # one line, whatever the name
    if path == "-":
        name = "standard input"
    at = moved_line(finding.line, chosen)
    where = f"line {finding.line}" if at == finding.line else f"line {finding.line} (line {at} here)"
    comment = f"{WITNESS_MARK}{name} with the possible {finding.rule} at {where}"
    # `text` is a string or a spooled file (witnesses(spool=True)): copied line by line either way.
    lines = io.StringIO(text) if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(out) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            # The first line is the header record: the comment goes on the first empty line after it (the
            # text's end counts as one when it ends in a newline), else nowhere.
            placed, last = False, ""
            for j, line in enumerate(lines):
                if not placed and j > 0 and line in ("\n", ""):
                    line, placed = comment + ("\n" if line else ""), True
                fh.write(line)
                last = line
            if not placed and last.endswith("\n"):
                fh.write(comment)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    return out
