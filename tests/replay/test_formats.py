"""Replay's reports at scale and for CI: grouping, counts, related lines, limits, and the
json / sarif / junit / github formats, each checked against what its reader needs."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from lgcheck.cli import main
from lgcheck.replay.engine import replay_file
from lgcheck.replay.report import split
from lgcheck.spec.registry import FINDINGS

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
TRACES = os.path.join(ROOT, "traces")
FLOOD = os.path.join(TRACES, "bad-write-to-used-buffer-console-flood.lgt")
OK = os.path.join(TRACES, "console-boot.lgt")
INPUT_ERROR = os.path.join(TRACES, "bad-input-header.lgt")


def _schema(*parts):
    with open(os.path.join(ROOT, *parts)) as fh:
        return json.load(fh)


@pytest.fixture
def flood(tmp_path):
    """The console flood, then six more fills of the same buffer and two status clears: 8 findings, 2 groups."""
    with open(FLOOD) as fh:
        head = fh.read().splitlines()[:27]
    body = [f"l0 fill key=0 dma=0x477d60 len={i} irq=1" for i in range(1, 7)]
    body += ["g0 status dev=0 value=1", "g0 status dev=0 value=0"]
    p = tmp_path / "flood.lgt"
    p.write_text("\n".join(head + body) + "\n")
    return str(p)


# ------------------------------------------------------------ related lines
@pytest.mark.parametrize(
    "trace, rule, line, related",
    [
        ("bad-write-to-used-buffer-console-flood.lgt", "write-to-used-buffer", 29, (26, "used_len set")),
        ("bad-buffer-overflow-fill.lgt", "buffer-overflow", 35, (33, "sections set")),
        ("bad-status-cleared.lgt", "status-cleared", 23, (20, "status set")),
        ("bad-key-collision-rebind.lgt", "key-collision", 42, (29, "bound")),
    ],
)
def test_a_finding_names_the_earlier_line_that_set_what_it_read(trace, rule, line, related):
    r = replay_file(os.path.join(TRACES, trace))
    (f,) = [f for f in r.findings if f.rule == rule]
    assert f.line == line
    assert [tuple(x) for x in f.related] == [related]


def test_related_line_follows_each_write(flood):
    r = replay_file(flood)
    fills = [f for f in r.findings if f.rule == "write-to-used-buffer"]
    # each fill's used_len was set by the fill just before it (line 26 is the trace's first fill)
    assert [f.related[0].line for f in fills] == [26, 28, 29, 30, 31, 32]
    clears = [f for f in r.findings if f.rule == "status-cleared"]
    assert [f.related[0].line for f in clears] == [24, 34]


# ------------------------------------------------------------ text at scale
def test_text_gives_the_explanation_once_per_group_and_counts(flood, capsys):
    assert main(["replay", flood]) == 1
    out = capsys.readouterr().out
    assert out.count("get_dma_buffer then gives the last entry") == 1
    assert out.count("status bits are only ever set") == 1
    assert out.count("(why: see line 28)") == 5 and out.count("(why: see line 34)") == 1
    assert "[used_len set at line 31]" in out
    assert f"{flood}: by rule: write-to-used-buffer 6, status-cleared 2\n" in out
    assert f"{flood}: by descriptor: g0 0x477d60 6\n" in out
    assert out.endswith(f"{flood}: 17 records, 8 findings: violation\n")


def test_max_findings_limits_printing_not_counting(flood, capsys):
    assert main(["replay", "--max-findings", "2", flood]) == 1
    out = capsys.readouterr().out
    assert len(re.findall(rf"^{re.escape(flood)}:\d+: ", out, re.M)) == 2
    assert "6 more findings not shown (--max-findings 2)" in out
    assert "by rule: write-to-used-buffer 6, status-cleared 2" in out


def test_grand_total_and_quiet(flood, capsys):
    assert main(["replay", "-q", OK, flood, INPUT_ERROR]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{flood}: 17 records, 8 findings: violation"
    assert out[1].startswith(f"{INPUT_ERROR}:8:14: error:")
    assert out[2] == (
        "total: 3 files (1 ok, 1 violation, 1 error), 41 records, 8 findings (write-to-used-buffer 6, status-cleared 2)"
    )
    assert len(out) == 3


def test_select_and_ignore_decide_verdict_and_exit(flood, capsys):
    assert main(["replay", "--select", "status-cleared", flood]) == 1
    out = capsys.readouterr().out
    assert "write-to-used-buffer" not in out and "2 findings" in out
    assert main(["replay", "--ignore", "status-cleared", "--ignore", "write-to-used-buffer", flood]) == 0
    assert capsys.readouterr().out.strip().endswith("0 findings: ok")
    assert main(["replay", "--select", "no-such-rule", flood]) == 2
    assert "unknown rule" in capsys.readouterr().err


def test_split_keeps_brackets_and_backquotes_whole():
    assert split("a (b: c) `d: e`: why: more") == ("a (b: c) `d: e`", "why: more")
    assert split("no explanation") == ("no explanation", "")


# ------------------------------------------------------------ json
def test_json_keeps_every_finding_with_its_group(flood, capsys):
    assert main(["replay", "--format", "json", "--max-findings", "1", flood, INPUT_ERROR]) == 2
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, _schema("docs", "json-schemas", "replay.schema.json"))
    f = doc["files"][0]
    assert len(f["findings"]) == 8
    assert [g["count"] for g in f["groups"]] == [6, 2]
    assert {x["group"] for x in f["findings"] if x["rule"] == "write-to-used-buffer"} == {0}
    assert f["findings"][1]["related"] == [{"line": 28, "what": "used_len set"}]
    assert f["counts"]["by_descriptor"] == {"g0 0x477d60": 6}
    assert doc["total"] == {
        "files": 2,
        "ok": 0,
        "violation": 1,
        "possible-violation": 0,
        "error": 1,
        "records": 17,
        "findings": 8,
        "by_rule": {"write-to-used-buffer": 6, "status-cleared": 2},
    }


def test_json_schema_names_exactly_the_registry_rules():
    schema = _schema("docs", "json-schemas", "replay.schema.json")
    assert set(schema["$defs"]["rule"]["enum"]) == set(FINDINGS)


# ------------------------------------------------------------ sarif
def test_sarif_is_valid_2_1_0_with_related_locations(flood, capsys):
    assert main(["replay", "--format", "sarif", flood, OK, INPUT_ERROR]) == 2
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, _schema("tests", "data", "sarif-schema-2.1.0.json"))
    (run,) = doc["runs"]
    results = run["results"]
    assert len(results) == 9  # 8 findings and 1 input error
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)
    second = results[1]
    assert second["locations"][0]["physicalLocation"]["region"]["startLine"] == 29
    assert second["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 28
    assert "[used_len set at line 28](0)" in second["message"]["text"]
    err = results[-1]
    assert err["ruleId"] == "input-error"
    assert err["locations"][0]["physicalLocation"]["region"] == {"startLine": 8, "startColumn": 14}
    assert run["invocations"][0]["exitCode"] == 2


def test_sarif_uris_are_uri_references(tmp_path, capsys):
    odd = tmp_path / "a b%.lgt"
    with open(OK) as fh:
        odd.write_text(fh.read() + "g0 status dev=0 value=0\n")
    main(["replay", "--format", "sarif", str(odd)])
    doc = json.loads(capsys.readouterr().out)
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///") and uri.endswith("/a%20b%25.lgt")


# ------------------------------------------------------------ junit
def test_junit_is_one_testcase_per_trace(flood, capsys):
    assert main(["replay", "--format", "junit", OK, flood, INPUT_ERROR]) == 2
    root = ET.fromstring(capsys.readouterr().out)
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [OK, flood, INPUT_ERROR]
    assert list(cases[0]) == []
    (failure,) = cases[1].findall("failure")
    assert failure.get("type") == "write-to-used-buffer" and "8 finding(s)" in failure.get("message")
    assert f"{flood}:35: status-cleared" in failure.text
    (error,) = cases[2].findall("error")
    assert "version" in error.get("message")


# ------------------------------------------------------------ github
def test_github_annotations_escape_their_data(tmp_path, capsys):
    p = tmp_path / "x,y.lgt"
    with open(FLOOD) as fh:
        p.write_text(fh.read())
    assert main(["replay", "--format", "github", str(p)]) == 1
    out = capsys.readouterr().out.splitlines()
    ann = [x for x in out if x.startswith("::error ")]
    assert len(ann) == 1
    assert re.match(r"::error file=[^:,]*x%2Cy\.lgt,line=29,title=write-to-used-buffer::l0's fill", ann[0])
    assert out[-1].endswith("10 records, 1 finding: violation")


# ------------------------------------------------------------ conventions
def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert re.match(r"lgcheck \d+\.\d+", capsys.readouterr().out)


def test_an_internal_error_exits_4_not_1(monkeypatch, capsys):
    import lgcheck.replay.corpus as corpus

    def boom(*a, **k):
        raise ZeroDivisionError("model bug")

    monkeypatch.setattr(corpus, "replay_file", boom)
    assert main(["replay", OK]) == 4
    err = capsys.readouterr().err
    assert "internal error" in err and "ZeroDivisionError" in err


class _Sink:
    """An output that counts what is written and keeps none of it."""

    def __init__(self):
        self.chars = 0

    def write(self, s):
        self.chars += len(s)

    def flush(self):
        pass


@pytest.fixture(scope="module")
def many_findings(tmp_path_factory):
    """Replayed once for every format: a file with 1,500 findings and one with 12,000 (one per status write)."""
    out = []
    for n in (1500, 12000):
        p = tmp_path_factory.mktemp("many") / f"many{n}.lgt"
        lines = ["lguest-trace 1", "guest 0 pages=16", "device 0.0 type=console pfn=0 pages=0"]
        lines += ["g0 status dev=0 value=ACKNOWLEDGE|DRIVER", "g0 status dev=0 value=ACKNOWLEDGE"] * n
        p.write_text("\n".join(lines) + "\n")
        out.append(replay_file(str(p)))
    return out


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
@pytest.mark.parametrize("max_findings", [None, 5])
def test_reporters_write_findings_without_holding_them_all(many_findings, fmt, max_findings):
    """The findings live in a SpillLog so that memory does not grow with them, but the reporters undid it:
    --max-findings N sliced the SpillLog (every finding read into a list), the text and JSON reports built
    each file's whole output as one string or dict, and SARIF a list of every result (a 40,000-finding
    trace: 60 MB of text, 204 MB of JSON, against 30 MB for 10,000)."""
    import tracemalloc

    from lgcheck.replay.report import reporter

    def peak(r):
        rep = reporter(fmt, _Sink(), max_findings=max_findings)
        tracemalloc.start()
        try:
            rep.file(r)
            rep.end()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = many_findings
    peak(small)  # (first-use allocations, such as imports, do not count as the small file's)
    # 10,500 findings more may cost a few bytes each (allocator noise), not the 100+ of holding them
    assert peak(large) - peak(small) < 250_000


# ------------------------------------------------------------ hostile names and record text, every format
HOSTILE_KILL = 'host kill g0 reason="bad \x1b[31mRED\x1b[0m \u202eevil <x>]]> & \x07"'


def _hostile_corpus(tmp_path):
    """Traces whose names and echoed records hold what a terminal, XML or a URI must not get raw."""
    with open(FLOOD) as fh:
        flood = fh.read()
    body = "lguest-trace 1\nguest 0 pages=16\ng0 dma 0x1000 used_len=0 addr=[0x2000] len=[8]\n" + HOSTILE_KILL + "\n"
    (tmp_path / "kill.lgt").write_text(body)
    for name in ("e\x1b[2Jx.lgt", "bi\u202edi.lgt", "nl\nx.lgt: 5 records, 0 findings: ok\ny.lgt"):
        (tmp_path / name).write_text(flood)
    (tmp_path / os.fsdecode(b"\xff\xfe.lgt")).write_text(flood)
    return str(tmp_path)


@pytest.mark.parametrize("fmt", ["text", "github", "junit", "sarif", "json"])
def test_no_format_passes_raw_controls_or_fails_on_a_hostile_name(tmp_path, capsys, fmt):
    # Before: text printed a newline of a file name raw (a forged `ok` line), github wrote ESC and bidi
    # controls into its log, JUnit put ESC into the XML (not well-formed: CI cannot read the report), and
    # SARIF ended in an internal error (exit 4) on a name that is not UTF-8 (quote() of a lone surrogate).
    (tmp_path / "c").mkdir()
    corpus = _hostile_corpus(tmp_path / "c")
    assert main(["replay", "--format", fmt, "--no-progress", corpus]) == 1
    out, err = capsys.readouterr()
    assert "internal error" not in err
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e\ud800-\udfff]", out)
    lines = out.splitlines()
    assert not any(x.startswith("y.lgt") or x.startswith("x.lgt: 5 records") for x in lines)
    if fmt == "junit":
        suite = ET.fromstring(out).find("testsuite")
        assert suite.get("tests") == "5"
    elif fmt in ("sarif", "json"):
        doc = json.loads(out)
        if fmt == "sarif":
            uris = [
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]
            ]
            assert any(u.endswith("/%FF%FE.lgt") for u in uris)
