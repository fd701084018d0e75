"""The `lgcheck` command: replay traces, prove invariants, list the rules."""

from __future__ import annotations

import argparse
import os
import sys

EPILOG_REPLAY = """\
exit status: 0 every file kept the protocol; 1 a finding in some file;
2 some file could not be read (its error names line and column; nothing in it
is checked).

examples:
  lgcheck replay run.lgt                  one trace, findings as text
  lgcheck replay --json a.lgt b.lgt       one JSON document for both
  lgcheck replay --emit full.lgt in.lgt   also write the completed full trace
  lgcheck replay --manifest traces/manifest.toml
                                          the bundled traces against their
                                          expected verdicts
"""


def _trace_files(paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        if os.path.isdir(p):
            out.extend(sorted(os.path.join(p, n) for n in os.listdir(p) if n.endswith(".lgt")))
        else:
            out.append(p)
    return out


def _replay(args) -> int:
    from lgcheck.replay import report
    from lgcheck.replay.engine import replay_file

    if args.manifest:
        from lgcheck.replay.manifest import check_manifest

        return check_manifest(args.manifest, json_out=args.json, out=sys.stdout)
    files = _trace_files(args.files)
    if not files:
        print("lgcheck replay: error: no trace files given (or no .lgt file in the folders given)", file=sys.stderr)
        return 2
    if args.emit and len(files) != 1:
        print("lgcheck replay: error: --emit writes one completed trace: give exactly one input file", file=sys.stderr)
        return 2
    from lgcheck.checker.faults import FAULTS

    for f in args.fault:
        if f not in FAULTS:
            print(
                f"lgcheck replay: error: unknown fault {f!r}: `lgcheck prove --list-faults` lists them", file=sys.stderr
            )
            return 2
    model = {"launcher": args.launcher, "faults": tuple(args.fault)}
    results = []
    for path in files:
        if args.emit:
            try:
                with open(args.emit, "w", encoding="utf-8") as out:
                    results.append(replay_file(path, partial=args.partial, emit=out, **model))
            except OSError as e:
                print(f"lgcheck replay: error: cannot write {args.emit}: {e.strerror}", file=sys.stderr)
                return 2
        else:
            results.append(replay_file(path, partial=args.partial, **model))
    sys.stdout.write(report.json_text(results) if args.json else report.text(results, show_notes=not args.no_notes))
    return report.exit_status(results)


def _rules(args) -> int:
    import lgcheck.spec.apply  # noqa: F401  (registers every rule)
    import lgcheck.spec.devices  # noqa: F401
    import lgcheck.spec.hypercalls  # noqa: F401
    import lgcheck.spec.launcher  # noqa: F401
    from lgcheck.spec.registry import FINDINGS, RULES

    print("Findings (stable names, as replay reports them):")
    for f in FINDINGS.values():
        inv = f" [invariant: {f.invariant}]" if f.invariant else ""
        print(f"  {f.name:22} {f.description}{inv}")
    print("\nModel rules (each follows one function of Linux 2.6.23):")
    for r in RULES.values():
        print(f"  {r.name:20} {r.linux}\n  {'':20} {r.summary}")
    return 0


def _prove(args) -> int:
    from lgcheck.checker.cli import run_prove

    return run_prove(args)


def _certify(args) -> int:
    from lgcheck.checker.certify_cli import run_certify

    return run_certify(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lgcheck",
        description="Verify the lguest I/O protocol of Linux 2.6.23: replay captured traces on a "
        "faithful model of the Host and Launcher, prove invariants with z3, and write "
        "counterexamples as replayable traces.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    r = sub.add_parser(
        "replay",
        help="check .lgt traces against the 2.6.23 model",
        description="Replay .lgt traces (of the lguest I/O protocol) on the model of the 2.6.23 Host and "
        "Launcher and report, "
        "record by record, where a run broke the protocol. Each finding names file, line, "
        "rule and what was expected against what happened.",
        epilog=EPILOG_REPLAY,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("files", nargs="*", metavar="FILE", help="trace files, or folders of .lgt files")
    r.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    r.add_argument(
        "--partial",
        action="store_true",
        help="accept `?` for unrecorded values; steps that need them are skipped, with a note",
    )
    r.add_argument("--emit", metavar="FILE", help="write the completed full trace (input + computed answers)")
    r.add_argument("--no-notes", action="store_true", help="do not print notes (remarks that are not findings)")
    r.add_argument(
        "--launcher",
        default="2.6.23",
        choices=["2.6.23", "checked"],
        help="the Launcher to compare with: the real one (default) or the checked one of `lgcheck prove`",
    )
    r.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="replay against a model with this injected Host fault (as `lgcheck prove --fault`); repeatable",
    )
    r.add_argument(
        "--manifest",
        metavar="TOML",
        help="replay every trace a manifest lists and compare with its expected verdict, rules and lines",
    )
    r.set_defaults(run=_replay)

    ru = sub.add_parser("rules", help="list the finding names and the model's rules")
    ru.set_defaults(run=_rules)

    try:
        from lgcheck.checker.cli import add_prove_parser
    except ImportError:  # pragma: no cover - the checker is part of the package
        add_prove_parser = None
    if add_prove_parser is not None:
        add_prove_parser(sub, _prove)
        from lgcheck.checker.certify_cli import add_certify_parser

        add_certify_parser(sub, _certify)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("lgcheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
