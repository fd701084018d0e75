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
