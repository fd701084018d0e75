"""`lgcheck show`: every record drawn, findings in red, used_len strips; checked in the SVG itself and in a
real headless browser (Debian's chromium: .ci/run installs it; without it the browser test is skipped
outside CI and fails under CI)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from lgcheck.cli import main
from lgcheck.replay import show
from lgcheck.replay.engine import replay_file

TRACES = os.path.join(os.path.dirname(__file__), "..", "..", "traces")
FLOOD = os.path.join(TRACES, "bad-write-to-used-buffer-console-flood.lgt")
NET = os.path.join(TRACES, "net-two-guests.lgt")
SVG = "{http://www.w3.org/2000/svg}"


def _svg(page: str) -> ET.Element:
    return ET.fromstring(re.search(r"<svg .*?</svg>", page, re.S).group(0))


@pytest.mark.parametrize("trace, lanes", [(FLOOD, ["g0", "host", "l0"]), (NET, ["g0", "g1", "host", "l0", "l1"])])
def test_every_record_is_a_group_with_its_line(trace, lanes):
    root = _svg(show.html(trace))
    recs = [g for g in root.iter(f"{SVG}g") if "rec" in g.get("class", "").split()]
    with open(trace) as fh:
        lines = [i for i, t in enumerate(fh, 1) if t.split("#", 1)[0].strip()]
    assert [int(g.get("data-line")) for g in recs] == lines
    assert len(recs) == replay_file(trace).records
    assert [g.get("data-lane") for g in root.iter(f"{SVG}g") if g.get("class") == "lane"] == lanes


def test_findings_are_red_at_their_record_with_the_message():
    root = _svg(show.html(FLOOD))
    bad = [g for g in root.iter(f"{SVG}g") if "finding" in g.get("class", "").split()]
    assert [g.get("data-line") for g in bad] == ["29"]
    texts = "".join(t.text or "" for t in bad[0].iter(f"{SVG}text"))
    assert "write-to-used-buffer: l0's fill writes 3 bytes" in texts
    assert "write-to-used-buffer" in bad[0].find(f"{SVG}title").text


def test_used_len_strip_follows_the_descriptor():
    root = _svg(show.html(FLOOD))
    cells = [g for g in root.iter(f"{SVG}g") if g.get("class") == "used_len"]
    assert [(c.get("data-desc"), c.get("data-line"), c.find(f"{SVG}text").text) for c in cells] == [
        ("g0 0x477d60", "22", "0"),
        ("g0 0x477d60", "26", "5"),
        ("g0 0x477d60", "29", "3"),
    ]


def test_markdown_has_a_mermaid_diagram_of_every_record(capsys):
    assert main(["show", "--markdown", FLOOD]) == 0
    md = capsys.readouterr().out
    diagram = re.search(r"```mermaid\nsequenceDiagram\n(.*?)```", md, re.S).group(1)
    for line in (14, 17, 18, 20, 21, 22, 23, 24, 26, 29):
        assert f": {line}: " in diagram
    assert "l0->>g0: 29: fill len=3" in diagram and "❌ write-to-used-buffer" in diagram
    assert "| 29 | `write-to-used-buffer` |" in md


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_page_in_a_headless_browser(tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have chromium (.ci/run installs it)")
        pytest.skip("no chromium here")
    page = tmp_path / "net.html"
    assert main(["show", NET, "-o", str(page)]) == 0
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,900"]
    dom = subprocess.run(flags + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    records = replay_file(NET).records
    assert f'data-records="{records}"' in body and f'data-drawn="{records}"' in body
    shot = tmp_path / "net.png"
    subprocess.run(flags + [f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank page is a few KB


def test_show_never_writes_over_the_trace_it_draws(tmp_path, capsys):
    """`-o` naming the trace, a link to it, or a trace whose default page name is its own name: refused (exit 2)
    before anything is written, and the trace is left as it was."""
    trace = tmp_path / "run.lgt"
    trace.write_bytes(open(FLOOD, "rb").read())
    before = trace.read_bytes()
    link = tmp_path / "link.lgt"
    link.symlink_to(trace)
    assert main(["show", str(trace), "-o", str(trace)]) == 2
    assert main(["show", str(trace), "--markdown", "-o", str(link)]) == 2
    assert main(["show", str(link), "-o", str(trace)]) == 2
    named_html = tmp_path / "page.html"
    named_html.write_bytes(before)
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert main(["show", "page.html"]) == 2
    finally:
        os.chdir(cwd)
    assert trace.read_bytes() == before and named_html.read_bytes() == before
    assert "that is the trace itself" in capsys.readouterr().err


def test_show_replaces_a_link_at_its_output_rather_than_writing_through_it(tmp_path):
    other = tmp_path / "other.lgt"
    other.write_text("lguest-trace 1\n")
    out = tmp_path / "page.html"
    out.symlink_to(other)
    assert main(["show", FLOOD, "-o", str(out)]) == 0
    assert other.read_text() == "lguest-trace 1\n"
    assert not out.is_symlink() and "<svg" in out.read_text()


def test_show_of_a_bad_trace_exits_2_with_the_error_on_stderr(tmp_path, capsys):
    bad = tmp_path / "bad.lgt"
    bad.write_text("lguest-trace 1\nguest 0 pages=16\ng0 bogus\n")
    page = tmp_path / "bad.html"
    assert main(["show", str(bad), "-o", str(page)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3:4: error: unknown record" in err and "Traceback" not in err
    assert "unknown record" in page.read_text()  # the page shows it too
    missing = tmp_path / "missing.lgt"
    assert main(["show", str(missing), "-o", str(tmp_path / "missing.html")]) == 2
    assert "cannot open trace" in capsys.readouterr().err
    assert not (tmp_path / "missing.html").exists()  # no page for a file that is not there
    assert main(["show", str(FLOOD), "--max-records", "-1", "-o", str(page)]) == 2
    assert "--max-records must be 0 or more" in capsys.readouterr().err


def test_show_markdown_on_a_terminal_escapes_the_traces_text(tmp_path, capsys):
    name = tmp_path / "run\x1b[2J.lgt"
    name.write_bytes(open(FLOOD, "rb").read())
    assert main(["show", "--markdown", str(name)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "run\\x1b[2J.lgt" in out


def test_show_draws_standard_input(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(open(FLOOD, "rb").read())))
    assert main(["show", "-", "-o", "-"]) == 0
    page = capsys.readouterr().out
    drawn = _svg(page).findall(f".//{SVG}g[@data-line]")
    assert drawn and len(drawn) == len(_svg(show.html(FLOOD)).findall(f".//{SVG}g[@data-line]"))


def test_the_per_line_index_holds_only_the_drawn_records_findings(tmp_path):
    """A long trace's findings past the drawing limit are counted, not indexed: memory follows `limit`."""
    head = open(FLOOD).read()
    fills = "".join(f"l0 fill key=0 dma=0x477d60 len={1 + i % 200} irq=1\n" for i in range(3000))
    path = tmp_path / "long.lgt"
    path.write_text(head + fills)
    run = show.Run(str(path), limit=50)
    drawn = {r.line for r in run.records}
    assert len(run.result.findings) > 3000 and run.more > 2900
    assert run.findings_at and set(run.findings_at) <= drawn
    assert sum(map(len, run.findings_at.values())) < 50
    page = show.markdown_of(run)  # the drawn records still carry their findings
    assert page.count("❌ write-to-used-buffer") == sum(map(len, run.findings_at.values()))


def test_markdown_of_a_partial_replay_with_only_possible_findings(tmp_path):
    """The page's heading has an icon for every verdict, `possible-violation` (a partial capture's) too."""
    from lgcheck.replay.show import Run, markdown_of

    text = open(os.path.join(TRACES, "bad-bad-dma-section-crosses-page.lgt")).read()
    text = text.replace("guest 0 pages=8192", "guest 0 pages=?")
    path = tmp_path / "p.lgt"
    path.write_text(text)
    page = markdown_of(Run(str(path), partial=True))
    assert "### ❓ `" in page and ": possible-violation" in page


def test_show_markdown_keeps_backticks_of_the_trace_inside_its_code(tmp_path, capsys):
    # A backtick in the file name ended the heading's code span, and a line holding ``` in a bad trace closed
    # the error's fence: the rest was rendered as the CI page's own Markdown (links, images, HTML).
    bad = tmp_path / "md`x.lgt"
    bad.write_text("lguest-trace 1\nbogus ``` <img src=https://e/x.png> [x](http://e)\n")
    assert main(["show", "--markdown", str(bad)]) == 2
    out = capsys.readouterr().out.splitlines()
    ticks = re.match(r"### \S+ (`+)", out[0]).group(1)
    assert len(ticks) == 2 and out[0].endswith(f"md`x.lgt{ticks}: error")
    opening = next(i for i, line in enumerate(out) if line.startswith("```"))
    fence = out[opening]
    assert set(fence) == {"`"} and len(fence) > 3
    closing = next(i for i in range(opening + 1, len(out)) if out[i].startswith(fence))
    assert any("<img" in line for line in out[opening + 1 : closing])  # quoted inside the fence


def test_show_svg_escapes_the_traces_text_it_quotes(tmp_path):
    # The record text in tooltips and labels, and the path in the aria-label, were written raw: ESC is not
    # a character XML allows, so the SVG did not even parse, and a bidi override reorders a tooltip.
    name = tmp_path / "k\x1b[2J.lgt"
    name.write_text(
        "lguest-trace 1\nguest 0 pages=16\ng0 dma 0x1000 used_len=0 addr=[0x2000] len=[8]\n"
        'host kill g0 reason="x \x1b[31mRED \u202eevil"\n'
    )
    page = show.html(str(name))
    assert "\x1b" not in page and "\u202e" not in page
    root = _svg(page)
    assert any("\\x1b[31mRED" in (t.text or "") for t in root.iter(f"{SVG}title"))


def test_show_table_escapes_a_message_that_quotes_the_trace(tmp_path):
    # A divergence quotes the record it could not follow, comment and all: the findings table and the notes
    # wrote that text raw (ESC, bidi controls) while the text report escapes it.
    name = tmp_path / "q.lgt"
    name.write_text(
        "lguest-trace 1\nguest 0 pages=16\ng0 dma 0x1000 used_len=0 addr=[0x2000] len=[8]\n"
        "g0 send_dma key=0x4 dma=0x1000\nhost deliver from=g0:0x1000 to=g1:0x1000 len=8 irq=1 # \x1b[31mRED \u202e\n"
    )
    page = show.html(str(name))
    assert "the trace has `host deliver" in page
    assert "\x1b" not in page and "\u202e" not in page and "\\x1b[31mRED \\u202e`</td>" in page


def test_show_markdown_table_reads_nothing_of_a_message_as_markdown(tmp_path, capsys):
    # The divergence quotes the record, comment included: its backtick closed the message's code span and the
    # image and link after it became part of the CI page; a `|` split the table's row.
    name = tmp_path / "md.lgt"
    name.write_text(
        "lguest-trace 1\nguest 0 pages=16\ng0 dma 0x1000 used_len=0 addr=[0x2000] len=[8]\n"
        "g0 send_dma key=0x4 dma=0x1000\n"
        "host deliver from=g0:0x1000 to=g1:0x1000 len=8 irq=1 # ` <img src=https://e/x.png> [x](http://e) |\n"
    )
    assert main(["show", "--markdown", str(name)]) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 5 | `divergence`")]
    assert "<img" not in row and "&lt;img" in row and "\\[x\\]\\(http://e\\)" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 4  # the row's own four bars, none from the trace
