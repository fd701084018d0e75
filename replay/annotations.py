"""GitHub Actions workflow commands: `::error file=F,line=L,title=RULE::message` per finding.

A workflow step that runs `lgcheck replay --format github` gets each finding
as an annotation on the trace's line in the pull request; notes become
`::notice`.  The per-file summary lines and the total follow as plain log lines.
"""

from __future__ import annotations

from .findings import FileResult
from .report import Reporter, full_message


def _data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")


class GitHubReporter(Reporter):
    def file(self, r: FileResult):
        super().file(r)
        f_ = _prop(r.file)
        lines = []
        if r.error is not None:
            e = r.error
            lines.append(f"::error file={f_},line={e.line},col={e.column},title=input error::{_data(e.message)}")
        shown = r.findings if self.max_findings is None else r.findings[: self.max_findings]
        for f in shown:
            kind, title = ("error", f.rule) if f.certain else ("warning", f"possible {f.rule}")
            lines.append(f"::{kind} file={f_},line={f.line},title={_prop(title)}::{_data(full_message(f))}")
        if self.show_notes:
            for n in r.notes:
                lines.append(f"::notice file={f_},title=note::{_data(n)}")
        n = len(r.findings)
        if len(shown) < n:
            lines.append(f"{r.file}: {n - len(shown)} more findings not annotated (--max-findings {self.max_findings})")
        if not self.quiet or r.verdict != "ok":
            lines.append(f"{r.file}: {r.records} records, {n} finding{'' if n == 1 else 's'}: {r.verdict}")
        self.out.write("".join(x + "\n" for x in lines))

    def end(self):
        if self.totals.files > 1:
            self.out.write(self.totals.line() + "\n")
