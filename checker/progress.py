"""Progress of `lgcheck prove` on stderr.

On a terminal one status line is redrawn in place (`\r`) every second and
at each depth; elsewhere (a CI log, a file) a whole line is written at most
every INTERVAL seconds, so a long proof is never silent there and never
floods it.  A background thread does the ticking: z3 runs in C through
ctypes, which releases the GIL, so the thread runs while the solver works.

Ctrl-C needs nothing here: during a solver call z3's own SIGINT handler
stops the call (its reason: "interrupted from keyboard"), which
checker/bmc.py turns into a KeyboardInterrupt; elsewhere Python raises it.
(Calling z3's interrupt from this thread would leave the context canceled,
and the counterexamples found could not be decoded any more.)
"""

from __future__ import annotations

import sys
import threading
import time

INTERVAL = 5.0  # seconds between progress lines when stderr is not a terminal
TTY_INTERVAL = 1.0


def status_line(depth, total, seconds, results) -> str:
    every = sum(1 for r in results.values() if r.inductive)
    violated = [n for n, r in results.items() if r.status == "violated"]
    open_ = [n for n, r in results.items() if r.status == "holds" and not r.inductive]
    parts = [f"depth {depth}/{total}", f"{seconds:.0f}s"]
    if every:
        parts.append(f"{every} proved for every depth")
    if violated:
        parts.append("violated: " + ", ".join(violated))
    if open_:
        parts.append("searching: " + ", ".join(open_))
    return "  ".join(parts)


class Progress:
    """A context manager: `update` is bmc's progress callback; a thread writes the lines on time."""

    def __init__(self, total: int, show: bool, stream=None, tty: bool | None = None, interval: float | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.show = show
        self.interval = interval if interval is not None else (TTY_INTERVAL if self.tty else INTERVAL)
        self.total = total
        self.started = time.monotonic()
        self.depth, self.results = 0, {}
        self.lines = 0  # lines written (not counting \r redraws)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last = 0.0
        self._drawn = False
        self._thread = None

    # ------------------------------------------------------------ drawing
    def _text(self) -> str:
        return "lgcheck prove: " + status_line(self.depth, self.total, time.monotonic() - self.started, self.results)

    def _emit(self, force: bool = False) -> None:
        if not self.show:
            return
        with self._lock:
            now = time.monotonic()
            if self.tty:
                self.stream.write("\r" + self._text() + "\x1b[K")
                self._drawn = True
            elif force or now - self._last >= self.interval:
                self.stream.write(self._text() + "\n")
                self.lines += 1
            else:
                return
            self._last = now
            self.stream.flush()

    def update(self, depth, seconds, results) -> None:
        self.depth, self.results = depth, results
        if self.tty:
            self._emit()

    # ------------------------------------------------------------ the thread
    def _run(self) -> None:
        while not self._stop.wait(0.2):
            if self.show and time.monotonic() - self._last >= self.interval:
                self._emit()

    def __enter__(self):
        if not self.tty:
            self._last = time.monotonic()  # the first line after INTERVAL seconds: short runs stay quiet
        self._thread = threading.Thread(target=self._run, name="lgcheck-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=2)
        if self.show and self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
        return False
