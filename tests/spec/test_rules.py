"""Behaviour of the protocol rules, each test citing the fact of lguest-io.md it checks.

Every scenario runs on both readings of the spec (lark's "every test on every
backend"): "concrete" is replay's ConcreteState with Concrete ops,
"symbolic" is the checker's SymState with Symbolic ops, every field and
argument a z3 constant pinned to the scenario's value (spec_fixtures.World).
The scenarios stay inside the checker's shapes (Config(): 2 Guests, 2 slots,
descriptors at config.cells, 2 sections; a few use Config(guests=3)), so
one test checks both.  Tests that need the real 32-slot table or 16
sections say so and run on the concrete reading only.

Layout (checker/config.py, lguest-io.md §5.2): RAM pages 0-3, descriptor page
4, the net page 5 (shared by every Guest), the block page 6, pfn_limit 7.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lgcheck.checker.config import Config
from lgcheck.spec import constants as C
from lgcheck.spec.launcher import fill_bytes
from lgcheck.spec.ops import Concrete

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spec_fixtures import READINGS, World, restore_width  # noqa: E402

_restore_width = pytest.fixture(autouse=True)(restore_width)

CFG = Config()
CFG3 = Config(guests=3)
CONSOLE_KEY = 0
BLOCK_KEY = CFG.block_key  # 0x6000
NET0, NET1 = CFG.net_key(0), CFG.net_key(1)  # 0x5000, 0x5004: one shared page
ARR0, ARR1 = CFG.arrays  # 0x1000, 0x1400
E0, E1 = ARR0, ARR0 + C.DMA_SIZE  # the two entries of ARR0
SEND = CFG.send_cell  # 0x1800
LIMIT_END = CFG.pfn_limit * C.PAGE_SIZE  # 0x7000
SHARED = C.SHARED_OWNER
NET_IRQ, BLOCK_IRQ, CONSOLE_IRQ = CFG.NET_IRQ, CFG.BLOCK_IRQ, CFG.CONSOLE_IRQ


@pytest.fixture(params=READINGS)
def reading(request):
    return request.param


def world(reading, cfg=CFG):
    return World(reading, cfg)


# ====================================================================== get_futex_key, lguest_address_ok
@pytest.mark.parametrize(
    "key,want",
    [
        (CONSOLE_KEY, (True, 0, CONSOLE_KEY)),  # a private key: (mm, address), here (Guest, key)
        (BLOCK_KEY, (True, 0, BLOCK_KEY)),
        (NET1, (True, SHARED, 4)),  # inside the MAP_SHARED page: (inode, offset)
        (NET0 + 0xFFC, (True, SHARED, 0xFFC)),
        (NET0 + C.PAGE_SIZE, (True, 0, BLOCK_KEY)),  # first byte past the shared page: private again
        (BLOCK_KEY + 2, (False, 0, BLOCK_KEY + 2)),  # not 4-aligned: -EINVAL
    ],
)
def test_futex_key(reading, key, want):
    """§3.1: a private mapping gives the key (mm, address), the shared file page (inode, offset); 4-aligned only."""
    w = world(reading)
    assert w.futex(0, key) == want


def test_futex_key_shared_page_is_the_same_for_every_guest(reading):
    """§3.1, §5.2: the sharenet page is the only shared mapping; both Guests get the same (inode, offset)."""
    w = world(reading)
    assert w.futex(0, NET1) == w.futex(1, NET1) == (True, SHARED, 4)
    assert w.futex(0, BLOCK_KEY)[1:] != w.futex(1, BLOCK_KEY)[1:]  # private keys never match across Guests


@pytest.mark.parametrize(
    "addr,length,ok",
    [
        (0x2000, 0x100, True),
        (LIMIT_END - 0x100, 0xFF, True),  # last byte below the limit
        (LIMIT_END - 0x100, 0x100, False),  # exclusive end == pfn_limit*4096: the off-by-one (§2.3)
        (LIMIT_END, 0, False),
        (0, 0, True),
    ],
)
def test_lguest_address_ok(reading, addr, length, ok):
    """§2.3: lguest_address_ok means (addr+len)/PAGE_SIZE < pfn_limit and no wrap."""
    w = world(reading)
    assert w.address_ok(0, addr, length) is ok


def test_lguest_address_ok_rejects_a_wrapping_range(reading):
    """§2.3: addr+len must not wrap; at 32 bits (the symbolic reading at width 32 too)."""
    w = World(reading, Config(width=32))
    assert w.address_ok(0, 0xFFFF_FFF0, 0x20) is False  # wraps to 0x10, which is below the limit
    assert w.address_ok(0, 0xFFFF_FFF0, 0x10) is False  # ends at 2**32: far above the limit


# ====================================================================== bind_dma (§3.3, §3.4)
@pytest.mark.parametrize("free_slot", [0, 1])
def test_bind_takes_the_lowest_free_slot(reading, free_slot):
    """§3.3.4: bind_dma takes the lowest-index slot with interrupt 0 and sets next_dma = 0."""
    w = world(reading)
    w.bind(0, 1 - free_slot, BLOCK_KEY, ARR1, num=1, irq=BLOCK_IRQ)
    # A free slot still holds stale fields (unlink_dma clears only interrupt, §3.4).
    w.bind(0, free_slot, NET1, ARR1, num=1, next_dma=7, live=False)
    assert w.bind_dma(0, NET0, ARR0, 2, NET_IRQ) == 1
    assert w.kinds(w.effects) == ["bind"]
    assert w.binding(0, free_slot) == dict(owner=SHARED, off=0, dmas=ARR0, num_dmas=2, next_dma=0, interrupt=NET_IRQ)
    assert w.binding(0, 1 - free_slot)["interrupt"] == BLOCK_IRQ
    assert w.newer(0, free_slot, 0, 1 - free_slot)  # list_add: at the head of the bucket
    assert not w.dead(0) and w.failed() == set()


def test_bind_in_an_empty_table_uses_slot_0(reading):
    """§3.3.4, §8.1 step 5: the lowest free slot of a fresh table is slot 0."""
    w = world(reading)
    assert w.bind_dma(1, CONSOLE_KEY, ARR0, 1, CONSOLE_IRQ) == 1
    assert w.live(1) == [0]
    assert w.binding(1, 0) == dict(owner=1, off=0, dmas=ARR0, num_dmas=1, next_dma=0, interrupt=CONSOLE_IRQ)


def test_unbind_takes_the_first_slot_with_key_and_dmas_even_if_free(reading):
    """§3.4: unbind_dma walks slots in index order and does not check interrupt != 0: a free slot can match."""
    w = world(reading)
    w.bind(0, 0, BLOCK_KEY, ARR0, num=1, next_dma=3, live=False)  # freed earlier, key and dmas kept
    w.bind(0, 1, BLOCK_KEY, ARR0, num=1, irq=BLOCK_IRQ)
    assert w.bind_dma(0, BLOCK_KEY, ARR0, 0, 0) == 1  # "unbind found"
    assert w.kinds(w.effects) == ["unbind"]
    assert w.binding(0, 1)["interrupt"] == BLOCK_IRQ  # the live binding survives
    assert w.binding(0, 0)["interrupt"] == 0


def test_unbind_clears_only_interrupt_of_the_first_match(reading):
    """§3.4: the first matching slot is unlinked: interrupt = 0; key, dmas, num_dmas, next_dma stay."""
    w = world(reading)
    w.bind(0, 0, BLOCK_KEY, ARR0, num=2, next_dma=5, irq=BLOCK_IRQ)
    w.bind(0, 1, BLOCK_KEY, ARR0, num=1, irq=NET_IRQ)
    assert w.bind_dma(0, BLOCK_KEY, ARR0, 2, 0) == 1
    assert w.binding(0, 0) == dict(owner=0, off=BLOCK_KEY, dmas=ARR0, num_dmas=2, next_dma=5, interrupt=0)
    assert w.binding(0, 1)["interrupt"] == NET_IRQ


@pytest.mark.parametrize("key,dmas", [(BLOCK_KEY, ARR1), (CONSOLE_KEY, ARR0)])
def test_unbind_without_a_match_returns_0(reading, key, dmas):
    """§3.4: no slot with key_eq and the same dmas: unbind_dma returns 0 and nothing changes."""
    w = world(reading)
    w.bind(0, 0, BLOCK_KEY, ARR0, num=1, irq=BLOCK_IRQ)
    assert w.bind_dma(0, key, dmas, 0, 0) == 0
    assert w.kinds(w.effects) == []
    assert w.live(0) == [0]


def test_unbind_matches_a_shared_key_by_futex_identity(reading):
    """§3.1: keys compare as futex keys; the Guest's own net key unbinds its own binding."""
    w = world(reading)
    w.bind(1, 0, NET1, ARR0, num=2, irq=NET_IRQ)
    assert w.bind_dma(1, NET1, ARR0, 0, 0) == 1
    assert w.live(1) == []


def test_unbind_never_matches_a_never_used_slot(reading):
    """§3.1, §3.4: a never-bound slot holds no key; unbinding key 0 (the console's) with dmas 0 finds nothing."""
    w = world(reading)
    assert w.bind_dma(0, CONSOLE_KEY, 0, 0, 0) == 0
    assert w.kinds(w.effects) == []


def test_unbind_in_a_fresh_table_of_guest_1_finds_nothing(reading):
    """§3.4: the same call by Guest 1 (whose private keys cannot look like a zeroed slot in the model) returns 0."""
    w = world(reading)
    assert w.bind_dma(1, CONSOLE_KEY, 0, 0, 0) == 0


@pytest.mark.parametrize("irq", [32, 33, 255])
@pytest.mark.parametrize("key", [BLOCK_KEY, BLOCK_KEY + 2])
def test_bind_irq_32_or_more_returns_0_without_a_kill(reading, irq, key):
    """§3.3.1: interrupt >= LGUEST_IRQS returns 0 at once: no kill, no lock, no key check (even an unaligned key)."""
    w = world(reading)
    assert w.bind_dma(0, key, ARR0, 1, irq) == 0
    assert w.kinds(w.effects) == []
    assert not w.dead(0)
    assert w.live(0) == []


@pytest.mark.parametrize("irq", [BLOCK_IRQ, 0])
def test_bind_with_an_unaligned_key_kills(reading, irq):
    """§3.3.2, §2.4: get_futex_key fails for a key that is not 4-aligned: the caller dies ("bad dma key"); eax 0."""
    w = world(reading)
    w.bind(0, 0, BLOCK_KEY, ARR0, num=1, irq=BLOCK_IRQ)
    assert w.bind_dma(0, BLOCK_KEY + 1, ARR0, 1, irq) == 0
    assert w.kinds(w.effects) == ["kill"]
    assert w.dead(0) and not w.dead(1)
    assert w.reason(0) in (None, f"bad dma key {BLOCK_KEY + 1:#x}")
    assert w.live(0) == [0]  # neither bound nor unbound


def test_bind_into_a_full_table_returns_0(reading):
    """§3.3.5: all slots have interrupt != 0: drop the reference, return 0 (the wrapper's -ENOMEM); no kill.

    Concrete: the real table of 32 (LGUEST_MAX_DMA); symbolic: the checker's `slots`.
    """
    w = world(reading)
    n = w.nslots
    assert n == (CFG.slots if reading == "symbolic" else C.LGUEST_MAX_DMA)
    for s in range(n):
        w.bind(0, s, NET0 + 4 * s, ARR0 if s % 2 else ARR1, num=1, irq=1 + s % 31)
    assert w.bind_dma(0, BLOCK_KEY, ARR0, 1, BLOCK_IRQ) == 0
    assert w.kinds(w.effects) == []
    assert not w.dead(0)
    assert [w.binding(0, s)["interrupt"] for s in range(n)] == [1 + s % 31 for s in range(n)]


def test_bind_accepts_num_0_and_does_not_check_dmas(reading):
    """§3.3 "Not checked": num_dmas = 0 and any dmas address are accepted; they are read only when used."""
    w = world(reading)
    assert w.bind_dma(0, BLOCK_KEY, 0x6FFC, 0, BLOCK_IRQ) == 1
    assert w.binding(0, 0)["num_dmas"] == 0 and w.binding(0, 0)["dmas"] == 0x6FFC


def test_bind_on_a_key_another_guest_holds_is_a_key_collision(reading):
    """§3.3 "Not checked": duplicate keys are accepted; the keys invariant flags the second live one."""
    w = world(reading)
    w.bind(1, 0, NET0, ARR0, num=2, irq=NET_IRQ)  # g1 bound g0's slot key
    assert w.bind_dma(0, NET0, ARR0, 2, NET_IRQ) == 1
    assert w.failed() == {"key-collision"}


def test_bind_outside_every_device_page_is_flagged(reading):
    """§5.3: by convention a key is an address in its device's page (or 0, the console); the Host does not check."""
    w = world(reading)
    assert w.bind_dma(0, 0x2000, ARR0, 1, NET_IRQ) == 1
    assert w.failed() == {"key-outside-device"}


# ====================================================================== send_attempt (§3.5) through SEND_DMA (§1.3)
@pytest.mark.parametrize("key", [CONSOLE_KEY, BLOCK_KEY])
def test_send_on_a_private_key_goes_to_the_launcher(reading, key):
    """§3.5.4, §1.5: a private key sets dma_is_pending with (key, udma); no transfer, no interrupt."""
    w = world(reading)
    w.bind(1, 0, key, ARR0, num=2, irq=CONSOLE_IRQ)  # g1's binding on the same number: another mm, never reached
    w.desc(0, SEND, 77, [(0x2000, 10)])
    assert w.send(0, key, SEND) == ["pending"]
    assert w.pending(0) == (key, SEND) and w.pending(1) is None
    assert w.used_len(0, SEND) == 0  # §1.3: the wrapper pre-clears used_len
    assert w.irqs(0) == w.irqs(1) == 0
    assert w.binding(1, 0)["next_dma"] == 0


@pytest.mark.parametrize("first,later", [(1, 2), (2, 1)])
def test_send_on_a_shared_key_reaches_the_newest_other_guests_binding(reading, first, later):
    """§3.5.3, §3.2: list_add puts a new binding first; the walk takes the first match: the later binder receives."""
    w = world(reading, CFG3)
    w.bind(first, 0, NET1, ARR0, num=2, irq=NET_IRQ)
    w.bind(later, 0, NET1, ARR1, num=2, irq=NET_IRQ)
    w.desc(0, SEND, 0, [(0x2000, 60)])
    for g in (1, 2):
        for base in CFG.arrays:
            w.desc(g, base, 0, [(0x3000, 100)])
    assert w.send(0, NET1, SEND) == ["deliver"]
    assert w.used_len(later, ARR1) == 60 and w.binding(later, 0)["next_dma"] == 1
    assert w.irqs(later) == 1 << NET_IRQ
    assert w.used_len(first, ARR0) == 0 and w.binding(first, 0)["next_dma"] == 0
    assert w.irqs(first) == 0


def test_send_on_a_shared_key_reaches_the_newest_of_one_guests_two_bindings(reading):
    """§3.5.3: at most one receiver per SEND_DMA, the most recently bound match (two slots of one Guest)."""
    w = world(reading)
    w.bind(1, 1, NET1, ARR1, num=2, irq=NET_IRQ)
    w.bind(1, 0, NET1, ARR0, num=2, irq=NET_IRQ)  # bound later, though in a lower slot
    w.desc(0, SEND, 0, [(0x2000, 8)])
    for base in CFG.arrays:
        w.desc(1, base, 0, [(0x3000, 100)])
    assert w.send(0, NET1, SEND) == ["deliver"]
    assert w.used_len(1, ARR0) == 8 and w.used_len(1, ARR1) == 0


def test_send_skips_the_senders_own_bindings(reading):
    """§3.5.3 "Don't send to ourselves": the sender's own (newer) binding is skipped; the other Guest's receives."""
    w = world(reading)
    w.bind(1, 0, NET1, ARR0, num=2, irq=NET_IRQ)
    w.bind(0, 0, NET1, ARR0, num=2, irq=NET_IRQ)  # the sender's, and the newest
    w.desc(0, SEND, 0, [(0x2000, 16)])
    w.desc(1, E0, 0, [(0x3000, 100)])
    assert w.send(0, NET1, SEND) == ["deliver"]
    assert w.used_len(1, E0) == 16
    assert w.used_len(0, E0) == 0 and w.binding(0, 0)["next_dma"] == 0 and w.irqs(0) == 0


def test_send_with_only_own_bindings_is_dropped(reading):
    """§3.5.4: a Guest can never reach its own bindings with SEND_DMA."""
    w = world(reading)
    w.bind(0, 0, NET1, ARR0, num=2, irq=NET_IRQ)
    w.desc(0, SEND, 5, [(0x2000, 16)])
    assert w.send(0, NET1, SEND) == ["drop"]
    assert w.used_len(0, E0) == 0 and w.irqs(0) == 0 and w.used_len(0, SEND) == 0


def test_send_with_no_receiver_is_dropped(reading):
    """§3.5.3: no live match: nothing happens, no interrupt; the source used_len stays 0 (pre-cleared), §1.3."""
    w = world(reading)
    w.bind(1, 0, NET1, ARR0, num=2, live=False)  # a free slot still holding the key does not receive
    w.desc(0, SEND, 77, [(0x2000, 16)])
    assert w.send(0, NET1, SEND) == ["drop"]
    assert w.used_len(0, SEND) == 0
    assert w.irqs(1) == 0 and w.pending(0) is None


def test_send_with_an_unaligned_key_kills_the_sender(reading):
    """§3.5.2, §2.4: get_futex_key fails: "bad sending DMA key"; the sender dies."""
    w = world(reading)
    w.bind(1, 0, NET1, ARR0, num=2, irq=NET_IRQ)
    assert w.send(0, NET1 + 2, SEND) == ["kill"]
    assert w.dead(0) and not w.dead(1)
    assert w.reason(0) in (None, "bad sending DMA key")


def test_send_attempt_alone_does_not_preclear(reading):
    """§1.3: the pre-clear is the Guest wrapper's (lguest_send_dma), not the Host's send_dma."""
    w = world(reading)
    w.desc(0, SEND, 77, [(0x2000, 16)])
    assert w.send_attempt(0, NET1, SEND) is False
    assert w.kinds(w.effects) == ["drop"]
    assert w.used_len(0, SEND) == 77


# ====================================================================== dma_transfer (§3.6), copy_data (§3.7)
def _receiver(reading, next_dma=0, used=(0, 0), num=2, sections=((0x3000, 100),), src=((0x2000, 40),)):
    """g1 bound NET1 on ARR0 (num entries), g0 about to send `src` from SEND."""
    w = world(reading)
    w.bind(1, 0, NET1, ARR0, num=num, next_dma=next_dma, irq=NET_IRQ)
    w.desc(1, E0, used[0], sections)
    w.desc(1, E1, used[1], sections)
    w.desc(0, SEND, 0, src)
    return w


@pytest.mark.parametrize(
    "next_dma,used,entry,after",
    [
        (0, (0, 0), E0, 1),
        (1, (0, 0), E1, 2),  # the search starts at the cursor
        (1, (0, 9), E0, 2),  # wraps to entry 0; the cursor moves by one from its OLD value, not to idx+1 = 1
        (0, (9, 0), E1, 1),  # next_dma++ (1), not idx+1 (2)
        (3, (0, 0), E1, 4),  # (next_dma + i) % num_dmas
        (0xFFFF, (0, 0), E1, 0),  # u16 cursor wraps at 65536
    ],
)
def test_transfer_takes_the_first_free_entry_from_the_cursor(reading, next_dma, used, entry, after):
    """§3.6.4-5: search from (next_dma + i) % num_dmas for used_len 0; then next_dma++ (a u16)."""
    w = _receiver(reading, next_dma, used)
    assert w.send(0, NET1, SEND) == ["deliver"]
    assert w.used_len(1, entry) == 40
    other = E1 if entry == E0 else E0
    assert w.used_len(1, other) == used[(other - E0) // C.DMA_SIZE]
    assert w.binding(1, 0)["next_dma"] == after
    assert w.used_len(0, SEND) == 40
    assert w.irqs(1) == 1 << NET_IRQ


@pytest.mark.parametrize(
    "next_dma,entry,after",
    [
        (0xFFFE, 2, 0xFFFF),  # 65534 % 3 = 2
        (0xFFFF, 0, 0),  # 65535 % 3 = 0, then the u16 wraps to 0: entry 0 again next time
        (0, 0, 1),
    ],
)
def test_transfer_cursor_jumps_at_the_u16_wrap_when_num_dmas_does_not_divide_65536(reading, next_dma, entry, after):
    """§3.6.5 [ANALYSIS]: next_dma is a u16; for num_dmas = 3 the search start jumps at the wrap (2, 0, 0, 1 ...)."""
    cfg = Config(buffers=3)
    w = World(reading, cfg)
    w.bind(1, 0, NET1, ARR0, num=3, next_dma=next_dma, irq=NET_IRQ)
    for i in range(3):
        w.desc(1, ARR0 + i * C.DMA_SIZE, 0, [(0x3000, 100)])
    w.desc(0, cfg.send_cell, 0, [(0x2000, 10)])
    assert w.send(0, NET1, cfg.send_cell) == ["deliver"]
    assert [w.used_len(1, ARR0 + i * C.DMA_SIZE) for i in range(3)] == [10 if i == entry else 0 for i in range(3)]
    assert w.binding(1, 0)["next_dma"] == after


def test_a_host_that_skips_the_used_len_check_writes_to_a_used_buffer(reading):
    """The buffers invariant on the Host's deliver: with the injected fault, a used entry is overwritten."""
    w = World(reading, Config(faults=("host-skips-used-len-check",)))
    w.bind(1, 0, NET1, ARR0, num=2, irq=NET_IRQ)
    w.desc(1, E0, 9, [(0x3000, 100)])
    w.desc(1, E1, 9, [(0x3000, 100)])
    w.desc(0, SEND, 0, [(0x2000, 10)])
    assert w.send(0, NET1, SEND) == ["deliver"]
    assert w.used_len(1, E0) == 10
    assert w.failed() == {"write-to-used-buffer"}


@pytest.mark.parametrize(
    "src,dst,n",
    [
        (((0x2000, 100), (0x3000, 200)), ((0x3000, 250),), 250),  # excess source data is dropped
        (((0x2000, 100), (0x3000, 200)), ((0x3000, 1000), (0x2000, 1000)), 300),
        (((0x2000, 4096),), ((0x3000, 1),), 1),
        (((0x2000, 7),), ((0x3000, 0), (0x2000, 50)), 0),  # dst sections end at the first 0 length
    ],
)
def test_transfer_copies_min_of_the_totals_into_src_then_dst_used_len(reading, src, dst, n):
    """§3.7: copy_data stops when either side runs out: min(totals); §3.6.5: src used_len := ret, then dst's."""
    w = _receiver(reading, sections=dst, src=src)
    assert w.copy_data(0, SEND, 1, E0) == n
    writes = []  # every used_len store that happens, in order
    store = w.st.wr_used_len

    def recording(g, addr, value, when=True):
        writes.append((g, addr, value, when))
        return store(g, addr, value, when)

    w.st.wr_used_len = recording
    kinds = w.send(0, NET1, SEND)
    writes = [(g, w.val(a), w.val(v)) for g, a, v, when in writes if w.val(when) is True]
    (deliver,) = [e for e in w.happened(w.effects) if e.kind == "deliver"] or [None]
    if n:
        assert kinds == ["deliver"]
        assert deliver.f["src"][0] == 0 and deliver.f["dst"][0] == 1
        # The wrapper's pre-clear, then the source's used_len, then (after the wmb) the destination's.
        assert writes == [(0, SEND, 0), (0, SEND, n), (1, E0, n)]
        assert w.used_len(0, SEND) == n and w.used_len(1, E0) == n
    else:
        # ret == 0 with len[0] != 0: the transfer fails with no interrupt (§3.6.5).
        assert kinds == [] and deliver is None
        assert w.used_len(0, SEND) == 0 and w.irqs(1) == 0 and w.binding(1, 0)["next_dma"] == 0


def test_transfer_to_a_full_receiver_raises_its_irq_and_retries_once(reading):
    """§3.6.7-8, §3.5.3: no free entry: the irq is raised anyway; src used_len stays 0; send_dma retries once."""
    w = _receiver(reading, used=(5, 6))
    assert w.send(0, NET1, SEND) == ["full", "full"]
    assert len(w.attempts) == 2
    assert w.irqs(1) == 1 << NET_IRQ
    assert w.used_len(0, SEND) == 0
    assert (w.used_len(1, E0), w.used_len(1, E1)) == (5, 6)
    assert w.binding(1, 0)["next_dma"] == 0


def test_send_attempt_reports_full(reading):
    """§3.6.8: dma_transfer returns 1 when there was no free buffer."""
    w = _receiver(reading, used=(5, 6))
    assert w.send_attempt(0, NET1, SEND) is True
    assert w.kinds(w.effects) == ["full"]
    w = _receiver(reading)
    assert w.send_attempt(0, NET1, SEND) is False


def test_transfer_of_a_ping_delivers_0_bytes_and_advances_the_cursor(reading):
    """§3.6.5: an empty source (len[0] == 0) gives ret 0: dst used_len stays 0; the cursor advances; the irq rises."""
    w = _receiver(reading, next_dma=1, src=())
    assert w.send(0, NET1, SEND) == ["deliver"]
    (d,) = w.happened(w.effects)
    assert w.val(d.f["len"]) == 0 and w.val(d.f["dst"][1]) == E1
    assert w.used_len(1, E1) == 0 and w.used_len(1, E0) == 0
    assert w.binding(1, 0)["next_dma"] == 2
    assert w.irqs(1) == 1 << NET_IRQ
    assert w.used_len(0, SEND) == 0


def test_transfer_to_num_dmas_0_is_full(reading):
    """§3.6.8 [ANALYSIS]: with num_dmas == 0 the loop never runs: "full", and the interrupt is raised."""
    w = _receiver(reading, num=0)
    assert w.send(0, NET1, SEND) == ["full", "full"]
    assert w.irqs(1) == 1 << NET_IRQ
    assert w.used_len(1, E0) == 0 and w.binding(1, 0)["next_dma"] == 0


def test_transfer_into_a_bad_destination_entry_kills_the_receiver(reading):
    """§2.4, §3.7: check_dma_list on the destination fails: dst is killed, ret 0, no interrupt, cursor kept."""
    w = _receiver(reading, sections=((0x3000, 5000),))
    assert w.send(0, NET1, SEND) == ["kill"]
    assert w.dead(1) and not w.dead(0)
    assert w.reason(1) in (None, "bad DMA entry: 5000@0x3000")
    assert w.irqs(1) == 0 and w.binding(1, 0)["next_dma"] == 0
    assert w.used_len(0, SEND) == 0 and w.used_len(1, E0) == 0


def test_transfer_from_a_bad_source_kills_the_sender(reading):
    """§2.4, §3.7: check_dma_list on the source fails (a section ending at pfn_limit*4096): the sender is killed."""
    w = _receiver(reading, src=((LIMIT_END - 0x10, 0x10),))
    assert w.send(0, NET1, SEND) == ["kill"]
    assert w.dead(0) and not w.dead(1)
    assert w.reason(0) in (None, f"bad DMA entry: 16@{LIMIT_END - 0x10:#x}")
    assert w.irqs(1) == 0


def test_transfer_from_a_source_struct_outside_memory_kills_with_lgreads_words(reading):
    """§2.4: lgread of the sent struct fails: the sender dies with core.c lgread's text, which names the length."""
    w = _receiver(reading)
    assert w.send(0, NET1, LIMIT_END - 0x60)[0] == "kill"
    assert w.dead(0)
    assert w.reason(0) in (None, f"bad read address {LIMIT_END - 0x60:#x} len 100")


# ====================================================================== check_dma_list (§2.3)
@pytest.mark.parametrize(
    "sections,want",
    [
        (((0x2000, 4096),), (True, 0, 0)),  # a whole page is fine
        (((0x2000, 4097),), (False, 4097, 0x2000)),  # len > PAGE_SIZE
        (((0x2F00, 0x200),), (False, 0x200, 0x2F00)),  # crosses a page
        (((0x2FFF, 2),), (False, 2, 0x2FFF)),
        (((LIMIT_END - 0x100, 0x100),), (False, 0x100, LIMIT_END - 0x100)),  # ends exactly at pfn_limit*4096
        (((LIMIT_END - 0x100, 0xFF),), (True, 0, 0)),  # one byte shorter: fine
        (((0x2000, 10), (LIMIT_END, 4)), (False, 4, LIMIT_END)),  # the second section is bad
        (((0x2000, 0), (LIMIT_END, 4)), (True, 0, 0)),  # the list ends at the first 0 length
        ((), (True, 0, 0)),  # a ping
    ],
)
def test_check_dma_list(reading, sections, want):
    """§2.3: each section up to the first 0 length: lguest_address_ok, len <= PAGE_SIZE, no page crossing."""
    w = world(reading)
    w.desc(0, E0, 0, sections)
    assert w.check_dma_list(0, E0) == want


def test_check_dma_list_reads_sixteen_sections():
    """§2.1: the len array ends at the first 0 or after 16 entries (the checker keeps `sections`; concrete only)."""
    w = World("concrete")
    w.desc(0, E0, 0, [(0x2000, 1)] * 15 + [(LIMIT_END, 1)])
    assert w.check_dma_list(0, E0) == (False, 1, LIMIT_END)


# ====================================================================== get_dma_buffer (§3.9, §4.2) and fill (§4.3)
def _own(reading, next_dma=0, used=(0, 0), num=2):
    w = world(reading)
    w.bind(0, 0, BLOCK_KEY, ARR0, num=num, next_dma=next_dma, irq=BLOCK_IRQ)
    w.desc(0, E0, used[0], [(0x2000, 100)])
    w.desc(0, E1, used[1], [(0x3000, 100)])
    return w


@pytest.mark.parametrize(
    "next_dma,used,entry",
    [
        (0, (0, 0), E0),
        (1, (0, 0), E0),  # always from index 0: next_dma is ignored
        (0, (9, 0), E1),
        (1, (9, 0), E1),
        (0, (9, 3), E1),  # every entry used: the LAST entry
        (1, (0, 3), E0),
    ],
)
def test_get_dma_buffer_first_free_from_index_0_else_the_last(reading, next_dma, used, entry):
    """§3.9: first entry with used_len 0 from index 0, else the LAST one; next_dma neither used nor advanced."""
    w = _own(reading, next_dma, used)
    found, udma, irq, used_before = w.get_dma_buffer(0, BLOCK_KEY)
    assert (found, udma, irq) == (True, entry, BLOCK_IRQ)
    assert used_before == used[(entry - E0) // C.DMA_SIZE]
    assert w.binding(0, 0)["next_dma"] == next_dma


@pytest.mark.parametrize("case", ["other-guest", "num-0", "free-slot", "no-binding"])
def test_get_dma_buffer_finds_nothing(reading, case):
    """§3.9.2-3: only the caller's own Guest's live binding counts; 0 if none or num_dmas == 0."""
    w = world(reading)
    if case == "other-guest":
        w.bind(1, 0, NET1, ARR0, num=2, irq=NET_IRQ)  # same shared futex key, another Guest
    elif case == "num-0":
        w.bind(0, 0, NET1, ARR0, num=0, irq=NET_IRQ)
    elif case == "free-slot":
        w.bind(0, 0, NET1, ARR0, num=2, live=False)
    assert w.get_dma_buffer(0, NET1)[0] is False
    assert w.fill(0, NET1, 10) == ["nobuf"]
    assert w.used_len(0, E0) == 0 and w.irqs(0) == 0


def test_get_dma_buffer_of_an_entry_at_address_0_finds_nothing(reading):
    """§4.2.1: user_get_dma answers -ENOENT when get_dma_buffer returns 0, also for a free entry AT address 0."""
    w = world(reading)
    w.bind(0, 0, BLOCK_KEY, 0, num=1, irq=BLOCK_IRQ)  # (descriptor memory outside the cells reads as 0: free)
    if not w.symbolic:
        w.desc(0, 0, 0, [(0x2000, 100)])
    assert w.get_dma_buffer(0, BLOCK_KEY)[0] is False
    # On the block device's key the -ENOENT makes the Launcher exit (handle_block_output: err(1)), a close.
    assert w.fill(0, BLOCK_KEY, 10) == ["nobuf", "close"]
    assert w.irqs(0) == 0


@pytest.mark.parametrize("key", [CONSOLE_KEY, BLOCK_KEY])
def test_fill_for_a_dead_guest_is_discarded(reading, key):
    """§4.1: once the Guest is dead every /dev/lguest write answers -ENOENT, GETDMA too: the input is discarded.

    The block device's handler does not discard: it exits (handle_block_output: err(1)), and the exit closes
    /dev/lguest.
    """
    w = _own(reading)
    w.bind(0, 1, CONSOLE_KEY, ARR1, num=1, irq=CONSOLE_IRQ)
    w.set_dead(0)
    assert w.fill(0, key, 10) == (["nobuf", "close"] if key == BLOCK_KEY else ["nobuf"])
    assert w.used_len(0, E0) == 0 and w.irqs(0) == 0
    assert w.failed() == set()


@pytest.mark.parametrize("key,exits", [(CONSOLE_KEY, False), (BLOCK_KEY, True), (NET0, False)])
def test_no_buffer_on_the_block_key_makes_the_launcher_exit(reading, key, exits):
    """lguest.c handle_block_output: `if (!lenp) err(1, ...)`; console and tun discard (discard_iovec) instead.

    The exit closes /dev/lguest: release_all_dma (§3.8) unlinks every live binding of the Guest.
    """
    w = world(reading)
    w.bind(0, 0, NET1, ARR0, num=2, irq=NET_IRQ)  # another binding of g0, which the exit removes
    assert w.fill(0, key, 10) == (["nobuf", "close"] if exits else ["nobuf"])
    assert w.live(0) == ([] if exits else [0])
    assert w.irqs(0) == 0 and w.failed() == set()


def test_a_checked_launcher_given_a_used_block_buffer_discards_and_stays(reading):
    """The exit is GETDMA's -ENOENT only: a `checked` Launcher refusing the used buffer GETDMA gave does not exit."""
    w = _own(reading, used=(9, 3))
    assert w.fill(0, BLOCK_KEY, 20, checked=True) == ["nobuf"]
    assert w.live(0) == [0]


def test_a_failed_block_readv_stores_minus_one_and_writes_nothing():
    """lguest.c handle_block_output: `unsigned int len = readv(...)` is -1 on failure; `*lenp = len` stores 0xffffffff.

    No byte was written: no buffer-overflow (a false one is what replay reported before).  The irq is still
    raised (trigger_irq).  Concrete reading only: the checker's words are 16 bits wide and prove never
    chooses a failed readv.
    """
    w = _own("concrete")
    assert w.fill(0, BLOCK_KEY, 50, readv_failed=True) == ["fill"]
    assert w.used_len(0, E0) == 0xFFFF_FFFF
    assert w.irqs(0) == 1 << BLOCK_IRQ
    assert w.failed() == set()


@pytest.mark.parametrize("key", [CONSOLE_KEY, NET1])
def test_readv_failed_changes_nothing_off_the_block_key(key):
    """Console input stores 0 when readv fails and tun exits: only the block reply stores (u32)-1 (fill_bytes)."""
    w = world("concrete")
    w.bind(0, 0, key, ARR0, num=1, irq=CONSOLE_IRQ)
    w.desc(0, E0, 0, [(0x2000, 100)])
    assert w.fill(0, key, 50, readv_failed=True) == ["fill"]
    assert w.used_len(0, E0) == 50 and w.failed() == set()


def test_fill_bytes_is_zero_only_for_the_block_reply_of_minus_one():
    """The bytes a recorded fill wrote (replay's reading of a fill's used_len)."""
    w = world("concrete")
    assert fill_bytes(Concrete, w.st, 0, BLOCK_KEY, 0xFFFF_FFFF) == 0
    assert fill_bytes(Concrete, w.st, 0, BLOCK_KEY, 512) == 512
    assert fill_bytes(Concrete, w.st, 0, CONSOLE_KEY, 0xFFFF_FFFF) == 0xFFFF_FFFF


def test_get_dma_buffer_with_an_unaligned_key_kills_the_guest(reading):
    """§2.4: a GETDMA key failing get_futex_key kills the Guest, although the Launcher supplied it."""
    w = _own(reading)
    assert w.get_dma_buffer(0, BLOCK_KEY + 2)[0] is False
    assert w.dead(0)


def test_lhreq_irq_for_a_dead_guest_raises_nothing(reading):
    """§4.1: a dead Guest's /dev/lguest write answers -ENOENT: LHREQ_IRQ sets no bit (the Launcher then exits)."""
    w = world(reading)
    w.set_dead(0)
    w.send_irq(0, BLOCK_IRQ)
    assert w.irqs(0) == 0


def test_fill_writes_len_and_raises_the_irq(reading):
    """§4.3 fill pattern: GETDMA, readv, used_len := len, LHREQ_IRQ(irq)."""
    w = _own(reading, used=(9, 0))
    assert w.fill(0, BLOCK_KEY, 42) == ["fill"]
    assert w.used_len(0, E1) == 42 and w.used_len(0, E0) == 9
    assert w.irqs(0) == 1 << BLOCK_IRQ
    assert w.failed() == set()


def test_fill_into_the_last_used_entry_is_a_write_to_a_used_buffer(reading):
    """§3.9 [SRC]: all used, GETDMA still returns the last entry; the 2.6.23 Launcher overwrites it."""
    w = _own(reading, used=(9, 3))
    assert w.fill(0, BLOCK_KEY, 20) == ["fill"]
    assert w.used_len(0, E1) == 20
    assert w.failed() == {"write-to-used-buffer"}


def test_checked_launcher_discards_instead(reading):
    """The `checked` Launcher (not 2.6.23) discards when the buffer GETDMA gave was not free."""
    w = _own(reading, used=(9, 3))
    assert w.fill(0, BLOCK_KEY, 20, checked=True) == ["nobuf"]
    assert w.used_len(0, E1) == 3 and w.failed() == set()


def test_fill_stops_at_the_end_of_the_sections(reading):
    """readv into the iovec dma2iov built stops at its end: 101 bytes waiting, 100 land."""
    w = _own(reading)
    assert w.fill(0, BLOCK_KEY, 101) == ["fill"]
    assert w.used_len(0, E0) == 100
    assert w.failed() == set()


def test_fill_longer_than_the_sections_is_a_buffer_overflow(reading):
    """A Launcher that ignores the iovec's length (fault) writes past the sections: the monitor sees it."""
    w = _own(reading)
    w.st.faults = frozenset({"launcher-ignores-iov-length"})
    assert w.fill(0, BLOCK_KEY, 101) == ["fill"]
    assert w.used_len(0, E0) == 101
    assert w.failed() == {"buffer-overflow"}


# ======================================================== handle_output (§4.4), send_irq (§4.1), close (§3.8)
@pytest.mark.parametrize(
    "key,length",
    [
        (CONSOLE_KEY, 30),  # the console writev()s: used_len = bytes written
        (BLOCK_KEY, 0),  # "the block device uses the result field instead": always 0
        (NET1, 0),  # sharenet: no handler; "Pending dma" warning, used_len stays 0
        (0x2000, 0),  # nobody watches it
    ],
)
def test_handle_output(reading, key, length):
    """§4.4: the first device watching the key (creation order) answers; its return value becomes used_len."""
    w = world(reading)
    w.desc(0, SEND, 0, [(0x2000, 10), (0x3000, 20)])
    w.set_pending(0, key, SEND)
    assert w.output(0) == ["output"]
    assert w.used_len(0, SEND) == length
    assert w.pending(0) is None


@pytest.mark.parametrize(
    "sections,exits",
    [
        ([(0x2000, 10), (0x3000, 20)], False),
        ([(LIMIT_END - 30, 30)], True),  # ends at top: check_pointer's `addr + size >= top`
        ([(LIMIT_END - 31, 30)], False),
        ([(0x2FF0, 0x20)], False),  # crosses a page: the Launcher does not mind
        ([(0x2000, 10), (LIMIT_END, 1)], True),  # a later section
    ],
)
def test_handle_output_exits_when_dma2iov_check_pointer_fails(reading, sections, exits):
    """lguest.c dma2iov: check_pointer on every section up to the first 0 length; errx exits the Launcher.

    No used_len is stored; the exit closes /dev/lguest (every binding of the Guest goes); the send stays
    pending (the Guest never runs again).
    """
    w = world(reading)
    w.bind(0, 0, CONSOLE_KEY, ARR0, num=1, irq=CONSOLE_IRQ)
    w.desc(0, SEND, 7, sections)
    w.set_pending(0, CONSOLE_KEY, SEND)
    assert w.output(0) == (["close"] if exits else ["output"])
    assert w.used_len(0, SEND) == (7 if exits else sum(n for _, n in sections))
    assert w.live(0) == ([] if exits else [0])


@pytest.mark.parametrize("irq,bit", [(1, 1 << 1), (15, 1 << 15), (32, 0), (0x10, 1 << 16)])
def test_send_irq(reading, irq, bit):
    """§4.1: LHREQ_IRQ sets the bit; irq >= 32 is -EINVAL."""
    w = world(reading)
    w.send_irq(0, irq)
    mask = (1 << CFG.width) - 1 if reading == "symbolic" else 0xFFFF_FFFF  # the checker's irqs hold `width` bits
    assert w.irqs(0) == bit & mask


def test_release_all_dma_frees_every_live_slot(reading):
    """§3.8: close() unlinks every slot with interrupt != 0; unlink clears only interrupt (§3.4)."""
    w = world(reading)
    w.bind(0, 0, BLOCK_KEY, ARR0, num=2, next_dma=1, irq=BLOCK_IRQ)
    w.bind(0, 1, NET0, ARR1, num=2, irq=NET_IRQ)
    w.bind(1, 0, NET1, ARR0, num=2, irq=NET_IRQ)
    assert w.close(0) == ["close"]
    assert w.live(0) == [] and w.live(1) == [0]
    assert w.binding(0, 0) == dict(owner=0, off=BLOCK_KEY, dmas=ARR0, num_dmas=2, next_dma=1, interrupt=0)


# ====================================================================== apply(status) (§5.1)
@pytest.mark.parametrize(
    "old,new,by,failed",
    [
        (0, C.ACKNOWLEDGE, "guest", set()),
        (C.ACKNOWLEDGE, C.ACKNOWLEDGE | C.DRIVER, "guest", set()),
        (3, 3 | C.DRIVER_OK, "guest", set()),
        (3, 3 | C.FAILED, "guest", set()),
        (3, 3, "guest", set()),
        (3, 1, "guest", {"status-cleared"}),  # "only ever set"
        (7, 0, "guest", {"status-cleared"}),
        (3, 3 | C.REMOVED, "guest", {"status-forbidden-bit"}),  # only the Host/Launcher may set REMOVED
        (7, C.REMOVED, "guest", {"status-cleared", "status-forbidden-bit"}),
        (C.REMOVED, C.REMOVED | C.REMOVED_ACK, "guest", set()),
        (0, C.REMOVED, "launcher", set()),
        (7, 7 | C.REMOVED, "launcher", set()),
        (3, 7, "launcher", {"status-forbidden-bit"}),  # the rest belong to the Guest
        (0, C.ACKNOWLEDGE, "launcher", {"status-forbidden-bit"}),
        (7, 3 | C.REMOVED, "launcher", {"status-cleared"}),
    ],
)
def test_status_write(reading, old, new, by, failed):
    """§5.1: status bits are only ever set; the Guest sets all but REMOVED; the header gives REMOVED to the Host."""
    w = world(reading)
    w.set_status(0, 1, old)
    assert w.status_write(0, 1, new, by) == ["status"]
    assert w.failed() == failed
    assert w.status(0, 1) == new  # the write happens; the finding reports it
    assert w.status(0, 0) == 0 and w.status(1, 1) == 0


# ====================================================================== the symbolic reading, proved
def test_symbolic_results_follow_from_the_pinned_scenario_by_proof():
    """The symbolic post-state is a term over the pinned fields; z3 proves the expected values from the facts alone."""
    w = _receiver("symbolic", next_dma=1, used=(0, 9))
    w.send(0, NET1, SEND)
    b = w.slots(1)[0]
    cell = {c.addr: c for c in w.st.cells[1]}
    assert not isinstance(b.next_dma, int)  # a real term, not a folded value
    assert w.prove(b.next_dma == 2)
    assert w.prove(cell[E0].used_len == 40)
    assert w.prove(cell[E1].used_len == 9)
    assert w.prove(w.st.irqs[1] == 1 << NET_IRQ)
    assert not w.prove(b.next_dma == 1)  # the solver finds the counterexample: the claim is false
