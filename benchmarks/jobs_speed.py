"""Speed-up of `lgcheck replay --jobs N` on a corpus, against --jobs 1 in the same run.

    python benchmarks/jobs_speed.py [--files 8] [--records 100000] [--jobs 2] [--repeat 1]

Writes FILES traces of RECORDS records (benchmarks/gen_trace.py, one seed per
file) into a temporary folder, then times the whole command (`python -m
lgcheck replay -q DIR`), with --jobs 1 and with --jobs N, alternately, and
prints each time and the ratio of the best times.  Both runs must report
the same thing (the totals line) in the same order.

Wall time alone says little on a shared machine: Linux's autogroup
scheduling (/proc/sys/kernel/sched_autogroup_enabled) shares the cores among
sessions, not processes, so while other sessions are busy our session gets
its share whether it runs one process or N.  So the CPU time is measured too:
- of each whole command (its own and its workers', getrusage children):
  what the parallel run costs more than the serial one;
- "cores used" = CPU / wall: when it does not grow with --jobs, the machine
  (our session's share of it), not lgcheck, is what limits the run;
- the critical path of the same pool in this process (replay/corpus.py's
  order and window, fork): the start-up of a command plus the CPU of the
  busiest worker; "speed-up with N free cores" = serial CPU / that.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(folder: str, jobs: int) -> tuple[float, float, str]:
    """Wall and CPU seconds (the command and its workers) of one `lgcheck replay` run."""
    c = _children_cpu()
    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "lgcheck", "replay", "--jobs", str(jobs), folder], capture_output=True, text=True
    )
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"replay --jobs {jobs} exited {p.returncode}:\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return dt, _children_cpu() - c, p.stdout


def _timed(path: str) -> tuple[int, float, int]:
    from lgcheck.replay.engine import replay_file

    c = time.process_time()
    r = replay_file(path)
    return os.getpid(), time.process_time() - c, r.records


def critical_path(files: list[str], jobs: int) -> tuple[dict, list[float]]:
    """Per-worker CPU of the --jobs pool (replay/corpus.py's, 2*N in flight, input order), and each file's CPU."""
    from lgcheck.replay.corpus import _in_order, pool

    per_worker: dict = {}
    per_file = []
    with pool(jobs) as workers:
        for pid, cpu, _ in _in_order(lambda p: workers.submit(_timed, p), files, 2 * jobs):
            per_worker[pid] = per_worker.get(pid, 0.0) + cpu
            per_file.append(cpu)
    return per_worker, per_file


def _load() -> str:
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        files = []
        for i in range(a.files):
            files.append(os.path.join(d, f"t{i}.lgt"))
            subprocess.run(
                [sys.executable, os.path.join(HERE, "gen_trace.py"), str(a.records), files[-1], "--seed", str(i + 1)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        tiny = os.path.join(d, "tiny")
        os.mkdir(tiny)
        subprocess.run(
            [sys.executable, os.path.join(HERE, "gen_trace.py"), "10", os.path.join(tiny, "t.lgt")],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(_load(), flush=True)
        serial, parallel = [], []
        for _ in range(a.repeat):
            t1, c1, out1 = run(d, 1)
            tn, cn, outn = run(d, a.jobs)
            if out1 != outn:
                sys.exit("--jobs changed the report")
            serial.append((t1, c1))
            parallel.append((tn, cn))
            print(
                f"--jobs 1: {t1:.2f}s wall, {c1:.2f}s CPU ({c1 / t1:.2f} cores)   "
                f"--jobs {a.jobs}: {tn:.2f}s wall, {cn:.2f}s CPU ({cn / tn:.2f} cores)   wall ratio {t1 / tn:.2f}x",
                flush=True,
            )
        _, start_cpu, _ = run(tiny, 1)
        per_worker, per_file = critical_path(files, a.jobs)
        print(_load())
        best1, bestn = min(serial), min(parallel)
        cpu1 = min(c for _, c in serial)
        cpun = min(c for _, c in parallel)
        busiest = max(per_worker.values())
        print(
            f"{a.files} files x {a.records} records: best --jobs 1 {best1[0]:.2f}s, --jobs {a.jobs} {bestn[0]:.2f}s: "
            f"wall speed-up {best1[0] / bestn[0]:.2f}x"
        )
        print(
            f"CPU: --jobs 1 {cpu1:.2f}s, --jobs {a.jobs} {cpun:.2f}s (+{100 * (cpun / cpu1 - 1):.1f}% for the pool); "
            f"start-up of a command {start_cpu:.2f}s; per file {min(per_file):.2f}-{max(per_file):.2f}s; "
            f"per worker {', '.join(f'{v:.2f}s' for v in sorted(per_worker.values()))}"
        )
        print(
            f"speed-up with {a.jobs} free cores (serial CPU / (start-up + busiest worker)): "
            f"{cpu1 / (start_cpu + busiest):.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
