"""Certificates of an exhausted explicit-state search (checker/bfs.py), and their independent re-check.

An exhausted search proves an invariant for one configuration over the
search's value domains: every reachable state was seen and no step broke it.
Its certificate is an entry in OUT/certificates/manifest.json (key "bfs",
beside the induction certificates of checker/certificate.py): the engine,
the invariants of the search (one cone of `bfs.cones`), the value domains,
the number of states, the depth at which no new state was left, and the
SHA-256 of the sorted state fingerprints (`bfs.digest`).

`check_entry` trusts none of those figures: `lgcheck certify` (its own
process, nothing cached) runs the search again from the manifest's
configuration and refuses the entry unless it is exhausted again, breaks
none of the invariants, and reaches the same domains, count, depth and
digest.

Where induction (checker/induction.py) also proves an invariant for the same
configuration, the entry says so ("induction": "proves it too"): two
independent proofs of one claim.  Where 1-induction instead finds a
counterexample to induction whose state before the step is in the search's
state set, that state is reachable and the step breaks the invariant: the
engines disagree, an internal error (exit 4), never a verdict.
"""

from __future__ import annotations

import os
import time

from . import bfs
from .config import Config

PROOF = "bfs: every reachable state seen, over the stated value domains"
FIELDS = ("invariants", "states", "depth", "digest", "domains", "symmetry")


def entries(cfg: Config, outcome, proved: list[str]) -> list[dict]:
    """One entry per cone of the search that proved something: what `check_entry` re-checks."""
    out: dict[tuple, dict] = {}
    for n in proved:
        if n not in outcome.digests:
            continue
        states, depth, _ = outcome.per[n]
        key = (states, depth, outcome.digests[n])
        e = out.setdefault(
            key,
            {
                "engine": "bfs",
                "proof": PROOF,
                "invariants": [],
                "domains": outcome.domains,
                "symmetry": outcome.symmetry,
                "deferred_writes": outcome.deferred,
                "states": states,
                "depth": depth,
                "digest": "sha256:" + outcome.digests[n],
            },
        )
        e["invariants"].append(n)
    return list(out.values())


def cross_check(cfg: Config, es: list[dict], outcome, deadline: float | None = None) -> dict[str, str]:
    """Ask induction about the same invariants; record per entry what it says.

    Returns {invariant: disagreement}: 1-induction's counterexample-to-
    induction whose state before the failing step is one the search reached
    (its fingerprint is in the state set) is a run that breaks the invariant
    from a reachable state, against the search's claim that none does.
    """
    from .induction import NoCheck, prove

    names = [n for e in es for n in e["invariants"]]
    if not names or not cfg.induction:
        return {}
    try:
        verdicts, _ = prove(cfg, names, deadline)
    except NoCheck:
        return {}
    conflicts = {}
    for e in es:
        said = {}
        for n in e["invariants"]:
            v = verdicts[n]
            if v.proved:
                said[n] = "proves it too"
            elif v.unknown:
                said[n] = "unknown (time limit)"
            else:
                said[n] = "does not prove it (not inductive with the lemmas it knows)"
            if v.cti and n in outcome.seen and reached(cfg, v.cti, outcome.seen[n], outcome.symmetry, outcome.deferred):
                conflicts[n] = (
                    f"bfs proved {n} for every depth, but induction found a step that breaks it "
                    "from a state the search reached"
                )
                said[n] = "counterexample to induction from a reachable state: engines disagree"
        e["induction"] = said
    return conflicts


def reached(cfg: Config, values: dict, seen, sym: bool, deferred: bool = False) -> bool:
    """Whether the state with these field values ({name: value}, SymState.fields) is in the state set.

    Of a search with deferred descriptor writes: whether a state of the set stands for it (`bfs.covered`).
    """
    from .symstate import SymState

    st = SymState(cfg)
    for name, obj, attr, idx in st.fields():
        if name not in values:
            return False
        st.put(obj, attr, idx, values[name])
    if deferred:
        return bfs.covered(bfs.fingerprint(st, False), seen, bfs._sections(cfg, bfs.domains(cfg)))
    return bfs.fingerprint(st, sym) in seen


def check_entry(cfg: Config, e, timeout: float | None = None) -> tuple[bool, str]:
    """Run the search again, in this process, and compare: (holds, message).

    `timeout` (certify --timeout) bounds the search as it bounds a solver query: past it the entry is
    unknown.  A Ctrl-C is raised again: the search keeps what it found when interrupted, but a search cut
    short says nothing against the certificate.
    """
    from .certificate import MALFORMED, UNKNOWN, CertificateError

    if not isinstance(e, dict) or any(f not in e for f in FIELDS):
        raise CertificateError(MALFORMED, f"a bfs certificate needs {', '.join(FIELDS)}")
    names = e["invariants"]
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        raise CertificateError(MALFORMED, "a bfs certificate's `invariants` is a list of invariant names")
    from .bmc import rule_names

    unknown = sorted(set(names) - set(rule_names(cfg)))
    if unknown:  # a name the model does not check would be "held" by a search that never looks at it
        raise CertificateError(MALFORMED, f"a bfs certificate names {unknown}: not invariants this model checks")
    why = bfs.unsuited(cfg, names)
    if why:
        raise CertificateError(MALFORMED, f"a bfs certificate cannot cover this: the search {why}")
    cones = bfs.cones(cfg, names)
    if len(cones) != 1:
        raise CertificateError(MALFORMED, f"the invariants {names} are not one search (cone) of the model")
    deadline = None if timeout is None else time.monotonic() + timeout
    out = bfs.search(
        cfg, names, deadline=deadline, sym=bool(e["symmetry"]), defer=bool(e.get("deferred_writes", False))
    )
    if out.stopped == bfs.INTERRUPTED:
        raise KeyboardInterrupt
    if out.found:
        f = next(iter(out.found.values()))
        return False, f"the search breaks {f.invariant} in {f.steps} steps: the certificate claims it holds"
    if not out.exhausted and out.stopped == "time limit reached":
        raise CertificateError(
            UNKNOWN, f"the search did not end within --timeout {timeout:g} s ({out.states:,} states)"
        )
    if not out.exhausted:
        return False, f"the search did not exhaust the state space ({out.stopped or 'depth limit'})"
    states, depth, _ = out.per[names[0]]
    got = {"domains": out.domains, "states": states, "depth": depth, "digest": "sha256:" + out.digests[names[0]]}
    wrong = [f"{k}: certificate says {e[k]!r}, the search gives {v!r}" for k, v in got.items() if e[k] != v]
    if wrong:
        return False, "the search does not reach the certificate's states: " + "; ".join(wrong)
    return True, f"re-searched: {states:,} states, depth {depth}, same digest; none breaks {', '.join(names)}"


def write(folder: str, cfg: Config, es: list[dict]) -> str:
    """Put the entries under "bfs" in folder/manifest.json (made if induction wrote none); returns its path."""
    import json

    from .certificate import FORMAT, MANIFEST

    path = os.path.join(folder, MANIFEST)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        doc = {"format": FORMAT, "config": cfg.describe(), "certificates": []}
    doc["bfs"] = es
    os.makedirs(folder, exist_ok=True)
    from .pipeline import _write_new  # (a link at the name is replaced, not written through)

    _write_new(path, lambda fh: fh.write(json.dumps(doc, indent=2) + "\n"))
    return path
