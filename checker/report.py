"""`lgcheck prove` results in the formats replay has: json, sarif, junit, github.

`checker/cli.py` calls `render(args.format, run, settings=s, seconds=...)`
for every format but text.  `settings` is the dict of `_settings(args)`: the
JSON's "config" then has the very keys `prove --config` reads, so it can be
fed back (`toml_lines` writes it as TOML; the counterexamples' headers carry
it the same way).  An invariant proved for every depth has "every_depth":
true and "depth": null (not the BMC depth that happened to be reached);
"bmc_depth" keeps that number.
"""

from __future__ import annotations

import json
import os

from ..replay.report import version
from ..replay.sarif import rules, uri

JSON_SCHEMA_VERSION = 1


def config_keys(cfg) -> dict:
    """The Config as `prove --config` keys (when the caller has no settings dict)."""
    return {
        "guests": cfg.guest_mode,
        "launcher": cfg.launcher,
        "host": cfg.host,
        "guest-count": cfg.guests,
        "slots": cfg.slots,
        "buffers": cfg.buffers,
        "sections": cfg.sections,
        "depth": cfg.depth,
        "timeout": cfg.timeout,
        "inv": list(cfg.invariants),
        "fault": list(cfg.faults),
        "induction": cfg.induction,
        "sysfs": cfg.sysfs,
        "k-max": cfg.k_max,
        "bmc-solver": cfg.bmc_solver,
        "num-skbs": cfg.num_skbs,
    }


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string: the same escapes as JSON for what names hold
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"no TOML for {v!r}")


def toml_lines(config: dict) -> list[str]:
    """`key = value` lines that `prove --config` reads back to the same settings (None: left out)."""
    return [f"{k} = {_toml_value(v)}" for k, v in config.items() if v is not None]


def as_dict(run, settings: dict | None = None, seconds: float | None = None) -> dict:
    config = dict(settings) if settings is not None else config_keys(run.cfg)
    config = {k: v for k, v in config.items() if v is not None}  # TOML has no null
    results = []
    cov = getattr(run, "coverage", None)
    for n, r in run.results.items():
        cx = run.counterexamples.get(n)
        every = bool(r.inductive) and r.status == "holds"
        results.append(
            {
                "invariant": n,
                "status": r.status,
                "every_depth": every,
                "depth": None if every else r.depth,
                "bmc_depth": r.depth,
                "seconds": round(r.seconds, 6),
                "vacuous": getattr(r, "vacuous", "") or None,
                "lemmas": list(getattr(r, "lemmas", None) or []),
                "k": getattr(r, "k", 1) if every else None,
                "cut": (getattr(r, "cut", "") or None) if every else None,
                "counterexample": None if cx is None else {"lgt": cx.lgt, "itf": cx.itf},
                "certificate": getattr(run, "certificates", {}).get(n),
                "engine": getattr(r, "engine", "bmc"),
                "states": getattr(r, "states", None),
                # why it is unknown (the solver's reason, the time limit, Ctrl-C, the search's limit)
                "reason": (getattr(r, "reason", "") or "unknown") if r.status == "unknown" else None,
            }
        )
        if cov is not None:
            from .coverage import unexercised  # (z3 with it: only a run that asked for coverage loads it here)

            results[-1]["unexercised"] = unexercised(cov, n) if r.status == "holds" else []
    doc = {"schema_version": JSON_SCHEMA_VERSION, "tool": {"name": "lgcheck", "version": version()}}
    doc.update({"config": config, "results": results})
    if seconds is not None:
        doc["seconds"] = round(seconds, 6)
    doc["engine"] = getattr(run, "engine", "bmc")
    if getattr(run, "written", None) is not None:  # the last counterexample file written, from the run's start
        doc["written_seconds"] = round(run.written, 6)
    if getattr(run, "compare", None) is not None:  # auto: how long the engines were compared after the answers
        doc["compare_seconds"] = round(run.compare, 6)
    outcome = getattr(run, "outcome", None)
    if outcome is not None:  # the explicit-state search (checker/bfs.py)
        doc["states"] = outcome.states
        doc["exhausted"] = outcome.exhausted
        doc["memory_mib"] = round(outcome.memory_mib, 1)
    if getattr(run, "interrupted", False):
        doc["interrupted"] = True
    if cov is not None:
        doc["coverage"] = {
            "scope": cov.scope,
            "depth": cov.depth,
            "looked": cov.looked,
            "stopped": cov.stopped or None,
            "seconds": round(cov.seconds, 6),
            "outcomes": dict(sorted(cov.first.items())),
        }
    return doc


def _line_of_last_step(path: str | None) -> int:
    """The line of a counterexample's last record (where replay reports the finding)."""
    last = 1
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            for i, text in enumerate(fh, 1):
                if text.split("#", 1)[0].strip():
                    last = i
    return last


def sarif(run, **kw) -> dict:
    doc = as_dict(run, **kw)
    rule_ids = [r["id"] for r in rules()]
    results = []
    for r in doc["results"]:
        if r["status"] != "violated":
            continue
        cx = r["counterexample"] or {}
        res = {
            "ruleId": r["invariant"],
            "ruleIndex": rule_ids.index(r["invariant"]),
            "level": "error",
            "message": {"text": f"{r['invariant']} is violated by a run of {r['depth']} steps: {cx.get('lgt')}"},
        }
        if cx.get("lgt"):
            res["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(cx["lgt"])},
                        "region": {"startLine": _line_of_last_step(cx["lgt"])},
                    }
                }
            ]
        results.append(res)
    for n, text in _coverage_warnings(run):
        results.append({"ruleId": n, "ruleIndex": rule_ids.index(n), "level": "warning", "message": {"text": text}})
    driver = {"name": "lgcheck", "version": version(), "rules": rules()}
    return {
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results, "properties": {"config": doc["config"]}}],
    }


def junit(run, **kw) -> str:
    # Here, not at the top: xml.sax.saxutils imports urllib.request (http, ssl), 35 ms that every prove
    # paid before its first counterexample was written (lgt_lines imports this module).
    from xml.sax.saxutils import escape, quoteattr

    doc = as_dict(run, **kw)
    cases, failures, errors = [], 0, 0
    for r in doc["results"]:
        head = f'    <testcase classname="lgcheck.prove" name={quoteattr(r["invariant"])} time="{r["seconds"]}"'
        if r["status"] == "violated":
            failures += 1
            cx = r["counterexample"] or {}
            text = f"counterexample: {cx.get('lgt')} (replay it with: lgcheck replay {cx.get('lgt')})"
            cases.append(
                f'{head}>\n      <failure type="violated" message={quoteattr(text)}>{escape(text)}</failure>\n'
                "    </testcase>"
            )
        elif r["status"] == "unknown":
            errors += 1
            cases.append(f'{head}>\n      <error type="unknown" message="the solver gave up"/>\n    </testcase>')
        else:
            cases.append(f"{head}/>")
    attrs = f'tests="{len(cases)}" failures="{failures}" errors="{errors}"'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="lgcheck prove" {attrs}>\n  <testsuite name="lgcheck prove" {attrs} skipped="0">\n'
        + "\n".join(cases)
        + "\n  </testsuite>\n</testsuites>\n"
    )


def _coverage_warnings(run) -> list:
    """--coverage's warnings, (invariant, text): an invariant that holds while an outcome it judges never happened."""
    cov = getattr(run, "coverage", None)
    if cov is None:
        return []
    from .coverage import warnings

    return warnings(cov, run.results)


def github(run, **kw) -> str:
    out = [f"::warning title={n}::{text}" for n, text in _coverage_warnings(run)]
    for r in as_dict(run, **kw)["results"]:
        cx = r["counterexample"] or {}
        if r["status"] == "violated":
            loc = f"file={cx['lgt']},line={_line_of_last_step(cx['lgt'])}," if cx.get("lgt") else ""
            out.append(
                f"::error {loc}title={r['invariant']}::violated by a run of {r['depth']} steps "
                f"(lgcheck replay {cx.get('lgt')})"
            )
        elif r["status"] == "unknown":
            out.append(f"::warning title={r['invariant']}::unknown: the solver gave up at depth {r['bmc_depth']}")
        else:
            scope = "every depth" if r["every_depth"] else f"every run of up to {r['depth']} steps"
            out.append(f"{r['invariant']}: holds for {scope}")
    return "\n".join(out) + "\n"


def render(fmt: str, run, **kw) -> str:
    if fmt == "json":
        return json.dumps(as_dict(run, **kw), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif(run, **kw), indent=2) + "\n"
    if fmt == "junit":
        return junit(run, **kw)
    if fmt == "github":
        return github(run, **kw)
    raise ValueError(f"unknown format {fmt!r}")
