"""GitHub Actions workflow commands: `::error file=F,line=L,title=RULE::message` per finding.

A workflow step that runs `lgcheck replay --format github` gets each finding
as an annotation on the trace's line in the pull request; notes become
`::notice`.  The per-file summary lines and the total follow as plain log lines.
"""

from __future__ import annotations

import itertools

from .escape import shown
from .findings import FileResult
from .report import Reporter, full_message


def _data(s: str) -> str:
    # Escaped as on a terminal first (the runner prints each command in the job's log as it is): a file name
    # from a hostile corpus may hold ESC sequences or bidi controls.  shown() leaves no raw CR or LF behind.
    return shown(s).replace("%", "%25")


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")


class GitHubReporter(Reporter):
    def file(self, r: FileResult):
        super().file(r)
        f_ = _prop(r.file)
        # The plain log lines name the file too: escaped as on a terminal, so that a file name holding a
        # newline cannot start a line of its own that the runner would take for a workflow command.
        name = shown(r.file)
        # Written line by line as the findings come from their SpillLog, never gathered first.
        emit = self.out.write
        if r.error is not None:
            e = r.error
            emit(f"::error file={f_},line={e.line},col={e.column},title=input error::{_data(e.message)}\n")
        # islice, not a slice: slicing a SpillLog reads every finding into a list first.
        listed = r.findings if self.max_findings is None else itertools.islice(r.findings, self.max_findings)
        count = 0
        for f in listed:
            count += 1
            kind, title = ("error", f.rule) if f.certain else ("warning", f"possible {f.rule}")
            emit(f"::{kind} file={f_},line={f.line},title={_prop(title)}::{_data(full_message(f))}\n")
        if self.show_notes:
            for n in r.notes:
                emit(f"::notice file={f_},title=note::{_data(n)}\n")
        n = len(r.findings)
        if count < n:
            emit(f"{name}: {n - count} more findings not annotated (--max-findings {self.max_findings})\n")
        if not self.quiet or r.verdict != "ok":
            emit(f"{name}: {r.records} records, {n} finding{'' if n == 1 else 's'}: {r.verdict}\n")

    def end(self):
        if self.totals.files > 1:
            self.out.write(self.totals.line() + "\n")
