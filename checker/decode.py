"""From a z3 model back to the protocol's terms: a full `.lgt` trace, and per-step states.

For each step, the case whose guard the model makes true is the action that
fired; its parameters and the effects whose guards hold become trace records,
in the order the Host performs them (the same `to_record` replay uses).  The
trace starts with the setup the configuration implies and with the Guests'
initial (zeroed) descriptors, so that replay knows every field it reads.
"""

from __future__ import annotations

import z3

from ..replay.answers import to_record
from ..replay.records import Record
from .config import Config
from .symstate import SymState


def evaluator(model):
    def value(t):
        if isinstance(t, bool):
            return t
        if isinstance(t, int):
            return t
        v = model.eval(t, model_completion=True)
        if z3.is_true(v):
            return True
        if z3.is_false(v):
            return False
        return v.as_long()

    return value


def setup_records(cfg: Config) -> list[Record]:
    recs = [Record("header", None, {"version": 1})]
    for g in range(cfg.guests):
        recs.append(Record("guest", g, {"pages": cfg.ram_pages}))
        for i, typ, pfn, pages, feat in cfg.devices(g):
            recs.append(Record("device", g, {"dev": i, "type": typ, "pfn": pfn, "pages": pages, "features": feat}))
    recs.append(
        Record("share", None, {"name": "net", "pages": 1, "map": [(g, cfg.net_pfn) for g in range(cfg.guests)]})
    )
    zeros = [0] * cfg.sections
    for g in range(cfg.guests):
        for addr in cfg.cells:
            recs.append(Record("g.dma", g, {"addr": addr, "used_len": 0, "addrs": list(zeros), "lens": list(zeros)}))
    return recs


def _trim(addrs, lens):
    """Sections as a trace writes them: up to the first 0 length (the rest reads as 0)."""
    n = 0
    while n < len(lens) and lens[n] != 0:
        n += 1
    n = max(n, 1)
    return addrs[:n], lens[:n]


def step_records(info, value) -> tuple[str, int, list[Record]]:
    """(action, guest, records) of the step the model chose."""
    p = info.params
    for case in info.cases:
        if value(case.guard) is not True:
            continue
        g, a = case.guest, case.action
        recs = []
        if a == "dma":
            addrs, lens = _trim([value(x) for x in p["addrs"]], [value(x) for x in p["lens"]])
            recs.append(
                Record(
                    "g.dma", g, {"addr": value(p["dma"]), "used_len": value(p["used"]), "addrs": addrs, "lens": lens}
                )
            )
        elif a == "bind":
            recs.append(
                Record(
                    "g.bind_dma",
                    g,
                    {
                        "key": value(p["key"]),
                        "dmas": value(p["dmas"]),
                        "num": value(p["num"]),
                        "irq": value(p["irq"]),
                        "result": value(case.result),
                    },
                )
            )
        elif a == "send":
            recs.append(Record("g.send_dma", g, {"key": value(p["key"]), "dma": value(p["dma"])}))
        elif a in ("status", "sysfs"):
            recs.append(Record("g.status", g, {"dev": value(p["dev"]), "value": value(p["value"])}))
        elif a == "lstatus":
            dev = value(p["dev"])
            st_rec = next(e for e in case.effects if e.kind == "status" and value(e.when) is True)
            recs.append(Record("l.status", g, {"dev": dev, "value": value(st_rec.f["value"])}))
        for e in case.effects:
            if e.kind in ("bind", "unbind", "status") or value(e.when) is not True:
                continue
            r = to_record(e, value)
            if r is None:
                continue
            if r.kind in ("l.fill", "l.nobuf"):
                # The Launcher's request comes first; a kill GETDMA causes answers it.
                recs.insert(0, r)
            else:
                recs.append(r)
        return a, g, recs
    raise ValueError(f"no action fired at step {info.k} in the model")


def trace(cfg: Config, unrolling, model, steps: int) -> list[Record]:
    value = evaluator(model)
    recs = setup_records(cfg)
    for info in unrolling.infos[:steps]:
        recs.extend(step_records(info, value)[2])
    return recs


def state_values(st: SymState, value) -> dict:
    """A state's variables as plain values, grouped per Guest."""
    out = {}
    for g in range(st.cfg.guests):
        out[f"g{g}"] = {
            "bindings": [
                {f: value(getattr(b, f)) for f in ("owner", "off", "dmas", "num_dmas", "next_dma", "interrupt")}
                for b in st.bindings[g]
            ],
            "descriptors": {  # keyed by address (an int): ITF writes it as a #map (checker/itf.py)
                c.addr: {
                    "used_len": value(c.used_len),
                    "addr": [value(x) for x in c.addrs],
                    "len": [value(x) for x in c.lens],
                }
                for c in st.cells[g]
            },
            "status": [value(d.status) for _, d in sorted(st.devs[g].items())],
            "irqs": value(st.irqs[g]),
            "dead": bool(value(st.dead[g])),
            "pending": bool(value(st.pending[g])),
        }
    return out
