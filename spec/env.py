"""What the environment asks of the spec's readings: read once, here, for every module that asks."""

from __future__ import annotations

import os

# LGCHECK_INTERPRETED=1: the rules exactly as written, with no shortcut of the concrete reading (the
# compiled rules of spec/compiled.py, and the concrete state's skip_used).  Mutation runs set it
# (checker/mutate.py): a mutated rule must be the only thing that decides.
INTERPRETED = os.environ.get("LGCHECK_INTERPRETED", "") not in ("", "0")
