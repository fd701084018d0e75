"""`lgcheck certify DIR`: re-check the certificates `lgcheck prove` wrote, with a second solver."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

EPILOG = """\
Each certificate is the inductive invariant of one "holds at every depth"
(DIR/certificates/INVARIANT.smt2, with manifest.json: the model's
configuration).  certify rebuilds the three queries from the model and that
configuration, takes only the invariant from the file, and asks bitwuzla (not
z3) whether (a) initial states imply it, (b) it and a step imply it after,
(c) it and a step imply no violation.  All three must be unsatisfiable.
An exhausted explicit-state search (prove --engine bfs) is re-checked by
running the search again: the same state count and fingerprint digest, and
no invariant broken.

exit status: 0 every certificate re-checked; 1 a certificate does not
re-check (the failing query is named); 2 usage error, or an unreadable or
malformed certificate; 3 the solver (or --timeout) left a query unknown;
4 internal error; 130 interrupted (Ctrl-C); 141 the output was closed
before the report ended.

examples:
  lgcheck prove --launcher checked --out out && lgcheck certify out
  lgcheck certify out/certificates/manifest.json --json
"""


def add_certify_parser(sub, run):
    p = sub.add_parser(
        "certify",
        help="re-check the certificates of `lgcheck prove` with a second, independent solver (bitwuzla)",
        description="Re-check every certificate `lgcheck prove` wrote under --out: the queries are rebuilt from "
        "the model and the recorded configuration; only the inductive invariant is read from the file.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "dirs",
        nargs="+",
        metavar="DIR",
        help="a folder `lgcheck prove --out` wrote (or its certificates/ folder, its manifest.json, or one .smt2)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time limit per certificate: rebuilding the model, its queries, or the search run again "
        "(then: unknown)",
    )
    p.set_defaults(run=run)


def run_certify(args) -> int:
    from .certificate import INTERNAL, OK, REFUSED, UNKNOWN, check_folder, solver_name

    from .cli import MAX_TIMEOUT

    if args.timeout is not None and not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT):
        # nan, inf or 1e300 reached bitwuzla's time limit as an integer that failed to convert: every
        # certificate was then REFUSED as "not a QF_BV formula bitwuzla reads" (exit 1).
        print(
            f"lgcheck certify: error: --timeout must be a number of seconds above 0, at most {MAX_TIMEOUT:,}, "
            f"not {args.timeout!r}",
            file=sys.stderr,
        )
        return 2
    started = time.monotonic()
    try:
        verdicts = [v for d in args.dirs for v in check_folder(d, args.timeout)]
        solver = solver_name()
    except Exception as e:  # noqa: BLE001 - an internal error gets its own exit status, not a traceback
        print(f"lgcheck certify: internal error: {type(e).__name__}: {e} (please report it)", file=sys.stderr)
        return INTERNAL
    words = {OK: "re-checked", REFUSED: "refused", 2: "malformed", UNKNOWN: "unknown", INTERNAL: "internal error"}
    if args.json:
        doc = {
            "solver": solver,
            "certificates": [
                {
                    "manifest": v.manifest,
                    "file": v.file or None,
                    "invariant": v.invariant or None,
                    "status": words[v.status],
                    "method": "search run again" if "bfs" in v.queries else solver,
                    "queries": v.queries,
                    "message": v.message,
                    "seconds": round(v.seconds, 3),
                }
                for v in verdicts
            ],
        }
        print(json.dumps(doc, indent=2))
    else:
        from ..replay.escape import shown

        # A certificate folder may come from elsewhere: its manifest's names (a file, a bfs entry's
        # invariants) reach these lines as written there, so they are escaped for the terminal.
        for v in verdicts:
            where, inv, message = shown(v.file or v.manifest), shown(v.invariant), shown(v.message)
            if v.status == OK and "bfs" in v.queries:  # an exhausted search, run again (bfs_certificate.py)
                print(f"{where}: {inv}: {message} ({v.seconds:.1f}s)")
            elif v.status == OK:
                answers = ", ".join(f"({q}) {a}" for q, a in v.queries.items())
                print(f"{where}: {inv}: re-checked by {solver}: {answers} ({v.seconds:.1f}s)")
            elif not v.invariant:
                print(f"lgcheck certify: error: {message}", file=sys.stderr)
            else:
                print(f"{where}: {inv}: {words[v.status].upper()}: {message}")
        certs = [v for v in verdicts if v.invariant]
        if certs or not verdicts:
            # A certificate of an exhausted search is re-checked by running the search again, not by
            # the solver: crediting it to bitwuzla would claim a second solver's word it never had.
            by_solver = sum(1 for v in certs if v.status == OK and "bfs" not in v.queries)
            by_search = sum(1 for v in certs if v.status == OK and "bfs" in v.queries)
            what = f"{len(certs)} certificate{'s' if len(certs) != 1 else ''}"
            how = [f"{by_solver} re-checked by {solver}"] if by_solver or not by_search else []
            if by_search:
                how.append(f"{by_search} {'' if how else 're-checked '}by running the search again")
            print(f"{what}: {', '.join(how)} ({time.monotonic() - started:.1f}s)")
    return max((v.status for v in verdicts), default=OK)
