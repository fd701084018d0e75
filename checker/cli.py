"""`lgcheck prove`: options, progress on a terminal, text and JSON results, exit status."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

from ..replay.escape import shown
from ..replay.report import FORMATS
from ..spec.registry import FINDINGS, INVARIANTS
from .config import SettingError
from .faults import FAULTS

EPILOG = """\
invariants (--inv, repeatable; a group name selects both of its rules):
  keys      key-collision, key-outside-device
  buffers   write-to-used-buffer, buffer-overflow
  status    status-cleared, status-forbidden-bit
  data      data-corrupted (version 2's bytes; asked for by name, not by default)

exit status: 0 nothing violated up to the depth; 1 an invariant is violated
(its counterexample is written); 2 usage error; 3 the solver gave up
(unknown) and nothing was violated; 4 internal error; 130 interrupted
(Ctrl-C: the results so far are printed, counterexamples found are written);
141 the output was closed before the report ended.

examples:
  lgcheck prove                                   the 2.6.23 model, conforming Guests
  lgcheck prove --launcher checked --depth 30     the Launcher that refuses used buffers
  lgcheck prove --inv data                        2.6.23's copy_data repeats a source section's start
  lgcheck prove --inv data --host fixed           a copy_data that adds srcoff: proved (~1 min)
  lgcheck prove --fault guest-rebinds-key --inv keys
  lgcheck prove --engine bfs --fault guest-rebinds-key   explicit-state search (docs/engines.md)
  lgcheck prove --engine bmc                      BMC and induction alone (no search, no compare window)
  lgcheck prove --compare 0                       auto's first answers, not compared after them
  lgcheck prove --coverage --depth 6              also the shortest run of each outcome (README: Coverage)
  lgcheck prove --list-faults
"""


def add_prove_parser(sub, run):
    p = sub.add_parser(
        "prove",
        help="prove the invariants with z3 (bounded model checking) or write a counterexample trace",
        description="Explore every run of the lguest 2.6.23 model up to --depth steps with z3 and either "
        "prove the invariants or write the shortest run that breaks one, as a .lgt trace that "
        "`lgcheck replay` reports the same way, and as ITF JSON.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--config",
        metavar="TOML",
        help="read settings from a TOML file (keys as the flags: guests, launcher, host, guest-count, slots, buffers, "
        "sections, num-skbs, depth, timeout, inv, fault, induction; inv = [] is refused: leave it out for the "
        "defaults); flags given on the command line win",
    )
    p.add_argument(
        "--guests",
        default=None,
        choices=["conforming", "any"],
        help="what Guests may do: follow the drivers' conventions (default) or any hypercall and write",
    )
    p.add_argument(
        "--launcher",
        default=None,
        choices=["2.6.23", "checked"],
        help="the real Launcher (default) or one that discards input rather than fill a used buffer",
    )
    p.add_argument(
        "--host",
        default=None,
        choices=["2.6.23", "fixed"],
        help="the real Host (default) or one whose copy_data adds srcoff to the source address "
        "(what `--inv data` is about)",
    )
    p.add_argument(
        "--no-sysfs",
        action="store_const",
        const=False,
        dest="sysfs",
        default=None,
        help="Guest userspace does not write device status through sysfs (lguest_bus.c status_store, "
        "which 2.6.23 allows and the model includes by default): only the bus and drivers set bits",
    )
    p.add_argument("--guest-count", type=int, default=None, metavar="N", help="number of Guests (default 2)")
    p.add_argument("--slots", type=int, default=None, metavar="N", help="binding slots per Guest (default 2; real: 32)")
    p.add_argument("--buffers", type=int, default=None, metavar="N", help="descriptors per bound array (default 2)")
    p.add_argument(
        "--sections", type=int, default=None, metavar="N", help="sections per descriptor (default 2; real: 16)"
    )
    p.add_argument(
        "--num-skbs",
        type=int,
        default=None,
        metavar="N",
        help="conforming drivers bind as 2.6.23's do: the net driver exactly N receive buffers "
        "(lguest_net.c lguestnet_open binds NUM_SKBS = 8), the console and block drivers exactly 1 "
        "(hvc_lguest.c, lguest_blk.c); N <= --buffers. Default 0: every driver binds any number "
        "1..--buffers, where every cursor defect shows with one buffer (docs/engines.md)",
    )
    p.add_argument("--depth", type=int, default=None, metavar="K", help="steps to explore (default 20)")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up after this long; what is not settled is reported unknown",
    )
    p.add_argument(
        "--inv",
        action="append",
        default=None,
        metavar="NAME",
        help="check only this invariant (a rule name or group); repeatable",
    )
    p.add_argument("--fault", action="append", default=None, metavar="NAME", help="inject a named defect; repeatable")
    p.add_argument("--list-faults", action="store_true", help="list the faults and exit")
    p.add_argument(
        "--out", default="counterexamples", metavar="DIR", help="where counterexamples go (default ./counterexamples)"
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text for people (default); json (docs/json-schemas/prove.schema.json, its config feeds --config); "
        "sarif 2.1.0; junit (one test per invariant); github (workflow annotations)",
    )
    p.add_argument("--json", action="store_true", help="short for --format json")
    p.add_argument(
        "--max-memory",
        type=_mib,
        metavar="MIB",
        help="end the run cleanly (exit 2) if it needs more than this much memory (address space, in MiB)",
    )
    p.add_argument(
        "--engine",
        choices=("auto", "bmc", "bfs"),
        default="auto",
        help="auto (default): bfs and bmc side by side, each invariant's first answer reported, the others "
        "compared for a short window (--compare), a disagreement an internal error (exit 4); bmc alone where "
        "bfs does not apply (--guests any, --inv data). bmc: z3 bounded model checking for shortest "
        "counterexamples, with induction beside it for proofs at every depth. bfs: explicit-state "
        "breadth-first search on the concrete rules (checker/bfs.py), for shallow runs and small models, a "
        "proof when it sees every reachable state",
    )
    p.add_argument(
        "--compare",
        type=float,
        default=None,
        metavar="SECONDS",
        help="auto: once every invariant has its first answer, the other engines go on for half the time that "
        "took, at least 0.5 s and at most SECONDS (default 5) so their claims are compared; 0: stop at the "
        "first answers (only the claims made until then are compared)",
    )
    p.add_argument(
        "--max-states",
        type=int,
        default=None,
        metavar="N",
        help="bfs and auto: stop the explicit-state search after N states (what is open is then unknown)",
    )
    p.add_argument(
        "--defer-writes",
        action="store_true",
        help="bfs and auto: a Guest's descriptor write takes its value when a step first reads it (the same "
        "shortest runs; fewer states when looking for a deep run, more when exhausting: docs/engines.md)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="bfs and auto: expand each level of the explicit-state search in N worker processes (default 1; "
        "the same states and shortest runs as 1: docs/engines.md)",
    )
    p.add_argument(
        "--coverage",
        type=float,
        nargs="?",
        const=COVERAGE_SECONDS,
        default=None,
        metavar="SECONDS",
        help="after the verdicts, find the shortest run in which each outcome of the model happens (a bind, a "
        "delivery, a fill, a kill per reason, ...) up to --depth, for at most SECONDS (default "
        f"{COVERAGE_SECONDS:g}; --timeout bounds it too), list them, and warn of an invariant that holds while an "
        "outcome it judges never happened.  Without it, the warnings alone are still given, from a walk of the "
        "concrete model of at most 2 s (README: Coverage)",
    )
    p.add_argument(
        "--no-coverage",
        action="store_true",
        help="not even the default walk: no warning of an invariant that holds while what it judges never happened",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress on stderr (by default: a line redrawn on a terminal, else a line every 5 s)",
    )
    p.add_argument(
        "--no-induction",
        action="store_const",
        const=False,
        dest="induction",
        default=None,
        help="bounded model checking only: do not also try to prove invariants for every depth",
    )
    p.add_argument(
        "--k-max",
        type=int,
        default=None,
        metavar="K",
        help="what 1-induction with the lemmas cannot prove, try by k-induction up to K steps (default 3; 1: off)",
    )
    p.add_argument(
        "--bmc-solver",
        choices=("z3", "bitwuzla"),
        default=None,
        help="BMC's solver: z3 (default, as measured in docs/bmc-solvers.md) or bitwuzla (z3 still gives the models)",
    )
    p.set_defaults(run=run)


# How long --coverage may look by default (seconds): an outcome no run can reach (a kill, for conforming
# Guests) is asked at every depth, and deep unsat queries take minutes on the default model (3 s at
# depth 4, 20 s at 5, 70-150 s each at 6-8).
COVERAGE_SECONDS = 60.0


def _mib(text):
    from lgcheck.cli import _mib as mib

    return mib(text)


# The encoding of one step grows as guests^2 x slots x buffers x sections
# (every send tries every other Guest's bindings, entries and sections).  The
# default model is 32 units; 16 Guests (2048) take some 40 s and 1 GB to
# encode the first steps; past MAX_MODEL_UNITS the encoding alone runs for
# many minutes and gigabytes, which no time limit can stop once begun (the
# deadline is checked between steps and solver calls), so it is refused.
MAX_MODEL_UNITS = 4096
SECONDS_PER_UNIT = 0.02  # measured: the first step's encoding, per unit, on the 2-core machine
HOPELESS = 10  # refuse a --timeout only when the estimate is this many times longer (it is rough)
# The longest --timeout (23 days): the waits it bounds take it in milliseconds as a C int (poll) and
# z3 as an unsigned one; past about 2,147,483 s a long timeout ended in an OverflowError (exit 4).
MAX_TIMEOUT = 2_000_000


def model_units(s: dict) -> int:
    return s["guest-count"] ** 2 * s["slots"] * s["buffers"] * s["sections"]


def _check_limits(s: dict) -> None:
    """Usage errors for limits that cannot be met: a bad timeout, a model too large to encode."""
    t = s["timeout"]
    if t is not None and (isinstance(t, bool) or not math.isfinite(t) or not 0 < t <= MAX_TIMEOUT):
        raise SettingError([("timeout", f"must be a number of seconds above 0, at most {MAX_TIMEOUT:,}, not {t!r}")])
    for key in ("guest-count", "slots", "buffers", "sections", "depth", "num-skbs"):
        if not isinstance(s[key], int) or isinstance(s[key], bool):
            raise SettingError([(key, f"must be a whole number, not {s[key]!r}")])
    units = model_units(s)
    if units > MAX_MODEL_UNITS:
        raise ValueError(
            f"the model is too large to encode in bounded time and memory: guest-count^2 x slots x buffers x "
            f"sections = {units:,} (at most {MAX_MODEL_UNITS:,}; the default model is 32); give fewer Guests, "
            "slots, buffers or sections"
        )
    if t is not None and units * SECONDS_PER_UNIT > HOPELESS * t:
        raise SettingError([(
            "timeout",
            f"{t:g}: encoding one step of this model takes about {units * SECONDS_PER_UNIT:.2g} s "
            f"(guest-count^2 x slots x buffers x sections = {units:,}), longer than the time limit; give a "
            "longer timeout or a smaller model",
        )])


def _invariants(names) -> tuple[str, ...]:
    if not names:
        # Every group the model checks by default: not "data" (version 2's bytes), which is asked
        # for by name (--inv data): see README "Proving the data" for why and what it costs.
        from .config import Config

        return tuple(n for group in Config().invariants for n in INVARIANTS[group])
    out = []
    for n in names:
        if n in INVARIANTS:
            out.extend(INVARIANTS[n])
        elif n in FINDINGS and FINDINGS[n].invariant:
            out.append(n)
        else:
            valid = ", ".join(list(INVARIANTS) + [f for f in FINDINGS if FINDINGS[f].invariant])
            raise SettingError([("inv", f": unknown invariant {n!r}: choose from {valid}")])
    return tuple(dict.fromkeys(out))


def _unwritable(path: str) -> str | None:
    """Why counterexamples could not be written under `path`, checked before any solving.

    A symbolic link is refused (lgcheck did not make it, and writing through
    it could reach any folder); so is anything that is not a folder.  `-`
    means standard output to every other option, where the report goes:
    a folder of files cannot go there, and one named `-` would surprise.
    """
    if not path:
        # (it named no folder, so the check below passed it and the run failed only when writing, after
        # the solving it had wasted)
        return "is empty; give a folder"
    if path == "-":
        return (
            "- is standard output, where the report goes; counterexamples are files: give a folder "
            "(./- for one named -)"
        )
    if os.path.islink(path):
        return "is a symbolic link; give the folder itself"
    if os.path.lexists(path):
        if not os.path.isdir(path):
            return "exists and is not a folder"
        # The certificates go into a folder of --out: one that is a link would take them anywhere.
        certificates = os.path.join(path, "certificates")
        if os.path.islink(certificates) or (os.path.lexists(certificates) and not os.path.isdir(certificates)):
            return f"{certificates} is a symbolic link or not a folder; remove it or give another --out"
        return None if os.access(path, os.W_OK) else "is not writable"
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        return f"{parent} is not a folder"
    return None if os.access(parent, os.W_OK) else f"{parent} is not writable"


DEFAULTS = {
    "guests": "conforming",
    "launcher": "2.6.23",
    "host": "2.6.23",
    "guest-count": 2,
    "slots": 2,
    "buffers": 2,
    "sections": 2,
    "depth": 20,
    "timeout": None,
    "inv": None,
    "fault": [],
    "induction": True,
    "sysfs": True,
    "k-max": 3,
    "bmc-solver": "z3",
    "num-skbs": 0,
}
TYPES = {
    "timeout": (int, float),
    "inv": list,
    "fault": list,
    "induction": bool,
    "sysfs": bool,
    "guests": str,
    "launcher": str,
    "host": str,
    "bmc-solver": str,
}


def _settings(args) -> dict:
    """Built-in defaults, then the --config file, then the flags given."""
    return _settings_and_places(args)[0]


def _settings_and_places(args) -> tuple[dict, dict[str, str]]:
    """The settings, and where each one the --config file gave (and no flag overrode) was written."""
    s = dict(DEFAULTS)
    where: dict[str, str] = {}
    if args.config:
        from . import config_file  # tomllib: every `lgcheck replay` start-up would pay for it

        data, where = config_file.read(args.config, DEFAULTS, TYPES)
        s.update(data)
    flags = {
        "guests": args.guests,
        "launcher": args.launcher,
        "host": args.host,
        "guest-count": args.guest_count,
        "slots": args.slots,
        "buffers": args.buffers,
        "sections": args.sections,
        "depth": args.depth,
        "timeout": args.timeout,
        "inv": args.inv,
        "fault": args.fault,
        "induction": args.induction,
        "sysfs": args.sysfs,
        "k-max": getattr(args, "k_max", None),
        "bmc-solver": getattr(args, "bmc_solver", None),
        "num-skbs": getattr(args, "num_skbs", None),
    }
    given = {k: v for k, v in flags.items() if v is not None}
    s.update(given)
    return s, {k: at for k, at in where.items() if k not in given}


def config_from_settings(s: dict):
    """The Config of a settings dict (`_settings`, or a counterexample's TOML over DEFAULTS)."""
    from .config import Config

    return Config(
        guests=s["guest-count"],
        slots=s["slots"],
        buffers=s["buffers"],
        sections=s["sections"],
        depth=s["depth"],
        timeout=s["timeout"],
        guest_mode=s["guests"],
        launcher=s["launcher"],
        host=s["host"],
        faults=tuple(s["fault"]),
        invariants=_invariants(s["inv"]),
        induction=s["induction"],
        sysfs=s["sysfs"],
        k_max=s.get("k-max", 3),
        bmc_solver=s.get("bmc-solver", "z3"),
        num_skbs=s.get("num-skbs", 0),
    )


def engine_line(run) -> str:
    """The explicit-state search's summary: states, whether it saw them all, its value domains."""
    o = run.outcome
    how = "every reachable state seen" if o.exhausted else (o.stopped or f"runs of up to {o.depth} steps explored")
    sym = ", Guests symmetric" if o.symmetry else ""
    return f"bfs: {o.states:,} states ({how}; {o.memory_mib:.0f} MiB{sym}); value domains: {o.domains}"


def coverage_lines(run) -> list[str]:
    """The coverage section: each outcome's shortest run, then a warning per invariant that holds unexercised."""
    from .coverage import warnings

    cov = run.coverage
    out = []
    if cov.scope == "all":  # (the default's walk says only what it warns of)
        out = [f"coverage (the shortest run in which each outcome happens; {cov.seconds:.1f}s):"]
        out += [f"  {o}: {cov.words(o)}" for o in sorted(cov.first)]
    out += [f"warning: {text}" for _, text in warnings(cov, run.results)]
    return out


def how_it_holds(r) -> str:
    """One line on what an every-depth proof rests on."""
    if getattr(r, "engine", "bmc") == "bfs":
        return (
            f"the explicit-state search saw every reachable state ({r.states:,}) and none breaks it "
            "(a proof for this configuration over the search's value domains)"
        )
    if r.vacuous == "empty":
        return (
            "trivially: at this size its check has nothing to compare (no two bindings, say), so no "
            "formula is left to prove and no certificate is written"
        )
    if r.vacuous == "rules":
        return "no step from any state, with any parameters, breaks it: the model's rules keep it by themselves"
    if r.vacuous == "environment":
        return (
            "VACUOUS: no step from any state breaks it only because the Guests never try "
            "(the environment's domain rules it out; ask with --guests any, or without --no-sysfs)"
        )
    k = getattr(r, "k", 1)
    if k > 1:
        return (
            f"{k}-induction: no {k} steps from a state that keeps {len(r.lemmas)} lemmas break it at the last "
            f"step when the first {k - 1} keep it, and no run of {k - 1} steps from the start breaks it"
        )
    cut = (
        ", with the copy lemma proved on its own: one copy between such descriptors moves every byte to its "
        "offset (checker/copy_lemma.py)"
        if getattr(r, "cut", "")
        else ""
    )
    if not r.lemmas:
        return f"no step from a reachable state breaks it (1-induction){cut}"
    return (
        f"an inductive invariant found Houdini-style: no step from a state that keeps "
        f"{len(r.lemmas)} lemma{'s' if len(r.lemmas) != 1 else ''} breaks it, and every step keeps them "
        f"({'; '.join(r.lemmas[:2])}{'; ...' if len(r.lemmas) > 2 else ''}){cut}"
    )


def run_prove(args) -> int:
    """`lgcheck prove`: settle the invariants, print the verdicts, write the counterexamples."""
    from .pipeline import budget_z3, out_of_memory

    capped = getattr(args, "max_memory", None) is not None
    if capped:
        budget_z3(args.max_memory)
    try:
        return _run_prove(args)
    except Exception as exc:
        if isinstance(exc, MemoryError):
            raise
        if capped and out_of_memory(exc):  # read while z3's budget still stands (out_of_memory asks it)
            raise MemoryError(str(exc)) from None
        raise
    finally:
        if capped:
            budget_z3(None)


def _run_prove(args) -> int:
    from .pipeline import OutError, prove, replay_command

    if args.list_faults:
        for f in FAULTS.values():
            print(f"{f.name:30} {f.what} (breaks {f.breaks})")
        return 0
    try:
        s, where = _settings_and_places(args)
        _check_limits(s)
        for f in s["fault"]:
            if f not in FAULTS:
                raise SettingError([("fault", f": unknown fault {f!r}: `lgcheck prove --list-faults` lists them")])
        cfg = config_from_settings(s)
    except SettingError as e:
        # A value the --config file gave is named by its file, line and key, not by an option never typed.
        said = e.worded(lambda key: f"{where[key]}: {key}" if key in where else f"--{key}")
        print(f"lgcheck prove: error: {shown(said)}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"lgcheck prove: error: {shown(str(e))}", file=sys.stderr)
        return 2

    engine = getattr(args, "engine", "auto")
    compare = getattr(args, "compare", None)
    if compare is not None and (not math.isfinite(compare) or compare < 0):
        print(f"lgcheck prove: error: --compare must be a finite number of seconds, 0 or more, not {compare!r}",
              file=sys.stderr)
        return 2
    from .bfs import unsuited
    from .bmc import rule_names

    why = unsuited(cfg, rule_names(cfg))
    if why and engine == "auto":
        engine = "bmc"  # the search has nothing to add here: auto is BMC with induction, as --engine bmc
    if why and engine == "bfs":
        print(f"lgcheck prove: error: --engine bfs {why}; use --engine bmc or auto", file=sys.stderr)
        return 2
    if getattr(args, "max_states", None) is not None and args.max_states < 1:
        print(f"lgcheck prove: error: --max-states must be at least 1, not {args.max_states}", file=sys.stderr)
        return 2
    limits = {"max_states": getattr(args, "max_states", None), "max_memory": getattr(args, "max_memory", None)}
    limits["defer"] = bool(getattr(args, "defer_writes", False))
    limits["jobs"] = getattr(args, "jobs", 1)
    limits["compare"] = compare
    cover = getattr(args, "coverage", None)
    if cover is not None and not (math.isfinite(cover) and 0 < cover <= MAX_TIMEOUT):
        print(f"lgcheck prove: error: --coverage must be a number of seconds above 0, at most {MAX_TIMEOUT:,}, "
              f"not {cover!r}", file=sys.stderr)
        return 2
    if cover is not None and getattr(args, "no_coverage", False):
        print("lgcheck prove: error: --coverage and --no-coverage contradict each other", file=sys.stderr)
        return 2
    from .coverage import JUDGED_SECONDS

    if cover is not None:
        limits["coverage"] = ("all", cover)
    elif not getattr(args, "no_coverage", False):
        limits["coverage"] = ("judged", JUDGED_SECONDS)
    from lgcheck.replay.corpus import MAX_JOBS

    if not 1 <= limits["jobs"] <= MAX_JOBS:
        print(
            f"lgcheck prove: error: --jobs must be 1..{MAX_JOBS} (worker processes on this machine), "
            f"not {limits['jobs']}",
            file=sys.stderr,
        )
        return 2

    problem = _unwritable(args.out)
    if problem:
        print(f"lgcheck prove: error: --out {shown(args.out)}: {problem}", file=sys.stderr)
        return 2
    from .induction import NoCheck
    from .progress import Progress

    ticker = Progress(cfg.depth, show=not args.no_progress)

    started = time.monotonic()
    try:
        with ticker:
            run = prove(cfg, args.out, ticker.update, engine, limits)
    except OutError as e:
        print(f"lgcheck prove: error: {shown(str(e))}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"lgcheck prove: error: --out {shown(args.out)}: cannot write: {e.strerror or e}", file=sys.stderr)
        return 2
    except NoCheck as e:
        print(f"lgcheck prove: error: {e}: it would hold without being checked", file=sys.stderr)
        return 2
    results = run.results
    conflicts = [r for r in results.values() if r.conflict]
    if conflicts:
        for r in conflicts:
            print(
                f"lgcheck prove: internal error: {r.invariant}: {r.conflict}; neither answer is given. "
                "Please report this with the command line.",
                file=sys.stderr,
            )
        return 4
    fmt = "json" if args.json else args.format
    if fmt != "text":
        from .report import render

        sys.stdout.write(render(fmt, run, settings=s, seconds=time.monotonic() - started))
    else:
        faults = f", faults: {', '.join(cfg.faults)}" if cfg.faults else ""
        print(
            f"model: {cfg.guests} Guests ({cfg.guest_mode}), Launcher {cfg.launcher}, "
            f"{'Host ' + cfg.host + ', ' if cfg.host != '2.6.23' else ''}{cfg.slots} slots, "
            f"{cfg.buffers} buffers, {cfg.sections} sections, "
            f"{f'drivers bind as 2.6.23 (net ring {cfg.num_skbs}), ' if cfg.num_skbs else ''}"
            f"sysfs status writes {'on' if cfg.sysfs else 'off'}{faults}"
        )
        if run.outcome is not None:
            print(engine_line(run))
        for n, r in results.items():
            took = f"{r.seconds:.1f}s" + (f", {r.engine} first" if engine == "auto" and r.status != "unknown" else "")
            if r.status == "holds" and r.inductive:
                print(f"{n}: holds at every depth ({took}): {how_it_holds(r)}")
                if n in run.certificates:
                    print(f"  certificate: {run.certificates[n]}")
            elif r.status == "holds":
                print(f"{n}: holds for every run of up to {r.depth} steps ({took})")
            elif r.status == "unknown" and r.engine == "bfs":
                print(f"{n}: unknown: no run of up to {r.depth} steps breaks it, then the search stopped: {r.reason}")
            elif r.status == "unknown":
                print(
                    f"{n}: unknown: proved up to {r.depth} steps, then the solver gave up "
                    f"({r.reason}) ({took})"
                )
            else:
                cx = run.counterexamples[n]
                print(f"{n}: VIOLATED by a run of {r.depth} steps ({took}):")
                for line in cx.explanation:
                    print(line)
                if cx.finding is None:
                    print(
                        f"  (warning: replaying the trace did not report {n} at its last record; "
                        f"it reported {cx.replay_rules_at_last or 'nothing'} there)"
                    )
                print(f"  written: {cx.lgt}, {cx.itf}")
                print(f"  replay it: {replay_command(cfg, cx.lgt)}")
                if cx.replaced:
                    print(f"  (replacing the files of an earlier run: {', '.join(cx.replaced)})")
        if run.coverage is not None:
            for line in coverage_lines(run):
                print(line)
        if run.removed:
            print(f"removed, as this run does not violate them: {', '.join(run.removed)} (an earlier run's)")
        compared = "" if run.compare is None else f" (engines compared {run.compare:.1f}s after the last first answer)"
        print(f"total {time.monotonic() - started:.1f}s{compared}")
    if run.interrupted:
        print("lgcheck prove: interrupted (Ctrl-C): the results so far are above", file=sys.stderr)
        return 130
    statuses = {r.status for r in results.values()}
    if "violated" in statuses:
        return 1
    if "unknown" in statuses:
        return 3
    return 0
