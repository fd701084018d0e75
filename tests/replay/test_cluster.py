"""`lgcheck replay --cluster`: a Dask cluster gives the report `--jobs 1` gives, in input order.

Skipped where the optional extra (Dask distributed) is not installed; .ci/run
installs it, so CI runs these.
"""

from __future__ import annotations

import glob
import os
import sys

import pytest

from lgcheck.cli import main
from lgcheck.replay.corpus import replay_many

TRACES = os.path.join(os.path.dirname(__file__), "..", "..", "traces")


def _key(r):
    return (r.file, r.verdict, r.records, list(r.findings), list(r.notes), None if r.error is None else r.error.line)


def test_without_the_extra_cluster_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed: import fails
    assert main(["replay", "--cluster", "local", TRACES]) == 2
    err = capsys.readouterr().err
    assert "lgcheck[dask]" in err and "Traceback" not in err


def test_standard_input_is_refused_on_a_cluster(capsys):
    pytest.importorskip("distributed")
    assert main(["replay", "--cluster", "local", "-"]) == 2
    assert "standard input" in capsys.readouterr().err


def test_a_local_cluster_of_two_processes_merges_one_report_in_input_order():
    pytest.importorskip("distributed")
    files = sorted(glob.glob(os.path.join(TRACES, "*.lgt")))[::-1]  # input order, not alphabetical
    files.append(files[0])  # the same file twice is replayed twice
    serial = [_key(r) for r in replay_many(files, jobs=1)]
    on_cluster = [_key(r) for r in replay_many(files, jobs=2, cluster="local")]
    assert [k[0] for k in on_cluster] == files
    assert on_cluster == serial


def test_cli_on_a_scheduler_address_prints_what_jobs_1_prints(capsys):
    distributed = pytest.importorskip("distributed")
    assert main(["replay", "--format", "json", "--jobs", "1", TRACES]) == 2
    one = capsys.readouterr().out
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        assert main(["replay", "--format", "json", "--cluster", c.scheduler_address, TRACES]) == 2
    out = capsys.readouterr().out
    assert out == one
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):  # nothing listens on port 1
        assert main(["replay", "--cluster", "tcp://127.0.0.1:1", "--format", "json", TRACES]) == 2
    captured = capsys.readouterr()
    assert "cannot reach the Dask scheduler" in captured.err and captured.out == ""
