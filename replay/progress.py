"""A progress line on stderr for long work (prove's depths, a corpus's files), drawn by tqdm.

On a terminal tqdm redraws one line in place (`\\r`), fitted to the width,
with the elapsed time and, where it means something (files), the rate and
the time left.  Elsewhere (a CI log, a file) the same text is written as
whole lines, at most one every INTERVAL seconds and none before INTERVAL
seconds have passed (tqdm's `mininterval` and `delay`), so a long run is
never silent in a log and never floods it, and a short one stays quiet.

tqdm draws only when it is told something, and a proof can spend minutes in
one solver call; so a background thread tells it (`update(0)`) five times a
second, and tqdm's own limits decide whether a line is due.  z3 runs in C
through ctypes, which releases the GIL, so the thread runs while the solver
works.  tqdm's monitor thread and multiprocessing lock are not used: the
ticker's thread does the timing, and `replay --jobs` forks its workers.
"""

from __future__ import annotations

import io
import os
import sys
import threading

from tqdm import tqdm

INTERVAL = 5.0  # seconds between progress lines when stderr is not a terminal
TTY_INTERVAL = 1.0
POKE = 0.2  # how often the thread asks tqdm whether a line is due


class _Line(tqdm):
    """tqdm with a free-text `status` field for bar_format, and whole lines in a log."""

    monitor_interval = 0

    def __init__(self, *a, log: bool = False, **kw):
        self.status = ""
        self._log = log
        super().__init__(*a, **kw)

    @property
    def format_dict(self):
        d = super().format_dict
        d["status"] = self.status
        return d

    def display(self, msg=None, pos=None):
        if not self._log:
            return super().display(msg, pos)
        if msg == "":  # tqdm clears the line: a log keeps what it has
            return False
        self.fp.write((msg if msg is not None else str(self)) + "\n")
        self.fp.flush()
        return True


_Line.set_lock(threading.RLock())


def _width_known(stream) -> bool:
    """Does the terminal tell its width?  (A pty made without a size says 0, and tqdm would cut the line to it.)"""
    try:
        return os.get_terminal_size(stream.fileno()).columns > 0
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False


class Ticker:
    """A context manager around a tqdm line; `set(n, status)` reports, a thread keeps the line current."""

    def __init__(
        self,
        bar_format: str,
        total: int | None,
        show: bool,
        stream=None,
        tty: bool | None = None,
        interval: float | None = None,
        leave: bool = True,
        unit: str = "it",
        started: float | None = None,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.show = show
        self.interval = interval if interval is not None else (TTY_INTERVAL if self.tty else INTERVAL)
        self.bar_format, self.total, self.leave, self.unit = bar_format, total, leave, unit
        self.started = started  # time.time() when the work began, if before the line is made
        self.bar = None
        self._stop = threading.Event()
        self._thread = None

    def set(self, n: int | None = None, status: str | None = None, advance: int = 0) -> None:
        bar = self.bar
        if bar is None:
            return
        with bar.get_lock():
            if status is not None:
                bar.status = status
            if n is not None:
                bar.n = n
            bar.n += advance
        if self.tty:
            bar.refresh()  # a terminal sees each step at once
        else:
            bar.update(0)  # a log gets a line only when one is due

    def clear(self) -> None:
        """Take the line off a terminal (before other output there); the next tick draws it again."""
        if self.bar is not None and self.tty:
            self.bar.clear()

    def _run(self) -> None:
        while not self._stop.wait(POKE):
            self.bar.update(0)

    def __enter__(self):
        if not self.show:
            return self
        wide = self.tty and _width_known(self.stream)
        self.bar = _Line(
            total=self.total,
            file=self.stream,
            bar_format=self.bar_format,
            mininterval=self.interval,
            miniters=0,  # a line is due by time alone: the poke (n unchanged) can draw it
            delay=0 if self.tty else self.interval,
            leave=self.leave if self.tty else False,
            unit=self.unit,
            dynamic_ncols=wide,
            ncols=None if wide else 1000,  # not 0: tqdm would cut the line to nothing
            nrows=None if wide else 20,
            log=not self.tty,
        )
        if self.started is not None:
            # tqdm's clock (time.time) starts with the work, not with the line: elapsed, rate and the calm
            # rate of a log count from there.
            self.bar.start_t = self.bar.last_print_t = self.started
        self._thread = threading.Thread(target=self._run, name="lgcheck-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self.bar is not None:
            self.bar.close()
        return False
