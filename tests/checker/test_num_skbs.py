"""--num-skbs: conforming drivers bind as 2.6.23's do, and the deep bug that needs the net ring."""

from __future__ import annotations

import tomllib

import pytest
import z3

from lgcheck.checker import bfs
from lgcheck.checker.cli import DEFAULTS, config_from_settings
from lgcheck.checker.config import Config
from lgcheck.checker.pipeline import config_from_lgt, prove
from lgcheck.checker.symstate import SymState
from lgcheck.checker.transition import _params, domain
from lgcheck.cli import main
from lgcheck.spec.ops import Symbolic

FAULT, INV = "host-skips-used-len-check", "write-to-used-buffer"


def _fill(st, cfg, addrs):
    """A driver's section written into each descriptor of `addrs` (fill_slot; the test's stand-in)."""
    pad = [0] * (cfg.sections - 1)
    for a in addrs:
        st.write_cell(0, a, 0, [0x2000] + pad, [1] + pad, True)


def _grid(cfg):
    """Every (driver, array, num) a bind of Guest 0 might name (irq: the driver's own)."""
    arrays = sorted(set(Config(buffers=cfg.buffers).arrays + cfg.arrays))
    return [(d, a, n) for d in range(3) for a in arrays for n in range(1, cfg.buffers + 1)]


def _by_search(cfg, st):
    menu = bfs.Menu(cfg, bfs.domains(cfg), bfs._sections(cfg, bfs.domains(cfg)))
    return {(p["drv"], p["dmas"], p["num"]) for p in menu.get(st, 0, "bind") if p["irq"]}


def _by_bmc(cfg, st):
    """The binds BMC's symbolic domain allows in `st`: each point of the grid asked of z3."""
    p = _params(cfg, 0)
    dom = domain(Symbolic, cfg, st, 0, "bind", p, True)
    out = set()
    for d, a, n in _grid(cfg):
        key, irq = cfg.bindable(0)[d]
        s = z3.Solver()
        s.add(dom, p["drv"] == d, p["key"] == key, p["irq"] == irq, p["dmas"] == a, p["num"] == n)
        if s.check() == z3.sat:
            out.add((d, a, n))
    return out


@pytest.mark.parametrize("reading", [_by_search, _by_bmc], ids=["bfs-menu", "bmc-domain"])
def test_num_skbs_makes_each_driver_bind_its_own_filled_array_of_its_2_6_23_size(reading):
    free = Config(buffers=3)
    # Without it: any driver, either array, any number 1..buffers.
    assert reading(free, SymState(free)) == set(_grid(free)) and len(_grid(free)) == 18
    ring = Config(buffers=3, num_skbs=2)
    st = SymState(ring)
    # Nothing written yet: only the block driver binds (bd->dma with len[0] = 0); the net ring and
    # cons_input hold no buffer until the driver fills them.
    assert reading(ring, st) == {(1, 0x1600, 1)}
    _fill(st, ring, [0x1000])  # one of the two ring entries: still not ready
    assert reading(ring, st) == {(1, 0x1600, 1)}
    _fill(st, ring, [0x1000 + 100, 0x1400])
    assert reading(ring, st) == {(0, 0x1400, 1), (1, 0x1600, 1), (2, 0x1000, 2)}
    st.wr_used_len(0, 0x1000 + 100, 7)  # a used entry: lguestnet_open binds only after used_len = 0
    assert reading(ring, st) == {(0, 0x1400, 1), (1, 0x1600, 1)}


def test_num_skbs_is_checked_and_named_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["prove", "--help"])
    assert "--num-skbs" in capsys.readouterr().out
    assert main(["prove", "--buffers", "2", "--num-skbs", "3"]) == 2
    assert "--num-skbs must be 0..2 (at most the buffers), not 3" in capsys.readouterr().err
    assert main(["prove", "--guests", "any", "--num-skbs", "1"]) == 2
    assert "needs --guests conforming" in capsys.readouterr().err


def _deep(num_skbs, depth):
    return Config(
        launcher="checked",
        faults=(FAULT,),
        invariants=(INV,),
        depth=depth,
        induction=False,
        slots=1,
        sections=1,
        buffers=2,
        num_skbs=num_skbs,
        sysfs=False,
    )


def test_the_net_ring_makes_the_used_buffer_bug_deeper_and_both_engines_find_it(tmp_path):
    """Ring of 2: fill both entries, bind, a section to send, and three sends round the ring: 7 steps, not 5."""
    shallow = prove(_deep(0, 5), str(tmp_path / "free"), engine="bmc").results[INV]
    assert shallow.status == "violated" and shallow.steps == 5
    cfg = _deep(2, 7)
    by_bmc = prove(cfg, str(tmp_path / "bmc"), engine="bmc")
    by_bfs = prove(cfg, str(tmp_path / "bfs"), engine="bfs")
    r, b = by_bmc.results[INV], by_bfs.results[INV]
    assert r.status == b.status == "violated" and r.steps == b.steps == 7
    cx = by_bmc.counterexamples[INV]
    assert cx.finding is not None and cx.finding.rule == INV  # the written trace replays to its finding
    assert main(["replay", "--launcher", "checked", "--fault", FAULT, cx.lgt]) == 1
    with open(cx.lgt, encoding="utf-8") as fh:
        text = fh.read()
    assert "num=2" in text  # the ring, bound whole
    toml = config_from_lgt(text)
    assert "num-skbs = 2" in toml
    assert config_from_settings({**DEFAULTS, **tomllib.loads(toml)}) == cfg


@pytest.mark.parametrize("ring", [7, 8])
def test_the_search_s_bind_menu_is_keyed_on_every_ring_entry(ring):
    # The menu of binds is cached by what the bind's domain reads; a key that left the ring's last
    # entries out (an address window of 0x200 bytes: 5 entries of 100) served the menu cached while an
    # entry was not ready after it was, so the net driver never bound a ring of 7 or 8 (seen by the attack).
    cfg = Config(guests=1, slots=1, buffers=ring, sections=1, num_skbs=ring, sysfs=False)
    dom = bfs.domains(cfg)
    menu = bfs.Menu(cfg, dom, bfs._sections(cfg, dom))
    net = len(cfg.bindable(0)) - 1

    def net_binds(ready):
        st = bfs.SearchState(cfg)
        _fill(st, cfg, [0x1000 + i * 100 for i in range(ready)])
        return [p for p in menu.get(st, 0, "bind") if p["drv"] == net and p["num"]]

    assert net_binds(ring - 1) == []
    assert [p["num"] for p in net_binds(ring)] == [ring]


def test_a_rebind_the_fault_allows_needs_a_ready_ring_in_both_readings():
    # Under guest-rebinds-key a bound driver may bind again; the search skipped _ready for a driver that
    # held its binding (its Python True), where BMC's term keeps it: a used ring must refuse both.
    from lgcheck.spec.ops import Concrete

    cfg = Config(guests=1, slots=2, buffers=2, sections=1, num_skbs=2, sysfs=False, faults=("guest-rebinds-key",))
    st = bfs.SearchState(cfg)
    net = len(cfg.bindable(0)) - 1
    key, irq = cfg.bindable(0)[net]
    for i in range(2):  # both ring entries used (used_len 5): not what lguestnet_open binds
        st.write_cell(0, 0x1000 + i * 100, 5, [0x2000], [1], True)
    p = {"drv": net, "key": key, "irq": irq, "dmas": 0x1000, "num": 2}
    for bound in (False, True):
        st.drv_bound[0][net] = bound
        assert domain(Concrete, cfg, st, 0, "bind", p, True) is False


def test_a_certificate_written_before_the_option_still_describes_its_model():
    # Older manifests have no num_skbs key: the option off must describe the model the same way.
    from lgcheck.checker.certificate import config_from_dict

    old = Config().describe()
    assert "num_skbs" not in old and config_from_dict(old) == Config()
    on = Config(buffers=3, num_skbs=3).describe()
    assert on["num_skbs"] == 3 and config_from_dict(on).num_skbs == 3
