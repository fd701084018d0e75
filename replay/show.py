"""`lgcheck show`: a picture of one run.

`html(path)` replays the trace and draws it as one self-contained HTML page
(inline SVG and CSS, no script from elsewhere): a lifeline per Guest, the
Host and each Launcher; each record an arrow between two of them (a hypercall,
an answer, a fill) or a mark on one (a descriptor store, a status write); the
`used_len` of every descriptor over time as a strip beside the diagram (green
free, amber used, the value where it changes); and each finding in red at its
record with its message.  `markdown(path)` is a summary for a CI job page with
a Mermaid sequence diagram.  `html_pieces` and `markdown_pieces` yield the same page as it is built
(a finding's table row, a record's group at a time): `lgcheck show` writes them as they come, so its
memory follows the records drawn, not the findings listed.

Every drawn record is an SVG `<g class="rec" data-line="N">`, with its text
as a tooltip; a finding adds class `finding`.  The page's small script only
counts what the browser laid out (`data-drawn` on <body>), so a headless
browser can check that every record is on the page.
"""

from __future__ import annotations

import dataclasses
import html as _html
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator

from .engine import replay_file
from .errors import TraceError
from .escape import shown
from .findings import FileResult
from .parser import read_trace
from .records import UNKNOWN, Record

ROW = 22
LANE = 170
TOP = 70
LEFT = 60


def _who(rec: Record) -> tuple[str | None, str | None, str]:
    """(from, to, label) of a record: to None for a mark on `from`."""
    k, f = rec.kind, rec.fields
    g = rec.guest
    gn, ln = f"g{g}", f"l{g}"
    if k == "header":
        return "host", None, rec.text.strip()
    if k == "guest":
        return ln, None, f"guest pages={f['pages']}"
    if k == "device":
        return ln, None, f"device {g}.{f['dev']}"
    if k == "share":
        return "host", None, f"share {f['name']}"
    if k == "g.dma":
        return gn, None, "dma " + _hex(f["addr"]) + (f" used_len={f['used_len']}" if "used_len" in f else "")
    if k == "g.bind_dma":
        return gn, "host", f"bind_dma key={_hex(f['key'])} irq={f['irq']}"
    if k == "g.send_dma":
        return gn, "host", f"send_dma key={_hex(f['key'])} dma={_hex(f['dma'])}"
    if k == "g.status":
        return gn, None, f"status dev={f['dev']} value={f['value']}"
    if k == "host.deliver":
        return "host", f"g{f['dst'][0]}", f"deliver len={f['len']} irq={f['irq']}"
    if k == "host.full":
        return "host", f"g{f['dst']}", f"full irq={f['irq']}"
    if k == "host.pending":
        return "host", f"l{f['guest']}", f"pending dma={_hex(f['dma'])}"
    if k == "host.drop":
        return "host", None, f"drop g{f['guest']}"
    if k == "host.kill":
        return "host", f"g{f['guest']}", "kill"
    if k == "l.output":
        return ln, gn, f"output len={f['len']}"
    if k == "l.fill":
        return ln, gn, f"fill len={f['len']}" + (f" dma={_hex(f['dma'])}" if "dma" in f else "")
    if k == "l.nobuf":
        return ln, None, "nobuf"
    if k == "l.irq":
        return ln, gn, f"irq {f['irq']}"
    if k == "l.status":
        return ln, gn, f"status dev={f['dev']} value={f['value']}"
    if k == "l.close":
        return ln, "host", "close"
    return "host", None, k  # pragma: no cover - the kinds are closed


def _hex(v) -> str:
    return f"{v:#x}" if isinstance(v, int) else str(v)


def _used_len_writes(rec: Record) -> list[tuple[tuple[int, int], int]]:
    """((guest, descriptor), new used_len) for each used_len the record sets, as far as it says."""
    k, f = rec.kind, rec.fields
    out = []
    if k == "g.dma" and "used_len" in f and f["used_len"] is not UNKNOWN:
        out.append(((rec.guest, f["addr"]), f["used_len"]))
    elif k == "g.send_dma":
        out.append(((rec.guest, f["dma"]), 0))
    elif k == "host.deliver":
        out.append((tuple(f["src"]), f["len"]))
        out.append((tuple(f["dst"]), f["len"]))
    elif k in ("l.output", "l.fill") and "dma" in f:
        out.append(((rec.guest, f["dma"]), f["len"]))
    return [(d, v) for d, v in out if v is not UNKNOWN and d[1] is not UNKNOWN]


class Run:
    """A trace's records (up to `limit`) and its replay result."""

    def __init__(self, path: str, *, limit: int = 5000, **model):
        self.path = path
        if path == "-":
            # Standard input is read twice below (the replay, then the records to draw): spooled once to a
            # temporary file, or the drawing would find it empty.
            with tempfile.NamedTemporaryFile("wb", suffix=".lgt", delete=False) as fh:
                shutil.copyfileobj(sys.stdin.buffer, fh)
            try:
                self._read(fh.name, limit, model)
            finally:
                os.unlink(fh.name)
            self.result.file = path
            if self.result.error is not None:  # named as the user named it, not by the spool's name
                err = self.result.error
                self.result.error = dataclasses.replace(err, text=err.text.replace(fh.name, path))
        else:
            self._read(path, limit, model)
        # Only the drawn records' findings are looked up by line: the index holds those (at most
        # `limit` records' worth), not every finding of a long trace (the result spills the rest to disk).
        self.findings_at: dict[int, list] = {}
        last = self.records[-1].line if self.records else 0
        for f in self.result.findings:
            if f.line <= last:
                self.findings_at.setdefault(f.line, []).append(f)

    def _read(self, path: str, limit: int, model: dict) -> None:
        self.result: FileResult = replay_file(path, **model)
        self.records: list[Record] = []
        self.more = 0
        if self.result.error is None:
            try:
                for rec in read_trace(path, partial=model.get("partial", False)):
                    if len(self.records) < limit:
                        self.records.append(rec)
                    else:
                        self.more += 1
            except TraceError:  # pragma: no cover - replay read it already
                pass

    def lanes(self) -> list[str]:
        guests = sorted({r.guest for r in self.records if r.guest is not None and r.kind != "share"})
        for r in self.records:
            for side in _who(r)[:2]:
                if side and side[0] in "gl" and side[1:].isdigit():
                    guests = sorted(set(guests) | {int(side[1:])})
        return [f"g{g}" for g in guests] + ["host"] + [f"l{g}" for g in guests]


def _esc(s) -> str:
    return _html.escape(str(s), quote=True)


def svg(run: Run) -> str:
    return "".join(svg_pieces(run))


def svg_pieces(run: Run) -> Iterator[str]:
    """The diagram a record at a time: nothing here grows with the records but the used_len writes, which
    are the drawn records' (at most `limit`) and needed whole before the strips are drawn."""
    lanes = run.lanes()
    x = {name: LEFT + i * LANE + LANE // 2 for i, name in enumerate(lanes)}
    text_x = LEFT + len(lanes) * LANE + 10
    descs: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i, r in enumerate(run.records):
        for d, v in _used_len_writes(r):
            descs.setdefault(d, []).append((i, v))
    tracks = sorted(descs)[:24]
    strip_x = text_x + 520
    width = strip_x + len(tracks) * 28 + 40
    height = TOP + len(run.records) * ROW + 40
    yield (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="sequence diagram of {_esc(shown(run.path))}">'
    )
    yield (
        "\n<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' "
        "orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#333'/></marker>"
        "<marker id='arrow-red' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' "
        "orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#c00'/></marker></defs>"
    )
    names = {"host": "Host"}
    for name in lanes:
        label = names.get(name) or (f"Guest {name[1:]}" if name[0] == "g" else f"Launcher {name[1:]}")
        yield (
            f'\n<g class="lane" data-lane="{name}"><rect x="{x[name] - 50}" y="10" width="100" height="28" rx="4" '
            f'class="head"/><text x="{x[name]}" y="29" text-anchor="middle" class="head">{_esc(label)}</text>'
            f'<line x1="{x[name]}" y1="38" x2="{x[name]}" y2="{height - 20}" class="life"/></g>'
        )
    for ti, d in enumerate(tracks):
        tx = strip_x + ti * 28
        yield f'\n<text class="track" transform="translate({tx + 10},{TOP - 8}) rotate(-60)">g{d[0]} {d[1]:#x}</text>'
    for i, r in enumerate(run.records):
        y = TOP + i * ROW + ROW // 2
        src, dst, label = _who(r)
        bad = run.findings_at.get(r.line, [])
        cls = "rec finding" if bad else "rec"
        # (Trace text through shown(): ESC is not even a character XML allows, and a bidi override in a
        # tooltip would show a record other than the one the trace holds.)
        tip = shown(r.text.strip()) + "".join(f"\n{f.rule}: {shown(f.message)}" for f in bad)
        parts = [f'\n<g class="{cls}" data-line="{r.line}" data-kind="{r.kind}"><title>{_esc(tip)}</title>']
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4}" text-anchor="end" class="ln">{r.line}</text>')
        if dst is None or dst not in x or src not in x:
            cx = x.get(src, x["host"])
            w = min(LANE - 6, max(60, int(6.3 * len(label)) + 10))
            parts.append(f'<rect x="{cx - w // 2}" y="{y - 8}" width="{w}" height="16" rx="3" class="mark"/>')
            parts.append(f'<text x="{cx}" y="{y + 4}" text-anchor="middle" class="lbl">{_esc(label)}</text>')
        else:
            x1, x2 = x[src], x[dst]
            mx = (x1 + x2) / 2
            marker = "arrow-red" if bad else "arrow"
            parts.append(f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" class="msg" marker-end="url(#{marker})"/>')
            parts.append(f'<text x="{mx}" y="{y - 3}" text-anchor="middle" class="lbl">{_esc(label)}</text>')
        parts.append(f'<text x="{text_x}" y="{y + 4}" class="src">{_esc(shown(r.text.strip()[:70]))}</text>')
        for k, f in enumerate(bad):
            parts.append(
                f'<text x="{text_x}" y="{y + 4 + 11 * (k + 1)}" class="why">'
                f"{_esc(f.rule)}: {_esc(shown(f.message[:80]))}</text>"
            )
        parts.append("</g>")
        yield "".join(parts)
    # used_len strips: one cell per row from the first write on
    for ti, d in enumerate(tracks):
        tx = strip_x + ti * 28
        writes = descs[d]
        for wi, (row, v) in enumerate(writes):
            end = writes[wi + 1][0] if wi + 1 < len(writes) else len(run.records)
            y0 = TOP + row * ROW + 3
            h = (end - row) * ROW - 6 if end > row else ROW - 6
            colour = "free" if v == 0 else "used"
            yield (
                f'\n<g class="used_len" data-desc="g{d[0]} {d[1]:#x}" data-line="{run.records[row].line}">'
                f"<title>g{d[0]} {d[1]:#x}: used_len {v} from line {run.records[row].line}</title>"
                f'<rect x="{tx}" y="{y0}" width="20" height="{max(h, 4)}" class="{colour}"/>'
                f'<text x="{tx + 10}" y="{y0 + 12}" text-anchor="middle" class="val">{v}</text></g>'
            )
    yield "\n</svg>"


CSS = """
body { font: 13px/1.4 system-ui, sans-serif; margin: 1em; color: #222; }
h1 { font-size: 1.3em; } .ok { color: #070; } .violation, .error { color: #c00; }
svg text { font-size: 11px; } text.head { font-weight: bold; font-size: 12px; }
rect.head { fill: #eef; stroke: #88a; } line.life { stroke: #aaa; stroke-dasharray: 4 3; }
line.msg { stroke: #333; } .finding line.msg { stroke: #c00; stroke-width: 2; }
rect.mark { fill: #f6f6f6; stroke: #999; } .finding rect.mark { fill: #fee; stroke: #c00; stroke-width: 2; }
text.ln { fill: #888; } text.src { font-family: ui-monospace, monospace; fill: #444; }
.finding text.src, text.why { fill: #c00; } text.why { font-weight: bold; }
rect.free { fill: #cfc; } rect.used { fill: #fd8; } text.val { font-size: 9px; } text.track { font-size: 10px; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 2px 6px; }
"""

SCRIPT = """
(function () {
  var drawn = 0, recs = document.querySelectorAll('g.rec');
  recs.forEach(function (g) { var b = g.getBBox(); if (b.width > 0 && b.height > 0) drawn++; });
  document.body.setAttribute('data-records', recs.length);
  document.body.setAttribute('data-drawn', drawn);
})();
"""


def html(path: str, **kw) -> str:
    return html_of(Run(path, **kw))


def html_of(run: Run) -> str:
    """The whole page as one string (for tests and small traces): `lgcheck show` writes html_pieces instead."""
    return "".join(html_pieces(run))


def html_pieces(run: Run) -> Iterator[str]:
    """The page as it is built, a finding or a record at a time: the findings table has a row per finding
    (read back from the result's SpillLog as it is written), so a page held whole grew with them."""
    r, path = run.result, shown(run.path)
    yield (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>lgcheck show {_esc(path)}</title><style>{CSS}</style></head>\n<body>\n"
    )
    yield f"<h1>{_esc(path)}: <span class='{r.verdict}'>{r.verdict}</span></h1>"
    summary = f"\n<p>{r.records} records, {len(r.findings)} finding{'' if len(r.findings) == 1 else 's'}"
    if run.more:
        summary += f"; the first {len(run.records)} records are drawn ({run.more} more not drawn)"
    yield summary + "</p>"
    if r.error is not None:
        yield f"\n<pre class='error'>{_esc(r.error.text)}</pre>"
    if r.findings:
        yield "\n<table><tr><th>line</th><th>rule</th><th>message</th></tr>"
        for f in r.findings:
            msg = _esc(shown(f.message))  # (a divergence quotes the record, comment and all)
            yield f"\n<tr class='finding'><td>{f.line}</td><td>{_esc(f.rule)}</td><td>{msg}</td></tr>"
        yield "\n</table>"
    if r.notes:
        yield "\n<ul>"
        for n in r.notes:
            yield f"<li>note: {_esc(shown(n))}</li>"
        yield "</ul>"
    yield "\n"
    yield from svg_pieces(run)
    yield f"\n<script>{SCRIPT}</script>\n</body></html>\n"


def _backticks(s: str) -> int:
    """The longest run of backticks in s."""
    return max((len(m) for m in re.findall("`+", s)), default=0)


def _code_span(s: str) -> str:
    """s as Markdown inline code whatever it holds: delimited by more backticks than any run in it (CommonMark),
    so a backtick in a file name cannot end the span and let the rest be read as Markdown or HTML."""
    tick = "`" * (_backticks(s) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{tick}{pad}{s}{pad}{tick}"


def _md_cell(s: str) -> str:
    """A message as the text of a Markdown table cell, nothing in it read as Markdown or HTML.

    A divergence quotes the record it could not follow, comment included: a backtick there ended the
    message's own code span, and `<img ...>` or `[x](url)` after it became part of the CI page.  HTML is
    escaped as entities and Markdown's punctuation with backslashes (the cell shows the text as written).
    """
    return re.sub(r"([\\`*_\[\]()!|~])", r"\\\1", _html.escape(shown(s), quote=False))


def _mermaid_text(s: str) -> str:
    return shown(s).replace(";", ",").replace("#", "").replace("\n", " ")


def markdown(path: str, *, limit: int = 200, **kw) -> str:
    return markdown_of(Run(path, limit=limit, **kw))


def markdown_of(run: Run) -> str:
    """The whole summary as one string (for tests): `lgcheck show --markdown` writes markdown_pieces instead."""
    return "".join(markdown_pieces(run))


def markdown_pieces(run: Run) -> Iterator[str]:
    """The summary a line at a time (a table row per finding: held whole, it grew with them).

    The summary is printed on a terminal as often as it lands in a CI page: the trace's own text (its
    path, messages that quote it) goes through shown() so no escape sequence of it reaches the terminal."""
    r, path = run.result, shown(run.path)
    icon = {"ok": "✅", "violation": "❌", "possible-violation": "❓", "error": "⚠️"}[r.verdict]
    yield f"### {icon} {_code_span(path)}: {r.verdict}\n\n{r.records} records, {len(r.findings)} findings.\n\n"
    if r.error is not None:
        # The error quotes the trace's line: a fence longer than any backtick run in it, or a line holding ```
        # would close the block and the rest of it be rendered as the page's own Markdown.
        fence = "`" * max(3, _backticks(r.error.text) + 1)
        yield f"{fence}\n{r.error.text}\n{fence}\n\n"
    if r.findings:
        yield "| line | rule | message |\n| ---: | --- | --- |\n"
        for f in r.findings:
            yield f"| {f.line} | `{f.rule}` | {_md_cell(f.message)} |\n"
        yield "\n"
    if run.records:
        yield "```mermaid\nsequenceDiagram\n"
        for name in run.lanes():
            label = "Host" if name == "host" else (f"Guest {name[1:]}" if name[0] == "g" else f"Launcher {name[1:]}")
            yield f"    participant {name} as {label}\n"
        for rec in run.records:
            src, dst, label = _who(rec)
            label = _mermaid_text(f"{rec.line}: {label}")
            if dst is None:
                yield f"    Note over {src}: {label}\n"
            else:
                yield f"    {src}->>{dst}: {label}\n"
            for f in run.findings_at.get(rec.line, []):
                yield f"    Note over {src}: ❌ {_mermaid_text(f.rule)}\n"
        if run.more:
            yield f"    Note over host: {run.more} more records not drawn\n"
        yield "```\n"
