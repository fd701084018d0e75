"""`prove --engine bfs --jobs N` (checker/bfs_jobs.py): the same states, numbers and shortest runs as one process."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from procs import HAS_CHILDREN, start_with_workers

from lgcheck.checker import bfs, bfs_jobs
from lgcheck.checker.config import Config
from lgcheck.cli import main

SMALL = dict(slots=1, buffers=1, sections=1)


def test_workers_reach_the_same_states_under_the_same_numbers_and_rebuild_the_same_runs():
    """Three levels of a fault's search: the visited set (numbers included), parent pointers and runs agree.

    With numbers and parents alike, the first violation per invariant (and its run) is the same too, as
    are an exhausted search's digest and where --max-states stops (it counts the states merged so far).
    """
    cfg = Config(launcher="checked", faults=("host-skips-used-len-check",), depth=3, **SMALL)
    names = ["write-to-used-buffer", "buffer-overflow", "key-collision", "key-outside-device"]
    (_, actions), *_ = bfs.cones(cfg, names)
    dom = bfs.domains(cfg)
    cones = [bfs.Cone(cfg, names, actions, False, dom, bfs._sections(cfg, dom)) for _ in range(2)]
    one, many = cones
    pool = bfs_jobs.Workers(cfg, [many], 2)
    try:
        for _ in range(3):
            one.level(lambda f: None, lambda: "")
            pool.level(many, lambda f: None, lambda: "")
    finally:
        pool.close()
    assert len(one.seen) > 1000 and one.seen == many.seen and one.parent == many.parent
    assert bfs.digest(one.seen) == bfs.digest(many.seen)  # what a certificate names: the same state set
    assert [i for i, _ in one.frontier] == [i for i, _ in many.frontier]
    for i in (1, len(one.parent) // 2, len(one.parent) - 1):  # a move is kept as an ordinal and made again
        assert bfs_jobs.path_to(many, i) == one.path_to(i)


def test_faults_give_the_same_shortest_runs_and_state_counts_with_two_workers():
    cases = [("host-copies-source-length", "buffer-overflow", False), ("guest-clears-status", "status-cleared", False)]
    cases.append(("host-copies-source-length", "buffer-overflow", True))  # deferred writes: resolved in the run
    for fault, inv, defer in cases:
        cfg = Config(launcher="checked", faults=(fault,), depth=4, **SMALL)
        outs = [bfs.search(cfg, [inv], jobs=jobs, defer=defer) for jobs in (1, 2)]
        assert inv in outs[0].found and outs[0].found[inv].path == outs[1].found[inv].path, fault
        assert outs[0].found[inv].steps == outs[1].found[inv].steps and outs[0].per == outs[1].per, fault


def test_a_fault_with_guest_symmetry_is_written_alike_with_two_workers(tmp_path, capsys):
    """Through the CLI: the same verdict, length, state count and written trace (Guests permuted in the search)."""
    fault, inv = "two-guests-one-slot", "key-collision"
    assert bfs.symmetric(Config(faults=(fault,)))
    args = ["prove", "--engine", "bfs", "--fault", fault, "--inv", inv, "--no-progress", "--json"]
    args += ["--slots", "1", "--buffers", "1", "--sections", "1", "--depth", "4"]
    written, docs = [], []
    for jobs in (1, 2):
        out = tmp_path / str(jobs)
        assert main([*args, "--jobs", str(jobs), "--out", str(out)]) == 1
        doc = json.loads(capsys.readouterr().out)
        docs.append((doc["states"], [(r["status"], r["depth"]) for r in doc["results"]]))
        written.append({p.name: p.read_text().replace(str(out), "OUT") for p in sorted(out.glob("*.lgt"))})
    assert docs[0] == docs[1] and docs[0][1] == [("violated", 2)]
    assert written[0] == written[1] and f"{inv}.lgt" in written[0]  # the same shortest run, written alike


def test_a_state_limit_stops_two_workers_where_it_stops_one():
    cfg = Config(depth=5, **SMALL)
    outs = [bfs.search(cfg, ["key-collision"], max_states=1500, jobs=jobs) for jobs in (1, 2)]
    assert outs[0].stopped.startswith("state limit reached") and outs[0].stopped == outs[1].stopped
    assert outs[0].states == outs[1].states


def test_the_memory_limit_counts_the_workers_memory(monkeypatch):
    monkeypatch.setattr(bfs, "_address_space_mib", lambda: 100.0)  # this process alone: far below the limit
    monkeypatch.setattr(bfs_jobs, "_private_mib", lambda pid: 400.0)  # each worker's own pages
    cfg = Config(depth=3, **SMALL)
    assert bfs.search(cfg, ["key-collision"], max_memory_mib=1000, jobs=1).stopped == ""
    out = bfs.search(cfg, ["key-collision"], max_memory_mib=1000, jobs=2)
    assert out.stopped == "memory limit reached (900 MiB of --max-memory 1000)" and not out.exhausted


def test_a_time_limit_leaves_no_worker_behind():
    out = bfs.search(Config(depth=8, **SMALL), ["key-collision"], deadline=time.monotonic() + 0.5, jobs=2)
    assert out.stopped == "time limit reached" and not out.exhausted
    assert multiprocessing.active_children() == []


@pytest.mark.skipif(
    not HAS_CHILDREN, reason="reads the process tree from /proc"
)
def test_ctrl_c_stops_with_exit_130_no_traceback_and_no_worker_left(tmp_path):
    cmd = [sys.executable, "-m", "lgcheck", "prove", "--engine", "bfs", "--jobs", "2", "--inv", "key-collision"]
    cmd += ["--depth", "8", "--no-progress", "--out", str(tmp_path)]
    # Python answers Ctrl-C only where SIGINT was not ignored when it started, and a test run launched in
    # the background (`cmd &` in a script, nohup) ignores it: the program then rightly goes on, so the
    # child starts with SIGINT's default, as from a terminal.  PYTHONFAULTHANDLER: a process that has
    # not ended long after the Ctrl-C is asked for its threads' stacks (SIGABRT), for the failure.
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    proc, workers = start_with_workers(cmd, env=env)
    assert len(workers) == 2
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        out, err = proc.communicate(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"no exit 60 s after Ctrl-C; its stacks:\n{err}")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert "key-collision: unknown" in out
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


@pytest.mark.parametrize("jobs", ["0", "257", "100000", "99999999999"])
def test_jobs_out_of_range_is_a_usage_error(capsys, jobs):
    """--jobs 100000 forked worker after worker, past --timeout, until stopped from outside."""
    assert main(["prove", "--engine", "bfs", "--inv", "key-collision", "--timeout", "5", "--jobs", jobs]) == 2
    assert f"--jobs must be 1..256 (worker processes on this machine), not {jobs}" in capsys.readouterr().err


def test_a_changed_binding_order_of_two_entries_is_replaced_whole():
    # The order is the fingerprint's last part (index `order`, the Guest count); with 2 slots in all it is
    # a pair, the same shape as one Guest field's (field, value) change.
    parent = (("a", "x"), ("b", "y"), (False, True))
    assert bfs_jobs._patch(parent, (2, (True, False)), 2) == (("a", "x"), ("b", "y"), (True, False))
    assert bfs_jobs._patch(parent, (1, (0, "c")), 2) == (("a", "x"), ("c", "y"), (False, True))
