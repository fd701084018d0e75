"""Progress of `lgcheck prove` on stderr: a line per depth, drawn by replay/progress.py (tqdm).

On a terminal one status line is redrawn in place every second and at each
depth; elsewhere (a CI log, a file) a whole line is written at most every
INTERVAL seconds and none in the first INTERVAL seconds, so a long proof is
never silent there and never floods it.  The line says the depth reached,
the time, and what each invariant is doing: proved for every depth,
violated, or still searched.

Ctrl-C needs nothing here: during a solver call z3's own SIGINT handler
stops the call (its reason: "interrupted from keyboard"), which
checker/bmc.py turns into a KeyboardInterrupt; elsewhere Python raises it.
(Calling z3's interrupt from the progress thread would leave the context
canceled, and the counterexamples found could not be decoded any more.)
"""

from __future__ import annotations

from lgcheck.replay.progress import INTERVAL, TTY_INTERVAL, Ticker

__all__ = ["INTERVAL", "TTY_INTERVAL", "Progress", "status"]

LINE = "lgcheck prove: depth {n}/{total}  {elapsed}{status}"


def status(results) -> str:
    """What each invariant is doing, for the end of the progress line."""
    every = sum(1 for r in results.values() if r.inductive)
    violated = [n for n, r in results.items() if r.status == "violated"]
    open_ = [n for n, r in results.items() if r.status == "holds" and not r.inductive]
    parts = []
    if every:
        parts.append(f"{every} proved for every depth")
    if violated:
        parts.append("violated: " + ", ".join(violated))
    if open_:
        parts.append("searching: " + ", ".join(open_))
    return "".join("  " + p for p in parts)


class Progress(Ticker):
    """A context manager: `update` is bmc's progress callback (depth reached, seconds, results so far)."""

    def __init__(self, total: int, show: bool, stream=None, tty: bool | None = None, interval: float | None = None):
        super().__init__(LINE, total, show, stream=stream, tty=tty, interval=interval, leave=True, unit="depth")

    def update(self, depth, seconds, results) -> None:
        self.set(n=depth, status=status(results))
