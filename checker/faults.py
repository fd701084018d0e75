"""The named defects `--fault` injects, each with the invariant it must break.

Host faults change a rule of spec/ (the rule asks `st.fault(name)`, so replay
can run the same faulty model); Guest and Launcher faults widen what the
environment may do (checker/transition.py).
"""

from __future__ import annotations

from typing import NamedTuple


class Fault(NamedTuple):
    name: str
    breaks: str  # the invariant (finding name) a counterexample must show
    what: str


FAULTS = {
    f.name: f
    for f in [
        Fault(
            "host-skips-used-len-check",
            "write-to-used-buffer",
            "the Host copies into the entry at its cursor without looking at used_len",
        ),
        Fault(
            "host-copies-source-length",
            "buffer-overflow",
            "copy_data copies the whole source, not min(source, destination)",
        ),
        Fault("guest-rebinds-key", "key-collision", "a Guest binds a key it already holds"),
        Fault("two-guests-one-slot", "key-collision", "both Guests get net slot 0, so both bind the same shared key"),
        Fault(
            "guest-binds-outside-device",
            "key-outside-device",
            "a Guest binds a key in its RAM, outside every device page",
        ),
        Fault("guest-clears-status", "status-cleared", "a Guest may clear a status bit instead of setting it"),
        Fault("launcher-sets-driver-ok", "status-forbidden-bit", "the Launcher sets DRIVER_OK itself"),
        Fault(
            "launcher-ignores-iov-length",
            "buffer-overflow",
            "the Launcher writes more input than the buffer's sections hold",
        ),
    ]
}
