"""The process tree, read from /proc: what the Ctrl-C and kill tests check is left behind."""

from __future__ import annotations

import os
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
