"""`lgcheck prove` as a list of passes: configure -> unroll and solve -> decode -> replay -> write.

Each pass takes the run's context and returns it with what it adds; the
runner is the loop at the bottom.
"""

from __future__ import annotations

import multiprocessing
import os
import shlex
import signal
import stat
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

from ..replay.engine import replay_records
from ..replay.records import format_record
from ..spec.registry import INVARIANTS
from . import bmc, copy_lemma, engine_stderr, induction, shrink
from .config import Config
from .decode import evaluator, pre_state, setup_records, step_records
from .explain import explain
from .itf import dumps as itf_dumps
from .itf import itf_document


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
    actions: list = field(default_factory=list)  # the action of each step (checker/transition.py ACTIONS)
    replaced: list = field(default_factory=list)  # files of an earlier run this one replaced


@dataclass
class Run:
    cfg: Config
    out_dir: str
    progress: object = None
    started: float = field(default_factory=time.monotonic)
    proved: list = field(default_factory=list)
    verdicts: dict = field(default_factory=dict)
    inductor: object = None
    induction_pipe: object = None
    induction_err: object = None  # the induction process's descriptor 2 (checker/engine_stderr.py), until read
    lemmas: list = field(default_factory=list)
    results: dict = field(default_factory=dict)
    unrolling: object = None
    counterexamples: dict = field(default_factory=dict)
    certificates: dict = field(default_factory=dict)  # invariant -> its certificate (.smt2)
    removed: list = field(default_factory=list)  # stale counterexamples of an earlier run, removed
    interrupted: bool = False  # Ctrl-C stopped the search: results so far, counterexamples found still written
    engine: str = "bmc"  # bmc (with induction), bfs (checker/bfs.py) or auto (checker/portfolio.py)
    limits: dict = field(default_factory=dict)  # max_states, max_memory (MiB), compare (seconds): bfs and auto
    outcome: object = None  # bfs: the search's Outcome (states, exhausted, domains, ...)
    compare: float | None = None  # auto: the compare window's length (s), once every invariant had an answer
    # invariant -> the run the search found [(guest, action, params)]: written from its concrete steps
    # (bfs.concrete_run), then checked on BMC's encoding (`crosscheck`); the others are decoded from a model
    paths: dict = field(default_factory=dict)
    concrete: dict = field(default_factory=dict)  # invariant -> its run's bfs.concrete_run (an Unrolling)
    written: float | None = None  # seconds from the start to the last counterexample file written
    checked: set = field(default_factory=set)  # the invariants whose search run `crosscheck` has asked of BMC
    coverage: object = None  # with --coverage: each outcome's shortest run (checker/coverage.py Coverage)


ORPHAN_CHECK = 0.1  # seconds between an induction child's looks at whether its parent is still there


def _end_with_parent() -> None:
    """End this process soon after its parent is gone (a thread: z3's checks run without the GIL).

    The parent ends this child itself, except when it is killed: under `--engine auto` the portfolio
    kills the BMC process (SIGKILL) on Ctrl-C, and its induction child, which ignores SIGINT, went on
    alone to its deadline.
    """
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


HEADROOM = 16  # MiB of what --max-memory's cap leaves kept from z3's budget: Python's objects, the threads' stacks
_Z3_BUDGET: list = []  # MiB: the budget budget_z3 gave z3, while it stands


def budget_z3(mib) -> None:
    """Give z3 its own memory budget under --max-memory's cap (None: lift it), so z3 stops itself.

    Without one, an allocation that fails against the cap inside a z3 check (a worker thread's, say)
    can end in C++'s terminate: exit 134, no message.  The budget is what the cap leaves once this
    process's own address space is counted, less HEADROOM (a share, 80%, lost runs that fit: at 220
    MiB the default model's certificates); at least 1 MiB, where z3 then refuses at once.
    It must be lifted before exit: past it z3 fails every allocation, its finalizers' too, and aborts.
    The engines' processes are forks and inherit it.
    """
    import z3

    _Z3_BUDGET.clear()
    if mib is None:
        z3.set_param("memory_max_size", 0)
        return
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, ValueError):
        used = 0
    budget = max(1, int(mib - used - HEADROOM))
    z3.set_param("memory_max_size", budget)
    _Z3_BUDGET.append(budget)


class WrittenOutOfMemory(MemoryError):
    """Memory ran out after counterexamples were written: the message names them (lgcheck/cli.py prints it)."""


def out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` says memory ran out (--max-memory caps each process): Python's, or z3's own.

    z3 past its budget does not always say so: a check may answer and the model it then cannot
    build is "not available".  Any z3 error while z3 holds 90% of its budget or more is read as
    memory running out.
    """
    if isinstance(exc, MemoryError):
        return True
    if type(exc).__name__ != "Z3Exception":
        return False
    if "out of memory" in str(exc):
        return True
    if not _Z3_BUDGET:
        return False
    if "model is not available" in str(exc):
        return True  # after a sat answer: the model could not be built within the budget
    from z3 import z3core

    return z3core.Z3_get_estimated_alloc_size() >= 0.9 * _Z3_BUDGET[0] * 1024 * 1024


def say_out_of_memory(engine: str) -> None:
    """One line for an engine's process that ran out of memory (no traceback); what it had not settled stays open."""
    limit = " (--max-memory)" if _memory_capped() else ""
    print(
        f"lgcheck: {engine} stopped: out of memory{limit}; what it had not settled is left to the other engines",
        file=sys.stderr,
        flush=True,
    )


def _memory_capped() -> bool:
    try:
        import resource

        return resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY
    except (ImportError, OSError, ValueError):
        return False


def _induct_child(cfg, deadline, conn, err=None):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to answer: it kills this child
    engine_stderr.redirect(err)
    _end_with_parent()
    last = ({}, [])  # the latest verdicts sent: what stands if k-induction runs out of memory

    def partial(v, lemmas):
        nonlocal last
        last = (v, lemmas)
        conn.send((False, v, lemmas))

    try:
        # 1-induction's verdicts go first, so BMC stops asking for what they prove while k-induction runs.
        verdicts, lemmas = induction.prove(cfg, bmc.rule_names(cfg), deadline, partial=partial)
    except induction.NoCheck:
        verdicts, lemmas = {}, []  # BMC's first step refuses the same invariants
    except Exception as exc:
        if not out_of_memory(exc):
            raise
        say_out_of_memory("induction")
        verdicts, lemmas = last
    conn.send((True, verdicts, lemmas))
    conn.close()


def induct(run: Run) -> Run:
    """Start 1-induction (checker/induction.py) in a second process, beside BMC.

    Induction proves invariants for every depth; BMC finds shortest
    counterexamples.  On two cores the two run at once, and BMC stops asking
    for an invariant's counterexample once induction has proved it (it still
    cross-checks it at the depths it goes on to for the others).
    """
    if copy_lemma.asked(run.cfg):
        # Settled once, here, so that both engines (forked below) inherit the answer.
        deadline = None if run.cfg.timeout is None else run.started + run.cfg.timeout
        copy_lemma.holds(run.cfg, deadline, budget=copy_lemma.BUDGET)
    if run.cfg.induction:
        deadline = None if run.cfg.timeout is None else run.started + run.cfg.timeout
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe(duplex=False)
        run.induction_err = engine_stderr.capture()
        args = (run.cfg, deadline, child, run.induction_err)
        run.inductor = ctx.Process(target=_induct_child, args=args, daemon=True)
        run.inductor.start()
        child.close()
        run.induction_pipe = parent
    return run


def _induction_ended(run: Run) -> None:
    """Once the induction process has ended: its abort for memory is one line, whatever else it wrote is passed on."""
    if run.induction_err is None:
        return
    err, run.induction_err = run.induction_err, None
    if run.inductor is not None and run.inductor.exitcode is None:
        run.inductor.join(0.5)  # (its pipe closed: it is ending)
    text = engine_stderr.read_back(err)
    if engine_stderr.aborted_for_memory(run.inductor.exitcode if run.inductor is not None else None, text):
        say_out_of_memory("induction")
    else:
        engine_stderr.pass_on("induction", text)


def _poll(run: Run, wait: float = 0.0) -> dict:
    """Induction's verdicts ({name: Verdict}) once it has finished; {} before (or if it died)."""
    pipe = run.induction_pipe
    if pipe is None:
        return {}
    final = True
    try:
        if not pipe.poll(wait):
            return {}
        final, verdicts, run.lemmas = pipe.recv()
    except (EOFError, OSError):
        verdicts = {}  # a dead worker proves nothing
        _induction_ended(run)
    if final:
        run.induction_pipe = None
    run.verdicts = verdicts
    run.proved = [n for n, v in verdicts.items() if v.proved]
    return verdicts


class _Deadline(Exception):
    """The time limit passed while BMC was encoding a step (no solver call was running to time out)."""


GRACE = 0.5  # seconds past --timeout before an encoding in progress is stopped


def solve(run: Run) -> Run:
    """Bounded model checking for the rest: a shortest counterexample, or the depth reached.

    With a time limit, an alarm stops BMC when the deadline (plus GRACE) passes
    while it builds a step's encoding (bmc checks the deadline only around
    solver calls): what is open is then unknown.  While a counterexample is
    already found the alarm lets BMC finish, since decoding needs its unrolling.
    """
    seen: dict = {}

    def progress(depth, seconds, results):
        seen["results"], seen["depth"] = results, depth
        if run.progress is not None:
            run.progress(depth, seconds, results)

    def alarm(signum, frame):
        if not any(r.status == "violated" for r in seen.get("results", {}).values()):
            raise _Deadline()

    use_alarm = run.cfg.timeout is not None and hasattr(signal, "setitimer")
    old = None
    try:
        if use_alarm:
            left = run.started + run.cfg.timeout + GRACE - time.monotonic()
            old = signal.signal(signal.SIGALRM, alarm)
            signal.setitimer(signal.ITIMER_REAL, max(0.01, left))
        try:
            run.results, run.unrolling = bmc.check(run.cfg, progress, (), run.started, lambda: _poll(run))
        except _Deadline:
            _stopped(run, seen)
        except bmc.Interrupted as e:
            _interrupted(run, e.results, e.unrolling)
            return run
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if run.induction_pipe is not None and run.unrolling is not None:
            # BMC reached its depth first: wait (within the time limit) for the proofs of every depth.
            settled = all(r.status == "violated" or r.inductive for r in run.results.values())
            if not settled:
                left = None if run.cfg.timeout is None else max(0.0, run.started + run.cfg.timeout - time.monotonic())
                try:
                    verdicts = _poll(run, wait=left if left is not None else 3600)
                    if run.induction_pipe is not None:  # 1-induction's verdicts: wait for k-induction's too
                        end = None if run.cfg.timeout is None else run.started + run.cfg.timeout
                        left = None if end is None else max(0.0, end - time.monotonic())
                        verdicts = {**verdicts, **_poll(run, wait=left if left is not None else 3600)}
                except KeyboardInterrupt:
                    _interrupted(run, run.results, run.unrolling)
                    return run
                for n, v in verdicts.items():
                    r = run.results.get(n)
                    if r is None or not v.proved:
                        continue
                    if r.status == "violated":
                        r.conflict = (
                            f"induction proved {n} for every depth, but BMC found a run of {r.steps} steps "
                            "that breaks it"
                        )
                    elif r.status == "holds":
                        r.inductive, r.vacuous, r.lemmas, r.depth = True, v.vacuous, v.lemmas, run.cfg.depth
                        r.k = getattr(v, "k", 1)
                        r.cut = getattr(v, "cut", "")
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old if old is not None else signal.SIG_DFL)
        if run.inductor is not None:
            run.inductor.kill()
            run.inductor.join()
            _induction_ended(run)
    return run


def _interrupted(run: Run, results: dict, unrolling) -> None:
    """Ctrl-C: keep what was found (counterexamples are still decoded and written); what was open is unknown."""
    run.interrupted = True
    for r in results.values():
        if r.status == "unknown" or (r.status == "holds" and not r.inductive):
            r.status, r.reason = "unknown", "interrupted (Ctrl-C)"
    run.results, run.unrolling = results, unrolling


def _stopped(run: Run, seen: dict) -> None:
    """The results when the deadline stopped BMC inside an encoding: what was open is unknown."""
    results = seen.get("results") or {n: bmc.Result(n) for n in bmc.rule_names(run.cfg)}
    depth = seen.get("depth", 0)
    for r in results.values():
        if r.status == "holds" and not r.inductive:
            r.status, r.reason = "unknown", f"time limit reached while encoding step {depth + 1}"
            r.seconds = time.monotonic() - run.started
    run.results, run.unrolling = results, None


def certify_write(run: Run) -> Run:
    """A certificate for each invariant proved at every depth, under OUT/certificates (checker/certificate.py)."""
    from .certificate import write_certificates

    if run.interrupted:
        return run
    # An empty check (nothing to compare at this size) has no query to write; certify refuses one.
    proved = [n for n, r in run.results.items() if r.status == "holds" and r.inductive and r.vacuous != "empty"]
    ks = {n: run.results[n].k for n in proved}
    cuts = {n for n in proved if run.results[n].cut}
    run.certificates = write_certificates(
        run.cfg, proved, run.lemmas, os.path.join(run.out_dir, "certificates"), ks=ks, cuts=cuts
    )
    return run


def source(run: Run, name: str):
    """(unrolling, model) a counterexample is decoded from: its concrete run (model None), else BMC's and z3's."""
    if name in run.concrete:
        return run.concrete[name], None
    return run.unrolling, run.results[name].model


def decode(run: Run) -> Run:
    """Each counterexample's records, from its concrete run (a search's) or its z3 model, by the same decode."""
    from .bfs import concrete_run

    for name, res in run.results.items():
        if res.status != "violated" or name in run.counterexamples:
            continue
        if res.model is None and name in run.paths:
            run.concrete[name] = concrete_run(run.cfg, run.paths[name])
        unrolling, model = source(run, name)
        value = evaluator(model)
        infos = unrolling.infos[: res.steps]
        decoded = [step_records(info, value, pre_state(unrolling, k)) for k, info in enumerate(infos)]
        steps = [recs for _, _, recs in decoded]
        records = setup_records(run.cfg) + [r for s in steps for r in s]
        run.counterexamples[name] = Counterexample(name, records, steps, actions=[a for a, _, _ in decoded])
    return run


def replay_check(run: Run) -> Run:
    """Replay each counterexample on the concrete model: it must break the same rule at its last record.

    The records carry the lines they will have in the written `.lgt` (after
    its header and `# step N` comments), so "last record" is the last line
    with a record, as replaying the written file reports it.
    """
    for name, cx in run.counterexamples.items():
        if cx.lgt is not None:
            continue  # written already (auto: during its compare window), replay-checked before
        lines = lgt_lines(run, name, cx)
        numbered = [(i, rec) for i, (_, rec) in enumerate(lines, 1) if rec is not None]
        for i, rec in numbered:
            rec.line, rec.text = i, format_record(rec)
        res = replay_records(
            (rec for _, rec in numbered),
            f"{name}.lgt",
            launcher=run.cfg.launcher,
            faults=run.cfg.faults,
            host=run.cfg.host,
        )
        last = numbered[-1][0]
        cx.replay_rules_at_last = sorted({f.rule for f in res.findings if f.line == last})
        cx.finding = next((f for f in res.findings if f.rule == name and f.line == last), None)
        cx.explanation = explain(run.cfg, name, cx.steps, cx.finding, cx.actions)
    return run


CONFIG_PREFIX = "# config: "  # the header lines that, without this prefix, are a `prove --config` file


def replay_command(cfg: Config, path: str) -> str:
    """The `lgcheck replay` command that replays a counterexample on the model it was found in."""
    argv = ["lgcheck", "replay"]
    if cfg.launcher != "2.6.23":
        argv += ["--launcher", cfg.launcher]
    if cfg.host != "2.6.23":
        argv += ["--host", cfg.host]
    for f in cfg.faults:
        argv += ["--fault", f]
    return shlex.join(argv + [path])


def config_from_lgt(text: str) -> str:
    """The TOML a counterexample's header carries (what `sed -n 's/^# config: //p'` cuts out)."""
    return "".join(line[len(CONFIG_PREFIX) :] for line in text.splitlines(True) if line.startswith(CONFIG_PREFIX))


def lgt_lines(run: Run, name: str, cx: Counterexample) -> list:
    """The `.lgt` as (text, record or None) lines: header comments, setup records, `# step N` and its records."""
    from .report import config_keys, toml_lines

    path = os.path.join(run.out_dir, f"{name}.lgt")
    steps = run.results[name].steps
    head = [
        f"# lgcheck prove: a shortest run ({steps} step{'s' if steps != 1 else ''}) that breaks {name}",
        f"# replay it: {replay_command(run.cfg, path)}",
        f"# prove it again: sed -n 's/^{CONFIG_PREFIX}//p' {shlex.quote(path)} > model.toml && "
        "lgcheck prove --config model.toml",
    ]
    head += [CONFIG_PREFIX + line for line in toml_lines(config_keys(run.cfg))]
    out = [(text, None) for text in head]
    setup = len(cx.records) - sum(len(s) for s in cx.steps)
    out += [(format_record(r), r) for r in cx.records[:setup]]
    for k, recs in enumerate(cx.steps, 1):
        out.append((f"# step {k}", None))
        out += [(format_record(r), r) for r in recs]
    return out


class OutError(Exception):
    """--out cannot be written safely (a usage error, exit 2)."""


def _out_folder(path: str) -> None:
    """Make the folder (not through a symlink) and check it is a real folder, not a link planted since."""
    os.makedirs(path, exist_ok=True)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise OutError(f"--out {path}: is not a folder lgcheck can write into (a symbolic link, or a file)")


def _write_new(path: str, write) -> bool:
    """Write a file through a temporary one in the same folder, renamed over `path`.

    A link at `path` is replaced, never followed; on an error nothing is left.
    Returns whether an earlier file was replaced.
    """
    folder, name = os.path.split(path)
    existed = os.path.lexists(path)
    fd, tmp = tempfile.mkstemp(dir=folder or ".", prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            write(fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return existed


def write(run: Run) -> Run:
    """Write each counterexample as `.lgt` and ITF under --out, and remove the stale ones of earlier runs."""
    write_files(run)
    # Only what was settled is known: an invariant left unknown (a limit reached: --timeout, --max-states,
    # or a Ctrl-C) keeps an earlier run's counterexample; after a Ctrl-C, so does one found but not written.
    unsettled = ("unknown", "violated") if run.interrupted else ("unknown",)
    kept = {n for n, r in run.results.items() if r.status in unsettled}
    run.removed = remove_stale(run.out_dir, set(run.counterexamples) | kept)
    return run


def write_files(run: Run) -> None:
    """Write each counterexample not written yet (`.lgt`, ITF); auto writes a search's during its window."""
    if run.counterexamples:
        _out_folder(run.out_dir)
    for name, cx in run.counterexamples.items():
        if cx.lgt is not None:
            continue  # written already (auto: during its compare window)
        res = run.results[name]
        lgt = os.path.join(run.out_dir, f"{name}.lgt")
        lines = lgt_lines(run, name, cx)
        if _write_new(lgt, lambda fh, lines=lines: fh.writelines(text + "\n" for text, _ in lines)):
            cx.replaced.append(lgt)
        cx.itf = os.path.join(run.out_dir, f"{name}.itf.json")
        unrolling, model = source(run, name)
        doc = itf_document(run.cfg, unrolling, model, res.steps, name)
        if _write_new(cx.itf, lambda fh, doc=doc: fh.write(itf_dumps(doc) + "\n")):
            cx.replaced.append(cx.itf)
        cx.lgt = lgt
        run.written = time.monotonic() - run.started


def remove_stale(out_dir: str, kept: set) -> list:
    """Remove the counterexamples an earlier run wrote for invariants not violated now.

    Only the names lgcheck writes (`<invariant>.lgt`, `<invariant>.itf.json`
    of a known invariant) and only regular files: a symbolic link, a folder
    or any other file is left alone, and no link is followed (--out itself
    is refused when it is a link, checker/cli.py `_unwritable`).
    """
    removed = []
    try:
        if not stat.S_ISDIR(os.lstat(out_dir).st_mode):
            return removed
    except OSError:
        return removed
    for inv in (n for group in INVARIANTS.values() for n in group):
        if inv in kept:
            continue
        for suffix in (".lgt", ".itf.json"):
            path = os.path.join(out_dir, inv + suffix)
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode) or not _written_by_prove(path, suffix):
                    continue
                os.unlink(path)
            except OSError:
                continue
            removed.append(path)
    return removed


# How the files prove writes begin (lgt_lines' first comment; the ITF document's "#meta", itf_document):
# what an earlier run wrote is recognised by it, and a file of the same name that does not begin so (the
# user's own capture called key-collision.lgt, in a folder given as --out) is not lgcheck's to remove.
_OWN_START = {".lgt": "# lgcheck prove: ", ".itf.json": '"source": "lgcheck prove"'}


def _written_by_prove(path: str, suffix: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            start = fh.read(400)
    except OSError:
        return False
    mark = _OWN_START[suffix]
    return start.startswith(mark) if suffix == ".lgt" else start.lstrip().startswith("{") and mark in start


def simplify(run: Run) -> Run:
    """Smaller values in each counterexample, same steps (checker/shrink.py); not after a Ctrl-C."""
    if run.interrupted:
        return run
    for res in run.results.values():
        if res.status == "violated" and res.model is not None:  # a search's run: no model (see `crosscheck`)
            res.model = shrink.shrink(run.unrolling, res)
    return run


def crosscheck(run: Run) -> Run:
    """The runs the search found, fixed on BMC's encoding (bfs.witness), after they were written.

    A run written from its concrete steps (`decode`) has been replayed on
    the concrete model (`replay_check`); this asks whether BMC's encoding,
    the other reading of the same rules, has it too.  Where it has not, the
    result is an engine disagreement (an internal error, exit 4), and the
    files already written are named in the message.
    """
    from .bfs import Found, NotInEncoding, witness

    todo = {n: p for n, p in run.paths.items() if n in run.concrete and n not in run.checked}
    if not todo:
        return run
    run.checked.update(todo)
    found = {n: Found(n, len(p), p, run.results[n].seconds) for n, p in todo.items()}
    try:
        witness(run.cfg, found)
    except Exception as e:
        if out_of_memory(e):
            files = ", ".join(f"{cx.lgt}, {cx.itf}" for n in todo if (cx := run.counterexamples.get(n)) and cx.lgt)
            raise WrittenOutOfMemory(
                f"the counterexamples found were written ({files}) and replay-checked, then checking them on "
                "BMC's encoding ran out of memory"
            ) from None
        if not isinstance(e, NotInEncoding):
            raise
        for n in todo:
            if run.results[n].conflict:
                continue  # already a disagreement (auto's window): that one is reported
            cx = run.counterexamples.get(n)
            files = f" (its files were written before this check: {cx.lgt}, {cx.itf})" if cx and cx.lgt else ""
            run.results[n].conflict = str(e) + files
    return run


def certify_bfs(run: Run) -> Run:
    """An exhausted search's certificate (checker/bfs_certificate.py), cross-checked by induction."""
    from . import bfs_certificate
    from .certificate import write_certificates

    if run.interrupted or run.outcome is None:
        return run
    folder = os.path.join(run.out_dir, "certificates")
    write_certificates(run.cfg, [], [], folder)  # removes what an earlier run left
    proved = [n for n, r in run.results.items() if r.status == "holds" and r.inductive]
    entries = bfs_certificate.entries(run.cfg, run.outcome, proved)
    if not entries:
        return run
    deadline = None if run.cfg.timeout is None else run.started + run.cfg.timeout
    for n, why in bfs_certificate.cross_check(run.cfg, entries, run.outcome, deadline).items():
        run.results[n].conflict = why  # engine disagreement: an internal error (exit 4), never a verdict
    path = bfs_certificate.write(folder, run.cfg, entries)
    for e in entries:
        for n in e["invariants"]:
            run.certificates[n] = path
    return run


PASSES = [induct, solve, certify_write, simplify, decode, replay_check, write]


def passes(engine: str) -> list:
    """The passes of an engine: each gives results (and models) that the same later passes decode and write."""
    if engine == "bfs":
        from .bfs import explore

        return [explore, decode, replay_check, write, certify_bfs, crosscheck]
    if engine == "auto":
        from .portfolio import certify_induction, compete

        return [compete, certify_induction, simplify, decode, replay_check, write, crosscheck]
    return PASSES


def prove(cfg: Config, out_dir: str = "counterexamples", progress=None, engine: str = "bmc", limits=None) -> Run:
    run = Run(cfg, out_dir, progress, engine=engine, limits=dict(limits or {}))
    extra = []
    if run.limits.get("coverage"):
        from .coverage import measured

        extra.append(measured)  # after the verdicts, which it reads nothing of (checker/coverage.py)
    for p in passes(engine) + extra:
        run = p(run)
    return run
