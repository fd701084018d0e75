"""From a run back to the protocol's terms: a full `.lgt` trace, and per-step states.

A run is an unrolling (bmc.Unrolling: the initial state, each step's info
and post-state) read through `value`: a z3 model's evaluation (BMC, or a
search's run fixed on BMC's encoding), or `concrete` for a run the
explicit-state search found, performed again on plain ints
(checker/bfs.py `concrete_run`).  Both go through the same functions below.

For each step, the case whose guard the model makes true is the action that
fired; its parameters and the effects whose guards hold become trace records,
in the order the Host performs them (the same `to_record` replay uses).  The
trace starts with the setup the configuration implies and with the Guests'
initial (zeroed) descriptors, so that replay knows every field it reads.
"""

from __future__ import annotations

import hashlib

import z3

from ..replay.answers import to_record
from ..replay.records import Record
from ..spec import constants as C
from .config import Config
from .symstate import SymState


def concrete(t):
    """The value of a term of a concrete run (checker/bfs.py `concrete_run`): the term itself, an int or a bool."""
    if isinstance(t, (bool, int)):
        return t
    raise TypeError(f"a concrete run holds a symbolic term: {t!r}")


def evaluator(model):
    """The value of each term in `model`; with no model (a concrete run), `concrete`."""
    if model is None:
        return concrete

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


def checks_data(cfg: Config) -> bool:
    """Does this run check the bytes (data-corrupted)?  Then its traces are version 2, with the bytes."""
    return "data-corrupted" in cfg.invariants or "data" in cfg.invariants


def setup_records(cfg: Config) -> list[Record]:
    recs = [Record("header", None, {"version": 2 if checks_data(cfg) else 1})]
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


def source_bytes(secs) -> list[tuple[int, bytes]]:
    """The bytes a counterexample's sender puts in its sections (address, data), one `mem` record each.

    The symbolic model lets memory hold anything, and names each byte by
    where it is (checker/symstate.py CONTENTS): a copy is wrong when a
    destination byte came from another address than the source's byte at the
    same offset.  So the trace gives bytes that differ from one another:
    byte i of the message (in section order) is i + 1, modulo 256.
    """
    out, start = [], 0
    for a, ln in secs:
        if ln == 0:
            break
        out.append((a, bytes((start + o + 1) & 0xFF for o in range(ln))))
        start += ln
    return out


def _sections(st, g, addr, value):
    out = []
    for j in range(st.sections):
        a, ln = st.rd_section(g, addr, j)
        a, ln = value(a), value(ln)
        if ln == 0:
            break
        out.append((a, ln))
    return out


def _delivered_sum(st, eff, mem, value):
    """SHA-256 of what the destination of a decided delivery received (sections in order), as `sum=` gives it.

    Computed from the copy's runs as the model chose them (the deliver
    effect's steps) over the sender's bytes (`mem`: address -> byte);
    None when a byte is not known.
    """
    (dg, da), length = eff.f["dst"], value(eff.f["len"])
    image = {}
    for guard, frm, to, n in eff.f.get("steps") or ():
        if value(guard) is not True:
            continue
        frm, to = value(frm), value(to)
        for o in range(value(n)):
            image[to + o] = mem.get(frm + o)
    got = []
    for a, ln in _sections(st, dg, value(da), value):
        got.extend(image.get(a + o) for o in range(min(ln, length - len(got))))
    if len(got) != length or None in got:
        return None
    return hashlib.sha256(bytes(got)).hexdigest()


def step_records(info, value, pre=None) -> tuple[str, int, list[Record]]:
    """(action, guest, records) of the step the model chose.

    `pre` (the state before the step) is needed when the model keeps bytes:
    a send then starts with the `mem` records of the source's sections, and
    each delivery carries `sum=`.
    """
    p = info.params
    data = pre is not None and getattr(pre, "has_bytes", False)
    mem: dict[int, int] = {}
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
            if data:
                top = min(1 << 32, value(pre.pfn_limit(g)) << C.PAGE_SHIFT)
                for addr, blob in source_bytes(_sections(pre, g, value(p["dma"]), value)):
                    if addr + len(blob) > top:
                        # No byte lies outside the Guest's memory (such a `mem` is an input error); no copy
                        # reads one either (check_dma_list kills first), so the trace needs none there.
                        continue
                    recs.append(Record("g.mem", g, {"addr": addr, "data": blob}))
                    mem.update((addr + o, x) for o, x in enumerate(blob))
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
            if data and r.kind == "host.deliver":
                h = _delivered_sum(pre, e, mem, value)
                if h is not None:
                    r.fields["sum"] = h
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
    for k, info in enumerate(unrolling.infos[:steps]):
        recs.extend(step_records(info, value, pre_state(unrolling, k))[2])
    return recs


def pre_state(unrolling, k: int) -> SymState:
    """The state step k (from 0) starts from."""
    return unrolling.initial if k == 0 else unrolling.states[k - 1]


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
