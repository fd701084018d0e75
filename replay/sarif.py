"""SARIF 2.1.0 for replay: one run, one result per finding (and per input error).

Code-scanning services (GitHub, GitLab, Azure DevOps) read it: each finding
is a result at its file and line, with the record as the snippet, the earlier
line that set what it read as a relatedLocation, and its group and
descriptor as properties.  Valid against the OASIS schema
(tests/data/sarif-schema-2.1.0.json, checked in tests/replay/test_formats.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from urllib.parse import quote

from ..spec.registry import FINDINGS
from .findings import FileResult
from .related import descriptor_of
from .report import Groups, Reporter, split, version

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INPUT_ERROR = "input-error"


def uri(path: str) -> str:
    """A URI reference for a file path: relative stays relative (with /), absolute becomes file://.

    The path's own bytes are percent-encoded (os.fsencode): a name that is not UTF-8 reaches here holding
    lone surrogates (Python's surrogateescape), which quote() cannot encode as text; as bytes they are the
    name's real bytes (%FF), which is what a URI of that file says.
    """
    p = os.fsencode(path.replace(os.sep, "/"))
    if os.path.isabs(path):
        return "file://" + quote(p)
    return quote(p)


def rules() -> list[dict]:
    out = []
    for f in FINDINGS.values():
        out.append(
            {
                "id": f.name,
                "name": "".join(w.capitalize() for w in f.name.split("-")),
                "shortDescription": {"text": f.description},
                "fullDescription": {"text": f.description + f" See docs/rules/{f.name}.md."},
                "defaultConfiguration": {"level": "error"},
                "properties": {"invariant": f.invariant} if f.invariant else {},
            }
        )
    out.append(
        {
            "id": INPUT_ERROR,
            "name": "InputError",
            "shortDescription": {"text": "The trace cannot be read; nothing in it is checked."},
            "defaultConfiguration": {"level": "error"},
        }
    )
    return out


RULE_INDEX = {r["id"]: i for i, r in enumerate(rules())}


def _location(path: str, line: int, column: int | None = None, snippet: str | None = None) -> dict:
    region: dict = {"startLine": max(line, 1)}
    if column:
        region["startColumn"] = column
    if snippet is not None:
        region["snippet"] = {"text": snippet}
    return {"physicalLocation": {"artifactLocation": {"uri": uri(path)}, "region": region}}


def _message(f) -> str:
    """The message, its related lines as SARIF embedded links ([text](relatedLocation id))."""
    if not f.related:
        return f.message
    what, why = split(f.message)
    links = "".join(f" [{x.what} at line {x.line}]({k})" for k, x in enumerate(f.related))
    return what + links + (f": {why}" if why else "")


def results(r: FileResult) -> Iterator[dict]:
    """One file's results, one at a time: the findings come from their SpillLog and go out as they come."""
    if r.error is not None:
        e = r.error
        yield {
            "ruleId": INPUT_ERROR,
            "ruleIndex": RULE_INDEX[INPUT_ERROR],
            "level": "error",
            "message": {"text": e.message},
            "locations": [_location(r.file, e.line, e.column)],
        }
        return
    groups = Groups()  # numbered as they come (the same numbers as Groups(r.findings).of)
    for f in r.findings:
        res = {
            "ruleId": f.rule,
            "ruleIndex": RULE_INDEX[f.rule],
            "level": "error" if f.certain else "warning",  # a possible finding (partial mode) warns
            "message": {"text": _message(f)},
            "locations": [_location(r.file, f.line, snippet=f.record)],
            "properties": {"group": groups.add(f), "certain": f.certain},
        }
        d = descriptor_of(f.message)
        if d:
            res["properties"]["descriptor"] = d
        if f.related:
            res["relatedLocations"] = [
                dict(_location(r.file, x.line), id=k, message={"text": x.what}) for k, x in enumerate(f.related)
            ]
        yield res


class SarifReporter(Reporter):
    def __init__(self, out, **kw):
        super().__init__(out, **kw)
        self.first = True
        driver = {"name": "lgcheck", "version": version(), "rules": rules()}
        head = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}}]}
        text = json.dumps(head)
        # open the run's results array: everything before the run's closing "}]}"
        out.write(text[: -len("}]}")] + ', "results": [')

    def file(self, r: FileResult):
        super().file(r)
        for res in results(r):
            self.out.write(("\n" if self.first else ",\n") + json.dumps(res))
            self.first = False

    def end(self):
        inv = {"executionSuccessful": True, "exitCode": self.totals.exit_status()}
        self.out.write('\n], "invocations": [' + json.dumps(inv) + "]}]}\n")
