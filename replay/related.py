"""Related locations: the earlier trace line that explains a finding.

The state remembers, per descriptor, binding and device, the trace line of the
last write (spec/state.py: `used_line`, `lens_line`, `Binding.line`,
`Device.line`).  When a check fails, `lookup` reads the subject the message
names (a descriptor, a live binding, a device) and returns the line that set
the value the check read, before the step overwrites it.  The messages are
the spec's own (spec/apply.py); tests/replay/test_related.py pins each form,
so a rewording that this module no longer reads fails there, not silently.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Related(NamedTuple):
    line: int
    what: str  # "used_len set", "sections set", "bound", "status set"


_DESC = re.compile(r"g(\d+)'s descriptor (?:at )?(0x[0-9a-f]+)")
_USED = re.compile(r"g(\d+)'s descriptor (0x[0-9a-f]+), whose used_len was")
_LENS = re.compile(r"g(\d+)'s descriptor (0x[0-9a-f]+), whose sections hold")
_BOUND = re.compile(r"which g(\d+)'s live binding \(slot (\d+)|live bindings \(g(\d+) slot (\d+)")
_STATUS = re.compile(r"^[gl](\d+) writes status .* to device (\d+),")


def descriptor_of(message: str) -> str | None:
    """'g0 0x477d60' for a finding about one Guest's descriptor, else None (per-descriptor counts)."""
    m = _DESC.search(message)
    return f"g{m.group(1)} {m.group(2)}" if m else None


def _before(st, line, prev):
    return prev if line == st.cursor.line else line


def lookup(st, rule: str, message: str) -> tuple[Related, ...]:
    """The earlier lines that set what `rule`'s check read, from the state before the step's writes."""
    line = None
    if rule == "write-to-used-buffer" and (m := _USED.search(message)):
        d = st.guest(int(m.group(1))).mem.get(int(m.group(2), 16))
        # The monitor runs after the write it judges: the line that set the old used_len is the one before.
        line, what = (_before(st, d.used_line, d.prev_used_line) if d else None), "used_len set"
    elif rule == "buffer-overflow" and (m := _LENS.search(message)):
        d = st.guest(int(m.group(1))).mem.get(int(m.group(2), 16))
        line, what = (d.lens_line if d else None), "sections set"
    elif rule == "key-collision" and (m := _BOUND.search(message)):
        slots = st.guest(int(m.group(1) or m.group(3))).slots
        slot = int(m.group(2) or m.group(4))
        line, what = (slots[slot].line if slot < len(slots) else None), "bound"
    elif rule == "status-cleared" and (m := _STATUS.search(message)):
        d = st.guest(int(m.group(1))).devices.get(int(m.group(2)))
        line, what = (_before(st, d.line, d.prev_line) if d else None), "status set"
    return () if line is None else (Related(line, what),)
