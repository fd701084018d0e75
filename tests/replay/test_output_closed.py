"""A closed output (`lgcheck replay BIG.lgt | head -1`) is noticed while replaying, not at the next write.

Replay writes a file's report when the file ends; a reader that had gone away was seen only then, so a long
trace was replayed to its end for no one.  Now the pipe is looked at (at most every 0.25 s) as the trace is
read and while a worker's file is awaited, and the run ends with 141.  A regular file or a terminal is never
looked at.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import Future

import pytest

from lgcheck.replay import corpus, output_watch

TRACE = os.path.join(os.path.dirname(__file__), "..", "..", "traces", "console-boot.lgt")


@pytest.fixture(autouse=True)
def _unwatched():
    yield
    output_watch.unwatch()


def test_replay_of_a_long_input_ends_soon_after_its_reader_is_gone():
    """Standard input fed for up to 8 s, the report's reader gone at once: it ran until its input ended."""
    with open(TRACE, encoding="utf-8") as fh:
        head = fh.read().encode()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lgcheck", "replay", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader goes away before a word is written (as `| head` after its lines)
    proc.stdin.write(head)
    started = time.monotonic()
    filler = b"# more of a long capture\n" * 400
    try:
        while proc.poll() is None and time.monotonic() - started < 8:
            proc.stdin.write(filler)
            proc.stdin.flush()
            time.sleep(0.02)
    except BrokenPipeError:  # it ended (and closed its input) between the poll and the write
        pass
    took = time.monotonic() - started
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read().decode()
    proc.wait(timeout=30)
    assert proc.returncode == 141, (proc.returncode, err)
    assert took < 4, took  # within a second or so once started (the interpreter's start-up included)
    assert "Traceback" not in err, err


def test_a_worker_awaited_for_long_is_left_once_the_reader_is_gone():
    """--jobs: the report waits for a worker's file; the wait looks at the output too."""
    r, w = os.pipe()
    out = os.fdopen(w, "w")
    try:
        output_watch.watch(out)
        assert output_watch.watching()
        os.close(r)
        started = time.monotonic()
        with pytest.raises(output_watch.OutputClosed):
            corpus._result(Future())  # never answered
        assert time.monotonic() - started < 2
    finally:
        out.close()


def test_a_regular_file_or_a_terminal_is_never_watched(tmp_path):
    with open(tmp_path / "report.txt", "w") as f:
        output_watch.watch(f)
        assert not output_watch.watching()
    master, slave = os.openpty()
    try:
        with os.fdopen(slave, "w") as tty:
            output_watch.watch(tty)
            assert not output_watch.watching()
    finally:
        os.close(master)


def test_an_open_pipe_is_answered_as_before():
    """Watched but read: the replay's report is whole, and the result waited for comes."""
    r, w = os.pipe()
    with os.fdopen(w, "w") as out, os.fdopen(r) as _reader:
        output_watch.watch(out)
        done = Future()
        done.set_result("answer")
        assert corpus._result(done) == "answer"
        output_watch.tick()  # nothing raised
    proc = subprocess.run(
        [sys.executable, "-m", "lgcheck", "replay", TRACE], stdout=subprocess.PIPE, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.rstrip().endswith(": ok"), proc.stdout
