"""What the buffers monitors read from the state, not from the rule that wrote: where the data landed.

A rule's mistake about *where* it writes is only seen if the monitor judges the
place by itself.  Two such mistakes went unseen by prove before these checks
(checker/mutations.py: transfer-ring-wrap-off-by-one, getdma-ring-bound-off-by-one,
page-end-off-by-one, address-ok-last-page, transfer-dst-check-ignored):

- data landing in a descriptor that is no entry of a live binding (one past the
  ring, say): memory outside the bound arrays reads as used_len 0, so the
  used_len test alone let it pass;
- the Host's copy into a section that crosses its page or leaves the Guest's
  memory: the sections' total alone still held the bytes.

Each scenario runs on both readings (spec_fixtures.World).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lgcheck.checker.config import Config
from lgcheck.spec import constants as C
from lgcheck.spec.effects import Effect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spec_fixtures import READINGS, World, restore_width  # noqa: E402

_restore_width = pytest.fixture(autouse=True)(restore_width)

CFG = Config()
NET1 = CFG.net_key(1)
ARR0 = CFG.arrays[0]
E0, E1 = ARR0, ARR0 + C.DMA_SIZE
SEND = CFG.send_cell
LIMIT_END = CFG.pfn_limit * C.PAGE_SIZE  # 0x7000


@pytest.fixture(params=READINGS)
def reading(request):
    return request.param


def _deliver(w, entry, n):
    """The Host's delivery of n bytes from g0's send descriptor into g1's `entry`, performed as apply does."""
    e = Effect("deliver", w.when(), src=(0, w.arg(SEND)), dst=(1, w.arg(entry)), len=w.arg(n), irq=1)
    w.perform([e])


def _fill(w, entry, n):
    w.perform([Effect("fill", w.when(), guest=1, key=0, dma=w.arg(entry), len=w.arg(n), irq=3, used_before=0)])


def _ring_of_one(reading, live=True):
    w = World(reading, CFG)
    w.bind(1, 0, NET1, ARR0, num=1, irq=1, live=live)
    for e in (E0, E1):
        w.desc(1, e, 0, [(0x3000, 100)])
    w.desc(0, SEND, 0, [(0x2000, 10)])
    return w


def test_data_into_an_entry_of_a_live_binding_is_kept(reading):
    w = _ring_of_one(reading)
    _deliver(w, E0, 10)
    assert w.failed() == set()


@pytest.mark.parametrize("how", [_deliver, _fill])
def test_data_one_entry_past_the_bound_ring_is_a_write_to_used_buffer(reading, how):
    """E1 follows the ring of one at E0: its used_len reads 0, but the Guest never handed it over."""
    w = _ring_of_one(reading)
    how(w, E1, 10)
    assert w.failed() == {"write-to-used-buffer"}


def test_data_into_a_freed_bindings_array_is_a_write_to_used_buffer(reading):
    w = _ring_of_one(reading, live=False)
    _deliver(w, E0, 10)
    assert w.failed() == {"write-to-used-buffer"}


@pytest.mark.parametrize(
    "section",
    [
        (0x3F00, 0x200),  # crosses into the next page: the Host maps one page (copy_data: maddr + addr % PAGE)
        (LIMIT_END, 0x10),  # one page, but past the Guest's memory
        (LIMIT_END - 0x80, 0x100),  # both
    ],
)
def test_the_hosts_copy_into_a_section_outside_one_page_of_memory_overflows(reading, section):
    w = World(reading, CFG)
    w.bind(1, 0, NET1, ARR0, num=1, irq=1)
    w.desc(1, E0, 0, [section])
    w.desc(0, SEND, 0, [(0x2000, 0x10)])
    _deliver(w, E0, 0x10)
    assert w.failed() == {"buffer-overflow"}


def test_a_section_that_ends_at_the_end_of_memory_holds_its_bytes(reading):
    w = World(reading, CFG)
    w.bind(1, 0, NET1, ARR0, num=1, irq=1)
    w.desc(1, E0, 0, [(LIMIT_END - 0x100, 0x100)])
    w.desc(0, SEND, 0, [(0x2000, 0x100)])
    _deliver(w, E0, 0x100)
    assert w.failed() == set()


def test_the_launchers_fill_across_a_page_is_not_an_overflow(reading):
    """The Launcher writes through its own mapping of all the Guest's memory (readv): pages are contiguous there."""
    w = World(reading, CFG)
    w.bind(1, 0, 0, ARR0, num=1, irq=3)
    w.desc(1, E0, 0, [(0x3F00, 0x200)])
    _fill(w, E0, 0x200)
    assert w.failed() == set()
