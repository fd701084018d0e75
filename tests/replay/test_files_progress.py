"""The progress line of long work (replay/progress.py, tqdm) and of `lgcheck replay` on many files."""

from __future__ import annotations

import io
import os
import time

from lgcheck.cli import FILES_LINE, main
from lgcheck.replay.progress import Ticker

TRACES = os.path.join(os.path.dirname(__file__), "..", "..", "traces")


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_a_log_gets_whole_file_lines_at_a_calm_rate_counted_from_the_start():
    out = io.StringIO()
    started = time.time() - 1.0  # the work began before the line was made (the first file's replay)
    with Ticker(FILES_LINE, 40, True, stream=out, interval=0.3, leave=False, unit="file", started=started) as t:
        for i in range(40):  # many files, quickly: they must not each print
            t.set(advance=1, status=f"  {i + 1} records, 0 findings")
            time.sleep(0.02)
    text = out.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and "\x1b" not in text and text.endswith("\n")
    assert 1 <= len(lines) <= 5, lines  # about 0.8 s / 0.3 s, never one per file
    assert all(line.startswith("lgcheck replay: ") and " files  " in line and "findings" in line for line in lines)
    assert lines[0].split()[4].startswith("00:01")  # elapsed counts from `started`


def test_a_log_stays_quiet_for_short_work_and_a_terminal_line_gives_way():
    out = io.StringIO()
    with Ticker(FILES_LINE, 3, True, stream=out) as t:
        t.set(advance=3)
    assert out.getvalue() == ""
    tty = _Tty()
    with Ticker(FILES_LINE, 3, True, stream=tty, leave=False) as t:
        t.set(advance=1, status="  5 records, 0 findings")
        before = len(tty.getvalue())
        t.clear()
        cleared = tty.getvalue()[before:]
    assert "\r" in tty.getvalue() and "1/3 files" in tty.getvalue() and "5 records" in tty.getvalue()
    assert cleared.strip(" \r") == ""  # clear() only blanks the line: the report is written over it
    assert "\n" not in tty.getvalue()  # leave=False: nothing of the line stays


def test_replay_of_a_folder_writes_no_progress_in_a_short_run_or_with_quiet(capsys):
    assert main(["replay", TRACES]) == 2
    assert "lgcheck replay: " not in capsys.readouterr().err.replace("lgcheck replay: error", "")
    assert main(["replay", "--quiet", "--no-progress", TRACES]) == 2
    assert "files  " not in capsys.readouterr().err
