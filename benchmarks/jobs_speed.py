"""Speed-up of `lgcheck replay --jobs N` on a corpus, against --jobs 1 in the same run.

    python benchmarks/jobs_speed.py [--files 8] [--records 100000] [--jobs 2] [--repeat 1]

Writes FILES traces of RECORDS records (benchmarks/gen_trace.py, one seed per
file) into a temporary folder, then times the whole command (`python -m
lgcheck replay -q DIR`), with --jobs 1 and with --jobs N, alternately, and
prints each time and the ratio of the best times.  Both runs must report
the same thing (the totals line) in the same order.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(folder: str, jobs: int) -> tuple[float, str]:
    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "lgcheck", "replay", "--jobs", str(jobs), folder], capture_output=True, text=True
    )
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"replay --jobs {jobs} exited {p.returncode}:\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return dt, p.stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        for i in range(a.files):
            subprocess.run(
                [
                    sys.executable,
                    os.path.join(HERE, "gen_trace.py"),
                    str(a.records),
                    os.path.join(d, f"t{i}.lgt"),
                    "--seed",
                    str(i + 1),
                ],
                check=True,
            )
        serial, parallel = [], []
        for _ in range(a.repeat):
            t1, out1 = run(d, 1)
            tn, outn = run(d, a.jobs)
            if out1 != outn:
                sys.exit("--jobs changed the report")
            serial.append(t1)
            parallel.append(tn)
            print(f"--jobs 1: {t1:.2f}s   --jobs {a.jobs}: {tn:.2f}s   ratio {t1 / tn:.2f}x", flush=True)
        print(
            f"{a.files} files x {a.records} records: best --jobs 1 {min(serial):.2f}s, "
            f"--jobs {a.jobs} {min(parallel):.2f}s: speed-up {min(serial) / min(parallel):.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
