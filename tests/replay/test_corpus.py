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


def _interrupted_jobs_run(tmp_path, whole_group: bool):
    """`replay --jobs 2` on three long traces, SIGINT'd once both workers run: (exit, stderr, seconds, workers)."""
    import signal
    import subprocess
    import sys
    import time

    from tests.procs import alive, start_with_workers

    root = os.path.join(os.path.dirname(__file__), "..", "..")
    big = tmp_path / "big.lgt"
    subprocess.run([sys.executable, os.path.join(root, "benchmarks", "gen_trace.py"), "300000", str(big)], check=True)
    cmd = [sys.executable, "-m", "lgcheck", "replay", "--jobs", "2", "--no-progress", str(big), str(big), str(big)]
    proc, workers = start_with_workers(cmd)  # (as from a terminal: SIGINT's default)
    assert len(workers) == 2
    time.sleep(0.5)  # each worker is in the middle of its file
    asked = time.monotonic()
    if whole_group:
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C
    else:
        proc.send_signal(signal.SIGINT)  # `kill -INT`, a supervisor: the parent alone
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    took = time.monotonic() - asked
    time.sleep(0.2)
    return proc.returncode, err, took, [w for w in workers if alive(w)]


def test_ctrl_c_with_jobs_ends_at_once_without_a_worker_traceback(tmp_path):
    """A terminal's Ctrl-C reaches the workers too: each printed a multiprocessing traceback
    (KeyboardInterrupt in its queue read) above "lgcheck: interrupted"."""
    status, err, took, left = _interrupted_jobs_run(tmp_path, whole_group=True)
    assert status == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip() == "lgcheck: interrupted"
    assert took < 5, took
    assert left == []


def test_sigint_to_the_parent_alone_ends_the_workers_too(tmp_path):
    """SIGINT to the parent alone (`kill -INT`): the pool's shutdown waited for each worker to finish its
    file (16 s for a million records) before exit 130."""
    status, err, took, left = _interrupted_jobs_run(tmp_path, whole_group=False)
    assert status == 130, err
    assert "Traceback" not in err, err
    assert took < 5, took
    assert left == []
