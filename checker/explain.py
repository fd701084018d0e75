"""A counterexample in words: one line per step, the broken invariant last."""

from __future__ import annotations

from ..replay.records import Record, format_record
from ..spec.monitors import bits, plural_bytes
from .config import Config


def key_name(cfg: Config, key: int) -> str:
    if key == 0:
        return "key 0 (console)"
    if key == cfg.block_key:
        return f"key {key:#x} (block page)"
    for g in range(cfg.guests):
        if key == cfg.net_key(g):
            return f"key {key:#x} (net slot {cfg.net_slot(g)}, g{g}'s)"
    return f"key {key:#x}"


def describe(cfg: Config, r: Record) -> str:
    f, g = r.fields, r.guest
    k = r.kind
    if k == "g.dma":
        secs = ", ".join(f"{ln}@{a:#x}" for a, ln in zip(f["addrs"], f["lens"]) if ln) or "no sections"
        return f"g{g} writes descriptor {f['addr']:#x}: used_len={f['used_len']}, {secs}"
    if k == "g.bind_dma":
        if f["irq"] == 0:
            return f"g{g} unbinds {key_name(cfg, f['key'])} from {f['dmas']:#x} -> {f['result']}"
        return (
            f"g{g} binds {key_name(cfg, f['key'])} to {f['num']} descriptor(s) at {f['dmas']:#x}, "
            f"irq {f['irq']} -> {f['result']}"
        )
    if k == "g.mem":
        data = f["data"]
        more = "..." if len(data) > 8 else ""
        return f"g{g} puts {plural_bytes(len(data))} at {f['addr']:#x}: {data[:8].hex()}{more}"
    if k == "g.send_dma":
        return f"g{g} sends descriptor {f['dma']:#x} on {key_name(cfg, f['key'])}"
    if k == "g.status":
        return f"g{g} writes status {bits(f['value'])} to device {f['dev']}"
    if k == "l.status":
        return f"l{g} writes status {bits(f['value'])} to device {f['dev']}"
    if k == "host.deliver":
        (sg, sa), (dg, da) = f["src"], f["dst"]
        return f"  Host: copies {plural_bytes(f['len'])} from g{sg}:{sa:#x} into g{dg}:{da:#x}, raises irq {f['irq']}"
    if k == "host.full":
        return f"  Host: g{f['dst']} has no free buffer on the key; raises irq {f['irq']} anyway"
    if k == "host.pending":
        return f"  Host: the key is private, so l{f['guest']} handles the send"
    if k == "host.drop":
        return "  Host: no other Guest is bound to the shared key; nothing happens"
    if k == "host.kill":
        return f"  Host: kills g{f['guest']} ({f['reason']})"
    if k == "l.output":
        return f"  l{g}: handles the send, writes used_len={f['len']}"
    if k == "l.fill":
        return (
            f"l{g} gets input on {key_name(cfg, f['key'])}: GETDMA returns {f['dma']:#x}; it writes "
            f"{plural_bytes(f['len'])} there and raises irq {f['irq']}"
        )
    if k == "l.nobuf":
        return f"l{g} gets input on {key_name(cfg, f['key'])}: GETDMA finds no buffer; discarded"
    return format_record(r)


def explain(cfg: Config, name: str, steps: list[list[Record]], finding, actions=()) -> list[str]:
    lines = []
    for i, recs in enumerate(steps, 1):
        for j, r in enumerate(recs):
            text = describe(cfg, r)
            if j == 0 and i <= len(actions) and actions[i - 1] == "sysfs":
                text += " (Guest userspace, through sysfs: lguest_bus.c status_store)"
            lines.append(f"  {i:2}. {text}" if j == 0 and not text.startswith("  ") else f"      {text.strip()}")
    if finding is not None:
        lines.append(f"  => {name}: {finding.message}")
    return lines
