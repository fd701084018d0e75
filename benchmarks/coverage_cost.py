"""What `lgcheck prove --coverage` costs on the default model, against the same run without it.

    python benchmarks/coverage_cost.py [--repeat 3] [--coverage SECONDS]

Byte-compiles the package first (the environment may set
PYTHONDONTWRITEBYTECODE=1, which would make every run pay for compiling),
then times `lgcheck prove` and `lgcheck prove --launcher checked`, each
without and with `--coverage`, alternately, REPEAT times, and prints the best
wall time of each and the ratio, in the same run.  The verdicts and exit
status must be the same with and without.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {"default": [], "--launcher checked": ["--launcher", "checked"]}


def _run(argv: list[str], out: str) -> tuple[float, int, list, dict | None]:
    cmd = [sys.executable, "-m", "lgcheck", "prove", "--no-progress", "--json", "--out", out, *argv]
    t = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    took = time.monotonic() - t
    doc = json.loads(proc.stdout)
    verdicts = [(r["invariant"], r["status"], r["depth"]) for r in doc["results"]]
    return took, proc.returncode, verdicts, doc.get("coverage")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--coverage", default=None, help="--coverage's SECONDS (default: its own)")
    args = ap.parse_args()
    for folder in ("lgcheck", "spec", "checker", "replay"):
        compileall.compile_dir(os.path.join(ROOT, folder), quiet=1)
    cover = ["--coverage"] + ([args.coverage] if args.coverage else [])
    with tempfile.TemporaryDirectory() as out:
        for name, argv in MODELS.items():
            best = {"without": float("inf"), "with": float("inf")}
            seen = {}
            coverage = None
            for _ in range(args.repeat):
                for how, extra in (("without", []), ("with", cover)):
                    took, code, verdicts, cov = _run(argv + extra, out)
                    best[how] = min(best[how], took)
                    seen.setdefault(how, (code, verdicts))
                    coverage = cov or coverage
            if seen["with"] != seen["without"]:
                print(f"{name}: coverage changed the verdicts: {seen}", file=sys.stderr)
                return 1
            print(
                f"{name}: best of {args.repeat}: {best['without']:.1f}s without, {best['with']:.1f}s with --coverage "
                f"(x{best['with'] / best['without']:.2f}); coverage looked {coverage['looked']} of "
                f"{coverage['depth']} steps in {coverage['seconds']:.1f}s, stopped: {coverage['stopped']}; "
                f"{coverage['outcomes']}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
