"""Counterexamples in the Informal Trace Format of Apalache and Quint (ADR-015).

`#meta` says where the trace comes from, `vars` names the state variables,
and `states` holds one object per state, each with `#meta.index` and the
action that led to it.  Integers are written as `{"#bigint": "..."}`, so no
viewer loses precision on a 32-bit value.
"""

from __future__ import annotations

import json

from ..replay.records import format_record
from .decode import evaluator, state_values, step_records


def _enc(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return {"#bigint": str(v)}
    if isinstance(v, dict):
        return {k: _enc(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_enc(x) for x in v]
    return v


def itf_document(cfg, unrolling, model, steps: int, invariant: str) -> dict:
    value = evaluator(model)
    guests = [f"g{g}" for g in range(cfg.guests)]
    states = [{"#meta": {"index": 0}, "action": "init", "records": [], **_enc(state_values(unrolling.initial, value))}]
    for i, info in enumerate(unrolling.infos[:steps]):
        action, g, recs = step_records(info, value)
        state = {
            "#meta": {"index": i + 1},
            "action": f"g{g}.{action}" if action in ("dma", "bind", "send", "status") else f"l{g}.{action}",
        }
        state["records"] = [format_record(r) for r in recs]
        state.update(_enc(state_values(unrolling.states[i], value)))
        states.append(state)
    return {
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": "lgcheck prove",
            "description": f"a shortest run of the lguest 2.6.23 I/O model that breaks {invariant}",
            "config": cfg.describe(),
        },
        "vars": ["action", "records"] + guests,
        "states": states,
    }


def write_itf(path: str, doc: dict):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
