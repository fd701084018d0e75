"""Effects: what a Host or Launcher step does, decided before it is applied.

A rule *decides* (reads the state, returns a list of `Effect`s) and `apply`
(spec/apply.py) *performs* them.  Keeping the two apart is what lets replay
compare a decision with the records of a full trace and follow the trace where
they differ, and lets the checker decode which effect fired at each step.

An effect's `kind` is a plain string, one per outcome; which outcome happens
is its guard `when` (a bool in the concrete reading, a z3 Boolean in the
symbolic one).  The Host outcomes are named as the trace's Host records
(deliver, full, pending, drop, kill); the others are state changes that the
trace shows on the Guest's own record (bind, unbind) or as Launcher records
(output, fill, nobuf).
"""

from __future__ import annotations


class Effect:
    __slots__ = ("kind", "when", "f")

    def __init__(self, kind: str, when, **fields):
        self.kind = kind
        self.when = when
        self.f = fields

    def __repr__(self) -> str:
        return f"Effect({self.kind!r}, when={self.when!r}, {self.f!r})"


def outcome_name(effect) -> str:
    """An effect's outcome (checker/coverage.py): its kind, and for a kill its reason (each reason its own path)."""
    return f"kill ({effect.f['reason']})" if effect.kind == "kill" else effect.kind
