"""JUnit XML for replay: one testcase per trace, as CI systems (GitLab, Jenkins, Azure) show tests.

A trace that broke the protocol is a <failure> (its type the first rule, its
text the findings); an input error is an <error>; a clean trace passes.  The
suite's counts are attributes of its opening tag, so the testcases are held
until the end: one short entry per file (at most `max_findings`, default 50,
findings are quoted in a failure's text; the counts say how many there were).
"""

from __future__ import annotations

import itertools
from xml.sax.saxutils import escape, quoteattr

from .escape import shown
from .findings import FileResult
from .report import Reporter, _listing, counts, full_message

QUOTED = 50


def _text(s: str) -> str:
    """Element text: each line escaped as on a terminal, then for XML.

    Trace text (an echoed record, a file name) may hold C0 controls such as ESC, which XML 1.0 forbids even
    as character references: one would make the whole report unreadable to CI.  escape.shown writes them
    (and bidi controls) as `\\x1b`, as the text report does; newlines between lines are kept.
    """
    return escape("\n".join(shown(line) for line in s.split("\n")))


def _attr(s: str) -> str:
    return quoteattr(shown(s))


class JUnitReporter(Reporter):
    def __init__(self, out, **kw):
        super().__init__(out, **kw)
        self.cases: list[str] = []
        self.failures = self.errors = 0

    def file(self, r: FileResult):
        super().file(r)
        name = _attr(r.file)
        head = f'    <testcase classname="lgcheck.replay" name={name} file={name}'
        if r.error is not None:
            self.errors += 1
            body = (
                f'      <error type="input-error" message={_attr(r.error.message)}>{_text(r.error.text)}</error>\n'
            )
        elif r.findings:
            self.failures += 1
            limit = self.max_findings if self.max_findings is not None else QUOTED
            name_ = shown(r.file)
            lines = [
                f"{name_}:{f.line}: {'' if f.certain else 'possible '}{f.rule}: {full_message(f)}\n    {f.record}"
                for f in itertools.islice(r.findings, limit)  # (a slice would read every finding into a list)
            ]
            if len(r.findings) > limit:
                lines.append(f"... and {len(r.findings) - limit} more findings")
            summary = f"{len(r.findings)} finding(s): {_listing(counts(r)['by_rule'])}"
            body = (
                f"      <failure type={_attr(r.findings[0].rule)} message={_attr(summary)}>"
                f"{_text(chr(10).join(lines))}</failure>\n"
            )
        else:
            body = ""
        out = f"{head}>\n{body}    </testcase>" if body else f"{head}/>"
        self.cases.append(out)

    def end(self):
        n = len(self.cases)
        attrs = f'tests="{n}" failures="{self.failures}" errors="{self.errors}"'
        self.out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.out.write(f'<testsuites name="lgcheck replay" {attrs}>\n')
        self.out.write(f'  <testsuite name="lgcheck replay" {attrs} skipped="0">\n')
        for c in self.cases:
            self.out.write(c + "\n")
        self.out.write("  </testsuite>\n</testsuites>\n")
