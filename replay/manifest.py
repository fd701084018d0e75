"""The bundled traces' expected verdicts: replay each and compare.

A manifest is TOML:

    [[trace]]
    file = "console-boot.lgt"       # relative to the manifest
    verdict = "ok"                  # ok | violation | error
    findings = [{rule = "key-collision", line = 12}]   # exactly these (rule, line) pairs
    error_line = 3                  # for verdict = "error": the line the error names
    why = "what the trace shows"
    partial = true                  # replay it with --partial (an incomplete capture)
    possible = [{rule = "bad-dma", line = 9}]   # partial: exactly these possible findings (`findings`: the certain)
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from dataclasses import dataclass, field
from typing import TextIO

from . import report
from .escape import shown
from .engine import replay_file
from .findings import FileResult
from .parser import open_regular


@dataclass
class Expectation:
    file: str
    verdict: str
    findings: list[tuple[str, int]] = field(default_factory=list)
    error_line: int | None = None
    why: str = ""
    partial: bool = False
    possible: list[tuple[str, int]] = field(default_factory=list)


class ManifestError(ValueError):
    """A manifest that is not what the format above says: one clear message."""


VERDICTS = ("ok", "violation", "possible-violation", "error")


def _typed(t: dict, key: str, want, where: str, required: bool = False):
    if key not in t:
        if required:
            raise ManifestError(f"{where}: missing {key!r}")
        return None
    v = t[key]
    if not isinstance(v, want) or (want is int and isinstance(v, bool)):
        name = want.__name__ if isinstance(want, type) else " or ".join(w.__name__ for w in want)
        raise ManifestError(f"{where}: {key} = {v!r} is not of type {name}")
    return v


def _pairs(findings: list, where: str) -> list[tuple[str, int]]:
    pairs = []
    for f in findings:
        if not isinstance(f, dict):
            raise ManifestError(f"{where}: each finding must be a table {{rule = ..., line = ...}}, not {f!r}")
        pairs.append((_typed(f, "rule", str, where, True), _typed(f, "line", int, where, True)))
    return pairs


def load(path: str) -> list[Expectation]:
    with open_regular(path) as fh:  # a regular file only: a FIFO or device is refused, not waited on
        data = tomllib.load(fh)
    base = os.path.dirname(path)
    traces = data.get("trace", [])
    if not isinstance(traces, list):
        raise ManifestError("`trace` must be an array of tables ([[trace]])")
    out = []
    for i, t in enumerate(traces, 1):
        where = f"trace {i}"
        if not isinstance(t, dict):
            raise ManifestError(f"{where}: must be a table ([[trace]]), not {t!r}")
        unknown = set(t) - {"file", "verdict", "findings", "error_line", "why", "partial", "possible"}
        if unknown:
            raise ManifestError(f"{where}: unknown key(s) {', '.join(sorted(map(repr, unknown)))}")
        file = _typed(t, "file", str, where, required=True)
        where = f"trace {i} ({file})"
        verdict = _typed(t, "verdict", str, where, required=True)
        if verdict not in VERDICTS:
            raise ManifestError(f"{where}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        pairs = _pairs(_typed(t, "findings", list, where) or [], where)
        partial = bool(_typed(t, "partial", bool, where))
        possible = _pairs(_typed(t, "possible", list, where) or [], where)
        if possible and not partial:
            raise ManifestError(f"{where}: `possible` findings need partial = true")
        out.append(
            Expectation(
                os.path.join(base, file),
                verdict,
                sorted(pairs),
                _typed(t, "error_line", int, where),
                _typed(t, "why", str, where) or "",
                partial,
                sorted(possible),
            )
        )
    return out


def mismatch(exp: Expectation, got: FileResult) -> str | None:
    """Why a result is not the expected one, or None."""
    if got.verdict != exp.verdict:
        return f"verdict {got.verdict}, expected {exp.verdict}"
    if exp.verdict in ("violation", "possible-violation"):
        have = sorted((f.rule, f.line) for f in got.findings if f.certain)
        if have != exp.findings:
            return f"findings {have}, expected {exp.findings}"
        maybe = sorted((f.rule, f.line) for f in got.findings if not f.certain)
        if maybe != exp.possible:
            return f"possible findings {maybe}, expected {exp.possible}"
    if exp.verdict == "error" and exp.error_line is not None and got.error.line != exp.error_line:
        return f"error at line {got.error.line}, expected line {exp.error_line}"
    return None


def check_manifest(path: str, *, json_out: bool = False, out: TextIO) -> int:
    try:
        expectations = load(path)
    except OSError as e:
        print(f"lgcheck replay: error: cannot read manifest {shown(path)}: {e.strerror or e}", file=sys.stderr)
        return 2
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ManifestError) as e:
        print(f"lgcheck replay: error: manifest {shown(path)}: {shown(str(e))}", file=sys.stderr)
        return 2
    results, bad, unreadable = [], [], False
    for exp in expectations:
        got = replay_file(exp.file, partial=exp.partial)
        results.append(got)
        why = mismatch(exp, got)
        if got.error is not None and got.error.line == 0:
            # Not an input error of the trace (which `verdict = "error"` expects) but no trace at all: a
            # missing file would otherwise pass as the error it was expected to have, checking nothing.
            why, unreadable = f"cannot be read ({got.error.message.split(': ', 1)[-1]})", True
        if why:
            bad.append((exp.file, why))
    if json_out:
        doc = json.loads(report.json_text(results))
        doc["manifest"] = {"file": path, "mismatches": [{"file": f, "why": w} for f, w in bad]}
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        out.write(report.text(results, show_notes=False))
        for f, w in bad:
            out.write(f"{shown(f)}: UNEXPECTED: {shown(w)}\n")  # (escaped as the report above is)
        out.write(
            f"{len(expectations)} traces: "
            + ("all got their expected verdicts\n" if not bad else f"{len(bad)} did not get their expected verdict\n")
        )
    return 2 if unreadable else 1 if bad else 0
