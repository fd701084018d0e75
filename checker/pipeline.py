"""`lgcheck prove` as a list of passes: configure -> unroll and solve -> decode -> replay -> write.

Each pass takes the run's context and returns it with what it adds; the
runner is the loop at the bottom.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass, field

from ..replay.engine import replay_records
from ..replay.records import format_record
from . import bmc, induction, shrink
from .config import Config
from .decode import setup_records, step_records, evaluator
from .explain import explain
from .itf import itf_document, write_itf


@dataclass
class Counterexample:
    invariant: str
    records: list
    steps: list  # records per step
    lgt: str | None = None
    itf: str | None = None
    replay_rules_at_last: list = field(default_factory=list)
    finding: object = None
    explanation: list = field(default_factory=list)


@dataclass
class Run:
    cfg: Config
    out_dir: str
    progress: object = None
    started: float = field(default_factory=time.monotonic)
    proved: list = field(default_factory=list)
    inductor: object = None
    induction_pipe: object = None
    lemmas: list = field(default_factory=list)
    results: dict = field(default_factory=dict)
    unrolling: object = None
    counterexamples: dict = field(default_factory=dict)
    certificates: dict = field(default_factory=dict)  # invariant -> its certificate (.smt2)


def _induct_child(cfg, deadline, conn):
    proved, lemmas = induction.prove(cfg, bmc.rule_names(cfg), deadline)
    conn.send(([n for n, ok in proved.items() if ok], lemmas))
    conn.close()


def induct(run: Run) -> Run:
    """Start 1-induction (checker/induction.py) in a second process, beside BMC.

    Induction proves invariants for every depth; BMC finds shortest
    counterexamples.  On two cores the two run at once, and BMC drops an
    invariant as soon as induction has proved it.
    """
    if run.cfg.induction:
        deadline = None if run.cfg.timeout is None else run.started + run.cfg.timeout
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe(duplex=False)
        run.inductor = ctx.Process(target=_induct_child, args=(run.cfg, deadline, child), daemon=True)
        run.inductor.start()
        child.close()
        run.induction_pipe = parent
    return run


def _poll(run: Run, wait: float = 0.0):
    pipe = run.induction_pipe
    if pipe is None:
        return []
    try:
        if not pipe.poll(wait):
            return []
        run.proved, run.lemmas = pipe.recv()
    except (EOFError, OSError):
        run.proved = []
    run.induction_pipe = None
    return run.proved


def solve(run: Run) -> Run:
    """Bounded model checking for the rest: a shortest counterexample, or the depth reached."""
    run.results, run.unrolling = bmc.check(run.cfg, run.progress, (), run.started, lambda: _poll(run))
    if run.induction_pipe is not None:
        # BMC reached its depth first: wait (within the time limit) for the proofs of every depth.
        settled = all(r.status == "violated" or r.inductive for r in run.results.values())
        if not settled:
            left = None if run.cfg.timeout is None else max(0.0, run.started + run.cfg.timeout - time.monotonic())
            for n in _poll(run, wait=left if left is not None else 3600):
                r = run.results.get(n)
                if r is not None and r.status == "holds":
                    r.inductive, r.depth = True, run.cfg.depth
    if run.inductor is not None:
        run.inductor.kill()
        run.inductor.join()
    return run


def certify_write(run: Run) -> Run:
    """A certificate for each invariant proved at every depth, under OUT/certificates (checker/certificate.py)."""
    from .certificate import write_certificates

    proved = [n for n, r in run.results.items() if r.status == "holds" and r.inductive]
    run.certificates = write_certificates(run.cfg, proved, run.lemmas, os.path.join(run.out_dir, "certificates"))
    return run


def decode(run: Run) -> Run:
    for name, res in run.results.items():
        if res.status != "violated":
            continue
        value = evaluator(res.model)
        steps = [step_records(info, value)[2] for info in run.unrolling.infos[: res.steps]]
        records = setup_records(run.cfg) + [r for s in steps for r in s]
        run.counterexamples[name] = Counterexample(name, records, steps)
    return run


def replay_check(run: Run) -> Run:
    """Replay each counterexample on the concrete model: it must break the same rule at its last record."""
    for name, cx in run.counterexamples.items():
        res = replay_records(
            _numbered(cx.records, HEADER_LINES + 1),
            f"{name}.lgt",
            launcher=run.cfg.launcher,
            faults=run.cfg.faults,
        )
        last = len(cx.records) + HEADER_LINES
        cx.replay_rules_at_last = sorted({f.rule for f in res.findings if f.line == last})
        cx.finding = next((f for f in res.findings if f.rule == name and f.line == last), None)
        cx.explanation = explain(run.cfg, name, cx.steps, cx.finding)
    return run


HEADER_LINES = 2  # the comment lines write() puts before the records


def _numbered(records, first):
    for i, r in enumerate(records, first):
        r.line = i
        r.text = format_record(r)
        yield r


def write(run: Run) -> Run:
    if not run.counterexamples:
        return run
    os.makedirs(run.out_dir, exist_ok=True)
    for name, cx in run.counterexamples.items():
        res = run.results[name]
        cx.lgt = os.path.join(run.out_dir, f"{name}.lgt")
        with open(cx.lgt, "w", encoding="utf-8") as fh:
            fh.write(f"# lgcheck prove: a shortest run ({res.steps} steps) that breaks {name}\n")
            fh.write(f"# config: {run.cfg.describe()}\n")
            for r in cx.records:
                fh.write(format_record(r) + "\n")
        cx.itf = os.path.join(run.out_dir, f"{name}.itf.json")
        write_itf(cx.itf, itf_document(run.cfg, run.unrolling, res.model, res.steps, name))
    return run


def simplify(run: Run) -> Run:
    """Smaller values in each counterexample, same steps (checker/shrink.py)."""
    for res in run.results.values():
        if res.status == "violated":
            res.model = shrink.shrink(run.unrolling, res)
    return run


PASSES = [induct, solve, certify_write, simplify, decode, replay_check, write]


def prove(cfg: Config, out_dir: str = "counterexamples", progress=None) -> Run:
    run = Run(cfg, out_dir, progress)
    for p in PASSES:
        run = p(run)
    return run
