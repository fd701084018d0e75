"""What replay tells about a file: plain records, formatted elsewhere (replay/report.py)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from typing import NamedTuple


class Finding(NamedTuple):
    rule: str
    line: int
    record: str  # the record's text as written in the trace
    message: str
    related: tuple = ()  # replay.related.Related: earlier lines that set what the check read
    certain: bool = True  # partial mode: False when only some completions of the trace have it


class SpillLog:
    """A list that only grows (findings, notes): the first KEEP items in memory, the rest in a temporary file.

    Memory stays bounded whatever a trace provokes (a million findings take
    KEEP items of memory and the rest on disk, as the output they become
    would); len(), iteration, truth, comparison with a list and indexing work
    as on a list.  `make` rebuilds an item from its JSON form.
    """

    KEEP = 1000

    def __init__(self, items=(), make=None):
        self._mem: list = []
        self._spill = None
        self._count = 0
        self._make = make
        self._at_end = True
        for x in items:
            self.append(x)

    def append(self, x) -> None:
        self._count += 1
        if len(self._mem) < self.KEEP:
            self._mem.append(x)
            return
        if self._spill is None:
            self._spill = tempfile.TemporaryFile("w+", encoding="utf-8")
            self._at_end = True
        if not self._at_end:  # only after a read moved the position (a seek per append costs)
            self._spill.seek(0, 2)
            self._at_end = True
        self._spill.write(json.dumps(x) + "\n")

    def extend(self, xs) -> None:
        for x in xs:
            self.append(x)

    def drop_recent(self, items) -> None:
        """Remove these items, each among those still in memory (a fork's state found them at its last records)."""
        ids = {id(x) for x in items}
        kept = [x for x in self._mem if id(x) not in ids]
        self._count -= len(self._mem) - len(kept)
        self._mem = kept

    def clear(self) -> None:
        self._mem = []
        self._count = 0
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self):
        yield from self._mem
        if self._spill is not None:
            self._at_end = False
            self._spill.flush()
            with open(self._spill.fileno(), encoding="utf-8", closefd=False) as fh:
                fh.seek(0)
                for line in fh:
                    v = json.loads(line)
                    yield self._make(*v) if self._make is not None else v

    def __getitem__(self, i):
        if isinstance(i, int) and 0 <= i < len(self._mem):
            return self._mem[i]
        return list(self)[i]

    def __eq__(self, other) -> bool:
        if isinstance(other, (list, tuple, SpillLog)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    def __getstate__(self):
        # A worker process (--jobs, --cluster) sends its result back by pickle: the open spill file
        # cannot travel, so its lines do (as the JSON text they are) and land in a new spill file.
        spilled = ""
        if self._spill is not None:
            self._spill.flush()
            self._spill.seek(0)
            spilled = self._spill.read()
        return {"mem": self._mem, "count": self._count, "make": self._make, "spilled": spilled}

    def __setstate__(self, state) -> None:
        self._mem, self._count, self._make = state["mem"], state["count"], state["make"]
        self._spill = None
        if state["spilled"]:
            self._spill = tempfile.TemporaryFile("w+", encoding="utf-8")
            self._spill.write(state["spilled"])

    def __repr__(self) -> str:
        return f"SpillLog({self._mem!r}{', ...' if self._spill is not None else ''}; {self._count} items)"


def _finding(rule, line, record, message, related=(), certain=True, *rest) -> Finding:
    """A Finding rebuilt from its spilled JSON form (related lines come back as lists: made Related again)."""
    from .related import Related

    return Finding(rule, line, record, message, tuple(Related(*r) for r in related), certain, *rest)


def _findings() -> SpillLog:
    return SpillLog(make=_finding)


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
    findings: SpillLog = field(default_factory=_findings)
    notes: SpillLog = field(default_factory=SpillLog)
    error: InputError | None = None
    witnesses: dict = field(default_factory=dict)  # partial mode: finding index -> its witness (replay/witness.py)

    def __post_init__(self):
        if not isinstance(self.findings, SpillLog):
            self.findings = SpillLog(self.findings, make=_finding)
        if not isinstance(self.notes, SpillLog):
            self.notes = SpillLog(self.notes)

    @property
    def finding_count(self) -> int:
        return len(self.findings)

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "error"
        if not self.findings:
            return "ok"
        if any(f.certain for f in self.findings):
            return "violation"
        return "possible-violation"
