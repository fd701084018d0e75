"""Noticing that the report's reader went away (`lgcheck replay BIG.lgt | head -1`) while nothing is written.

A closed output used to be seen only at the next write: a long replay with no finding to write ran to its
input's end first.  The points where replay's work goes on for long without writing (a chunk of a trace
read, a wait for a worker's file) call `tick`, which, at most every INTERVAL s, asks the kernel whether the
output pipe still has a reader (poll: POLLERR once its read end is closed) and raises OutputClosed if not.

Only a pipe is watched: a regular file or a terminal never is (a terminal's hang-up is SIGHUP's business).
"""

from __future__ import annotations

import os
import select
import stat
import time

INTERVAL = 0.25  # seconds between two looks at the output, at most

_fd: int | None = None  # the pipe watched (None: nothing is)
_owner = 0  # the process that watches it: a worker forked from it shares the pipe but is not the reporter
_next = 0.0  # time.monotonic() of the next look


class OutputClosed(BaseException):
    """The output's reader is gone: the rest of the report would be written to no one (exit 141).

    Not an Exception (nor the OSError a failed write raises): the trace reader turns those into an input
    error or an internal error, and this is neither.
    """


def watch(stream) -> None:
    """Watch `stream`, the report's output, if it is a pipe (its file descriptor, not the object)."""
    global _fd, _owner, _next
    try:
        fd = stream.fileno()
        pipe = stat.S_ISFIFO(os.fstat(fd).st_mode)
    except (AttributeError, OSError, ValueError):  # no descriptor (a StringIO under tests): nothing to watch
        return
    if pipe:
        _fd, _owner, _next = fd, os.getpid(), time.monotonic() + INTERVAL


def unwatch() -> None:
    global _fd
    _fd = None


def watching() -> bool:
    return _fd is not None


def tick() -> None:
    """Raise OutputClosed if the watched output's reader is gone; costs a clock read between two looks."""
    global _next
    if _fd is None:
        return
    now = time.monotonic()
    if now < _next:
        return
    _next = now + INTERVAL
    if os.getpid() != _owner:
        return
    p = select.poll()
    p.register(_fd, 0)  # no event asked for: POLLERR, POLLHUP and POLLNVAL are always reported
    if any(events & (select.POLLERR | select.POLLHUP) for _, events in p.poll(0)):
        raise OutputClosed
