"""The bundled traces' expected verdicts: replay each and compare.

A manifest is TOML:

    [[trace]]
    file = "console-boot.lgt"       # relative to the manifest
    verdict = "ok"                  # ok | violation | error
    findings = [{rule = "key-collision", line = 12}]   # exactly these (rule, line) pairs
    error_line = 3                  # for verdict = "error": the line the error names
    why = "what the trace shows"
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from typing import TextIO

from . import report
from .engine import replay_file
from .findings import FileResult


@dataclass
class Expectation:
    file: str
    verdict: str
    findings: list[tuple[str, int]] = field(default_factory=list)
    error_line: int | None = None
    why: str = ""


def load(path: str) -> list[Expectation]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    base = os.path.dirname(path)
    out = []
    for t in data.get("trace", []):
        out.append(
            Expectation(
                os.path.join(base, t["file"]),
                t["verdict"],
                sorted((f["rule"], f["line"]) for f in t.get("findings", [])),
                t.get("error_line"),
                t.get("why", ""),
            )
        )
    return out


def mismatch(exp: Expectation, got: FileResult) -> str | None:
    """Why a result is not the expected one, or None."""
    if got.verdict != exp.verdict:
        return f"verdict {got.verdict}, expected {exp.verdict}"
    if exp.verdict == "violation":
        have = sorted((f.rule, f.line) for f in got.findings)
        if have != exp.findings:
            return f"findings {have}, expected {exp.findings}"
    if exp.verdict == "error" and exp.error_line is not None and got.error.line != exp.error_line:
        return f"error at line {got.error.line}, expected line {exp.error_line}"
    return None


def check_manifest(path: str, *, json_out: bool = False, out: TextIO) -> int:
    try:
        expectations = load(path)
    except (OSError, tomllib.TOMLDecodeError, KeyError) as e:
        out.write(f"lgcheck replay: error: cannot read manifest {path}: {e}\n")
        return 2
    results, bad = [], []
    for exp in expectations:
        got = replay_file(exp.file)
        results.append(got)
        why = mismatch(exp, got)
        if why:
            bad.append((exp.file, why))
    if json_out:
        doc = json.loads(report.json_text(results))
        doc["manifest"] = {"file": path, "mismatches": [{"file": f, "why": w} for f, w in bad]}
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        out.write(report.text(results, show_notes=False))
        for f, w in bad:
            out.write(f"{f}: UNEXPECTED: {w}\n")
        out.write(
            f"{len(expectations)} traces: "
            + ("all got their expected verdicts\n" if not bad else f"{len(bad)} did not get their expected verdict\n")
        )
    return 1 if bad else 0
