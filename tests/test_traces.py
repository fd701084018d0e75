"""The bundled traces (traces/*.lgt) against their expected verdicts.

traces/manifest.toml says, for each trace, its verdict, every (rule, line)
finding replay must report, and for an input error the line it names.  These
tests replay each trace and compare; check that the manifest lists every
trace in the folder and covers every finding name of the registry; and check
`--emit` on the traces that keep the protocol: the completed trace replays
clean, and an input-only trace completes to the records of its full twin.

KNOWN_MODEL_BUGS names traces whose manifest entry records what lguest-io.md
and the 2.6.23 code say while replay says otherwise; they run as strict
xfails, so a model fix shows up as an XPASS failure: then delete the entry.
"""

from __future__ import annotations

import io
import os

import pytest

from lgcheck.replay.engine import replay_file
from lgcheck.replay.manifest import load
from lgcheck.replay.parser import read_trace
from lgcheck.spec.registry import FINDINGS

TRACES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "traces")
MANIFEST = os.path.join(TRACES, "manifest.toml")
EXPECTATIONS = load(MANIFEST)

KNOWN_MODEL_BUGS: dict[str, str] = {}


def name(exp) -> str:
    return os.path.basename(exp.file)


def params(expectations):
    out = []
    for exp in expectations:
        marks = []
        if name(exp) in KNOWN_MODEL_BUGS:
            marks.append(pytest.mark.xfail(reason=KNOWN_MODEL_BUGS[name(exp)], strict=True))
        out.append(pytest.param(exp, id=name(exp), marks=marks))
    return out


def describe(result) -> str:
    if result.error is not None:
        return result.error.text
    return "\n".join(f"{f.line}: {f.rule}: {f.message}" for f in result.findings) or "no findings"


@pytest.mark.parametrize("exp", params(EXPECTATIONS))
def test_trace_gets_its_expected_verdict(exp):
    result = replay_file(exp.file, partial=exp.partial)
    assert result.verdict == exp.verdict, describe(result)
    assert sorted((f.rule, f.line) for f in result.findings if f.certain) == exp.findings, describe(result)
    assert sorted((f.rule, f.line) for f in result.findings if not f.certain) == exp.possible, describe(result)
    if exp.verdict == "error":
        assert exp.error_line is not None, f"{name(exp)}: an error trace needs error_line in the manifest"
        assert result.error.line == exp.error_line, describe(result)
    assert exp.why, f"{name(exp)}: the manifest entry needs a `why`"


def test_every_trace_file_is_in_the_manifest():
    on_disk = {n for n in os.listdir(TRACES) if n.endswith(".lgt")}
    listed = [name(e) for e in EXPECTATIONS]
    assert len(listed) == len(set(listed)), "a trace is listed twice"
    assert on_disk - set(listed) == set(), "traces missing from manifest.toml"
    assert set(listed) - on_disk == set(), "manifest.toml lists files that do not exist"


def test_manifest_covers_every_finding_name():
    covered = {rule for e in EXPECTATIONS for rule, _ in e.findings}
    assert set(FINDINGS) - covered == set(), "no bundled trace breaks these rules"
    assert covered - set(FINDINGS) == set(), "the manifest names rules the registry does not know"


def test_manifest_has_ok_violation_and_error_traces():
    assert {e.verdict for e in EXPECTATIONS} == {"ok", "violation", "error"}


def emitted(path: str, tmp_path) -> tuple[object, str]:
    """Replay `path` with --emit; return its result and the completed trace's path."""
    buf = io.StringIO()
    result = replay_file(path, emit=buf)
    out = tmp_path / ("emitted-" + os.path.basename(path))
    out.write_text(buf.getvalue(), encoding="utf-8")
    return result, str(out)


OK = [e for e in EXPECTATIONS if e.verdict == "ok"]


@pytest.mark.parametrize("exp", params(OK))
def test_emitted_full_trace_replays_clean(exp, tmp_path):
    first, out = emitted(exp.file, tmp_path)
    assert first.verdict == "ok", describe(first)
    again = replay_file(out)
    assert again.verdict == "ok", describe(again)
    assert again.records >= first.records


def _twin(exp) -> str | None:
    """The full trace X.lgt that the input-only trace X.input.lgt stands for."""
    if not exp.file.endswith(".input.lgt"):
        return None
    return exp.file[: -len(".input.lgt")] + ".lgt"


TWINS = [e for e in OK if _twin(e) is not None]


def test_at_least_two_traces_come_in_both_forms():
    assert len(TWINS) >= 2
    for exp in TWINS:
        assert os.path.exists(_twin(exp)), f"{name(exp)} has no full twin"


@pytest.mark.parametrize("exp", params(TWINS))
def test_input_only_trace_completes_to_its_full_twin(exp, tmp_path):
    _, out = emitted(exp.file, tmp_path)
    completed = list(read_trace(out))
    full = list(read_trace(_twin(exp)))
    for i, (a, b) in enumerate(zip(completed, full)):
        assert a == b, f"record {i + 1}: --emit wrote {a!r}, {os.path.basename(_twin(exp))} line {b.line} has {b!r}"
    assert len(completed) == len(full)
