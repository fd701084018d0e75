"""A time limit on work that checks no clock itself (the model's rebuild): an alarm raises OutOfTime.

certify's --timeout bounds each certificate's whole re-check.  The solver takes the time left as its own
limit, but rebuilding the model from the recorded configuration is plain Python building z3 terms, with
no deadline to look at (80 s at the size limit).  SIGALRM interrupts it between two steps of Python, in the
process itself: no thread or process is started, so none is left behind.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager

from ..spec import ops

AGAIN = 0.05  # seconds between alarms after the first, until the limited block has ended
# Where an exception may not be raised: a finaliser (__del__: Python prints and drops it, z3's reference
# count half done); an object's construction (z3's finaliser then reads attributes never set); ctypes'
# conversion of an argument (it comes out as ctypes.ArgumentError, an Exception); the import system.
UNSAFE = {"__del__", "__init__", "__new__", "from_param", "cb"}
OURS = tuple(os.path.dirname(os.path.abspath(f)) + os.sep for f in (__file__, ops.__file__))


class OutOfTime(BaseException):
    """The time limit passed.

    Not an Exception: code on the way that turns an Exception into a verdict (bitwuzla failing to read a
    formula is a refused certificate) must not take the limit for that.
    """


@contextmanager
def alarm_at(deadline: float | None):
    """Raise OutOfTime in the block once time.monotonic() passes deadline (None: no limit).

    The alarm repeats, AGAIN s apart, until it finds a moment where raising is `safe`.
    Off the main thread, or without setitimer, there is no alarm: the solver's own limit is all there is.
    """
    main = threading.current_thread() is threading.main_thread()
    if deadline is None or not hasattr(signal, "setitimer") or not main:
        yield
        return

    def ring(signum, frame):
        if safe(frame):
            raise OutOfTime

    old = signal.signal(signal.SIGALRM, ring)
    try:
        signal.setitimer(signal.ITIMER_REAL, max(0.001, deadline - time.monotonic()), AGAIN)
        yield
    finally:
        # Stopped before the handler goes: an alarm arriving under SIGALRM's default would end the process.
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old if old is not None else signal.SIG_DFL)


def safe(frame) -> bool:
    """Whether an exception may be raised in `frame`: in the model's code, or in a library it called,
    with no frame from there to the model's code in UNSAFE, and no finaliser anywhere below."""
    ours = False
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__del__":
            return False
        if not ours:
            if code.co_filename.startswith(OURS):
                ours = True
            elif code.co_name in UNSAFE or code.co_filename.startswith("<frozen"):
                return False
        frame = frame.f_back
    return ours
