"""bitwuzla against z3 on the same BMC queries (issue 9: a second QF_BV solver for BMC).

BMC (checker/bmc.py) is run as usual, with z3's incremental solver; every
query it asks ("does some open invariant fail at step k?") is also written
out as one SMT-LIB 2 script (the unrolling so far, the facts BMC learnt, the
query asserted) and answered three ways, each timed:

    z3-incr    z3 incremental, as `lgcheck prove` asks it today (the baseline)
    z3         a fresh z3 QF_BV solver reading the script
    bitwuzla   bitwuzla reading the same script
    bz-incr    bitwuzla incremental, as `--bmc-solver bitwuzla` asks it
               (checker/bmc_solver.py: each formula read once, kept between depths)

Answers must agree (z3 is the reference: a disagreement stops the run).  The
table gives, per configuration and depth, the summed seconds and the ratio
bitwuzla / z3-incr.

    .venv/bin/python benchmarks/bmc_solvers.py [--quick] [--depth 10] [--budget 120]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import z3

from lgcheck.checker import bmc, bmc_solver
from lgcheck.checker.config import Config

SOLVER_FOR = z3.SolverFor  # measure() stands a Recorder in for it while BMC runs

CONFIGS = {
    "default": dict(),
    "checked": dict(launcher="checked", sysfs=False),
    "buffers-3": dict(launcher="checked", sysfs=False, buffers=3),
    "fault:host-skips-used-len-check": dict(
        launcher="checked", faults=("host-skips-used-len-check",), invariants=("buffers",)
    ),
    "fault:guest-rebinds-key": dict(launcher="checked", faults=("guest-rebinds-key",), invariants=("keys",)),
}


def bitwuzla_answer(text: str, timeout: float) -> tuple[str, float]:
    import bitwuzla

    tm = bitwuzla.TermManager()
    opts = bitwuzla.Options()
    opts.set(bitwuzla.Option.TIME_LIMIT_PER, max(1, int(timeout * 1000)))
    t = time.monotonic()
    parser = bitwuzla.Parser(tm, opts, "smt2")
    try:
        parser.parse(bmc_solver.smtlib(text), True, False)
    except bitwuzla.BitwuzlaException as e:
        open("/tmp/spin_bad.smt2", "w").write(text)
        raise SystemExit(f"bitwuzla cannot read the script: {e}") from None
    answer = parser.bitwuzla().check_sat()
    names = {bitwuzla.Result.SAT: "sat", bitwuzla.Result.UNSAT: "unsat"}
    return names.get(answer, "unknown"), time.monotonic() - t


def z3_answer(text: str, timeout: float) -> tuple[str, float]:
    t = time.monotonic()
    s = SOLVER_FOR("QF_BV")
    s.set("timeout", max(1, int(timeout * 1000)))
    s.from_string(text)
    return str(s.check()), time.monotonic() - t


class Recorder:
    """Stands in for BMC's z3 solver: answers as z3 incremental does, and times the others on the same query."""

    def __init__(self, rows, name, timeout):
        self.inner = SOLVER_FOR("QF_BV")
        self.bz = bmc_solver.Bitwuzla()
        self.bz.shadow = SOLVER_FOR("QF_BV")
        self.rows, self.name, self.timeout, self.depth = rows, name, timeout, 0

    def add(self, *fs):
        self.inner.add(*fs)
        self.bz.add(*fs)

    def set(self, *a, **kw):
        self.inner.set(*a, **kw)

    def model(self):
        return self.inner.model()

    def reason_unknown(self):
        return self.inner.reason_unknown()

    def check(self, *assumptions):
        text = self.inner.sexpr() + "".join(f"(assert {a.sexpr()})\n" for a in assumptions) + "(check-sat)\n"
        t = time.monotonic()
        ref = str(self.inner.check(*assumptions))
        incr = time.monotonic() - t
        zb, zt = z3_answer(text, self.timeout)
        bb, bt = bitwuzla_answer(text, self.timeout)
        t = time.monotonic()
        bi = self.bz.check_only(*assumptions)
        it = time.monotonic() - t
        for other, who in ((zb, "z3"), (bb, "bitwuzla"), (bi, "bitwuzla incremental")):
            if "unknown" not in (other, ref) and other != ref:
                sys.exit(f"{self.name}: {who} answers {other}, z3 incremental {ref}: the solvers disagree")
        self.rows.append((self.name, self.depth, ref, incr, zt, bt, it))
        return {"sat": z3.sat, "unsat": z3.unsat}.get(ref, z3.unknown)


def measure(name, kw, depth, budget, rows):
    cfg = Config(depth=depth, induction=False, **kw)
    rec = Recorder(rows, name, budget)
    started = time.monotonic()

    def progress(k, seconds, results):
        rec.depth = k + 1
        if time.monotonic() - started > budget:
            raise TimeoutError

    rec.depth = 1
    z3.SolverFor = lambda logic: rec  # bmc.check builds its solver with z3.SolverFor("QF_BV")
    try:
        bmc.check(cfg, progress)
    except TimeoutError:
        pass
    finally:
        z3.SolverFor = SOLVER_FOR


def table(rows) -> str:
    out = [
        "| configuration | depth | answers | z3 incr (s) | bitwuzla incr (s) | z3 script (s) | bitwuzla script (s) "
        "| bz-incr / z3-incr |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    agg: dict = {}
    for name, d, ref, incr, zt, bt, it in rows:
        a = agg.setdefault((name, d), [set(), 0.0, 0.0, 0.0, 0.0])
        a[0].add(ref)
        for i, x in enumerate((incr, it, zt, bt)):
            a[i + 1] += x
    totals: dict = {}
    for (name, d), (answers, incr, it, zt, bt) in agg.items():
        out.append(
            f"| {name} | {d} | {'/'.join(sorted(answers))} | {incr:.3f} | {it:.3f} | {zt:.3f} | {bt:.3f} "
            f"| {it / max(incr, 1e-3):.2f} |"
        )
        t = totals.setdefault(name, [0.0, 0.0, 0.0, 0.0])
        for i, x in enumerate((incr, it, zt, bt)):
            t[i] += x
    out += [
        "",
        "| configuration | z3 incr (s) | bitwuzla incr (s) | z3 script (s) | bitwuzla script (s) "
        "| bz-incr / z3-incr | bz-script / z3-script |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (incr, it, zt, bt) in totals.items():
        out.append(
            f"| {name} | {incr:.2f} | {it:.2f} | {zt:.2f} | {bt:.2f} | {it / max(incr, 1e-3):.2f} "
            f"| {bt / max(zt, 1e-3):.2f} |"
        )
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two configurations to depth 5")
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--budget", type=float, default=120.0, help="seconds per configuration (stops deeper depths)")
    ap.add_argument("--out", default=None, help="also write the table (markdown) here")
    args = ap.parse_args()
    names = ["default", "fault:guest-rebinds-key"] if args.quick else list(CONFIGS)
    depth = 5 if args.quick else args.depth
    rows: list = []
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    for n in names:
        measure(n, CONFIGS[n], depth, args.budget, rows)
        print(f"{n}: {len([r for r in rows if r[0] == n])} queries", file=sys.stderr, flush=True)
    text = f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load: {load}\n\n{table(rows)}\n"
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
