"""Input errors of a trace: the one exception the reader lets out.

Everything that makes a trace unreadable (a syntax error, a value that does not
fit its field, a timestamp that goes back, a missing file) is a `TraceError`
that names the file, the line and the column, so the CLI can print it and exit
with status 2.  No lark exception, and no other Python exception, leaves the
parser: they are all turned into this one.
"""

from __future__ import annotations

from .escape import shown


class TraceError(Exception):
    """An input error at `path:line:column` (1-based), with the line itself.

    `line` is 0 for an error about the whole file (it is missing or cannot be
    read): then `str()` is `FILE: error: MESSAGE`.  Otherwise it is
    `FILE:LINE:COL: error: MESSAGE`, followed, when `source_line` is known, by
    the line and a caret under the column (as flake8's `show_source`).
    """

    def __init__(self, path: str, line: int, column: int, message: str, source_line: str | None = None):
        # All five go to Exception.args so that the error pickles (pytest-xdist,
        # multiprocessing) and compares in tests.
        super().__init__(path, line, column, message, source_line)
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.source_line = source_line

    def __str__(self) -> str:
        # Everything that came from the trace (or its name) is escaped: a
        # trace must not be able to act on the terminal (replay/escape.py).
        path, message = shown(self.path), shown(self.message)
        if self.line == 0:
            return f"{path}: error: {message}"
        head = f"{path}:{self.line}:{self.column}: error: {message}"
        if self.source_line is None:
            return head
        line = self.source_line
        if len(line) > _SHOWN_MAX:
            # A long line is shown around the column, not whole.
            lo = max(0, self.column - 1 - _SHOWN_MAX // 2)
            line, column = line[lo : lo + _SHOWN_MAX], self.column - lo
        else:
            column = self.column
        before = line[: column - 1]
        # Keep the tabs of the line so that the caret lines up in a terminal;
        # a column past the end (an error at end of line) is padded with spaces.
        pad = "".join("\t" if c == "\t" else " " * len(shown(c)) for c in before)
        pad += " " * (column - 1 - len(before))
        return f"{head}\n    {shown(line)}\n    {pad}^"


_SHOWN_MAX = 240  # characters of the source line an error shows


class LineError(Exception):
    """An input error inside one line, before the file and line are known.

    Raised by the stages that see one line of text (`lgt_syntax`, `lgt_fields`);
    `parser` adds the path, line number and text and raises a `TraceError`.
    `pos` is the 0-based offset of the offending character in the line.
    """

    def __init__(self, pos: int, message: str):
        super().__init__(pos, message)
        self.pos = pos
        self.message = message
