"""What replay tells about a file: plain records, formatted elsewhere (replay/report.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Finding(NamedTuple):
    rule: str
    line: int
    record: str  # the record's text as written in the trace
    message: str
    related: tuple = ()  # replay.related.Related: earlier lines that set what the check read


@dataclass
class InputError:
    line: int
    column: int
    message: str
    text: str  # the full rendered error (with source line and caret)


@dataclass
class FileResult:
    file: str
    records: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: InputError | None = None

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "error"
        return "violation" if self.findings else "ok"
