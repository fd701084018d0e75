"""`lgcheck show` writes its page as it builds it: the same bytes as the whole page (`html_of`,
`markdown_of`: the pieces joined), and memory that does not grow with the findings listed.

When the page became streamed (commit d5c242d) these tests compared it with a verbatim copy of the
whole-page builders it replaced, on every bundled trace and on 20,000 findings: byte for byte the
same.  That copy is gone, so that show has one renderer to change."""

from __future__ import annotations

import glob
import os
import tracemalloc

import pytest

from lgcheck.cli import main
from lgcheck.replay import show

TRACES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "traces", "*.lgt")))


def _page(capsys, args: list[str], out) -> str:
    """What `lgcheck show` wrote: the file at `out`, or standard output for `-`."""
    capsys.readouterr()
    main(args + ["-o", str(out)])
    if out == "-":
        return capsys.readouterr().out
    return out.read_bytes().decode("utf-8") if out.exists() else None


@pytest.mark.parametrize("markdown", [False, True], ids=["html", "markdown"])
def test_bundled_traces_give_the_same_bytes_as_the_whole_page(tmp_path, capsys, markdown):
    old = show.markdown_of if markdown else show.html_of
    fmt = ["--markdown"] if markdown else []
    written = 0
    for trace in TRACES:
        for limit in (5000, 3):
            expected = old(show.Run(trace, limit=limit))
            args = ["show", trace, "--max-records", str(limit)] + fmt
            out = tmp_path / "page"
            page = _page(capsys, args, out)
            if page is None:  # (an unreadable trace has no page, then or now)
                assert _page(capsys, args, "-") == ""
                continue
            written += 1
            assert page == expected, trace
            assert _page(capsys, args, "-") == expected, trace
            out.unlink()
    assert written == 2 * len(TRACES)


def _many_findings(folder, n: int) -> str:
    """A trace with n findings, one per status write that clears a bit (two records each)."""
    path = os.path.join(folder, f"many{n}.lgt")
    lines = ["lguest-trace 1", "guest 0 pages=16", "device 0.0 type=console pfn=0 pages=0"]
    lines += ["g0 status dev=0 value=ACKNOWLEDGE|DRIVER", "g0 status dev=0 value=ACKNOWLEDGE"] * n
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """2,000 and 20,000 findings, replayed once (the replay's own memory is tested with the reporters):
    40 records drawn of each, so that only the findings differ between the two pages."""
    folder = tmp_path_factory.mktemp("show-many")
    out = []
    for n in (2000, 20000):
        run = show.Run(_many_findings(folder, n), limit=40)
        assert len(run.result.findings) == n and len(run.records) == 40
        out.append(run)
    return out


@pytest.mark.parametrize("markdown", [False, True], ids=["html", "markdown"])
def test_a_page_of_many_findings_is_the_same_bytes_as_the_whole_page(runs, tmp_path, capsys, monkeypatch,
                                                                              markdown):
    run = runs[1]
    expected = (show.markdown_of if markdown else show.html_of)(run)
    assert expected.count("\n| " if markdown else "<tr class='finding'>") == 20000 + 2 * markdown  # (+ header)
    monkeypatch.setattr(show, "Run", lambda path, **kw: run)
    args = ["show", run.path] + (["--markdown"] if markdown else [])
    assert _page(capsys, args, tmp_path / "page") == expected
    assert _page(capsys, args, "-") == expected


class _Sink:
    """Standard output that keeps nothing (capsys would keep the page: the memory measured)."""

    def write(self, s: str) -> int:
        return len(s)

    def writelines(self, pieces) -> None:
        for s in pieces:
            self.write(s)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("to", ["file", "stdout"])
@pytest.mark.parametrize("markdown", [False, True], ids=["html", "markdown"])
def test_showing_ten_times_the_findings_does_not_take_more_memory(runs, tmp_path, monkeypatch, markdown, to):
    """The page was built whole before it was written, a row per finding held in one string: 1.6 MB at peak
    for 2,000 findings and 15.7 MB for 20,000 (HTML; 1.3 and 12.3 MB for Markdown).  Written as it is built,
    the peak is 70-105 kB for either."""
    monkeypatch.setattr("sys.stdout", _Sink())
    fmt = ["--markdown"] if markdown else []

    def peak(run) -> int:
        monkeypatch.setattr(show, "Run", lambda path, **kw: run)
        out = "-" if to == "stdout" else str(tmp_path / "page")
        tracemalloc.start()
        try:
            assert main(["show", run.path, "-o", out] + fmt) == 0
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = runs
    peak(small)  # (first-use allocations, such as imports, do not count as the small trace's)
    p_small, p_large = peak(small), peak(large)
    # 18,000 findings more: a whole page held ~600 kB per 1,000 of them; allowed here is allocator noise
    assert p_large < 1.5 * p_small + 50_000, (p_small, p_large)


def test_a_page_that_fails_half_way_leaves_the_old_page_and_no_temporary_file(tmp_path, monkeypatch, capsys):
    """Built while it is written, a page can fail after its temporary file is half full: the old page stays
    as it was and the half page is removed, whatever the failure (before, only an OSError was cleaned up)."""
    page = tmp_path / "page.html"
    page.write_text("the old page\n")

    def broken(run):
        yield "<!DOCTYPE html>\n"
        raise RuntimeError("a fault in the drawing")

    monkeypatch.setattr(show, "html_pieces", broken)
    assert main(["show", TRACES[0], "-o", str(page)]) not in (0, 2)
    assert "internal error (RuntimeError" in capsys.readouterr().err
    assert page.read_text() == "the old page\n" and os.listdir(tmp_path) == ["page.html"]

    def full(run):
        yield "<!DOCTYPE html>\n"
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(show, "html_pieces", full)
    assert main(["show", TRACES[0], "-o", str(page)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert page.read_text() == "the old page\n" and os.listdir(tmp_path) == ["page.html"]
