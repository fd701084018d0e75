"""Formatters: FileResults to text for people, or to one JSON document for programs."""

from __future__ import annotations

import json

from .escape import shown
from .findings import FileResult


def text(results: list[FileResult], *, show_notes: bool = True) -> str:
    return "".join(text_lines(results, show_notes=show_notes))


def text_lines(results, *, show_notes: bool = True):
    """The text report, line by line (each with its newline), every trace-borne text escaped."""
    for r in results:
        yield from file_text(r, show_notes=show_notes)


def finding_text(file: str, f) -> str:
    return f"{shown(file)}:{f.line}: {f.rule}: {shown(f.message)}\n    {shown(f.record)}\n"


def file_text(r: FileResult, *, show_notes: bool = True, findings: bool = True):
    """One file's lines: its error, findings (unless already streamed), notes and summary."""
    name = shown(r.file)
    if r.error is not None:
        yield r.error.text + "\n"
    if findings:
        for f in r.findings:
            yield finding_text(r.file, f)
    if show_notes:
        for n in r.notes:
            yield f"{name}: note: {shown(n)}\n"
    n = r.finding_count
    summary = f"{name}: {r.records} records, {n} finding{'' if n == 1 else 's'}: {r.verdict}"
    if r.error is not None:
        summary = f"{name}: input error, nothing checked: error"
    yield summary + "\n"


def as_dict(r: FileResult, body: bool = True) -> dict:
    return {
        "file": r.file,
        "verdict": r.verdict,
        "records": r.records,
        "findings": [{"rule": f.rule, "line": f.line, "record": f.record, "message": f.message} for f in r.findings]
        if body
        else [],
        "notes": list(r.notes) if body else [],
        "error": None
        if r.error is None
        else {"line": r.error.line, "column": r.error.column, "message": r.error.message},
    }


def json_text(results: list[FileResult]) -> str:
    return json.dumps({"files": [as_dict(r) for r in results]}, indent=2) + "\n"


class Outcome:
    """What the exit status needs of a file's result, without its findings."""

    __slots__ = ("verdict",)

    def __init__(self, r: FileResult):
        self.verdict = r.verdict


class JsonWriter:
    """The JSON document of json_text(), written file by file and finding by finding as results come."""

    def __init__(self, out):
        self.out = out
        self.n = 0
        out.write('{\n  "files": [')

    def file(self, r: FileResult) -> None:
        w = self.out.write
        w(("," if self.n else "") + "\n    {\n")
        self.n += 1
        w(f'      "file": {json.dumps(r.file)},\n      "verdict": {json.dumps(r.verdict)},\n')
        w(f'      "records": {r.records},\n      "findings": [')
        for i, f in enumerate(r.findings):
            d = {"rule": f.rule, "line": f.line, "record": f.record, "message": f.message}
            w(("," if i else "") + "\n        " + json.dumps(d))
        w("\n      ],\n" if r.findings else "],\n")
        w('      "notes": [')
        for i, n in enumerate(r.notes):
            w(("," if i else "") + "\n        " + json.dumps(n))
        w("\n      ],\n" if r.notes else "],\n")
        err = as_dict(r, body=False)["error"]
        w(f'      "error": {json.dumps(err)}\n    }}')
        self.out.flush()

    def close(self) -> None:
        self.out.write("\n  ]\n}\n" if self.n else "]\n}\n")
        self.out.flush()


def exit_status(results: list[FileResult]) -> int:
    """2 if any file could not be read, else 1 if any broke the protocol, else 0."""
    if any(r.verdict == "error" for r in results):
        return 2
    if any(r.verdict == "violation" for r in results):
        return 1
    return 0
