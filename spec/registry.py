"""The registry of protocol rules and of the findings they can raise.

`@rule("io.c: bind_dma")` marks a function of spec/ as the model of one Linux
function; the registry is read by `lgcheck rules` and by the tests, which
check that every rule cites its source.  `FINDINGS` is the list of the stable
rule names that replay reports and the checker proves (trace-format.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Rule:
    name: str
    linux: str  # "path: function" of the 2.6.23 code the rule follows
    summary: str  # first line of the docstring
    function: Callable


RULES: dict[str, Rule] = {}


def rule(linux: str):
    """Register a rule function; `linux` cites the function it follows."""

    if ": " not in linux:
        raise ValueError(f"rule citation {linux!r} must read 'path: function', e.g. 'io.c: bind_dma'")

    def mark(fn):
        doc = (fn.__doc__ or "").strip()
        if not doc:
            raise ValueError(f"rule {fn.__name__} needs a docstring whose first line says what it models")
        if fn.__name__ in RULES:
            raise ValueError(f"rule {fn.__name__} is defined twice: {RULES[fn.__name__].linux} and {linux}")
        RULES[fn.__name__] = Rule(fn.__name__, linux, doc.splitlines()[0], fn)
        return fn

    return mark


@dataclass(frozen=True)
class Finding:
    """A stable finding name, what it catches, and whether the checker proves it."""

    name: str
    description: str
    invariant: str | None  # the checker's invariant group, None for replay-only findings


FINDINGS: dict[str, Finding] = {
    f.name: f
    for f in [
        Finding(
            "key-collision",
            "A bind succeeds on a key that a live binding already holds (after shared-page "
            "translation), or two devices of one Guest overlap each other, its RAM or its "
            "descriptor page.",
            "keys",
        ),
        Finding(
            "key-outside-device",
            "A bind succeeds on a key in no page of the binding Guest's devices (key 0, the console's, is allowed).",
            "keys",
        ),
        Finding(
            "write-to-used-buffer",
            "The Host or a Launcher writes into a descriptor whose used_len was not 0 when it "
            "was chosen (a 0-byte write counts: it overwrites used_len), or that is no entry of a "
            "live binding of that Guest.",
            "buffers",
        ),
        Finding(
            "buffer-overflow",
            "More bytes are written into a descriptor than its sections hold (for the Host's copy, "
            "sections that lie in the Guest's memory and in one page).",
            "buffers",
        ),
        Finding("status-cleared", "A status write clears a bit that was set.", "status"),
        Finding(
            "status-forbidden-bit",
            "A Guest newly sets REMOVED, or a Launcher newly sets a bit other than REMOVED.",
            "status",
        ),
        Finding(
            "data-corrupted",
            "(version 2) A delivery wrote bytes that differ from the source's: byte i of what the "
            "destination received (its sections read in order) is not byte i of what the source held.",
            "data",
        ),
        Finding(
            "bad-dma",
            "A descriptor or key the Host reads fails its checks (check_dma_list, key "
            "alignment, lguest_address_ok); the Host kills the Guest.",
            None,
        ),
        Finding(
            "divergence",
            "A recorded Host or Launcher result differs from the model's, a killed Guest acts "
            "again, or a Guest acts while its send to the Launcher is pending.",
            None,
        ),
        Finding(
            "unknown-descriptor",
            "The Host or a Launcher uses a descriptor field the trace never wrote (taken as 0).",
            None,
        ),
    ]
}

INVARIANTS: dict[str, tuple[str, ...]] = {
    "keys": ("key-collision", "key-outside-device"),
    "buffers": ("write-to-used-buffer", "buffer-overflow"),
    "status": ("status-cleared", "status-forbidden-bit"),
    "data": ("data-corrupted",),
}
