"""Formatters: FileResults to text for people, or to one JSON document for programs."""

from __future__ import annotations

import json

from .findings import FileResult


def text(results: list[FileResult], *, show_notes: bool = True) -> str:
    lines = []
    for r in results:
        if r.error is not None:
            lines.append(r.error.text)
        for f in r.findings:
            lines.append(f"{r.file}:{f.line}: {f.rule}: {f.message}")
            lines.append(f"    {f.record}")
        if show_notes:
            for n in r.notes:
                lines.append(f"{r.file}: note: {n}")
        n = len(r.findings)
        summary = f"{r.file}: {r.records} records, {n} finding{'' if n == 1 else 's'}: {r.verdict}"
        if r.error is not None:
            summary = f"{r.file}: input error, nothing checked: error"
        lines.append(summary)
    return "\n".join(lines) + ("\n" if lines else "")


def as_dict(r: FileResult) -> dict:
    return {
        "file": r.file,
        "verdict": r.verdict,
        "records": r.records,
        "findings": [{"rule": f.rule, "line": f.line, "record": f.record, "message": f.message} for f in r.findings],
        "notes": list(r.notes),
        "error": None
        if r.error is None
        else {"line": r.error.line, "column": r.error.column, "message": r.error.message},
    }


def json_text(results: list[FileResult]) -> str:
    return json.dumps({"files": [as_dict(r) for r in results]}, indent=2) + "\n"


def exit_status(results: list[FileResult]) -> int:
    """2 if any file could not be read, else 1 if any broke the protocol, else 0."""
    if any(r.verdict == "error" for r in results):
        return 2
    if any(r.verdict == "violation" for r in results):
        return 1
    return 0
