"""Mutation testing of the model: apply a mutation to a copy of the package, prove, replay the counterexample.

For each mutation of checker/mutations.py:

1. build a temp tree `ROOT/lgcheck/` with the package layout (lgcheck/ plus
   spec/, replay/, checker/, grammars/ as its subpackages, as pyproject maps
   them) and apply the mutation there, asserting its text occurs exactly once;
2. run `python -m lgcheck prove FLAGS --json` with the tree first on the path
   (cwd and PYTHONPATH), so the mutated copy, not the installed package, is
   imported (`check_isolation` proves it with a mutation that raises);
3. require exit 1 and every invariant of `breaks` VIOLATED, and replay each
   written counterexample with the same `--launcher`/`--fault` through the
   same tree: the invariant must be reported at its last record;
4. and, for a catch to count, the unmutated model must not break those
   invariants under the same flags (proved once per set of flags).

An equivalent mutation must instead prove clean (exit 0).

    python -m lgcheck.checker.mutate [--ci] [--jobs 2] [ID ...]

(benchmarks/mutation_score.py runs the same; tests/checker/test_mutations.py
runs the CI subset.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .mutations import MUTATIONS, Mutation

SUBPACKAGES = ("spec", "replay", "checker", "grammars")
DEFAULT_DEPTH = "10"
SENTINEL = "lgcheck-mutation-sentinel: the mutated copy was imported"


class MutationTextError(AssertionError):
    """A mutation's source text is not in its file exactly once: a refactor moved it; update checker/mutations.py."""


def package_dirs() -> dict[str, Path]:
    """Where lgcheck and its subpackages live (the repository's folders under an editable install)."""
    import importlib

    out = {"": Path(importlib.import_module("lgcheck").__file__).parent}
    for sub in SUBPACKAGES:
        out[sub] = Path(importlib.import_module(f"lgcheck.{sub}").__file__).parent
    return out


def _split(file: str) -> tuple[str, str]:
    sub, _, rest = file.partition("/")
    if sub not in SUBPACKAGES or not rest:
        raise MutationTextError(f"{file}: not a file of {', '.join(s + '/' for s in SUBPACKAGES)}")
    return sub, rest


def check_text(m: Mutation, text: str | None = None) -> None:
    """Fail loudly unless `m.old` occurs exactly once in its file (of the source tree, or in `text`)."""
    if text is None:
        sub, rest = _split(m.file)
        text = (package_dirs()[sub] / rest).read_text(encoding="utf-8")
    n = text.count(m.old)
    if n != 1:
        where = "does not occur" if n == 0 else f"occurs {n} times"
        raise MutationTextError(
            f"mutation {m.id}: its source text {where} in {m.file} (it must occur exactly once; "
            f"a refactor moved it: update checker/mutations.py):\n{m.old}"
        )


def build_tree(root: Path, mutation: Mutation | None = None, append: dict[str, str] | None = None) -> Path:
    """Copy the package to ROOT/lgcheck/ (subpackages inside it), apply `mutation`; return ROOT."""
    dirs = package_dirs()
    pkg = root / "lgcheck"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", *SUBPACKAGES)
    shutil.copytree(dirs[""], pkg, ignore=ignore)
    for sub in SUBPACKAGES:
        shutil.copytree(dirs[sub], pkg / sub, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if mutation is not None:
        path = pkg / mutation.file
        text = path.read_text(encoding="utf-8")
        check_text(mutation, text)
        path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
    for file, extra in (append or {}).items():
        with open(pkg / file, "a", encoding="utf-8") as fh:
            fh.write(extra)
    return root


def _env(root: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The rules as written, no fast path or shortcut (spec/compiled.py, fused.py, ConcreteState.skip_used):
    # those restate a rule's tests for speed, and a mutation changes only the rule.
    env["LGCHECK_INTERPRETED"] = "1"
    env.pop("PYTHONSAFEPATH", None)
    return env


def lgcheck(root: Path, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    """`python -m lgcheck ARGS` run on the tree at ROOT (its cwd and PYTHONPATH)."""
    return subprocess.run(
        [sys.executable, "-m", "lgcheck", *args],
        cwd=root,
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def check_isolation(workdir: Path, timeout: float = 120) -> None:
    """The tree, not the installed package, is imported: a copy whose spec/host.py raises must make prove fail."""
    root = build_tree(workdir / "sentinel", append={"spec/host.py": f"\nraise RuntimeError({SENTINEL!r})\n"})
    args = ["prove", "--inv", "keys", "--depth", "1", "--no-progress", "--no-coverage", "--out", str(root / "cx")]
    proc = lgcheck(root, args, timeout)
    if proc.returncode == 0 or SENTINEL not in proc.stderr:
        raise AssertionError(
            f"prove on a copy whose spec/host.py raises exited {proc.returncode} without the sentinel: "
            f"the installed package, not the mutated copy, was imported\n{proc.stderr[-2000:]}"
        )
    clean = build_tree(workdir / "clean")
    probe = "import lgcheck.spec.host as h, lgcheck.checker.transition as t, lgcheck.replay.engine as e;"
    probe += "print(h.__file__); print(t.__file__); print(e.__file__)"
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=clean, env=_env(clean), capture_output=True, text=True, timeout=timeout
    )
    files = proc.stdout.split()
    inside = all(Path(f).resolve().is_relative_to(clean.resolve()) for f in files)
    if proc.returncode != 0 or len(files) != 3 or not inside:
        raise AssertionError(f"modules not imported from the copy {clean}: {proc.stdout} {proc.stderr[-2000:]}")


def model_flags(flags) -> list[str]:
    """The `--launcher` and `--fault` flags among prove's, for replay."""
    out, it = [], iter(flags)
    for f in it:
        if f in ("--launcher", "--fault"):
            out += [f, next(it)]
    return out


def _last_record_line(path: str) -> int:
    last = 0
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if line.strip() and not line.lstrip().startswith("#"):
                last = i
    return last


@dataclass
class Outcome:
    id: str
    verdict: str  # caught | missed | no-replay | error | equivalent | not-equivalent
    seconds: float = 0.0
    detail: str = ""
    statuses: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict in ("caught", "equivalent")


def replay_misses(inv: str, findings: list[dict], last: int) -> str:
    """What is wrong with a counterexample's replay (its JSON findings), or "" when it shows `inv`.

    It must report `inv` at the trace's last record, and the run must be one the mutated model makes:
    replay (the same mutated rules, as written) may not part from what the trace recorded anywhere.
    Other invariants' findings are allowed, at the last record or before it (a run that breaks `inv`
    at its end may break another on its way).
    """
    at_last = sorted({f["rule"] for f in findings if f["line"] == last})
    if inv not in at_last:
        return f"reports {at_last or 'nothing'} at line {last}"
    parted = sorted(f["line"] for f in findings if f["rule"] == "divergence")
    if parted:
        return f"diverges at line {parted[0]}"
    return ""


def _prove_flags(m: Mutation) -> list[str]:
    flags = list(m.flags)
    if "--depth" not in flags:
        flags += ["--depth", DEFAULT_DEPTH]
    if "--engine" not in flags:
        # A mutation is judged on the model, by BMC's shortest runs and induction's proofs: the default
        # (auto) would add the search and its compare window to every mutant's run for no other verdict.
        flags += ["--engine", "bmc"]
    return flags


class Baseline:
    """The unmutated model under a mutation's flags: a catch counts only if it keeps the invariant there.

    (Else a flag that makes the model itself break the invariant, such as the
    2.6.23 Launcher for write-to-used-buffer, would "catch" every mutation.)
    Proved once per set of flags, on an unmutated copy, when first needed.
    """

    def __init__(self, workdir: Path, timeout: float):
        self.root = build_tree(workdir / "unmutated")
        self.timeout = timeout
        self.cache: dict[tuple, set[str]] = {}
        self.locks: dict[tuple, threading.Lock] = {}
        self.lock = threading.Lock()

    def violated(self, flags: list[str]) -> set[str]:
        """The invariants the unmutated model does not hold (violated or unknown) under `flags`."""
        key = tuple(flags)
        with self.lock:
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:  # one run per set of flags, even when two workers ask at once
            if key not in self.cache:
                out = self.root / f"cx-{len(self.locks)}"
                argv = ["prove", *flags, "--json", "--no-progress", "--no-coverage", "--out", str(out)]
                proc = lgcheck(self.root, argv, self.timeout)
                try:
                    results = json.loads(proc.stdout)["results"]
                except (ValueError, KeyError):
                    why = proc.stderr.strip()[-300:]
                    raise RuntimeError(f"prove {' '.join(flags)} on the unmutated model failed: {why}") from None
                self.cache[key] = {r["invariant"] for r in results if r["status"] != "holds"}
            return self.cache[key]


def run_one(m: Mutation, workdir: Path, timeout: float = 300, baseline: Baseline | None = None) -> Outcome:
    """Apply `m` to a copy under WORKDIR/ID, prove, and replay its counterexamples."""
    started = time.monotonic()
    base = workdir / m.id
    root = build_tree(base / "tree", m)
    out = base / "cx"
    flags = _prove_flags(m)  # (--no-coverage: a catch is judged by the verdicts alone; the walk would add up to 2 s)
    try:
        proc = lgcheck(root, ["prove", *flags, "--json", "--no-progress", "--no-coverage", "--out", str(out)], timeout)
    except subprocess.TimeoutExpired:
        return Outcome(m.id, "error", time.monotonic() - started, f"prove did not finish within {timeout:.0f}s")

    def done(verdict, detail="", statuses=None):
        return Outcome(m.id, verdict, time.monotonic() - started, detail, statuses or {})

    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        return done("error", f"prove exited {proc.returncode} without JSON: {proc.stderr.strip()[-300:]}")
    results = {r["invariant"]: r for r in doc["results"]}
    statuses = {n: r["status"] + ("/every-depth" if r.get("every_depth") else "") for n, r in results.items()}
    if m.equivalent:
        violated = [n for n, r in results.items() if r["status"] == "violated"]
        if violated:
            return done("not-equivalent", f"prove found {', '.join(violated)} violated", statuses)
        if proc.returncode != 0:
            return done("error", f"prove exited {proc.returncode}", statuses)
        return done("equivalent", "prove finds nothing", statuses)
    for inv in m.breaks:
        r = results.get(inv)
        if r is None:
            return done("error", f"{inv} was not checked: the flags {' '.join(m.flags)} leave it out", statuses)
        if r["status"] != "violated":
            how = "at every depth" if r.get("every_depth") else f"up to depth {r['depth']}"
            return done("missed", f"{inv}: {r['status']} {how}", statuses)
    if proc.returncode != 1:
        return done("error", f"prove exited {proc.returncode}, not 1, with {', '.join(m.breaks)} violated", statuses)
    for inv in m.breaks:
        lgt = (results[inv]["counterexample"] or {}).get("lgt")  # prove --json: {"lgt", "itf"} paths
        if not lgt or not os.path.exists(lgt):
            return done("no-replay", f"{inv}: no counterexample written", statuses)
        rp = lgcheck(root, ["replay", "--json", *model_flags(m.flags), lgt], timeout)
        try:
            files = json.loads(rp.stdout)["files"]
        except (ValueError, KeyError):
            return done("error", f"replay of {lgt} exited {rp.returncode}: {rp.stderr.strip()[-300:]}", statuses)
        wrong = replay_misses(inv, files[0]["findings"], _last_record_line(lgt))
        if wrong:
            return done("no-replay", f"{inv}: replay of {lgt} {wrong}", statuses)
    if baseline is not None:
        already = sorted(set(m.breaks) & baseline.violated(flags))
        if already:
            return done("error", f"the unmutated model does not hold {', '.join(already)} with these flags", statuses)
    return done("caught", ", ".join(f"{inv} ({results[inv]['depth']} steps)" for inv in m.breaks), statuses)


def ci_subset(mutations=MUTATIONS) -> list[Mutation]:
    """A representative third, by a stable rule: per invariant, every third mutation by id.

    The mutations are grouped by the invariant they break first (the
    equivalent ones form one more group); each group, sorted by id, gives
    its 1st, 4th, 7th, ... so every invariant is covered, whatever the order
    of the list.
    """
    groups: dict[str, list[str]] = {}
    for m in mutations:
        groups.setdefault(m.breaks[0] if m.breaks else "equivalent", []).append(m.id)
    chosen = {i for ids in groups.values() for i in sorted(ids)[::3]}
    return [m for m in mutations if m.id in chosen]


def run_all(mutations, jobs: int = 2, workdir: Path | None = None, timeout: float = 300, report=None) -> list[Outcome]:
    """Run the mutations over `jobs` worker threads (each drives its own prove processes)."""
    for m in mutations:
        check_text(m)  # every text first: a moved line fails the run before any solving
    with tempfile.TemporaryDirectory(prefix="lgcheck-mut-") as tmp:
        base = Path(workdir) if workdir is not None else Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        check_isolation(base / "_isolation")
        baseline = Baseline(base / "_baseline", timeout)

        def one(m):
            try:
                o = run_one(m, base, timeout, baseline)
            except MutationTextError:
                raise
            except Exception as e:  # noqa: BLE001 - reported as this mutation's error, never as caught
                o = Outcome(m.id, "error", 0.0, f"{type(e).__name__}: {e}")
            if report is not None:
                report(m, o)
            return o

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, mutations))


def score(mutations, outcomes) -> tuple[int, int]:
    """(caught, non-equivalent)."""
    ids = {m.id for m in mutations if not m.equivalent}
    return sum(1 for o in outcomes if o.id in ids and o.verdict == "caught"), len(ids)


def format_outcome(m: Mutation, o: Outcome) -> str:
    what = "equivalent" if m.equivalent else ",".join(m.breaks)
    return f"{o.verdict:14} {o.seconds:6.1f}s  {m.id:36} [{what}] {o.detail}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ids", nargs="*", help="run only these mutations (default: all)")
    ap.add_argument("--ci", action="store_true", help="only the CI subset (a representative third)")
    ap.add_argument("--jobs", type=int, default=2, help="mutations run at once (default 2)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per prove or replay (default 300)")
    ap.add_argument("--keep", metavar="DIR", help="build the trees and counterexamples under DIR and keep them")
    ap.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = ap.parse_args(argv)

    chosen = ci_subset() if args.ci else list(MUTATIONS)
    if args.ids:
        unknown = [i for i in args.ids if i not in {m.id for m in MUTATIONS}]
        if unknown:
            print(f"unknown mutation(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
        chosen = [m for m in MUTATIONS if m.id in args.ids]
    if args.list:
        for m in chosen:
            print(f"{m.id:36} {m.file:22} {'equivalent' if m.equivalent else ','.join(m.breaks):24} {m.what}")
        return 0

    started = time.monotonic()
    try:
        outcomes = run_all(
            chosen,
            jobs=args.jobs,
            workdir=Path(args.keep) if args.keep else None,
            timeout=args.timeout,
            report=lambda m, o: print(format_outcome(m, o), flush=True),
        )
    except MutationTextError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    caught, total = score(chosen, outcomes)
    wrong_eq = [o.id for o in outcomes if o.verdict == "not-equivalent"]
    errors = [o.id for o in outcomes if o.verdict == "error"]
    pct = 100.0 * caught / total if total else 100.0
    print(
        f"mutation score: {caught}/{total} non-equivalent mutations caught ({pct:.0f}%); "
        f"{sum(1 for m in chosen if m.equivalent)} equivalent"
        + (f", wrongly claimed equivalent: {', '.join(wrong_eq)}" if wrong_eq else "")
        + (f", errors: {', '.join(errors)}" if errors else "")
        + f"; {time.monotonic() - started:.0f}s with {args.jobs} jobs"
    )
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
