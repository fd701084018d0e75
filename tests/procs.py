"""The process tree, read from /proc: what the Ctrl-C and kill tests check is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

HAS_CHILDREN = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists()


def children(pid: int) -> set[int]:
    """The direct children of pid (none once it is gone)."""
    try:
        return set(map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split()))
    except OSError:
        return set()


def alive(pid: int) -> bool:
    """Whether pid still runs (a zombie, ended but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_with_workers(cmd: list[str], workers: int = 2, env=None) -> tuple[subprocess.Popen, set[int]]:
    """Start cmd in a session of its own, with SIGINT's default, and wait (60 s at most) for its workers.

    SIGINT's default: Python answers Ctrl-C only where SIGINT was not ignored when it started, and a test
    run launched in the background ignores it; the program would then rightly go on.  Returns the process
    and its children once there are `workers` of them (fewer if it ended or the wait ran out).
    """
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    found: set[int] = set()
    end = time.monotonic() + 60
    while len(found) < workers and time.monotonic() < end and proc.poll() is None:
        found = children(proc.pid)
        time.sleep(0.05)
    return proc, found
