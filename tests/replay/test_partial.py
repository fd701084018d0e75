"""Partial mode on hand-made captures: the four bugs of issue 7, `lost`, certain and possible findings, exits."""

from __future__ import annotations

import json
import os
import re

import pytest

from lgcheck.cli import main
from lgcheck.replay.engine import replay_file
from lgcheck.replay.errors import TraceError
from lgcheck.replay.parser import parse_text
from lgcheck.replay.records import format_record

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
TRACES = os.path.join(ROOT, "traces")
EXAMPLE = os.path.join(ROOT, "traces", "partial-console-flood.lgt")


def variant(tmp_path, name, trace, *subs):
    with open(os.path.join(TRACES, trace)) as fh:
        text = fh.read()
    for old, new in subs:
        assert old in text, old
        text = text.replace(old, new, 1)
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def summary(r):
    return [(f.rule, f.line, f.certain) for f in r.findings]


BAD_DMA = "bad-bad-dma-section-crosses-page.lgt"
UNRECORDED_KILL = ('host kill g0 reason="bad DMA entry: 1514@0x1c52c02"', "# (the kill was not captured)")


# ---------------------------------------------------------------- `lost` in the grammar
def test_lost_parses_in_partial_mode_only():
    recs = parse_text("lguest-trace 1\nlost records=3\nlost\n", partial=True)
    assert [(r.kind, r.fields) for r in recs[1:]] == [("lost", {"records": 3}), ("lost", {})]
    assert [format_record(r) for r in recs[1:]] == ["lost records=3", "lost"]
    with pytest.raises(TraceError, match="only accepted with --partial"):
        parse_text("lguest-trace 1\nlost records=3\n")


# ---------------------------------------------------------------- bug 1: `?` in setup fields
@pytest.mark.parametrize(
    "sub",
    [
        ("guest 0 pages=8192", "guest 0 pages=?"),
        ("device 1.0 type=net pfn=0x2001 pages=1", "device 1.0 type=net pfn=? pages=?"),
        ("device 0.0 type=net pfn=0x2001 pages=1", "device 0.0 type=? pfn=0x2001 pages=1"),
        ("share net pages=1", "share net pages=?"),
        ("map=[0:0x2001, 1:0x2001]", "map=[0:?, 1:0x2001]"),
    ],
)
def test_a_question_mark_in_setup_is_no_traceback_and_no_certain_finding(tmp_path, capsys, sub):
    path = variant(tmp_path, "s.lgt", BAD_DMA, sub)
    assert main(["replay", "--partial", "--json", path]) == 0
    doc = json.loads(capsys.readouterr().out)["files"][0]
    assert doc["verdict"] in ("ok", "possible-violation")
    assert not any(f["certain"] for f in doc["findings"])
    assert any("`?`" in n for n in doc["notes"])


def test_unknown_ram_size_skips_address_checks_with_a_note(tmp_path):
    r = replay_file(variant(tmp_path, "s.lgt", BAD_DMA, ("guest 0 pages=8192", "guest 0 pages=?")), partial=True)
    assert any("RAM size is `?`" in n for n in r.notes)
    assert r.verdict == "possible-violation" and summary(r) == [("bad-dma", 39, False)]


# ---------------------------------------------------------------- bug 2: `-> ?` and `num=?` keep the binding
@pytest.mark.parametrize("sub", [("num=8 irq=1 -> 1", "num=8 irq=1 -> ?"), ("num=8 irq=1 -> 1", "num=? irq=1 -> 1")])
def test_a_bind_with_a_question_mark_is_made_and_its_bad_dma_stays(tmp_path, sub):
    # The send still finds g1's binding: the Host checks and kills g0. The trace records that kill right after
    # the send, so every completion that explains it has the kill there: certain (replay/partial.py pinned_kill).
    r = replay_file(variant(tmp_path, "b.lgt", BAD_DMA, sub), partial=True)
    assert summary(r) == [("bad-dma", 39, True)]
    assert "(the trace records this kill)" in r.findings[0].message and r.verdict == "violation"
    # Without the recorded kill, only possible: had the bind failed (or num been 0), the send drops.
    r = replay_file(variant(tmp_path, "b.lgt", BAD_DMA, sub, UNRECORDED_KILL), partial=True)
    assert summary(r) == [("bad-dma", 39, False)]
    assert r.verdict == "possible-violation"


# ---------------------------------------------------------------- bug 3: `?` in a Host record
def test_a_host_record_with_a_question_mark_is_compared_on_its_known_fields(tmp_path):
    path = variant(
        tmp_path,
        "h.lgt",
        "net-two-guests.lgt",
        ("to=g1:0x1c6b3a0 len=98 irq=1", "to=g1:0x1c6b3a0 len=? irq=1"),
        ("to=g1:0x1c6b468 len=1514", "to=g1:? len=1514"),
    )
    r = replay_file(path, partial=True)
    assert r.verdict == "ok", summary(r)
    assert any("agree with the model's" in n for n in r.notes)
    assert not any("no such Host answer" in f.message for f in r.findings)


def test_a_host_record_that_differs_in_a_known_field_is_a_divergence(tmp_path):
    path = variant(
        tmp_path, "h.lgt", "net-two-guests.lgt", ("to=g1:0x1c6b3a0 len=98 irq=1", "to=g1:0x1c6b404 len=? irq=1")
    )
    r = replay_file(path, partial=True)
    assert ("divergence", 86, True) in summary(r)
    (m,) = [f.message for f in r.findings if f.line == 86]
    assert m.endswith(
        "[no value of its `?` (len) explains it: with the model's own (len=98), 0, 1 or any other, "
        "to=g1:0x1c6b404 where the model has g1:0x1c6b3a0]"
    )


# ---------------------------------------------------------------- bug 4: a missing `host pending`
def test_a_missing_host_pending_with_its_output_kept_is_followed_and_said(tmp_path):
    with open(os.path.join(TRACES, "block-read-launcher-order.lgt")) as fh:
        lines = fh.read().split("\n")
    n = next(i for i, line in enumerate(lines) if line.startswith("host pending"))
    p = tmp_path / "p.lgt"
    p.write_text("\n".join(lines[:n] + lines[n + 1 :]))
    r = replay_file(str(p), partial=True)
    # The completion with that `host pending` explains the output: no finding, and a note that says what replay did.
    assert r.findings == [] and r.verdict == "ok"
    assert any("replay completed that send itself" in n for n in r.notes)


# ---------------------------------------------------------------- lost
def test_after_lost_the_buffers_are_unknown_and_findings_possible(tmp_path):
    path = variant(
        tmp_path,
        "l.lgt",
        "bad-write-to-used-buffer-console-flood.lgt",
        ("l0 fill key=0 dma=0x477d60 len=3 irq=1", "lost records=2\nl0 fill key=0 dma=0x477d60 len=3 irq=1"),
    )
    r = replay_file(path, partial=True)
    # The Guest may have handed the buffer back in what was lost, or not: the overwrite is possible, not certain;
    # a lost `g dma` may also have shortened its sections: an overflow is possible too.
    line = next(
        i for i, t in enumerate(open(path).read().split("\n"), 1) if t.startswith("l0 fill key=0 dma=0x477d60 len=3")
    )
    assert sorted(summary(r)) == [("buffer-overflow", line, False), ("write-to-used-buffer", line, False)]
    assert r.verdict == "possible-violation"
    used = next(f for f in r.findings if f.rule == "write-to-used-buffer")
    assert "a completion where the unknowns this step reads are 0x1" in used.message
    assert any("records lost" in n and "every field of the 1 descriptors" in n for n in r.notes)


@pytest.mark.parametrize("lost", ["lost records=?", "lost"])
def test_lost_records_question_mark_is_a_lost_of_unknown_count(tmp_path, capsys, lost):
    # `records=?` used to be taken as a step to try on candidates, so nothing was marked lost and the
    # overwrite after it was reported certain: a completion whose lost records hand the buffer back has none.
    path = variant(
        tmp_path,
        "q.lgt",
        "bad-write-to-used-buffer-console-flood.lgt",
        ("l0 fill key=0 dma=0x477d60 len=3 irq=1", f"{lost}\nl0 fill key=0 dma=0x477d60 len=3 irq=1"),
    )
    r = replay_file(path, partial=True)
    assert r.findings and not any(f.certain for f in r.findings)
    assert r.verdict == "possible-violation"
    assert any("without a count" in n for n in r.notes)
    wit = tmp_path / "wit"
    assert main(["replay", "--partial", "--witnesses", str(wit), "--no-progress", path]) == 0
    assert "witness: " in capsys.readouterr().out and any(wit.iterdir())


def test_an_unbounded_lost_says_so_once(tmp_path):
    text = "lguest-trace 1\nguest 0 pages=16\nlost\ng0 status dev=0 value=1\nlost\ng0 status dev=0 value=0\n"
    p = tmp_path / "u.lgt"
    p.write_text(text)
    r = replay_file(str(p), partial=True)
    assert sum("without a count" in n for n in r.notes) == 1
    assert summary(r) == [("status-cleared", 6, False)]


# ---------------------------------------------------------------- certain, possible, exit statuses
def test_the_readme_example_has_a_certain_and_a_possible_finding(capsys):
    assert main(["replay", "--partial", EXAMPLE]) == 1
    out = capsys.readouterr().out
    assert re.search(r":11: write-to-used-buffer: ", out)
    assert re.search(r":15: possible key-outside-device: ", out)
    assert re.search(r":17: possible write-to-used-buffer: ", out)
    assert re.search(r":17: possible buffer-overflow: ", out)  # a lost `g dma` may have shortened its sections
    assert out.rstrip().endswith("4 findings: violation")
    with open(os.path.join(ROOT, "README.md")) as fh:
        readme = fh.read()
    for line in out.split("\n"):
        if ": note: " not in line and line.strip():
            assert line.replace(ROOT + os.sep, "") in readme, line


def test_possible_violation_exits_0_unless_strict(tmp_path, capsys):
    path = variant(tmp_path, "b.lgt", BAD_DMA, ("num=8 irq=1 -> 1", "num=8 irq=1 -> ?"), UNRECORDED_KILL)
    assert main(["replay", "--partial", path]) == 0
    assert "possible bad-dma" in capsys.readouterr().out
    assert main(["replay", "--partial", "--strict", path]) == 1
    capsys.readouterr()
    assert main(["replay", "--partial", "--json", path]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"][0]["verdict"] == "possible-violation"
    assert doc["files"][0]["findings"][0]["certain"] is False
    assert doc["total"]["possible-violation"] == 1


def test_a_complete_trace_in_partial_mode_keeps_its_verdict():
    for name in sorted(os.listdir(TRACES)):
        if not name.endswith(".lgt") or name.startswith(("bad-input", "partial-")):
            continue
        path = os.path.join(TRACES, name)
        plain, partial = replay_file(path), replay_file(path, partial=True)
        if any(f.rule == "unknown-descriptor" for f in plain.findings):
            continue  # an unwritten field is an unknown in partial mode (trace-format.md)
        assert plain.verdict == partial.verdict, name
        assert [(f.rule, f.line, f.message) for f in plain.findings] == [
            (f.rule, f.line, f.message) for f in partial.findings
        ], name
        assert all(f.certain for f in partial.findings)


def test_emit_of_a_partial_capture_keeps_every_record_a_step_could_not_check(tmp_path, capsys):
    # The fill after the README example's `lost` reads a used_len the loss made unknown; it raised before it
    # wrote its record, so --emit's completed trace silently lacked it (13 of the capture's 14 records).
    emitted = tmp_path / "e.lgt"
    assert main(["replay", "--partial", "--no-notes", "--emit", str(emitted), EXAMPLE]) == 1
    capsys.readouterr()

    def records(path):
        lines = (line.split("#", 1)[0].strip() for line in open(path))
        return [line for line in lines if line]

    assert records(emitted) == records(EXAMPLE)
    again = replay_file(str(emitted), partial=True)
    assert again.records == replay_file(EXAMPLE, partial=True).records == 14


@pytest.mark.parametrize("field", ["irq=1", "len=64"])
def test_a_version_2_deliver_with_a_question_mark_and_its_sum_is_followed_not_a_divergence(tmp_path, field):
    # The sum= of a deliver was compared as a field of the model's record, which has none: any `?` in a
    # version 2 deliver that gives its sum was a certain divergence, though the model's own answer explains it.
    name, value = field.split("=")
    deliver = "host deliver from=g0:0x1b00000 to=g1:0x1c8f000 len=64 irq=1 sum="
    path = variant(tmp_path, "v.lgt", "v2-net-bytes.lgt", (deliver, deliver.replace(field, f"{name}=?")))
    r = replay_file(path, partial=True)
    assert summary(r) == [] and r.verdict == "ok"
    assert any("`?` in a Host record: its other fields agree" in n for n in r.notes)


# ---------------------------------------------------------------- witnesses
def test_witnesses_dir_holds_a_full_trace_that_replays_to_the_possible_finding(tmp_path, capsys):
    path = variant(tmp_path, "b.lgt", BAD_DMA, ("num=8 irq=1 -> 1", "num=8 irq=1 -> ?"), UNRECORDED_KILL)
    out = tmp_path / "w"
    assert main(["replay", "--partial", "--witnesses", str(out), path]) == 0
    text = capsys.readouterr().out
    (name,) = os.listdir(out)
    assert f"witness: {out / name}" in text
    w = (out / name).read_text()
    assert "?" not in w.split("\n", 2)[-1].replace("`?`", "") and "lost" not in w
    again = replay_file(str(out / name))  # outside partial mode
    assert ("bad-dma", 39, True) in summary(again)
    assert main(["replay", "--partial", "--json", path]) == 0
    (f,) = json.loads(capsys.readouterr().out)["files"][0]["findings"]
    assert f["certain"] is False and f["witness"]["found"] is True and f["witness"]["file"] is None
    assert f["witness"]["choices"] == [{"line": 34, "record": "g1 bind_dma key=0x2001004 dmas=0x1c6b3a0 num=8 irq=1"}]


@pytest.mark.parametrize("how", [["--jobs", "1"], ["--jobs", "2"], ["--emit", "EMIT"]])
def test_witnesses_of_standard_input_are_written_like_a_files(tmp_path, capsys, monkeypatch, how):
    """`-` with --witnesses: standard input is read once, so no witness was sought (only a note, which
    --no-notes hid).  Spooled, its witnesses are those of the same trace given as a file, named stdin.*."""
    import io
    import tempfile

    path = variant(tmp_path, "b.lgt", BAD_DMA, ("num=8 irq=1 -> 1", "num=8 irq=1 -> ?"), UNRECORDED_KILL)
    assert main(["replay", "--partial", "--witnesses", str(tmp_path / "f"), path]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(open(path, "rb").read())))
    before = set(os.listdir(tempfile.gettempdir()))
    how = [str(tmp_path / "e.lgt") if a == "EMIT" else a for a in how]
    assert main(["replay", "--partial", *how, "--witnesses", str(tmp_path / "s"), "-"]) == 0
    out = capsys.readouterr().out
    assert "-:39: possible bad-dma" in out and "cannot be read twice" not in out
    (name,) = os.listdir(tmp_path / "f")
    (spooled,) = os.listdir(tmp_path / "s")
    assert spooled == "stdin" + name[len("b") :] and f"witness: {tmp_path / 's' / spooled}" in out
    texts = [(tmp_path / d / n).read_text() for d, n in (("f", name), ("s", spooled))]
    assert "# witness: a completion of standard input with" in texts[1]
    assert texts[0].replace("b.lgt", "standard input") == texts[1]  # the same completion
    assert not {n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("lgcheck-stdin-")}


def test_witnesses_are_written_with_emit_too(tmp_path, capsys):
    """--emit took its own path through the CLI and dropped --witnesses DIR (an empty folder) and the JSON
    witnesses without a word."""
    trace = os.path.join(TRACES, "partial-console-flood.lgt")
    alone, with_emit = tmp_path / "alone", tmp_path / "with-emit"
    main(["replay", "--partial", "--witnesses", str(alone), trace])
    main(["replay", "--partial", "--witnesses", str(with_emit), "--emit", str(tmp_path / "full.lgt"), trace])
    capsys.readouterr()
    assert os.listdir(alone) and sorted(os.listdir(with_emit)) == sorted(os.listdir(alone))
    main(["replay", "--partial", "--json", "--emit", str(tmp_path / "full2.lgt"), trace])
    found = [f["witness"] for f in json.loads(capsys.readouterr().out)["files"][0]["findings"] if not f["certain"]]
    assert found and all(w is not None and w["found"] for w in found)


def test_witnesses_of_two_traces_with_one_name_do_not_overwrite_each_other(tmp_path, capsys):
    """a/run.lgt and b/run.lgt wrote their witnesses under the same names: b's replaced a's, and a's report
    named files that held b's completions."""
    text = open(os.path.join(TRACES, "partial-console-flood.lgt")).read()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = tmp_path / "a" / "run.lgt", tmp_path / "b" / "run.lgt"
    a.write_text(text)
    b.write_text(text.replace("l0 fill key=0 dma=0x477d60 len=2 irq=1", "l0 fill key=0 dma=0x477d60 len=4 irq=1"))
    out = tmp_path / "w"
    main(["replay", "--partial", "--no-progress", "--witnesses", str(out), str(a), str(b)])
    named = re.findall(r"witness: (\S+)", capsys.readouterr().out)
    assert len(named) == len(set(named)) == len(os.listdir(out)) == 6
    for trace, files in ((a, named[:3]), (b, named[3:])):
        for w in files:  # each witness is a completion of its own trace: the fill at line 17 as that trace has it
            fill = [ln for ln in open(w).read().split("\n") if ln.startswith("l0 fill")][-1]
            assert fill in trace.read_text()


def test_a_witness_replaces_a_link_in_its_folder_rather_than_writing_through_it(tmp_path, capsys):
    out = tmp_path / "w"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (out / "partial-console-flood.line15.key-outside-device.lgt").symlink_to(victim)
    main(["replay", "--partial", "--witnesses", str(out), os.path.join(TRACES, "partial-console-flood.lgt")])
    capsys.readouterr()
    assert victim.read_text() == "keep me\n"
    assert not (out / "partial-console-flood.line15.key-outside-device.lgt").is_symlink()


def test_witnesses_of_a_trace_with_a_long_name_fit_the_file_system(tmp_path, capsys):
    # A trace name near NAME_MAX made each witness's name too long: ENAMETOOLONG, an internal error (exit 4).
    traces = []
    for k in ("x", "y"):  # two names that share their first 200 characters: witnesses of their own
        p = tmp_path / ("a" * 200 + k * 40 + ".lgt")
        p.write_text(open(EXAMPLE).read())
        traces.append(str(p))
    out = tmp_path / "w"
    assert main(["replay", "--partial", "--no-progress", "--witnesses", str(out), *traces]) == 1
    assert "internal error" not in capsys.readouterr().err
    names = sorted(os.listdir(out))
    assert len(names) == 6 and all(len(os.fsencode(n)) <= 255 - 14 for n in names)
    assert len({re.search(r"~([0-9a-f]{8})\.line", n).group(1) for n in names}) == 2


def test_a_witness_never_takes_the_place_of_a_file_that_is_not_one(tmp_path, capsys):
    # A capture that happened to have a witness's name in the --witnesses folder was overwritten by it.
    folder = tmp_path / "w"
    folder.mkdir()
    mine = folder / "partial-console-flood.line17.write-to-used-buffer.lgt"
    mine.write_text("lguest-trace 1\n# my own capture\n")
    for _ in range(2):  # the second run replaces its own earlier witnesses, and still not the capture
        assert main(["replay", "--partial", "--no-progress", "--witnesses", str(folder), EXAMPLE]) == 1
        out = capsys.readouterr().out
        assert f"witness: {folder / 'partial-console-flood.line17.write-to-used-buffer-2.lgt'}" in out
    assert mine.read_text() == "lguest-trace 1\n# my own capture\n"
    assert sorted(os.listdir(folder)) == [
        "partial-console-flood.line15.key-outside-device.lgt",
        "partial-console-flood.line17.buffer-overflow.lgt",
        "partial-console-flood.line17.write-to-used-buffer-2.lgt",
        mine.name,
    ]


def test_witnesses_need_partial_mode(tmp_path, capsys):
    assert main(["replay", "--witnesses", str(tmp_path), os.path.join(TRACES, BAD_DMA)]) == 2
    assert "needs --partial" in capsys.readouterr().err


def test_json_past_the_in_memory_findings_keeps_related_lines():
    from lgcheck.replay.findings import FileResult, Finding, SpillLog
    from lgcheck.replay.related import Related
    from lgcheck.replay.report import as_dict

    r = FileResult("x.lgt")
    for i in range(SpillLog.KEEP + 3):
        r.findings.append(Finding("divergence", i + 1, "g0 status dev=0 value=0", "m", (Related(1, "bound"),), False))
    doc = as_dict(r)
    assert doc["findings"][-1]["related"] == [{"line": 1, "what": "bound"}] and doc["findings"][-1]["certain"] is False


# ---------------------------------------------------------------- a lossy capture does not cry wolf
def test_a_lossy_capture_of_a_valid_run_gets_no_divergence(tmp_path):
    import subprocess
    import sys

    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    from partial_speed import lossy

    full, cap = tmp_path / "v.lgt", tmp_path / "c.lgt"
    subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gen_trace.py"), "4000", str(full)], check=True)
    lossy(str(full), str(cap))
    r = replay_file(str(cap), partial=True)
    assert r.error is None and r.records > 3000
    # Each record that replay's guessed state does not explain is explained by some completion: no finding.
    assert not [f for f in r.findings if f.rule == "divergence" or f.certain]
    assert any("disagreed with the state replay guessed" in n for n in r.notes)


# ---------------------------------------------------------------- candidate runs (replay/candidates.py)
def _trace(tmp_path, text):
    p = tmp_path / "t.lgt"
    p.write_text("lguest-trace 1\n" + text)
    return str(p)


def test_a_status_made_unknown_by_a_question_mark_is_checked_on_candidates_until_pinned(tmp_path):
    text = (
        "guest 0 pages=16\ndevice 0.0 type=console pfn=0 pages=0\n"
        "g0 status dev=0 value=?\n"  # line 4: unknown from here
        "g0 status dev=0 value=0\n"  # line 5: clears whatever line 4 set: possible
        "g0 status dev=0 value=ACKNOWLEDGE\n"  # line 6: pinned by line 5, sets a bit: fine
        "g0 status dev=0 value=0\n"  # line 7: clears ACKNOWLEDGE (known): certain
    )
    r = replay_file(_trace(tmp_path, text), partial=True)
    assert ("status-cleared", 5, False) in summary(r)
    assert ("status-cleared", 7, True) in summary(r)
    assert not [f for f in r.findings if f.line == 6]


def test_a_candidate_that_the_recorded_answer_contradicts_is_pruned(tmp_path):
    with open(os.path.join(TRACES, "net-two-guests.lgt")) as fh:
        lines = fh.read().split("\n")
    i = next(i for i, t in enumerate(lines) if t.startswith("g0 send_dma") and lines[i + 1].startswith("host deliver"))
    lines[i] = re.sub(r"key=0x[0-9a-f]+", "key=?", lines[i])
    p = tmp_path / "n.lgt"
    p.write_text("\n".join(lines))
    r = replay_file(str(p), partial=True)
    # key=1 would be a bad (unaligned) key and a kill, but the trace records the delivery that answered it.
    assert r.findings == [] and r.verdict == "ok", summary(r)
    lines.pop(i + 1)  # without the answer, the completion with a bad key is one of the trace's
    p.write_text("\n".join(lines))
    r = replay_file(str(p), partial=True)
    assert ("bad-dma", i + 1, False) in summary(r)
    assert "a completion where the unknowns this step reads are 0x1" in r.findings[0].message


def test_candidate_runs_are_bounded_and_say_so_once(tmp_path):
    from lgcheck.replay.candidates import BUDGET

    text = "guest 0 pages=16\ndevice 0.0 type=console pfn=0 pages=0\n" + "g0 status dev=0 value=?\n" * (BUDGET + 5)
    r = replay_file(_trace(tmp_path, text), partial=True)
    assert sum("tried on candidate values for" in n for n in r.notes) == 1
    assert any("more records not (fully) checked" in n for n in r.notes)


# ---------------------------------------------------------------- `dev=?`: a status write to any device
DEVICES = (
    "lguest-trace 1\nguest 0 pages=8192\ndevice 0.0 type=net pfn=0x2001 pages=1\n"
    "device 0.1 type=block pfn=0x2002 pages=1\n"
)


def partial_run(tmp_path, body, name="dev.lgt", head=DEVICES):
    p = tmp_path / name
    p.write_text(head + body)
    return replay_file(str(p), partial=True)


@pytest.mark.parametrize("text", ["g0 status dev=? value=1", "l0 status dev=? value=REMOVED"])
def test_dev_question_mark_outside_partial_mode_is_an_input_error(tmp_path, capsys, text):
    p = tmp_path / "dev.lgt"
    p.write_text(DEVICES + text + "\n")
    assert main(["replay", str(p)]) == 2
    err = "".join(capsys.readouterr())
    assert f"{p}:5:15: error: `?` (unrecorded value) is only accepted with --partial" in err
    assert "Traceback" not in err


def test_device_question_mark_is_not_supported_yet(tmp_path, capsys):
    p = tmp_path / "dev.lgt"
    p.write_text("lguest-trace 1\nguest 0 pages=8192\ndevice 0.? type=net pfn=0x2001 pages=1\n")
    for partial in ([], ["--partial"]):
        assert main(["replay", *partial, str(p)]) == 2
        err = "".join(capsys.readouterr())
        assert f"{p}:3:10: error: `?` for the device number I of `device N.I` is not supported (yet)" in err
        assert "Traceback" not in err


def test_dev_question_mark_that_clears_a_bit_on_some_device_is_a_possible_finding(tmp_path):
    r = partial_run(tmp_path, "g0 status dev=0 value=ACKNOWLEDGE|DRIVER\ng0 status dev=? value=ACKNOWLEDGE\n")
    assert summary(r) == [("status-cleared", 6, False)]
    assert "dev=? is 0" in r.findings[0].message
    assert r.verdict == "possible-violation"


def test_dev_question_mark_that_keeps_every_device_valid_is_no_finding(tmp_path):
    r = partial_run(tmp_path, "g0 status dev=0 value=ACKNOWLEDGE\ng0 status dev=? value=ACKNOWLEDGE|DRIVER\n")
    assert summary(r) == []
    assert r.verdict == "ok"


def test_statuses_after_dev_question_mark_are_unknown_until_pinned(tmp_path):
    body = (
        "g0 status dev=1 value=ACKNOWLEDGE\n"
        "g0 status dev=? value=ACKNOWLEDGE|DRIVER\n"  # 6: dev 1 may now hold DRIVER
        "g0 status dev=1 value=ACKNOWLEDGE\n"  # 7: clears DRIVER if line 6 hit dev 1: possible
        "g0 status dev=1 value=ACKNOWLEDGE|DRIVER\n"  # 8: pins dev 1
        "g0 status dev=1 value=ACKNOWLEDGE\n"  # 9: clears DRIVER in every completion: certain
        "g0 status dev=5 value=0\n"  # 10: never declared; line 6 may have written it
    )
    r = partial_run(tmp_path, body)
    assert [(rule, line, c) for rule, line, c in summary(r) if line != 10] == [
        ("status-cleared", 7, False),
        ("status-cleared", 9, True),
    ]
    assert all(not c for _, line, c in summary(r) if line == 10)
    assert r.verdict == "violation"


def test_dev_question_mark_finding_every_device_gives_is_certain(tmp_path):
    head = "lguest-trace 1\nguest 0 pages=8192\n" + "".join(
        f"device 0.{i} type=net pfn={0x2001 + i:#x} pages=1\n" for i in range(16)
    )
    sets = "".join(f"g0 status dev={i} value=ACKNOWLEDGE\n" for i in range(16))
    r = partial_run(tmp_path, sets + "g0 status dev=? value=0\n", head=head)
    assert summary(r) == [("status-cleared", 35, True)]
    # with a device left undeclared the write may reach it (status 0, nothing to clear): only possible
    head15 = "\n".join(head.split("\n")[:-2]) + "\n"
    r = partial_run(tmp_path, sets[: sets.rindex("g0")] + "g0 status dev=? value=0\n", "d15.lgt", head=head15)
    assert summary(r) == [("status-cleared", 33, False)]


def test_dev_question_mark_on_a_guest_without_devices_says_so(tmp_path):
    r = partial_run(tmp_path, "l0 status dev=? value=REMOVED\n", head="lguest-trace 1\nguest 0 pages=8192\n")
    assert summary(r) == []
    assert any("g0 has no devices" in n for n in r.notes)


def test_dev_question_mark_witness_replays_to_the_finding(tmp_path, capsys):
    p = tmp_path / "dev.lgt"
    p.write_text(DEVICES + "g0 status dev=1 value=ACKNOWLEDGE|DRIVER\ng0 status dev=? value=ACKNOWLEDGE\n")
    w = tmp_path / "w"
    assert main(["replay", "--partial", "--witnesses", str(w), str(p)]) == 0
    (out,) = list(w.iterdir())
    assert "g0 status dev=1 value=ACKNOWLEDGE\n" in out.read_text()
    r = replay_file(str(out))
    assert [(f.rule, f.line) for f in r.findings] == [("status-cleared", 6)]


def test_a_status_value_left_out_is_tried_within_its_field_and_its_witness_is_a_valid_trace(tmp_path, capsys):
    # status is u16 (lguest_device_desc): a completion can write 0xffff, never the large candidate 0x100000,
    # so the possible forbidden bit is named with a value the field holds and its witness parses and replays.
    path = tmp_path / "s.lgt"
    path.write_text(
        "lguest-trace 1\nguest 0 pages=8192\ndevice 0.0 type=console pfn=0 pages=0\n"
        "g0 status dev=0 value=ACKNOWLEDGE\ng0 status dev=0 value=?\n"
    )
    out = tmp_path / "w"
    assert main(["replay", "--partial", "--witnesses", str(out), str(path)]) == 0
    text = capsys.readouterr().out
    assert "possible status-forbidden-bit" in text and "are 0xffff)" in text and "0x100000" not in text
    name = "s.line5.status-forbidden-bit.lgt"
    w = (out / name).read_text()
    assert "value=?" not in w and "0x100000" not in w and "1048576" not in w
    assert ("status-forbidden-bit", 5, True) in summary(replay_file(str(out / name)))


def test_a_status_write_to_an_unknown_device_names_a_value_its_field_holds(tmp_path, capsys):
    path = tmp_path / "d.lgt"
    path.write_text("lguest-trace 1\nguest 0 pages=8192\ng0 status dev=? value=?\n")
    assert main(["replay", "--partial", str(path)]) == 0
    text = capsys.readouterr().out
    assert "possible status-forbidden-bit" in text and "dev=? is 0 and the unknowns it reads are 0xffff" in text
    assert "0x100000" not in text


# ---------------------------------------------------------------- witnesses with records for a `lost`
def test_a_witness_fills_a_lost_with_the_status_write_the_finding_clears(tmp_path, capsys):
    # The lost records may have set DRIVER on g0's device 0, which line 5 then clears: a witness must put
    # such a write in place of the `lost` (no records there could not clear anything).
    p = tmp_path / "l.lgt"
    p.write_text(
        "lguest-trace 1\nguest 0 pages=16\ndevice 0.0 type=console pfn=0 pages=0\n"
        "lost records=2\n"
        "g0 status dev=0 value=ACKNOWLEDGE\n"  # line 5: clears whatever else the lost records set
        "g0 status dev=0 value=ACKNOWLEDGE|DRIVER\n"
    )
    out = tmp_path / "w"
    assert main(["replay", "--partial", "--json", "--witnesses", str(out), str(p)]) == 0
    (f,) = json.loads(capsys.readouterr().out)["files"][0]["findings"]
    assert (f["rule"], f["line"], f["certain"]) == ("status-cleared", 5, False)
    assert f["witness"]["found"] is True and "records for 1 of 1 `lost`" in f["witness"]["summary"]
    (lost,) = [c for c in f["witness"]["choices"] if "lost" in c]
    assert lost == {"line": 4, "lost": ["g0 status dev=0 value=ACKNOWLEDGE|DRIVER"]}
    (name,) = os.listdir(out)
    w = (out / name).read_text()
    assert "lost" not in w.replace("`lost`", "")
    assert [(x.rule, x.line) for x in replay_file(str(out / name)).findings] == [("status-cleared", 5)]


def test_lost_records_that_raise_a_finding_themselves_are_no_witness(tmp_path):
    from lgcheck.replay import witness
    from lgcheck.replay.parser import read_trace

    # The only status write the trace shows for device 0 sets REMOVED, which a Guest may never set: filling
    # the `lost` with it would hide a finding in what was lost, so the search takes the one-bit-more write.
    p = tmp_path / "l.lgt"
    p.write_text(
        "lguest-trace 1\nguest 0 pages=16\ndevice 0.0 type=console pfn=0 pages=0\n"
        "lost records=1\ng0 status dev=0 value=ACKNOWLEDGE\ng0 status dev=0 value=ACKNOWLEDGE|REMOVED\n"
    )
    r = replay_file(str(p), partial=True)
    i = next(i for i, f in enumerate(r.findings) if f.line == 5 and f.rule == "status-cleared")
    text, chosen = witness.witnesses(lambda: read_trace(str(p), partial=True), r.findings)[i]
    assert {"line": 4, "lost": ["g0 status dev=0 value=ACKNOWLEDGE|DRIVER"]} in chosen
    assert "REMOVED" not in text.split("\n")[3]


# ---------------------------------------------------------------- num=?: whole candidate states (replay/alternatives.py)
NUM_HEAD = (
    "lguest-trace 1\nguest 0 pages=8192\ndevice 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM\n"
    "guest 1 pages=8192\ndevice 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1\n"
    "share net pages=1 map=[0:0x2001, 1:0x2001]\n"
    "g1 dma 0x1c6b3a0 used_len=0 addr=[0x1b20010] len=[1514]\n"
    "g1 dma 0x1c6b404 used_len=0 addr=[0x1b20810] len=[1514]\n"
    "g1 dma 0x1c6b468 used_len=0 addr=[0x1b21010] len=[1514]\n"
    "g1 bind_dma key=0x2001004 dmas=0x1c6b3a0 num=? irq=1 -> 1\n"  # line 10: 3 entries written
    "g0 dma 0x1e1fdb4 addr=[0x1c52002] len=[98]\n"
    "g0 send_dma key=0x2001004 dma=0x1e1fdb4\n"
)
SEND = "g0 send_dma key=0x2001004 dma=0x1e1fdb4\n"


def deliver(entry):
    return f"host deliver from=g0:0x1e1fdb4 to=g1:{0x1C6B3A0 + 100 * entry:#x} len=98 irq=1\n"


def test_a_record_no_value_of_num_explains_is_a_certain_divergence_that_names_each(tmp_path):
    # Every entry is free and the cursor at 0: whatever num is, the Host delivers to entry 0 (or, num=0, not at
    # all), never to entry 1.
    r = partial_run(tmp_path, deliver(1), head=NUM_HEAD)
    # Beside it, the recorded write is possibly outside the ring: entry 1 is no entry of the binding when num is
    # 0 or 1 (replay's own state), and is one when num >= 2.
    assert sorted(summary(r)) == [("divergence", 13, True), ("write-to-used-buffer", 13, False)]
    assert r.verdict == "violation"
    m = next(f for f in r.findings if f.rule == "divergence").message
    assert "no completion explains this record: of the values of line 10's num=? the records so far leave " in m
    assert "(0, 1, 2, 3, 4 or more), each fails here: with num=1 (replay's own state): as above; with num=0: " in m
    assert "with num=2: the model expects `host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b3a0" in m
    assert m.endswith("; and 2 more]")


def test_a_record_only_some_values_of_num_explain_is_followed_with_their_state(tmp_path):
    # Entry 0 is still in use at the second send: num=1 finds no free entry, num >= 2 delivers to entry 1.
    r = partial_run(tmp_path, deliver(0) + SEND + deliver(1), head=NUM_HEAD)
    assert r.findings == [] and r.verdict == "ok", summary(r)


def test_records_that_pin_num_make_later_findings_certain(tmp_path):
    # Entry 0 handed back: num=1 delivers to entry 0 again, num >= 2 moves on to entry 1. The trace says entry 0:
    # num is 1, g1 is exactly known again, and the page-crossing send of g0 after it is a certain bad-dma.
    bad = "g0 dma 0x1e1fe18 addr=[0x1c52c02] len=[1514]\ng0 send_dma key=0x2001004 dma=0x1e1fe18\n"
    handback = "g1 dma 0x1c6b3a0 used_len=0\n"
    r = partial_run(tmp_path, deliver(0) + handback + SEND + deliver(0) + handback + bad, head=NUM_HEAD)
    assert summary(r) == [("bad-dma", 19, True)], summary(r)
    assert any("line 10's num=? is pinned to 1" in n for n in r.notes)
    # Without the records that pin it, the same send's bad-dma is only possible.
    r = partial_run(tmp_path, deliver(0) + handback + bad, "unpinned.lgt", head=NUM_HEAD)
    assert summary(r) == [("bad-dma", 16, False)], summary(r)


def test_entries_written_after_a_num_question_mark_bind_end_what_its_states_prove(tmp_path):
    # Only entry 0 is written at the bind: num=2 stands for "2 or more" only while entries past it are unwritten.
    # Entries 1 and 2 written later let num=3 deliver to entry 2, which num=0, 1 and 2 do not: no certain finding.
    head = NUM_HEAD.replace("g1 dma 0x1c6b404 used_len=0 addr=[0x1b20810] len=[1514]\n", "").replace(
        "g1 dma 0x1c6b468 used_len=0 addr=[0x1b21010] len=[1514]\n", ""
    )
    later = "g1 dma 0x1c6b404 used_len=0 addr=[0x1b20810] len=[1514]\ng1 dma 0x1c6b468 used_len=0 addr=[0x1b21010] len=[1514]\n"
    r = partial_run(tmp_path, deliver(0) + later + SEND + deliver(1) + SEND + deliver(2), head=head)
    assert not [f for f in r.findings if f.certain], summary(r)


def test_a_bind_recorded_as_made_keeps_its_key_outside_device_certain_after_a_lost(tmp_path):
    # key-outside-device reads only the key and the device pages (setup, never lost); `-> 1` pins that the
    # binding was made. The same bind with `-> ?`, or with the device's pages unknown, is only possible.
    head = "lguest-trace 1\nguest 0 pages=8192\ndevice 0.0 type=net pfn=0x2001 pages=1\n"
    bind = "g0 dma 0x1000 used_len=0 addr=[0x5000] len=[100]\nlost records=3\ng0 bind_dma key=0x8000 dmas=0x1000 num=1 irq=1"
    r = partial_run(tmp_path, bind + " -> 1\n", head=head)
    assert summary(r) == [("key-outside-device", 6, True)], summary(r)
    r = partial_run(tmp_path, bind + " -> ?\n", "q.lgt", head=head)
    assert summary(r) == [("key-outside-device", 6, False)], summary(r)
    r = partial_run(tmp_path, bind + " -> 1\n", "p.lgt", head=head.replace("pfn=0x2001", "pfn=?"))
    assert [c for _, _, c in summary(r)] == [False] * len(r.findings)


def test_a_device_with_any_question_mark_leaves_key_outside_device_possible(tmp_path):
    # A device with `type=?` counts as having no pages (unknown_device): its page may hold the key.
    head = "lguest-trace 1\nguest 0 pages=8192\ndevice 0.0 type=? pfn=0x2001 pages=1\n"
    r = partial_run(tmp_path, "g0 bind_dma key=0x2001000 dmas=0x1000 num=1 irq=1 -> 1\n", head=head)
    assert not [f for f in r.findings if f.certain], summary(r)


def test_a_certain_divergence_of_another_guest_pins_nothing(tmp_path):
    # l2's output answers no send: a certain divergence of g2, which never dealt with g0 or g1, so every state
    # of line 10's num=? has it alike; it must not drop them (num stays open, the bad-dma after it possible).
    bad = "g0 dma 0x1e1fe18 addr=[0x1c52c02] len=[1514]\ng0 send_dma key=0x2001004 dma=0x1e1fe18\n"
    other = "guest 2 pages=8192\nl2 output key=0x1 dma=0x1000 len=5\n"
    r = partial_run(tmp_path, deliver(0) + other + bad, head=NUM_HEAD)
    assert ("divergence", 15, True) in summary(r) and ("bad-dma", 17, False) in summary(r), summary(r)
    assert not any("is pinned" in n for n in r.notes)
    assert "no completion explains" not in r.findings[0].message  # one state's message: g2 is exactly known


def test_a_recorded_kill_keeps_its_bad_dma_certain_after_a_lost(tmp_path):
    lost = ("# B's interface is up: 8 receive entries bound on slot 1's key 0x2001004.", "lost records=2")
    r = replay_file(variant(tmp_path, "k.lgt", BAD_DMA, lost), partial=True)
    assert summary(r) == [("bad-dma", 39, True)], summary(r)
    r = replay_file(variant(tmp_path, "k2.lgt", BAD_DMA, lost, UNRECORDED_KILL), partial=True)
    assert summary(r) == [("bad-dma", 39, False)], summary(r)


# ---------------------------------------------------------------- after a `lost`: pinned again
REPIN = """lguest-trace 1
guest 0 pages=16384
device 0.0 type=console pfn=0 pages=0
g0 dma 0x3f100 used_len=0 addr=[0x3d000] len=[13]
lost records=3
g0 dma 0x3f100 used_len=0 addr=[0x3d000] len=[13]
g0 send_dma key=0 dma=0x3f100
host pending g0 key=0 dma=0x3f100
l0 output key=0 dma=0x3f100 len=14
"""


def _run(tmp_path, text):
    p = tmp_path / "r.lgt"
    p.write_text(text)
    return replay_file(str(p), partial=True)


def test_after_a_lost_a_finding_whose_state_is_pinned_again_is_certain(tmp_path):
    # The `g dma` after the `lost` rewrites every field the console's output reads, the send is on a private
    # key (no binding table is read) and g0 ran (no lost send of it waits): every completion writes at most 13
    # (writev's result: a short write is a real run, 14 is none).
    r = _run(tmp_path, REPIN)
    assert summary(r) == [("divergence", 9, True)] and r.verdict == "violation"
    assert "the trace says 14" in r.findings[0].message


def test_after_a_lost_a_finding_whose_state_is_not_pinned_again_stays_possible(tmp_path):
    # Without the rewrite, a lost `g dma` may have given the descriptor other sections: no certain finding.
    r = _run(
        tmp_path,
        REPIN.replace("lost records=3\ng0 dma 0x3f100 used_len=0 addr=[0x3d000] len=[13]\n", "lost records=3\n"),
    )
    assert not [f for f in r.findings if f.certain] and r.verdict != "violation"
    assert any("g0 descriptor 0x3f100 len[0]" in n for n in r.notes)
    # An output with no g0 record since the `lost`: a lost send of g0 may wait for it, so no divergence.
    lines = REPIN.split("\n")
    r = _run(tmp_path, "\n".join(lines[:5] + lines[8:]))
    assert summary(r) == [] and r.verdict == "ok"
    # (A record of g0 in between pins it: a Guest whose send waits does not run.)
    r = _run(tmp_path, "\n".join(lines[:6] + lines[8:]))
    assert summary(r) == [("divergence", 7, True)] and "no send of g0 waits" in r.findings[0].message
    # A fill reads the binding table, which a lost bind may have changed: its finding stays possible even with
    # the descriptor pinned again (only a recorded `close` empties a table for sure).
    path = variant(
        tmp_path,
        "f.lgt",
        "bad-write-to-used-buffer-console-flood.lgt",
        (
            "l0 fill key=0 dma=0x477d60 len=3 irq=1",
            "lost records=2\ng0 dma 0x477d60 used_len=5 addr=[0x477e00] len=[256]\nl0 fill key=0 dma=0x477d60 len=3 irq=1",
        ),
    )
    r = replay_file(path, partial=True)
    assert [f.rule for f in r.findings] == ["write-to-used-buffer"] and not r.findings[0].certain


def test_an_unbounded_lost_makes_everything_of_every_guest_unknown_and_says_so_once(tmp_path):
    r = _run(tmp_path, REPIN.replace("lost records=3", "lost") + "lost\ng0 status dev=0 value=1\n")
    said = [n for n in r.notes if "without a count" in n]
    assert len(said) == 1 and "everything of every Guest" in said[0]
    # The records after it pin what it made unknown, as after a bounded one; the second makes the status
    # unknown again (a lost write may have set any bit), so the write that may clear one is only possible.
    assert summary(r) == [("divergence", 9, True), ("status-cleared", 11, False)]


BINDS = """lguest-trace 1
guest 0 pages=16384
device 0.0 type=net pfn=16385 pages=1
g0 dma 0x3f000 used_len=0 addr=[0x3e000] len=[256]
g0 dma 0x3f200 used_len=0 addr=[0x3e000] len=[256]
lost records=2
g0 bind_dma key=0x4001000 dmas=0x3f000 num=1 irq=2 -> 1
g0 bind_dma key=0x4001000 dmas=0x3f200 num=1 irq=3 -> 1
"""


def test_a_bind_recorded_after_a_lost_pins_its_binding(tmp_path):
    # Both binds recorded as made after the `lost`: every completion holds the first when the second is made.
    r = _run(tmp_path, BINDS)
    assert summary(r) == [("key-collision", 8, True)] and r.verdict == "violation"
    # The first made before the `lost`: a lost unbind may have freed the key.
    first = "g0 bind_dma key=0x4001000 dmas=0x3f000 num=1 irq=2 -> 1\n"
    r = _run(tmp_path, BINDS.replace(first, "").replace("lost records=2\n", first + "lost records=2\n"))
    assert summary(r) == [("key-collision", 8, False)]
    # A record in between that may unbind (irq=?) undoes the pin.
    maybe = "g0 bind_dma key=0x4001000 dmas=0x3f000 num=1 irq=? -> 1\n"
    r = _run(tmp_path, BINDS.replace(first, first + maybe))
    assert ("key-collision", 9, False) in summary(r) and not [f for f in r.findings if f.certain]


def _long_capture(tmp_path, n):
    """n inputs each handed back, then a `lost` before one more: a possible write-to-used-buffer at the end."""
    p = tmp_path / f"long{n}.lgt"
    head = (
        "lguest-trace 1\nguest 0 pages=8192\ndevice 0.0 type=console pfn=0 pages=0\n"
        "g0 status dev=0 value=ACKNOWLEDGE|DRIVER\ng0 dma 0x477d60 used_len=0 addr=[0x477e00] len=[256]\n"
        "g0 bind_dma key=0 dmas=0x477d60 num=1 irq=1 -> 1\n"
    )
    body = "l0 fill key=0 dma=0x477d60 len=5 irq=1\ng0 dma 0x477d60 used_len=0\n" * n
    tail = "l0 fill key=0 dma=0x477d60 len=5 irq=1\nlost records=3\nl0 fill key=0 dma=0x477d60 len=2 irq=1\n"
    p.write_text(head + body + tail)
    return str(p)


def _witness_peak(path):
    """(tracemalloc's peak while the witnesses of `path` are made, spooled; its replay; the witnesses)."""
    import tracemalloc

    from lgcheck.replay import witness
    from lgcheck.replay.parser import read_trace

    r = replay_file(path, partial=True)
    tracemalloc.start()
    try:
        found = witness.witnesses(lambda: read_trace(path, partial=True), r.findings, spool=True)
        return tracemalloc.get_traced_memory()[1], r, found
    finally:
        tracemalloc.stop()


def test_witnesses_of_a_long_capture_are_spooled_not_held(tmp_path):
    """A witness is the trace up to its finding: it was kept as a string (up to --max-witnesses of them per
    file), so memory grew with the capture's length (a 400k-record capture: 117 MB against 29 MB without
    --witnesses).  Spooled, the witness written is the same, and memory does not grow with the length."""
    from lgcheck.replay import witness
    from lgcheck.replay.parser import read_trace

    small, large = _long_capture(tmp_path, 1500), _long_capture(tmp_path, 6000)
    _witness_peak(small)  # (first-use allocations do not count)
    (p_small, _, _), (p_large, r, found) = _witness_peak(small), _witness_peak(large)
    assert p_large - p_small < 150_000  # 4,500 inputs more: 9,000 lines (~350 kB) held twice, before
    (i, w), *_ = [(i, w) for i, w in found.items() if w is not None]
    spooled, chosen = w
    assert not isinstance(spooled, str)
    plain = witness.witnesses(lambda: read_trace(large, partial=True), r.findings)[i][0]
    a = witness.write(str(tmp_path / "a"), large, r.findings[i], spooled, chosen)
    b = witness.write(str(tmp_path / "b"), large, r.findings[i], plain, chosen)
    assert open(a).read() == open(b).read() and "# witness: a completion of" in open(a).read()


def _many_unknowns(tmp_path, n):
    """_long_capture with a `?` in n records of a Guest that does nothing else: choices for each, no finding."""
    p = tmp_path / f"unknowns{n}.lgt"
    text = open(_long_capture(tmp_path, n)).read()
    text = text.replace("guest 0 pages=8192\n", "guest 0 pages=8192\nguest 1 pages=8192\n")
    text = text.replace("g0 dma 0x477d60 used_len=0\n", "g0 dma 0x477d60 used_len=0\ng1 dma 0x1000 used_len=?\n")
    p.write_text(text)
    return str(p)


def test_witness_choices_are_bounded_not_one_per_unknown(tmp_path, capsys):
    """A witness kept one choice per `?` up to its finding (1.9 MB at 1,500 `?`s, 5.8 MB at 6,000): it keeps
    the first KEPT_CHOICES and the filled `lost`, and counts the rest, so memory does not grow with them."""
    from lgcheck.replay import witness

    small, large = _many_unknowns(tmp_path, 500), _many_unknowns(tmp_path, 2000)
    _witness_peak(small)  # (first-use allocations do not count)
    (p_small, _, _), (p_large, r, found) = _witness_peak(small), _witness_peak(large)
    assert p_large - p_small < 300_000  # 1,500 `?`s more: some 1.3 MB more, before
    filled = [(i, w) for i, w in found.items() if w is not None and w[1].fills]
    assert filled, "the search fills the `lost` for one of the two findings"
    i, (text, chosen) = filled[0]
    text.close()
    assert len(chosen) == 2001 and len(chosen.kept) == witness.KEPT_CHOICES and chosen.more == 2001 - 50
    assert (chosen.values, chosen.lost, chosen.filled, chosen.dropped) == (2000, 1, 1, 0)
    # the filled `lost`, past the first 50, is still what moved_line counts
    (lost,) = chosen.fills
    assert lost in list(chosen) and witness.moved_line(r.findings[i].line, chosen) == r.findings[i].line + len(
        lost["lost"]
    ) - 1
    # the JSON report: the first 50 choices and a count of the rest; the summary counts every one
    assert main(["replay", "--partial", "--json", large]) == 0
    doc = json.loads(capsys.readouterr().out)
    w = doc["files"][0]["findings"][i]["witness"]
    assert len(w["choices"]) == 50 and w["more_choices"] == 2001 - 50
    assert "values for the `?`s of 2000 record(s), records for 1 of 1 `lost`" in w["summary"]


@pytest.mark.xfail(
    strict=True,
    reason="known gap: a descriptor stored at an unknown address is forgotten, and a later write into it is judged "
    "only on candidate values (0, 1, 0x100000 and the bound keys), none of which reaches it",
)
def test_a_write_into_a_descriptor_the_capture_lost_the_address_of_may_overflow(tmp_path):
    """A completion breaks buffer-overflow here: the descriptor at 0x10c8 with one 256-byte section, bound on key 0,
    filled with 641 bytes.  Found by test_partial_props (the property leaves such findings out, by this gap);
    when replay reports it, this test fails as XPASS and the property should ask for it again."""
    path = tmp_path / "lost-desc.lgt"
    path.write_text(
        "lguest-trace 1\nguest 0 pages=256\ndevice 0.0 type=console pfn=257 pages=1\n"
        "g0 dma ? used_len=? addr=[?] len=[256]\ng0 bind_dma key=? dmas=? num=? irq=? -> ?\n"
        "l0 fill key=? dma=? len=? irq=?\n"
    )
    r = replay_file(str(path), partial=True)
    assert ("buffer-overflow", 6) in {(f.rule, f.line) for f in r.findings}
