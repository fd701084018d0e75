"""The mutation score of the model: every mutation of checker/mutations.py, two at a time.

Each mutation is applied to a copy of the package; `lgcheck prove` must
report the invariants it breaks, with counterexamples that replay to the same
rule (checker/mutate.py says exactly how), or, for an equivalent mutation,
find nothing.  Prints one line per mutation as it finishes, then the score
(caught / non-equivalent), the wall time and the CPU time of the prove and
replay processes (this machine is shared and noisy: the CPU time is the
steadier figure).  Exit status 0 when every mutation is caught or
equivalent, 1 otherwise, 2 when a mutation's source text has moved.

    .venv/bin/python benchmarks/mutation_score.py [--ci] [--jobs 2] [--keep DIR] [ID ...]

`--ci` runs only the representative third that tests/checker/test_mutations.py
runs in CI.
"""

from __future__ import annotations

import resource
import sys

from lgcheck.checker.mutate import main

if __name__ == "__main__":
    status = main(sys.argv[1:])
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"cpu time of the prove and replay processes: {cpu.ru_utime + cpu.ru_stime:.0f}s")
    sys.exit(status)
