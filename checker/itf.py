"""Counterexamples in the Informal Trace Format of Apalache and Quint (ADR-015).

`#meta` says where the trace comes from, which invariant it breaks and at
which step; `vars` names the state variables, and `states` holds one object
per state, each with `#meta.index` and the action that led to it.  Values
follow ADR-015 so that ITF readers (itf-py, itf-rs, Quint) load them:

- every integer is `{"#bigint": "..."}`, so no reader loses a 32-bit value;
- a table keyed by a number (the descriptors, keyed by their address) is a
  `{"#map": [[key, value], ...]}`, never a JSON object with keys like
  `"0x1000"` (an object is a record, whose field names must be names);
- records (JSON objects) have only identifier field names.

docs/itf.md describes the variables, the free binding slots and the irq bitmask.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _string

from ..replay.records import format_record
from .decode import evaluator, pre_state, state_values, step_records
from .transition import GUEST_ACTIONS

ITF_SCHEMA_NOTE = "docs/itf.md"


def _enc(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return {"#bigint": str(v)}
    if isinstance(v, dict):
        if all(isinstance(k, str) for k in v):
            return {k: _enc(x) for k, x in v.items()}
        return {"#map": [[_enc(k), _enc(x)] for k, x in v.items()]}
    if isinstance(v, (list, tuple)):
        return [_enc(x) for x in v]
    return v


def itf_document(cfg, unrolling, model, steps: int, invariant: str) -> dict:
    from .report import config_keys

    value = evaluator(model)
    guests = [f"g{g}" for g in range(cfg.guests)]
    states = [{"#meta": {"index": 0}, "action": "init", "records": [], **_enc(state_values(unrolling.initial, value))}]
    for i, info in enumerate(unrolling.infos[:steps]):
        action, g, recs = step_records(info, value, pre_state(unrolling, i))
        state = {
            "#meta": {"index": i + 1, "step": i + 1},
            "action": f"g{g}.{action}" if action in GUEST_ACTIONS else f"l{g}.{action}",
        }
        state["records"] = [format_record(r) for r in recs]
        state.update(_enc(state_values(unrolling.states[i], value)))
        states.append(state)
    if len(states) > 1:
        states[-1]["#meta"]["violates"] = invariant
    return {
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": "lgcheck prove",
            "status": "violation",
            "description": f"a shortest run of the lguest 2.6.23 I/O model that breaks {invariant}",
            "invariant": invariant,
            # the step (and the index of the state it leads to) where the invariant's check fails
            "violation": {"step": steps, "state": steps},
            "config": config_keys(cfg),
            "encoding": ITF_SCHEMA_NOTE,
        },
        "vars": ["action", "records"] + guests,
        "states": states,
    }


def dumps(v, level: int = 0) -> str:
    """`json.dumps(v, indent=1)`, text for text, for what an ITF document holds, several times faster.

    json's encoder runs in Python (not C) as soon as it indents: for a 1-step
    counterexample's document it took most of the time from the search's
    answer to the files written.  Same separators (", " items on their own
    lines, ": "), ASCII escapes and spelling of true/false/null and numbers.
    """
    if isinstance(v, str):
        return _string(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        return int.__repr__(v)
    if isinstance(v, dict):
        if not v:
            return "{}"
        if len(v) == 1:
            n = v.get("#bigint")
            if type(n) is str:
                # Every integer of a state is one of these (most of a document's values): one format.
                return f'{{\n{" " * (level + 1)}"#bigint": {_string(n)}\n{" " * level}}}'
        pad = "\n" + " " * (level + 1)
        items = []
        for k, x in v.items():
            if not isinstance(k, str):
                k = json.dumps(k)  # as json spells a number, true/false or null used as a key
            items.append(_string(k) + ": " + dumps(x, level + 1))
        return "{" + pad + ("," + pad).join(items) + "\n" + " " * level + "}"
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        pad = "\n" + " " * (level + 1)
        return "[" + pad + ("," + pad).join(dumps(x, level + 1) for x in v) + "\n" + " " * level + "]"
    return json.dumps(v)  # a float: json's spelling


def write_itf(path: str, doc: dict):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(dumps(doc))
        fh.write("\n")
