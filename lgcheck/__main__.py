"""The entry point of `lgcheck` (the console script) and of `python -m lgcheck`.

Importing lgcheck.cli and what it needs (lark, the model, z3 for prove) takes tens of milliseconds before
cli.main can answer Ctrl-C; an interrupt there printed a traceback.  So this module, the first of lgcheck's
code to run, imports nothing heavy: at any moment a Ctrl-C ends with at most one line and exit 130 (what a
shell reports for SIGINT).

Importing it is starting lgcheck: its handling is installed at import, since the console script runs code
of its own (a regular expression on argv[0], a few milliseconds) between the import and main().
"""

import signal
import sys


def _exit_at_once(signum, frame):
    """Until cli.main runs the command nothing is written or started, so there is nothing to clean up.

    (A KeyboardInterrupt raised there could land in a weakref callback of the import system, which prints
    it as "Exception ignored" with its traceback and goes on.)
    """
    import os

    os.write(2, b"lgcheck: interrupted\n")
    os._exit(130)


_exit_at_once.lgcheck_starting = True  # what cli.main replaces by KeyboardInterrupt when it runs the command


def _exit_quietly(signum, frame):  # "interrupted" was said already
    import os

    os._exit(130)


def _handle(handler) -> None:
    """Install handler unless SIGINT was ignored at start (a background job) or someone installed theirs."""
    current = signal.getsignal(signal.SIGINT)
    if current is signal.default_int_handler or getattr(current, "lgcheck_starting", False):
        signal.signal(signal.SIGINT, handler)


_handle(_exit_at_once)


def main() -> int:
    finished = False
    status = 130
    try:
        _handle(_exit_at_once)  # (again: a caller may have imported this module long before)
        from lgcheck.cli import main as run

        status = run()
        finished = True
    except KeyboardInterrupt:  # in the few steps between cli.main's hand-over and its own handling
        pass
    finally:
        # What is left is the interpreter's shutdown (flushing the report, atexit, joining ended threads),
        # where a KeyboardInterrupt is printed as "Exception ignored" with its traceback.
        _handle(_exit_quietly if status == 130 else _exit_at_once)
    if not finished:  # interrupted before cli.main could say so
        print("lgcheck: interrupted", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
