"""`prove --engine auto` (checker/portfolio.py), the default: the compare window, and what Ctrl-C leaves behind."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from procs import HAS_CHILDREN, alive, children


@pytest.mark.parametrize("mib", [150, 200])
def test_a_tight_memory_cap_ends_in_one_line_not_in_a_cpp_abort(tmp_path, mib):
    # Under a cap of 150-200 MiB z3's own allocation failed inside a check (and again in its
    # finalizers at exit) and C++'s terminate aborted the process: exit 134, "terminate called", in
    # most runs.  z3 now has a budget below the cap, lifted before exit.  Whether the default model
    # fits under 200 MiB depends on when z3 allocates, so a run may also settle every invariant (one
    # CI run in three did): then its verdict must be whole and its counterexamples must replay.
    env = {k: v for k, v in os.environ.items() if k != "LGCHECK_TRACEBACK"}
    p = subprocess.run(
        [sys.executable, "-m", "lgcheck", "prove", "--engine", "bmc", "--max-memory", str(mib), "--timeout", "60",
         "--no-progress", "--format", "json", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert "terminate called" not in p.stderr and "Traceback" not in p.stderr
    assert p.returncode in (1, 2), (p.returncode, p.stderr[-1500:].replace("\n", " | "))
    if p.returncode == 2:
        assert p.stderr.rstrip().splitlines()[-1] == (
            f"lgcheck: error: out of memory (--max-memory {mib} MiB): the model's formulas or states outgrew it; "
            "nothing more was checked"
        )
        return
    # A verdict: the default model breaks three invariants and keeps the others (tests/checker/test_prove.py).
    doc = json.loads(p.stdout)
    verdicts = {r["invariant"]: r["status"] for r in doc["results"]}
    assert set(verdicts.values()) <= {"holds", "violated"}, verdicts
    assert sorted(i for i, v in verdicts.items() if v == "violated") == [
        "status-cleared", "status-forbidden-bit", "write-to-used-buffer"
    ]
    for r in doc["results"]:
        if r["status"] == "violated":
            again = subprocess.run(
                [sys.executable, "-m", "lgcheck", "replay", r["counterexample"]["lgt"]], capture_output=True, text=True, timeout=60
            )
            assert again.returncode == 1 and f": {r['invariant']}: " in again.stdout, again.stdout


@pytest.mark.skipif(
    not HAS_CHILDREN, reason="reads the process tree from /proc"
)
def test_ctrl_c_under_auto_leaves_no_engine_running(tmp_path):
    # The portfolio kills its BMC process on Ctrl-C; that process's induction child (3 Guests: induction
    # takes tens of seconds) ignores SIGINT and must still end with it, not run on alone to its deadline.
    cmd = [sys.executable, "-m", "lgcheck", "prove", "--engine", "auto", "--launcher", "checked"]
    cmd += ["--guest-count", "3", "--no-progress", "--timeout", "120", "--out", str(tmp_path)]
    # Files, not pipes: an orphan would hold a pipe open, and reading it to its end would wait for the orphan.
    out_file, err_file = open(tmp_path / "out", "w"), open(tmp_path / "err", "w")
    proc = subprocess.Popen(
        cmd,
        stdout=out_file,
        stderr=err_file,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal (see test_bfs_jobs)
    )
    try:
        grandchildren: set[int] = set()
        end = time.monotonic() + 60
        while not grandchildren and time.monotonic() < end and proc.poll() is None:
            grandchildren = {g for c in children(proc.pid) for g in children(c)}
            time.sleep(0.05)
        assert grandchildren, "no induction process appeared under the BMC process"
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        assert proc.returncode == 130, (tmp_path / "err").read_text()
        gone = time.monotonic() + 5  # the orphan looks for its parent every 0.5 s
        while any(map(alive, grandchildren)) and time.monotonic() < gone:
            time.sleep(0.1)
        assert not any(map(alive, grandchildren))
    finally:
        out_file.close()
        err_file.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_the_compare_window_is_a_share_of_the_time_to_the_answers_within_a_floor_and_the_cap():
    from lgcheck.checker.portfolio import COMPARE, COMPARE_FLOOR, COMPARE_SHARE, window

    assert window(0.1) == COMPARE_FLOOR  # a fast answer is still compared for a moment
    assert window(4.0) == COMPARE_SHARE * 4.0 < COMPARE  # the default model: ~2 s, not 5
    assert window(60.0) == COMPARE  # a long run: at most the cap
    assert window(60.0, cap=1.5) == 1.5 and window(0.1, cap=0.2) == 0.2  # --compare lowers both
    assert window(4.0, cap=0) == 0  # --compare 0: no window


def _fast_fault(tmp_path, *flags):
    args = ["prove", "--fault", "guest-binds-outside-device", "--inv", "key-outside-device", "--no-induction"]
    return [*args, *flags, "--json", "--no-progress", "--out", str(tmp_path)]


def test_compare_0_stops_at_the_first_answers(tmp_path, capsys):
    """BMC reaches depth 3 in ~2 s; BFS needs far longer to depth 3, and is not waited for.

    (That the default compares for at least the floor is asserted on the default model, in
    tests/checker/test_certificate.py.)"""
    from lgcheck.checker.portfolio import COMPARE_FLOOR
    from lgcheck.cli import main

    argv = ["prove", "--inv", "key-collision", "--depth", "3", "--no-induction", "--json", "--no-progress"]
    assert main([*argv, "--compare", "0", "--out", str(tmp_path / "none")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["engine"] == "auto" and doc["compare_seconds"] < COMPARE_FLOOR
    assert [(r["status"], r["depth"]) for r in doc["results"]] == [("holds", 3)]
    for bad in ("-1", "nan"):
        assert main(_fast_fault(tmp_path / "bad", "--compare", bad)) == 2
        assert "--compare must be" in capsys.readouterr().err


def test_the_window_waits_for_an_engine_that_has_said_nothing_yet(tmp_path, monkeypatch, capsys):
    """A BFS that wrongly claims at once to have seen every state; BMC says nothing for longer than the
    window's floor.  The window waits for BMC's first claim (its 1-step run): exit 4, not a proof."""
    from lgcheck.checker import bfs, pipeline
    from lgcheck.cli import main

    def lying_search(cfg, names, *args, **kw):
        return bfs.Outcome(states=1, exhausted=True, per={n: (1, 0, True) for n in names})

    original = pipeline.induct

    def slow_induct(run):
        time.sleep(1.5)  # past the floor (0.5 s) before BMC starts: its claims come late
        return original(run)

    monkeypatch.setattr(bfs, "search", lying_search)  # the engines' processes are forks: they run these
    monkeypatch.setattr(pipeline, "induct", slow_induct)
    assert main(_fast_fault(tmp_path)) == 4
    err = capsys.readouterr().err
    assert "internal error" in err and "bfs proved it for every depth" in err


def test_an_engine_out_of_memory_says_so_in_one_line_and_no_traceback():
    from lgcheck.checker import portfolio

    # --max-memory caps each process; z3 then raises its own "out of memory" in an engine's process,
    # which printed multiprocessing's traceback.  A bug is one line too, and a status that says so.
    code = (
        "import z3\nfrom lgcheck.checker.portfolio import _guarded\n"
        "def body(kind):\n    raise z3.Z3Exception(b'out of memory') if kind == 'oom' else ValueError('a bug')\n"
        "import sys\n_guarded('bmc', body)(sys.argv[1])\nprint('not reached')\n"
    )
    oom = subprocess.run([sys.executable, "-c", code, "oom"], capture_output=True, text=True, timeout=60)
    assert oom.returncode == portfolio.OUT_OF_MEMORY and "not reached" not in oom.stdout
    assert "lgcheck: bmc stopped: out of memory" in oom.stderr and "Traceback" not in oom.stderr
    env = {k: v for k, v in os.environ.items() if k != "LGCHECK_TRACEBACK"}
    bug = subprocess.run([sys.executable, "-c", code, "bug"], capture_output=True, text=True, timeout=60, env=env)
    assert bug.returncode == portfolio.FAILED and "Traceback" not in bug.stderr
    assert "lgcheck: bmc: internal error (ValueError: 'a bug')" in bug.stderr


def test_the_solver_out_of_memory_in_the_main_process_is_a_limit_not_an_internal_error(monkeypatch, capsys):
    import z3

    from lgcheck import cli

    def run(args):
        raise z3.Z3Exception(b"out of memory")

    parser = cli.build_parser()
    args = parser.parse_args(["prove"])
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    monkeypatch.setattr(parser, "parse_args", lambda argv=None: (setattr(args, "run", run), args)[1])
    assert cli.main(["prove"]) == 2
    err = capsys.readouterr().err
    assert "out of memory" in err and "internal error" not in err


@pytest.mark.skipif(
    not HAS_CHILDREN, reason="reads the process tree from /proc"
)
def test_the_engines_end_soon_after_their_parent_is_killed(tmp_path):
    # SIGKILL leaves the portfolio no chance to kill its engines: each must notice and end by itself
    # (they ran on to their deadline, holding the terminal's pipes: seen when a test killed its prove).
    cmd = [sys.executable, "-m", "lgcheck", "prove", "--launcher", "checked", "--guest-count", "3"]
    cmd += ["--no-progress", "--timeout", "120", "--out", str(tmp_path)]
    with open(tmp_path / "out", "w") as out_file:
        proc = subprocess.Popen(cmd, stdout=out_file, stderr=subprocess.STDOUT, start_new_session=True)
    engines: set[int] = set()
    try:
        end = time.monotonic() + 60
        while len(engines) < 2 and time.monotonic() < end and proc.poll() is None:
            engines = children(proc.pid)
            time.sleep(0.05)
        assert len(engines) >= 2, (tmp_path / "out").read_text()
        proc.kill()
        proc.wait(timeout=10)
        end = time.monotonic() + 5
        while any(alive(e) for e in engines) and time.monotonic() < end:
            time.sleep(0.1)
        assert not any(alive(e) for e in engines)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_an_engine_that_fails_is_an_internal_error_not_the_others_verdicts(monkeypatch, tmp_path, capsys):
    # A dead engine proves nothing and was compared with nothing: under auto the search's verdicts were
    # printed with exit 1 while --engine bmc says 4 (found by the attack).
    from lgcheck.checker import bmc
    from lgcheck.cli import main

    def boom(*args, **kwargs):
        raise RuntimeError("a bug in BMC")

    monkeypatch.setattr(bmc, "check", boom)
    tiny = ["--guest-count", "1", "--slots", "1", "--buffers", "1", "--sections", "1", "--no-sysfs"]
    assert main(["prove", *tiny, "--no-progress", "--out", str(tmp_path)]) == 4
    captured = capsys.readouterr()
    assert "internal error" in captured.err and "Traceback" not in captured.err
    assert "holds" not in captured.out
