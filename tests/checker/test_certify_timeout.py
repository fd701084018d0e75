"""certify --timeout bounds each certificate's whole re-check, the model's rebuild included.

The rebuild (plain Python building z3 terms from the recorded configuration) watched no clock: about 80 s
for a configuration at the size limit went by before the first query was given its time limit.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

from lgcheck.checker.certificate import FORMAT, MANIFEST
from lgcheck.checker.config import Config
from lgcheck.cli import main
from tests.procs import HAS_CHILDREN, children


def _certificate(folder, cfg: Config) -> str:
    """A certificate folder for `cfg` (its invariant need not be a proof: time runs out before it is read)."""
    doc = {
        "format": FORMAT,
        "config": cfg.describe(),
        "certificates": [{"invariant": "key-collision", "file": "key-collision.smt2", "lemmas": []}],
    }
    (folder / MANIFEST).write_text(json.dumps(doc))
    (folder / "key-collision.smt2").write_text("(define-fun invariant () Bool true)\n")
    return str(folder)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")  # an exception a finaliser dropped
def test_timeout_bounds_the_rebuild_of_a_large_model(tmp_path, capsys):
    # 2^2 x 4 x 4 x 4 = 256 units: its rebuild takes 3.3 s on a quiet machine (and longer on a busy one)
    folder = _certificate(tmp_path, Config(guests=2, slots=4, buffers=4, sections=4))
    threads = threading.active_count()
    started = time.monotonic()
    status = main(["certify", "--timeout", "0.5", "--json", folder])
    took = time.monotonic() - started
    out, err = capsys.readouterr()
    assert status == 3, out + err
    (cert,) = json.loads(out)["certificates"]
    assert cert["status"] == "unknown"
    assert cert["queries"] == {"a": "unknown", "b": "unknown", "c": "unknown"}
    assert cert["message"].endswith(
        "--timeout 0.5 s ran out while rebuilding the model from the recorded configuration"
    )
    assert took < 2.0, took
    # Nothing left behind: no thread, no process, no alarm still set, SIGALRM's handler as it was.
    assert threading.active_count() == threads
    if HAS_CHILDREN:
        assert children(os.getpid()) == set()
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
    assert "Traceback" not in err and "Exception ignored" not in err, err
