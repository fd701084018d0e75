"""What an engine's process (a fork) writes below Python, kept from the terminal until its parent has read it.

Under `--max-memory` an allocation that fails inside z3 where z3 cannot throw
(a destructor, a worker thread) ends in C++'s terminate: libstdc++ writes
"terminate called after throwing an instance of 'out_of_memory_error'" on
file descriptor 2 and the process aborts.  In an engine's process that text
reached the user's terminal beside lgcheck's own one-line message, or instead
of it.  So each engine's process points descriptor 2 at an unlinked file its
parent made; Python's own `sys.stderr` (lgcheck's messages, a worker's
traceback under LGCHECK_TRACEBACK) keeps the real one.  When the process has
ended, the parent reads the file's tail: an abort for memory becomes the
engine's usual out-of-memory line, and anything else the process wrote there
is passed on, so nothing it said is dropped.
"""

from __future__ import annotations

import os
import sys
import tempfile

TAIL = 4096  # bytes of the file read back: libstdc++'s message is one or two lines
# What libstdc++ and z3 print when an allocation failed (z3: out_of_memory_error; C++: std::bad_alloc).
MEMORY_WORDS = (b"out_of_memory", b"out of memory", b"bad_alloc")


def capture():
    """In the parent, before the fork: the unlinked file the engine's descriptor 2 will go to."""
    return tempfile.TemporaryFile()


def redirect(file) -> None:
    """In the engine's process: descriptor 2 to `file`, Python's stderr to a copy of the real one."""
    if file is None:
        return
    sys.stderr.flush()
    real = os.dup(2)
    os.dup2(file.fileno(), 2)
    sys.stderr = open(real, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=True)


def read_back(file) -> bytes:
    """The end of what the engine wrote below Python (at most TAIL bytes); the file is then closed."""
    if file is None:
        return b""
    try:
        size = os.fstat(file.fileno()).st_size
        file.seek(max(0, size - TAIL))
        return file.read(TAIL)
    except (OSError, ValueError):
        return b""
    finally:
        file.close()


def aborted_for_memory(exitcode, text: bytes) -> bool:
    """Whether a process that ended with `exitcode` died of an allocation that failed (its native text says so)."""
    return exitcode is not None and exitcode < 0 and any(w in text for w in MEMORY_WORDS)


def pass_on(engine: str, text: bytes) -> None:
    """Write what an engine's process wrote below Python to lgcheck's stderr, each line marked as the engine's."""
    lines = text.decode("utf-8", "backslashreplace").splitlines()
    for line in lines:
        if line.strip():
            print(f"lgcheck: {engine}: {''.join(c if c.isprintable() else '?' for c in line)}", file=sys.stderr)
    sys.stderr.flush()
