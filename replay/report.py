"""Formatters: FileResults to text for people, JSON for programs, and (replay/sarif.py,
replay/junit.py, replay/annotations.py) the formats CI systems read.

Every format is a *reporter*: `file(result)` writes one file's part as soon as
its result is known, `end()` writes the grand total.  A reporter holds only
the totals (and, for formats whose header needs them, one small entry per
file), so a corpus is reported while it is replayed.

Findings of one cause are *grouped*: a message reads "what happened: why
that is wrong", and findings of one rule with the same "why" form a group.
Text gives the "why" once per group (at its first finding); the machine
formats keep every message whole and name its group.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from typing import TextIO

from .escape import shown as esc
from .findings import FileResult, Finding
from .related import descriptor_of

JSON_SCHEMA_VERSION = 2
FORMATS = ("text", "json", "sarif", "junit", "github")


def version() -> str:
    try:
        from importlib.metadata import version as v

        return v("lgcheck")
    except Exception:  # pragma: no cover - not installed: running from a checkout
        return "0+unknown"


# ---------------------------------------------------------------- groups
def split(message: str) -> tuple[str, str]:
    """("what happened", "why it is wrong") at the first ': ' outside brackets and backquotes."""
    depth, quoted = 0, False
    for i, c in enumerate(message):
        if c == "`":
            quoted = not quoted
        elif quoted:
            continue
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == ":" and depth == 0 and message[i + 1 : i + 2] == " ":
            return message[:i], message[i + 2 :]
    return message, ""


def related_text(f: Finding) -> str:
    return "".join(f" [{r.what} at line {r.line}]" for r in f.related)


def full_message(f: Finding) -> str:
    """The message with its related lines, after the 'what happened' part."""
    if not f.related:
        return f.message
    what, why = split(f.message)
    return f"{what}{related_text(f)}" + (f": {why}" if why else "")


class Groups:
    """Findings of one file, grouped by (rule, why), numbered in the order of their first finding.

    Groups(findings) groups them all (`of[i]`: finding i's group); the reporters, which write the
    findings one at a time, start from Groups() and add() each as it comes, holding per group only.
    """

    def __init__(self, findings=()):
        self.index: dict[tuple[str, str], int] = {}
        self.groups: list[dict] = []
        self.of: list[int] = [self.add(f) for f in findings]

    def add(self, f: Finding) -> int:
        """Count f in its group (made at its first finding); returns the group's number."""
        what, why = split(f.message)
        key = (f.rule, why or f.message)
        g = self.index.get(key)
        if g is None:
            g = self.index[key] = len(self.groups)
            self.groups.append({"rule": f.rule, "explanation": why, "count": 0, "first_line": f.line})
        self.groups[g]["count"] += 1
        return g


def counts(r: FileResult) -> dict:
    by_desc = Counter(d for d in (descriptor_of(f.message) for f in r.findings) if d)
    return {
        "by_rule": dict(Counter(f.rule for f in r.findings).most_common()),
        "by_descriptor": dict(by_desc.most_common()),
    }


def _listing(counter: dict, limit: int = 10) -> str:
    items = list(counter.items())
    text = ", ".join(f"{k} {v}" for k, v in items[:limit])
    if len(items) > limit:
        text += f", and {len(items) - limit} more"
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Totals:
    """The grand total over files: verdicts, records, findings by rule."""

    def __init__(self):
        self.files = 0
        self.verdicts: Counter = Counter()
        self.records = 0
        self.by_rule: Counter = Counter()

    def add(self, r: FileResult):
        self.files += 1
        self.verdicts[r.verdict] += 1
        self.records += r.records
        self.by_rule.update(f.rule for f in r.findings)

    @property
    def findings(self) -> int:
        return sum(self.by_rule.values())

    def as_dict(self) -> dict:
        return {
            "files": self.files,
            "ok": self.verdicts["ok"],
            "violation": self.verdicts["violation"],
            "possible-violation": self.verdicts["possible-violation"],
            "error": self.verdicts["error"],
            "records": self.records,
            "findings": self.findings,
            "by_rule": dict(self.by_rule.most_common()),
        }

    def line(self) -> str:
        v = ", ".join(
            f"{self.verdicts[k]} {k}" for k in ("ok", "possible-violation", "violation", "error") if self.verdicts[k]
        )
        by = f" ({_listing(dict(self.by_rule.most_common()))})" if self.by_rule else ""
        return (
            f"total: {_plural(self.files, 'file')} ({v}), {_plural(self.records, 'record')}, "
            f"{_plural(self.findings, 'finding')}{by}"
        )

    def exit_status(self, strict: bool = False) -> int:
        """2 an input error, 1 a certain violation (or, with `strict`, a possible one), else 0."""
        if self.verdicts["error"]:
            return 2
        if self.verdicts["violation"] or (strict and self.verdicts["possible-violation"]):
            return 1
        return 0


# ---------------------------------------------------------------- reporters
class Reporter:
    def __init__(self, out: TextIO, *, max_findings: int | None = None, quiet: bool = False, show_notes=True):
        self.out = out
        self.max_findings = max_findings
        self.quiet = quiet
        self.show_notes = show_notes and not quiet
        self.totals = Totals()

    def file(self, r: FileResult):
        self.totals.add(r)

    def end(self):
        pass


def _safe(text: str) -> str:
    """Every line of a text report escaped for the terminal (escape.shown): traces are untrusted."""
    return "\n".join(esc(line) for line in text.split("\n"))


class TextReporter(Reporter):
    def file(self, r: FileResult):
        super().file(r)
        # Line by line as the findings come from their SpillLog: a file's whole report is never one string.
        for line in file_lines(r, max_findings=self.max_findings, quiet=self.quiet, show_notes=self.show_notes):
            self.out.write(_safe(line) + "\n")
        self.out.flush()

    def end(self):
        if self.totals.files > 1:
            self.out.write(self.totals.line() + "\n")


def file_text(r: FileResult, *, max_findings: int | None = None, quiet: bool = False, show_notes=True) -> str:
    lines = list(file_lines(r, max_findings=max_findings, quiet=quiet, show_notes=show_notes))
    return "\n".join(lines) + ("\n" if lines else "")


def file_lines(
    r: FileResult, *, max_findings: int | None = None, quiet: bool = False, show_notes=True
) -> Iterator[str]:
    """The text report of one file, line by line (a line may hold a newline: an input error's caret).

    The file name is escaped here, not only line by line afterwards: a newline in it would otherwise start a
    line of its own (a forged `ok` summary) that the per-line escaping cannot tell from the report's own.
    """
    name = esc(r.file)
    if r.error is not None:
        yield r.error.text.split("\n", 1)[0] if quiet else r.error.text
        if not quiet:
            yield f"{name}: input error, nothing checked: error"
        return
    n = len(r.findings)
    if not quiet:
        groups = Groups()  # (only the findings shown are grouped: each group's first line is one of them)
        # islice, not a slice: slicing a SpillLog reads every finding into a list first.
        shown = r.findings if max_findings is None else itertools.islice(r.findings, max_findings)
        explained = set()
        count = 0
        for i, f in enumerate(shown):
            count += 1
            gi = groups.add(f)
            what, why = split(f.message)
            if gi in explained and why:
                msg = f"{what}{related_text(f)} (why: see line {groups.groups[gi]['first_line']})"
            else:
                explained.add(gi)
                msg = full_message(f)
            yield f"{name}:{f.line}: {'' if f.certain else 'possible '}{f.rule}: {msg}"
            yield f"    {f.record}"
            w = r.witnesses.get(i) if not f.certain else None
            if w is not None:
                yield f"    witness: {esc(w['file']) if w['file'] else 'a completion'} ({w['summary']})"
        if count < n:
            yield f"{name}: {n - count} more findings not shown (--max-findings {max_findings})"
        if show_notes:
            for note in r.notes:
                yield f"{name}: note: {note}"
        if n > 1:
            c = counts(r)
            yield f"{name}: by rule: {_listing(c['by_rule'])}"
            if c["by_descriptor"]:
                yield f"{name}: by descriptor: {_listing(c['by_descriptor'])}"
    if not quiet or r.verdict != "ok":
        yield f"{name}: {_plural(r.records, 'record')}, {_plural(n, 'finding')}: {r.verdict}"


def text(results: list[FileResult], *, show_notes: bool = True, max_findings=None, quiet=False) -> str:
    import io

    buf = io.StringIO()
    rep = TextReporter(buf, max_findings=max_findings, quiet=quiet, show_notes=show_notes)  # escaped, as printed
    for r in results:
        rep.file(r)
    rep.end()
    return buf.getvalue()


def _finding_dict(r: FileResult, group: int, i: int, f: Finding) -> dict:
    return {
        "rule": f.rule,
        "line": f.line,
        "record": f.record,
        "message": f.message,
        "certain": f.certain,
        "related": [{"line": x.line, "what": x.what} for x in f.related],
        "group": group,
        "descriptor": descriptor_of(f.message),
        "witness": None if f.certain else r.witnesses.get(i),
    }


def _error_dict(r: FileResult) -> dict | None:
    return None if r.error is None else {"line": r.error.line, "column": r.error.column, "message": r.error.message}


def as_dict(r: FileResult) -> dict:
    """One file's JSON object, whole (for tests and small results; JsonReporter writes it piece by piece)."""
    groups = Groups(r.findings)
    return {
        "file": r.file,
        "verdict": r.verdict,
        "records": r.records,
        "findings": [_finding_dict(r, groups.of[i], i, f) for i, f in enumerate(r.findings)],
        "groups": groups.groups,
        "counts": counts(r),
        "notes": list(r.notes),
        "error": _error_dict(r),
    }


def _write_json_file(out: TextIO, r: FileResult) -> None:
    """as_dict(r) as json.dumps(..., indent=2) writes it, but the findings and notes one at a time as they
    come from their SpillLogs: a file with a million findings never has them all in memory."""
    groups = Groups()  # filled as the findings are written, before "groups" is

    def value(v, depth: int) -> str:
        return json.dumps(v, indent=2).replace("\n", "\n" + "  " * depth)

    def array(key: str, items) -> None:
        out.write(f"  {json.dumps(key)}: [")
        empty = True
        for item in items:
            out.write(("\n" if empty else ",\n") + "    " + value(item, 2))
            empty = False
        out.write("]" if empty else "\n  ]")

    out.write("{\n")
    for key, v in (("file", r.file), ("verdict", r.verdict), ("records", r.records)):
        out.write(f"  {json.dumps(key)}: {value(v, 1)},\n")
    array("findings", (_finding_dict(r, groups.add(f), i, f) for i, f in enumerate(r.findings)))
    out.write(f',\n  "groups": {value(groups.groups, 1)},\n  "counts": {value(counts(r), 1)},\n')
    array("notes", iter(r.notes))
    out.write(f',\n  "error": {value(_error_dict(r), 1)}\n}}')


class JsonReporter(Reporter):
    """One JSON document, written file by file: {"schema_version", "tool", "files": [...], "total"}."""

    def __init__(self, out, **kw):
        super().__init__(out, **kw)
        self.first = True
        head = json.dumps({"schema_version": JSON_SCHEMA_VERSION, "tool": {"name": "lgcheck", "version": version()}})
        out.write(head[:-1] + ', "files": [')

    def file(self, r: FileResult):
        super().file(r)
        self.out.write("\n" if self.first else ",\n")
        _write_json_file(self.out, r)
        self.first = False

    def end(self):
        self.out.write('\n], "total": ' + json.dumps(self.totals.as_dict()) + "}\n")


def json_text(results: list[FileResult]) -> str:
    import io

    buf = io.StringIO()
    rep = JsonReporter(buf)
    for r in results:
        rep.file(r)
    rep.end()
    return buf.getvalue()


def reporter(fmt: str, out: TextIO, **kw) -> Reporter:
    if fmt == "text":
        return TextReporter(out, **kw)
    if fmt == "json":
        return JsonReporter(out, **kw)
    if fmt == "sarif":
        from .sarif import SarifReporter

        return SarifReporter(out, **kw)
    if fmt == "junit":
        from .junit import JUnitReporter

        return JUnitReporter(out, **kw)
    if fmt == "github":
        from .annotations import GitHubReporter

        return GitHubReporter(out, **kw)
    raise ValueError(f"unknown format {fmt!r}")


def exit_status(results: list[FileResult], strict: bool = False) -> int:
    """2 if any file could not be read, else 1 if any certainly broke the protocol (or possibly, if strict), else 0."""
    if any(r.verdict == "error" for r in results):
        return 2
    if any(r.verdict == "violation" or (strict and r.verdict == "possible-violation") for r in results):
        return 1
    return 0
