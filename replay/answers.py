"""Effects (the model's decisions) to trace records and back.

A Host or Launcher effect that the model decided becomes the record a full
trace would carry (for comparison and for `--emit`); a record read from a
full trace becomes the effect to apply when replay follows the trace.
"""

from __future__ import annotations

from ..spec.apply import kill_reason
from ..spec.effects import Effect
from .records import Record

# Effects a trace writes as Host records.
HOST_EFFECTS = ("kill", "deliver", "full", "pending", "drop")


def to_record(eff: Effect, value=lambda x: x, line=0) -> Record | None:
    """The trace record of an effect, or None for effects a trace does not show as a record of their own."""
    f, v = eff.f, value
    k = eff.kind
    if k == "kill":
        return Record("host.kill", None, {"guest": f["guest"], "reason": kill_reason(f, v)}, line)
    if k == "deliver":
        (sg, sa), (dg, da) = f["src"], f["dst"]
        return Record(
            "host.deliver", None, {"src": (sg, v(sa)), "dst": (dg, v(da)), "len": v(f["len"]), "irq": v(f["irq"])}, line
        )
    if k == "full":
        return Record(
            "host.full", None, {"src": f["src"], "dst": f["dst"], "key": v(f["key"]), "irq": v(f["irq"])}, line
        )
    if k == "pending":
        return Record("host.pending", None, {"guest": f["guest"], "key": v(f["key"]), "dma": v(f["dma"])}, line)
    if k == "drop":
        return Record("host.drop", None, {"guest": f["guest"], "key": v(f["key"])}, line)
    if k == "output":
        return Record("l.output", f["guest"], {"key": v(f["key"]), "dma": v(f["dma"]), "len": v(f["len"])}, line)
    if k == "fill":
        return Record(
            "l.fill", f["guest"], {"key": v(f["key"]), "dma": v(f["dma"]), "len": v(f["len"]), "irq": v(f["irq"])}, line
        )
    if k == "nobuf":
        return Record("l.nobuf", f["guest"], {"key": v(f["key"])}, line)
    return None


_FIELDS = {
    "deliver": ("host.deliver", ("src", "dst", "len", "irq")),
    "full": ("host.full", ("src", "dst", "key", "irq")),
    "pending": ("host.pending", ("guest", "key", "dma")),
    "drop": ("host.drop", ("guest", "key")),
}


def matches(eff: Effect, rec: Record) -> bool:
    """Does a recorded Host record say exactly what a decided (non-kill) effect does?"""
    spec = _FIELDS.get(eff.kind)
    if spec is None or rec.kind != spec[0]:
        return False
    f, r = eff.f, rec.fields
    return all(f[k] == r.get(k) for k in spec[1])


def from_record(rec: Record) -> Effect:
    """The effect a recorded Host record describes (its binding is resolved by the engine)."""
    f = rec.fields
    k = rec.kind.split(".", 1)[1]
    if k == "kill":
        return Effect("kill", True, guest=f["guest"], reason=f["reason"], args=())
    if k == "deliver":
        return Effect("deliver", True, src=f["src"], dst=f["dst"], len=f["len"], irq=f["irq"], binding=None)
    if k == "full":
        return Effect("full", True, src=f["src"], dst=f["dst"], key=f["key"], irq=f["irq"], binding=None)
    if k == "pending":
        return Effect("pending", True, guest=f["guest"], key=f["key"], dma=f["dma"])
    if k == "drop":
        return Effect("drop", True, guest=f["guest"], key=f["key"])
    raise ValueError(f"{rec.kind} is not a Host record")
