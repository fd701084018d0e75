"""The `lgcheck` command as a user meets it: exit statuses, JSON, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lgcheck.cli import main

TRACES = os.path.join(os.path.dirname(__file__), "..", "traces")
OK = os.path.join(TRACES, "console-boot.lgt")
BAD = os.path.join(TRACES, "bad-status-cleared.lgt")
INPUT_ERROR = os.path.join(TRACES, "bad-input-header.lgt")


def test_exit_status_is_the_worst_file(capsys):
    assert main(["replay", OK]) == 0
    assert main(["replay", OK, BAD]) == 1
    assert main(["replay", OK, BAD, INPUT_ERROR]) == 2
    out = capsys.readouterr().out
    assert f"{BAD}:" in out and "status-cleared" in out
    assert "input error, nothing checked" in out


def test_json_is_one_document_with_the_documented_keys(capsys):
    import jsonschema

    assert main(["replay", "--json", OK, BAD, INPUT_ERROR]) == 2
    doc = json.loads(capsys.readouterr().out)
    schema_path = os.path.join(os.path.dirname(__file__), "..", "docs", "json-schemas", "replay.schema.json")
    with open(schema_path) as fh:
        jsonschema.validate(doc, json.load(fh))
    files = doc["files"]
    assert [f["verdict"] for f in files] == ["ok", "violation", "error"]
    for f in files:
        assert set(f) == {"file", "verdict", "records", "findings", "groups", "counts", "notes", "error"}
    assert files[0]["error"] is None and files[0]["findings"] == []
    finding = files[1]["findings"][0]
    assert set(finding) == {"rule", "line", "record", "message", "certain", "related", "group", "descriptor", "witness"}
    assert finding["witness"] is None  # a certain finding has none
    assert finding["rule"] == "status-cleared"
    assert doc["total"]["files"] == 3 and doc["total"]["by_rule"] == {"status-cleared": 1}
    assert set(files[2]["error"]) == {"line", "column", "message"}
    assert files[2]["findings"] == []


def test_missing_file_is_a_clean_error(tmp_path, capsys):
    missing = str(tmp_path / "nope.lgt")
    assert main(["replay", missing]) == 2
    out = capsys.readouterr().out
    assert missing in out and "Traceback" not in out


def test_a_folder_means_its_lgt_files(tmp_path, capsys):
    (tmp_path / "a.lgt").write_text(open(OK).read())
    (tmp_path / "notes.txt").write_text("not a trace")
    assert main(["replay", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "a.lgt" in out and "notes.txt" not in out


def test_emit_needs_exactly_one_input(tmp_path, capsys):
    assert main(["replay", "--emit", str(tmp_path / "x.lgt"), OK, BAD]) == 2
    assert "exactly one input" in capsys.readouterr().err


def test_emit_completes_an_input_only_trace(tmp_path, capsys):
    out = tmp_path / "full.lgt"
    assert main(["replay", "--emit", str(out), os.path.join(TRACES, "console-boot.input.lgt")]) == 0
    text = out.read_text()
    assert "host pending" in text and "l0 output" in text
    capsys.readouterr()
    assert main(["replay", str(out)]) == 0


def test_partial_mode_skips_with_a_note_and_checks_the_rest(tmp_path, capsys):
    trace = tmp_path / "p.lgt"
    trace.write_text(
        "lguest-trace 1\n"
        "guest 0 pages=256\n"
        "device 0.0 type=console pfn=0 pages=0\n"
        "g0 dma 0x1000 used_len=0 addr=[0x2000] len=[?]\n"
        "g0 send_dma key=0 dma=0x1000\n"
        "g0 status dev=0 value=ACKNOWLEDGE\n"
        "g0 status dev=0 value=0\n"
    )
    assert main(["replay", str(trace)]) == 2  # `?` outside partial mode
    capsys.readouterr()
    assert main(["replay", "--partial", "--json", str(trace)]) == 1
    doc = json.loads(capsys.readouterr().out)["files"][0]
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("status-cleared", 7)]
    assert any("0x1000" in n and "unrecorded" in n for n in doc["notes"])


def test_manifest_of_the_bundled_traces_passes(capsys):
    assert main(["replay", "--manifest", os.path.join(TRACES, "manifest.toml")]) == 0
    assert "all got their expected verdicts" in capsys.readouterr().out


def test_rules_lists_every_finding_and_rule(capsys):
    from lgcheck.spec.registry import FINDINGS, RULES

    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in FINDINGS)
    assert all(r.linux in out for r in RULES.values())


@pytest.mark.parametrize("argv", [["replay", "--help"], ["prove", "--help"], ["--help"]])
def test_help_explains(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    assert "lguest" in capsys.readouterr().out


def test_console_script_runs_without_traceback_on_bad_bytes(tmp_path):
    bad = tmp_path / "bytes.lgt"
    bad.write_bytes(b"lguest-trace 1\ng0 status dev=0 value=\xff\n")
    proc = subprocess.run([sys.executable, "-m", "lgcheck", "replay", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert ":2:" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("mib", ["8796093022208", "999999999999999"])
def test_a_max_memory_past_what_setrlimit_takes_is_a_usage_error(mib, capsys):
    # setrlimit's OverflowError was a traceback with exit 1, which reads as "violation" (the attack)
    assert main(["replay", "--max-memory", mib, "traces/console-boot.lgt"]) == 2
    err = capsys.readouterr().err
    assert "too large" in err and "Traceback" not in err


def _small_manifest(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(
        f'[[trace]]\nfile = "{os.path.abspath(BAD)}"\nverdict = "violation"\n'
        'findings = [{rule = "status-cleared", line = 23}]\n'
    )
    return m


@pytest.mark.parametrize(
    "extra",
    [
        [OK],
        ["--partial"],
        ["--select", "key-collision"],
        ["--fault", "guest-clears-status"],
        ["--format", "sarif"],
        ["--launcher", "checked"],
        ["--jobs", "2"],
        ["--quiet"],
        ["--strict"],
    ],
)
def test_manifest_refuses_what_it_would_not_apply(tmp_path, capsys, extra):
    """--manifest used to drop files and options given beside it without a word (--format sarif printed text,
    a FILE was not replayed): each is now a usage error that names it."""
    assert main(["replay", "--manifest", str(_small_manifest(tmp_path)), *extra]) == 2
    err = capsys.readouterr().err
    assert "--manifest" in err and (extra[0] if extra[0].startswith("--") else "FILE") in err


def test_manifest_with_format_json_prints_json(tmp_path, capsys):
    m = _small_manifest(tmp_path)
    rc = main(["replay", "--manifest", str(m), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["manifest"]["file"] == str(m)
    assert rc == 0 and doc["manifest"]["mismatches"] == []


def _peak_of_replay(argv) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        main(argv)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("keep", [["--ignore", "key-collision"], ["--select", "status-cleared"]])
def test_select_and_ignore_keep_findings_out_of_memory(tmp_path, capsys, keep):
    """--select/--ignore made a list of every kept finding: 10x the findings took ~10x the memory."""

    def trace(n):
        p = tmp_path / f"f{n}.lgt"
        lines = ["lguest-trace 1", "guest 0 pages=16", "device 0.0 type=console pfn=0 pages=0"]
        lines += ["g0 status dev=0 value=ACKNOWLEDGE|DRIVER", "g0 status dev=0 value=ACKNOWLEDGE"] * n
        p.write_text("\n".join(lines) + "\n")
        return str(p)

    argv = ["replay", "--quiet", "--max-findings", "0", *keep]
    main([*argv, trace(10)])  # (the first run's imports would count as the small trace's memory)
    small, large = _peak_of_replay([*argv, trace(1500)]), _peak_of_replay([*argv, trace(15000)])
    capsys.readouterr()
    assert large / small < 2
    assert main(["replay", "--json", *keep, trace(1500)]) == 1
    assert len(json.loads(capsys.readouterr().out)["files"][0]["findings"]) == 1500


@pytest.mark.parametrize("jobs", ["0", "-3", "257", "99999999999"])
def test_replay_jobs_out_of_range_is_a_usage_error(capsys, jobs):
    """--jobs 99999999999 was an internal error (exit 4, an OverflowError from the process pool)."""
    assert main(["replay", "--jobs", jobs, OK]) == 2
    assert f"--jobs must be 1..256 (worker processes on this machine), not {jobs}" in capsys.readouterr().err


def test_output_closed_before_the_report_ends_is_not_exit_0(tmp_path):
    """`lgcheck replay bad.lgt | head -1` exited 0 ("every file ok") although the file broke the protocol and
    the rest of the report was never written: under `set -o pipefail` a CI step passed.  Now 141, as for a
    process ended by SIGPIPE, and no noise on stderr."""
    p = tmp_path / "many.lgt"
    lines = ["lguest-trace 1", "guest 0 pages=16", "device 0.0 type=console pfn=0 pages=0"]
    lines += ["g0 status dev=0 value=ACKNOWLEDGE|DRIVER", "g0 status dev=0 value=ACKNOWLEDGE"] * 20000
    p.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lgcheck", "replay", str(p), INPUT_ERROR],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as `head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert b"Traceback" not in err and b"Exception ignored" not in err


def test_a_folder_without_lgt_files_is_a_usage_error_alone_or_beside_files(tmp_path, capsys):
    """Beside a file, an empty folder used to vanish from the run and the total: exit 2, naming it, before any report."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a trace")
    links = tmp_path / "links"
    links.mkdir()
    (links / "a.lgt").symlink_to(OK)
    for argv in ([str(empty)], [OK, str(empty)], [str(empty), OK, "--jobs", "2"], ["--json", OK, str(empty)]):
        assert main(["replay", *argv]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""  # refused before any report
        assert f"no .lgt file to replay in the folder given: {empty}" in captured.err
    assert main(["replay", OK, str(links)]) == 2
    assert f"folder given: {links} (only 1 symlink, followed with --follow-links)" in capsys.readouterr().err
    assert main(["replay", "--follow-links", OK, str(links)]) == 0


@pytest.mark.parametrize(
    "argv, said",
    [
        (["--emit", "-", os.path.join(TRACES, "console-boot.input.lgt")], "--emit -: - is standard output"),
        (["--partial", "--witnesses", "-", os.path.join(TRACES, "partial-console-flood.lgt")],
         "--witnesses -: - is standard output"),
    ],
)
def test_dash_as_an_output_path_is_refused_not_a_file_named_dash(tmp_path, monkeypatch, capsys, argv, said):
    """`-` means standard output (show -o -), where replay's report goes: no file or folder named `-` appears."""
    monkeypatch.chdir(tmp_path)
    assert main(["replay", *argv]) == 2
    captured = capsys.readouterr()
    assert said in captured.err and "(./- for one named -)" in captured.err and captured.out == ""
    assert os.listdir(tmp_path) == []
    # ./- names a real file of that name, for whoever wants one
    if argv[0] == "--emit":
        assert main(["replay", "--emit", "./-", argv[-1]]) == 0
        assert os.listdir(tmp_path) == ["-"]


# ------------------------------------------------------------ outputs that are not regular files
def _drain(path):
    """Read a FIFO in a thread (as a shell's `cat fifo` would): its text once the writer closes it."""
    import threading

    got = {}

    def read():
        with open(path, encoding="utf-8") as fh:
            got["text"] = fh.read()

    t = threading.Thread(target=read, daemon=True)
    t.start()
    return t, got


@pytest.mark.parametrize("command", [["show", "-o"], ["replay", "--emit"]])
def test_an_output_that_is_a_fifo_or_a_device_is_written_into_not_replaced(tmp_path, capsys, command):
    # The output went to a temporary file renamed over its name: a FIFO, or (run as root) /dev/null itself,
    # became a regular file holding the page or the trace.
    import stat

    flood = os.path.join(TRACES, "bad-write-to-used-buffer-console-flood.lgt")
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    t, got = _drain(fifo)
    assert main([*command, str(fifo), flood]) in (0, 1)
    t.join(10)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert ("<svg" if command[0] == "show" else "l0 fill key=0 dma=0x477d60 len=3 irq=1") in got["text"]
    if os.geteuid() == 0:
        dev = tmp_path / "null"
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        assert main([*command, str(dev), flood]) in (0, 1)
        assert stat.S_ISCHR(os.lstat(dev).st_mode)
    capsys.readouterr()
    if os.path.exists("/dev/full"):
        # A device that cannot take it: a clear error and exit 2, and the device is left as it was.
        assert main([*command, "/dev/full", flood]) == 2
        assert "No space left on device" in capsys.readouterr().err
        assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)


def test_a_report_the_disk_cannot_take_is_exit_2_not_an_internal_error(monkeypatch, capsys):
    # Writing to a full disk (`> /dev/full`) ended as "internal error ... this is a bug in lgcheck", exit 4.
    import errno

    import lgcheck.replay.corpus as corpus

    ok = os.path.join(TRACES, "console-boot.lgt")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(corpus, "replay_file", full)
    assert main(["replay", ok]) == 2
    err = capsys.readouterr().err
    assert "cannot write the report: No space left on device" in err and "internal error" not in err

    def denied(*a, **k):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES))  # not the disk: still a bug to report

    monkeypatch.setattr(corpus, "replay_file", denied)
    assert main(["replay", ok]) == 4
    assert "internal error" in capsys.readouterr().err


def test_manifest_mismatch_lines_escape_the_trace_name(tmp_path, capsys):
    # The UNEXPECTED lines printed the manifest's file name raw, though the report above them escapes it.
    import shutil

    shutil.copy(os.path.join(TRACES, "console-boot.lgt"), tmp_path / "a\x1b[2J.lgt")
    (tmp_path / "m.toml").write_text('[[trace]]\nfile = "a\\u001b[2J.lgt"\nverdict = "violation"\n')
    assert main(["replay", "--manifest", str(tmp_path / "m.toml")]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "a\\x1b[2J.lgt: UNEXPECTED: verdict ok, expected violation" in out


@pytest.mark.parametrize("command", [["show", "-o"], ["replay", "--emit"]])
def test_an_output_whose_name_is_near_the_limit_is_written(tmp_path, capsys, command):
    # The temporary file was named after the whole output name plus mkstemp's characters: past 255 bytes,
    # so a legal 250-character name got "cannot write ... File name too long" (exit 2).
    target = tmp_path / ("b" * 250)
    flood = os.path.join(TRACES, "bad-write-to-used-buffer-console-flood.lgt")
    assert main([*command, str(target), flood]) in (0, 1)
    assert "cannot write" not in capsys.readouterr().err
    assert target.stat().st_size > 0 and os.listdir(tmp_path) == [target.name]


@pytest.mark.parametrize("expected", ["error", "ok"])
def test_manifest_listing_a_trace_that_cannot_be_read_exits_2(tmp_path, capsys, expected):
    """A listed trace that is missing (a typo, a file not checked in) was replayed as an input error: under
    `verdict = "error"` the manifest passed (exit 0, "all got their expected verdicts") without checking
    anything, otherwise it was a mismatch (exit 1). An unreadable file is exit 2, as for replay itself."""
    (tmp_path / "m.toml").write_text(f'[[trace]]\nfile = "missing.lgt"\nverdict = "{expected}"\n')
    assert main(["replay", "--manifest", str(tmp_path / "m.toml")]) == 2
    out = capsys.readouterr().out
    assert "missing.lgt: UNEXPECTED: cannot be read (No such file or directory)" in out
    assert "1 traces: 1 did not get their expected verdict" in out
    (tmp_path / "j.toml").write_text(f'[[trace]]\nfile = "missing.lgt"\nverdict = "{expected}"\n')
    assert main(["replay", "--manifest", str(tmp_path / "j.toml"), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert [m["why"] for m in doc["manifest"]["mismatches"]] == ["cannot be read (No such file or directory)"]


def test_a_manifest_that_cannot_be_opened_is_not_called_a_trace(tmp_path, capsys):
    assert main(["replay", "--manifest", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err
    assert "trace" not in err and f"cannot read manifest {tmp_path / 'none.toml'}: No such file" in err
    assert main(["replay", "--manifest", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "trace" not in err and f"cannot read manifest {tmp_path}: a folder" in err
