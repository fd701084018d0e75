"""`lgcheck show`'s page builders as they were before the page was streamed (commit 1ef35f9), kept verbatim as
the oracle the streamed page must match byte for byte.  They build the whole page as one string: tests only."""

from __future__ import annotations

from lgcheck.replay.escape import shown
from lgcheck.replay.show import CSS, LANE, LEFT, ROW, SCRIPT, TOP, Run, _esc, _mermaid_text, _used_len_writes, _who


def svg(run: Run) -> str:
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
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="sequence diagram of {_esc(run.path)}">',
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' "
        "orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#333'/></marker>"
        "<marker id='arrow-red' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' "
        "orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#c00'/></marker></defs>",
    ]
    names = {"host": "Host"}
    for name in lanes:
        label = names.get(name) or (f"Guest {name[1:]}" if name[0] == "g" else f"Launcher {name[1:]}")
        out.append(
            f'<g class="lane" data-lane="{name}"><rect x="{x[name] - 50}" y="10" width="100" height="28" rx="4" '
            f'class="head"/><text x="{x[name]}" y="29" text-anchor="middle" class="head">{_esc(label)}</text>'
            f'<line x1="{x[name]}" y1="38" x2="{x[name]}" y2="{height - 20}" class="life"/></g>'
        )
    for d in tracks:
        tx = strip_x + tracks.index(d) * 28
        out.append(
            f'<text class="track" transform="translate({tx + 10},{TOP - 8}) rotate(-60)">g{d[0]} {d[1]:#x}</text>'
        )
    for i, r in enumerate(run.records):
        y = TOP + i * ROW + ROW // 2
        src, dst, label = _who(r)
        bad = run.findings_at.get(r.line, [])
        cls = "rec finding" if bad else "rec"
        tip = r.text.strip() + "".join(f"\n{f.rule}: {f.message}" for f in bad)
        parts = [f'<g class="{cls}" data-line="{r.line}" data-kind="{r.kind}"><title>{_esc(tip)}</title>']
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
        parts.append(f'<text x="{text_x}" y="{y + 4}" class="src">{_esc(r.text.strip()[:70])}</text>')
        for k, f in enumerate(bad):
            parts.append(
                f'<text x="{text_x}" y="{y + 4 + 11 * (k + 1)}" class="why">'
                f"{_esc(f.rule)}: {_esc(f.message[:80])}</text>"
            )
        parts.append("</g>")
        out.append("".join(parts))
    # used_len strips: one cell per row from the first write on
    for ti, d in enumerate(tracks):
        tx = strip_x + ti * 28
        writes = descs[d]
        for wi, (row, v) in enumerate(writes):
            end = writes[wi + 1][0] if wi + 1 < len(writes) else len(run.records)
            y0 = TOP + row * ROW + 3
            h = (end - row) * ROW - 6 if end > row else ROW - 6
            colour = "free" if v == 0 else "used"
            out.append(
                f'<g class="used_len" data-desc="g{d[0]} {d[1]:#x}" data-line="{run.records[row].line}">'
                f"<title>g{d[0]} {d[1]:#x}: used_len {v} from line {run.records[row].line}</title>"
                f'<rect x="{tx}" y="{y0}" width="20" height="{max(h, 4)}" class="{colour}"/>'
                f'<text x="{tx + 10}" y="{y0 + 12}" text-anchor="middle" class="val">{v}</text></g>'
            )
    out.append("</svg>")
    return "\n".join(out)



def html_of(run: Run) -> str:
    r, path = run.result, shown(run.path)
    head = f"<h1>{_esc(path)}: <span class='{r.verdict}'>{r.verdict}</span></h1>"
    summary = f"<p>{r.records} records, {len(r.findings)} finding{'' if len(r.findings) == 1 else 's'}"
    if run.more:
        summary += f"; the first {len(run.records)} records are drawn ({run.more} more not drawn)"
    summary += "</p>"
    body = [head, summary]
    if r.error is not None:
        body.append(f"<pre class='error'>{_esc(r.error.text)}</pre>")
    if r.findings:
        body.append("<table><tr><th>line</th><th>rule</th><th>message</th></tr>")
        for f in r.findings:
            body.append(f"<tr class='finding'><td>{f.line}</td><td>{_esc(f.rule)}</td><td>{_esc(f.message)}</td></tr>")
        body.append("</table>")
    if r.notes:
        body.append("<ul>" + "".join(f"<li>note: {_esc(n)}</li>" for n in r.notes) + "</ul>")
    body.append(svg(run))
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>lgcheck show {_esc(path)}</title><style>{CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{SCRIPT}</script>\n</body></html>\n"
    )



def markdown_of(run: Run) -> str:
    """The summary is printed on a terminal as often as it lands in a CI page: the trace's own text (its
    path, messages that quote it) goes through shown() so no escape sequence of it reaches the terminal."""
    r, path = run.result, shown(run.path)
    icon = {"ok": "✅", "violation": "❌", "error": "⚠️"}[r.verdict]
    out = [f"### {icon} `{path}`: {r.verdict}", "", f"{r.records} records, {len(r.findings)} findings.", ""]
    if r.error is not None:
        out += ["```", r.error.text, "```", ""]
    if r.findings:
        out += ["| line | rule | message |", "| ---: | --- | --- |"]
        for f in r.findings:
            out.append(f"| {f.line} | `{f.rule}` | {shown(f.message).replace('|', '/')} |")
        out.append("")
    if run.records:
        out += ["```mermaid", "sequenceDiagram"]
        for name in run.lanes():
            label = "Host" if name == "host" else (f"Guest {name[1:]}" if name[0] == "g" else f"Launcher {name[1:]}")
            out.append(f"    participant {name} as {label}")
        for rec in run.records:
            src, dst, label = _who(rec)
            label = _mermaid_text(f"{rec.line}: {label}")
            if dst is None:
                out.append(f"    Note over {src}: {label}")
            else:
                out.append(f"    {src}->>{dst}: {label}")
            for f in run.findings_at.get(rec.line, []):
                out.append(f"    Note over {src}: ❌ {_mermaid_text(f.rule)}")
        if run.more:
            out.append(f"    Note over host: {run.more} more records not drawn")
        out.append("```")
    return "\n".join(out) + "\n"
