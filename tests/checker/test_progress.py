"""Progress of prove in a log and on a terminal (checker/progress.py), and Ctrl-C during prove."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

from lgcheck.checker.bmc import Result
from lgcheck.checker.progress import Progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_a_log_gets_whole_lines_at_a_calm_rate():
    out = io.StringIO()
    with Progress(20, show=True, stream=out, interval=0.3) as p:
        for depth in range(1, 40):  # many depths, quickly: they must not each print
            p.update(depth, 0.0, {"key-collision": Result("key-collision")})
            time.sleep(0.03)
    text = out.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and "\x1b" not in text and text.endswith("\n")
    assert 2 <= len(lines) <= 6, lines  # about 1.2 s / 0.3 s, never one per depth
    assert all(line.startswith("lgcheck prove: depth ") and "searching: key-collision" in line for line in lines)


def test_a_log_stays_quiet_for_short_work():
    out = io.StringIO()
    with Progress(20, show=True, stream=out) as p:
        p.update(1, 0.1, {})
    assert out.getvalue() == ""


def test_a_terminal_gets_one_line_redrawn():
    out = _Tty()
    with Progress(20, show=True, stream=out) as p:
        p.update(1, 0.1, {"status-cleared": Result("status-cleared", status="violated")})
        p.update(2, 0.2, {"status-cleared": Result("status-cleared", status="violated")})
    text = out.getvalue()
    assert text.count("\r") >= 2 and text.count("\n") == 1 and text.endswith("\n")
    assert "depth 2/20" in text and "violated: status-cleared" in text


def test_no_progress_writes_nothing():
    out = _Tty()
    with Progress(20, show=False, stream=out, interval=0.05) as p:
        p.update(1, 0.1, {})
        time.sleep(0.2)
    assert out.getvalue() == ""


def test_ctrl_c_answers_at_once_and_keeps_what_was_found(tmp_path):
    """Ctrl-C in the middle of a long prove: exit 130 within a second or so, the counterexample found is written."""
    out = tmp_path / "cx"
    stale = out / "key-collision.lgt"
    out.mkdir()
    stale.write_text("# an earlier run's\n")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lgcheck", "prove", "--no-induction", "--depth", "40", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        # As from a terminal: a test run started in the background (`cmd &`, nohup) ignores SIGINT, and
        # so, rightly, does lgcheck then (see test_bfs_jobs).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        seen = ""
        deadline = time.monotonic() + 120
        while "violated:" not in seen and time.monotonic() < deadline:
            line = proc.stderr.readline()  # a progress line every 5 s: stderr is not a terminal here
            if not line:
                break
            seen += line
        assert "violated:" in seen and "status-forbidden-bit" in seen.split("violated:")[1], seen
        asked = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - asked
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert took < 3.0, took  # about 1 s on the 2-core machine, with room for a loaded CI
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert "interrupted (Ctrl-C)" in stderr
    assert "status-forbidden-bit: VIOLATED by a run of 1 step" in stdout
    assert "unknown" in stdout  # what was open when interrupted, never "holds"
    assert "no engine settled it in time" not in stdout  # it was Ctrl-C, not the time (said so under auto)
    assert (out / "status-forbidden-bit.lgt").exists() and (out / "status-forbidden-bit.itf.json").exists()
    # An earlier run's counterexample is kept while its invariant is unsettled, removed once it is proved
    # (which of the two depends on how far induction got before the signal).
    if "key-collision: holds" in stdout:
        assert not stale.exists()
    else:
        assert "key-collision: unknown" in stdout and stale.exists()
