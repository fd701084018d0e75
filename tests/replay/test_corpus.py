"""`lgcheck replay --jobs N`: the same report as one at a time, in input order."""

from __future__ import annotations

import glob
import os

from lgcheck.cli import main
from lgcheck.replay.corpus import replay_many

TRACES = os.path.join(os.path.dirname(__file__), "..", "..", "traces")


def _key(r):
    return (r.file, r.verdict, r.records, r.findings, r.notes, None if r.error is None else r.error.line)


def test_parallel_results_equal_serial_ones_in_input_order():
    files = sorted(glob.glob(os.path.join(TRACES, "*.lgt")))
    files = files[::-1]  # not alphabetical: order must be the input's, not the finishing one
    serial = [_key(r) for r in replay_many(files, jobs=1)]
    parallel = [_key(r) for r in replay_many(files, jobs=2)]
    assert [k[0] for k in parallel] == files
    assert parallel == serial


def test_cli_jobs_prints_the_same_report(capsys):
    assert main(["replay", "--format", "json", TRACES]) == 2
    one = capsys.readouterr().out
    assert main(["replay", "--format", "json", "--jobs", "2", TRACES]) == 2
    assert capsys.readouterr().out == one
    assert main(["replay", "--jobs", "0", TRACES]) == 2
    assert "--jobs" in capsys.readouterr().err


def test_results_with_spilled_findings_cross_to_the_parent(monkeypatch):
    """A file with more findings than SpillLog keeps in memory: its spill file cannot be pickled, its lines can."""
    from lgcheck.replay.findings import SpillLog

    monkeypatch.setattr(SpillLog, "KEEP", 1)  # the forked workers inherit it
    files = sorted(glob.glob(os.path.join(TRACES, "*.lgt")))
    serial = [_key(r) for r in replay_many(files, jobs=1)]
    assert any(len(k[3]) > 1 for k in serial)  # some file did spill
    parallel = [_key(r) for r in replay_many(files, jobs=2)]
    assert parallel == serial


def test_standard_input_with_jobs_is_replayed_not_an_empty_trace():
    """With --jobs 2, `-` went to a worker, whose stdin multiprocessing points at /dev/null: a valid trace on
    stdin was reported as an input error ("no records"), exit 2."""
    import subprocess
    import sys

    ok = os.path.join(TRACES, "console-boot.lgt")
    with open(ok, "rb") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "lgcheck", "replay", "--jobs", "2", "--no-progress", ok, "-"],
            stdin=fh,
            capture_output=True,
            timeout=120,
        )
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    assert "-: 24 records, 0 findings: ok" in out
