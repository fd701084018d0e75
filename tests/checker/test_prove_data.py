"""prove and the data invariant (version 2): the symbolic state keeps no bytes, so it is refused, not proved.

The data-corrupted monitor observes writes of kind "bytes", which only the
concrete state logs; a proof of it would hold without any check.  prove's
guard against invariants with no check must refuse it with exit 2 and say why.
"""

from __future__ import annotations

import pytest

from lgcheck.checker.config import Config
from lgcheck.cli import main


@pytest.mark.parametrize("inv", ["data", "data-corrupted"])
def test_prove_refuses_data_as_unchecked(inv, tmp_path, capsys):
    assert main(["prove", "--inv", inv, "--depth", "1", "--no-progress", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no check of the model speaks of data-corrupted" in err


def test_prove_does_not_ask_for_data_by_default():
    from lgcheck.checker.cli import _invariants

    assert "data" not in Config().invariants
    assert "data-corrupted" not in _invariants(()) and len(_invariants(())) == 6
