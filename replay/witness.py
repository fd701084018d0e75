"""Witnesses of possible findings: one completion of a partial trace that has the finding.

A possible finding (replay/partial.py) holds in some completions of the trace
and not in others.  Its *witness* is one completion that has it, written as
a full trace: a value for every `?` up to the finding's record, the records
for every `lost` (here always none: "at most N" includes zero), and the
model's own answer wherever an answer was missing.  Line numbers are kept
(what a completion leaves out becomes an empty line or a comment), so the
witness replays, outside partial mode, to the same rule at the same line.

How values are chosen: a `?` takes the last value the same field had in an
earlier record of the same kind and Guest (else of any Guest, else 0); or 0,
or 0x100000 (a length past any section, a pfn past any RAM), or 1 (for
`dev=?`: the device the Guest's last status record of that kind named, 0, 15 or 1);
a bind's result and GETDMA's choice are left to the model.  Each choice is
written as one completion up to the last possible finding and replayed once;
a finding it reproduces is witnessed by that completion cut at its line (the
witness is what replay itself says, never assumed).  A finding that no
choice reproduces gets no witness, and the report says so: the search is
bounded, not complete.
"""

from __future__ import annotations

import os

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


def completion(records, upto: int, how: str, out) -> list[dict]:
    """Write to `out` the trace up to line `upto` completed one way; returns what it chose, record by record."""
    pools = Pools()
    line = 0
    chosen: list[dict] = []
    for r in records:
        if r.line > upto:
            break
        while line < r.line - 1:
            out.write("\n")
            line += 1
        if r.kind == "lost":
            text = f"# {format_record(r)}: none of them in this completion"
            chosen.append({"line": r.line, "lost": []})
        elif not _has_unknown(r):
            text = r.text.split("#", 1)[0].rstrip() if r.text else format_record(r)
        elif r.kind in ANSWERS:
            text = "# an answer with a `?`: the model's own in this completion"
            chosen.append({"line": r.line, "record": None})
        else:
            text = format_record(_filled(r, pools, how))
            chosen.append({"line": r.line, "record": text})
        pools.see(r)
        out.write(text + "\n")
        line += 1
    return chosen


def findings_of(path: str, **model) -> set[tuple[str, int]] | None:
    """(rule, line) of each finding of a full trace replayed outside partial mode; None if it is not a valid trace."""
    from .engine import replay_file

    r = replay_file(path, **model)
    return None if r.error is not None else {(f.rule, f.line) for f in r.findings}


def head(path: str, upto: int) -> str:
    """The first `upto` lines of a file."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for i, text in enumerate(fh):
            if i >= upto:
                break
            out.append(text)
    return "".join(out)


def witnesses(source, findings, *, limit: int = 10, **model) -> dict[int, tuple[str, list[dict]] | None]:
    """Witnesses of the first `limit` possible findings: index -> (full trace text, choices), or None if none found.

    `source()` gives the partial trace's records afresh (they stream: memory
    stays flat).  Each strategy writes one completion up to the last of
    these findings and replays it once; a finding it reproduces gets that
    completion cut at its line.
    """
    import tempfile

    wanted = [(i, f) for i, f in enumerate(findings) if not f.certain][:limit]
    out: dict[int, tuple[str, list[dict]] | None] = {i: None for i, _ in wanted}
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
                chosen = completion(source(), upto, how, fh)
            got = findings_of(p, **model)
            if got is None:
                continue
            for i, f in todo:
                if (f.rule, f.line) in got:
                    out[i] = (head(p, f.line), [c for c in chosen if c["line"] <= f.line])
    return out


def write(directory: str, path: str, finding: Finding, text: str) -> str:
    """Write a witness as DIR/<trace>.line<N>.<rule>.lgt; returns its path."""
    os.makedirs(directory, exist_ok=True)
    base = os.path.splitext(os.path.basename(path))[0] or "trace"
    out = os.path.join(directory, f"{base}.line{finding.line}.{finding.rule}.lgt")
    name = "".join(c if c.isprintable() else "?" for c in os.path.basename(path))  # one line, whatever the name
    head = f"# witness: a completion of {name} with the possible {finding.rule} at line {finding.line}"
    lines = text.split("\n")
    # The first line is the header record: the comment goes on an empty line if there is one, else nowhere.
    for j, line in enumerate(lines):
        if j > 0 and line == "":
            lines[j] = head
            break
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    return out
