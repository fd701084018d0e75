"""`prove --engine bfs --jobs N` against --jobs 1, in one run: states/s, wall time and CPU per state.

    .venv/bin/python benchmarks/bfs_jobs_speed.py [--jobs 2] [--states 150000] [--depth 4] [--repeat 3]

Each measurement is a fresh process running checker/bfs.py `search` on the
default model for key-collision (the largest cone) to --depth, stopped at
--states states: with any N the search stops at the same state (the parent
merges in frontier order), so the two runs do the same work.  --jobs 1 and N
alternate, --repeat times each.  Printed per run: wall seconds, states/s, the
parent's and each worker's CPU seconds, CPU microseconds per state (all
processes), "cores used" (CPU / wall) and a bound on the speed-up with N free
cores: the serial run's CPU over the busiest process's CPU (the parent merges
while the workers expand, so no run can be shorter than that process).

Wall time alone says little on a shared machine (see benchmarks/jobs_speed.py:
Linux's autogroup shares the cores among sessions, so a busy machine gives our
session its share whether it runs one process or three); `uptime` is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def one(jobs: int, states: int, depth: int) -> dict:
    from lgcheck.checker import bfs, bfs_jobs
    from lgcheck.checker.config import Config

    workers: list[float] = []
    close = bfs_jobs.Workers.close

    def closing(self):
        if self.procs:
            workers.extend(self.cpu_seconds())
        close(self)

    bfs_jobs.Workers.close = closing
    cfg = Config(depth=depth)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    out = bfs.search(cfg, ["key-collision"], max_states=states, jobs=jobs)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    parent = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {
        "jobs": jobs,
        "states": out.states,
        "wall": wall,
        "parent": parent,
        "workers": workers,
        "memory_mib": out.memory_mib,
        "stopped": out.stopped,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--states", type=int, default=150_000)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one is not None:
        print(json.dumps(one(a.one, a.states, a.depth)))
        return 0
    print(os.popen("uptime").read().strip())
    runs: dict = {1: [], a.jobs: []}
    for _ in range(a.repeat):
        for jobs in (1, a.jobs):
            cmd = [sys.executable, __file__, "--one", str(jobs), "--states", str(a.states), "--depth", str(a.depth)]
            r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            cpu = r["parent"] + sum(r["workers"])
            r["cpu"] = cpu
            print(
                f"--jobs {jobs}: {r['states']:,} states in {r['wall']:.1f}s ({r['states'] / r['wall']:,.0f}/s); "
                f"CPU parent {r['parent']:.1f}s, workers {', '.join(f'{w:.1f}' for w in r['workers']) or '-'}; "
                f"{cpu / r['states'] * 1e6:.0f} us CPU/state; cores used {cpu / r['wall']:.2f}; "
                f"{r['memory_mib']:.0f} MiB"
            )
            runs[jobs].append(r)
    print(os.popen("uptime").read().strip())
    serial, par = min(runs[1], key=lambda r: r["wall"]), min(runs[a.jobs], key=lambda r: r["wall"])
    assert serial["states"] == par["states"], "the runs did not stop at the same state"
    busiest = max([par["parent"], *par["workers"]])
    print(
        f"best wall: --jobs 1 {serial['wall']:.1f}s, --jobs {a.jobs} {par['wall']:.1f}s: "
        f"ratio {serial['wall'] / par['wall']:.2f}x; CPU per state {par['cpu'] / serial['cpu']:.2f}x the serial; "
        f"bound with {a.jobs} free cores: {serial['cpu'] / busiest:.2f}x (serial CPU / busiest process)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
