"""`prove --engine auto` (checker/portfolio.py): what Ctrl-C leaves behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return set(map(int, path.read_text().split()))
    except OSError:
        return set()


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(), reason="reads the process tree from /proc"
)
def test_ctrl_c_under_auto_leaves_no_engine_running(tmp_path):
    # The portfolio kills its BMC process on Ctrl-C; that process's induction child (3 Guests: induction
    # takes tens of seconds) ignores SIGINT and must still end with it, not run on alone to its deadline.
    cmd = [sys.executable, "-m", "lgcheck", "prove", "--engine", "auto", "--launcher", "checked"]
    cmd += ["--guest-count", "3", "--no-progress", "--timeout", "120", "--out", str(tmp_path)]
    # Files, not pipes: an orphan would hold a pipe open, and reading it to its end would wait for the orphan.
    out_file, err_file = open(tmp_path / "out", "w"), open(tmp_path / "err", "w")
    proc = subprocess.Popen(
        cmd,
        stdout=out_file,
        stderr=err_file,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal (see test_bfs_jobs)
    )
    try:
        grandchildren: set[int] = set()
        end = time.monotonic() + 60
        while not grandchildren and time.monotonic() < end and proc.poll() is None:
            grandchildren = {g for c in _children(proc.pid) for g in _children(c)}
            time.sleep(0.05)
        assert grandchildren, "no induction process appeared under the BMC process"
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        assert proc.returncode == 130, (tmp_path / "err").read_text()
        gone = time.monotonic() + 5  # the orphan looks for its parent every 0.5 s
        while any(map(_alive, grandchildren)) and time.monotonic() < gone:
            time.sleep(0.1)
        assert not any(map(_alive, grandchildren))
    finally:
        out_file.close()
        err_file.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
