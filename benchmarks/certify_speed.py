"""How fast certificates re-check, and why bitwuzla is the second solver.

For each default configuration (`lgcheck prove`, and `--launcher checked`)
this runs `lgcheck prove --out TMP`, then:

    baseline   a fixed z3 job (the same as prove_speed.py's), so the figures
               can be read as ratios on a noisy machine
    queries    each query (a), (b), (c) of every certificate, rebuilt as
               `lgcheck certify` rebuilds it and given as SMT-LIB 2 to
               bitwuzla and (if installed: `pip install cvc5`) to cvc5,
               parse + solve, the best of --repeat runs; the ratio cvc5 / bitwuzla
    certify    `lgcheck certify TMP` as a separate process (start-up included)

Target (issue 6): each default configuration's certificates re-check within
10 s including start-up.

Measured when the solver was chosen (2-core machine shared with other jobs;
bitwuzla 0.10.0, cvc5 1.4.2, z3 5.4.1; best of 3; baseline 0.058 s), parse +
solve of the 15 distinct queries (seconds, bitwuzla / cvc5):

    default   (a) 0.001 / 0.003   (b) 0.108 / 0.735
              (c) key-collision 0.071 / 0.411, key-outside-device 0.032 / 0.241,
                  buffer-overflow 0.119 / 1.042, status-cleared 0.133 / 0.295,
                  status-forbidden-bit 0.103 / 0.377
    checked   (a) 0.002 / 0.004   (b) 0.192 / 0.913
              (c) key-collision 0.112 / 0.670, key-outside-device 0.048 / 0.379,
                  write-to-used-buffer 0.153 / 0.139, buffer-overflow 0.109 / 1.517,
                  status-cleared 0.203 / 0.542, status-forbidden-bit 0.216 / 0.582
    totals    bitwuzla 1.60 s, cvc5 7.85 s (4.9x), z3 4.23 s; bitwuzla faster on 14 of 15
    certify   1.5 s (default), 2.2 s (checked) end to end, start-up included

    .venv/bin/python benchmarks/certify_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import z3

from lgcheck.checker import certificate as C
from prove_speed import baseline  # the same fixed z3 job (run as a script: benchmarks/ is on the path)


def smt2(formulas) -> str:
    s = z3.Solver()
    s.add(*formulas)
    return s.to_smt2()


def run_bitwuzla(text: str) -> str:
    import bitwuzla

    parser = bitwuzla.Parser(bitwuzla.TermManager(), bitwuzla.Options(), "smt2")
    parser.parse(text, True, False)
    return str(parser.bitwuzla().check_sat()).lower()


def run_cvc5(text: str) -> str:
    import cvc5

    tm = cvc5.TermManager()
    solver, symbols = cvc5.Solver(tm), cvc5.SymbolManager(tm)
    solver.setLogic("QF_BV")
    parser = cvc5.InputParser(solver, symbols)
    parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, text, "query")
    while True:
        cmd = parser.nextCommand()
        if cmd.isNull():
            break
        if cmd.getCommandName() != "check-sat":
            cmd.invoke(solver, symbols)
    return str(solver.checkSat())


def run_z3(text: str) -> str:
    s = z3.SolverFor("QF_BV")
    s.from_string(text)
    return str(s.check())


def timed(fn, text, repeat):
    best, answer = None, None
    for _ in range(repeat):
        t = time.monotonic()
        answer = fn(text)
        d = time.monotonic() - t
        best = d if best is None else min(best, d)
    return answer, best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=1, help="runs per query and solver; the best is kept (default 1)")
    args = ap.parse_args()
    solvers = {"bitwuzla": run_bitwuzla}
    try:
        import cvc5  # noqa: F401

        solvers["cvc5"] = run_cvc5
    except ImportError:
        print("(cvc5 is not installed: `pip install cvc5` to compare)")
    solvers["z3"] = run_z3
    print(f"baseline (fixed z3 job): {baseline():.3f}s")
    totals = dict.fromkeys(solvers, 0.0)
    wins = 0
    for name, flags in (("default", []), ("checked", ["--launcher", "checked"])):
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "lgcheck", "prove", "--no-progress", "--out", out, *flags]
            subprocess.run(cmd, capture_output=True, check=False)
            cfg, entries = C.read_manifest(C.find_manifest(out)[0])
            model = C.rebuild(cfg)
            print(f"\n{name}: {len(entries)} certificates")
            print(f"  {'query':34} " + " ".join(f"{s:>14}" for s in solvers) + "   cvc5/bitwuzla")
            seen = set()
            for e in entries:
                inv = C.parse_invariant(model, C.read_invariant(os.path.join(out, "certificates", e["file"])))
                for q, formulas in C.queries(model, inv, e["invariant"]).items():
                    if q != "c" and q in seen:
                        continue  # (a) and (b) are the same for every certificate of a run
                    seen.add(q)
                    text = smt2(formulas)
                    row = {}
                    for s, fn in solvers.items():
                        answer, secs = timed(fn, text, args.repeat)
                        row[s] = (answer, secs)
                        totals[s] += secs
                    label = f"({q})" + (f" {e['invariant']}" if q == "c" else "")
                    cells = " ".join(f"{a:>5} {t:7.3f}s" for a, t in row.values())
                    ratio = f"{row['cvc5'][1] / row['bitwuzla'][1]:8.1f}x" if "cvc5" in row else ""
                    wins += "cvc5" in row and row["bitwuzla"][1] < row["cvc5"][1]
                    print(f"  {label:34} {cells} {ratio}")
            t = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "lgcheck", "certify", out], capture_output=True, text=True)
            print(f"  lgcheck certify: exit {proc.returncode} in {time.monotonic() - t:.1f}s (target 10 s)")
    print("\ntotals: " + ", ".join(f"{s} {t:.2f}s" for s, t in totals.items()))
    if "cvc5" in totals:
        print(f"cvc5 / bitwuzla: {totals['cvc5'] / totals['bitwuzla']:.1f}x; bitwuzla faster on {wins} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
