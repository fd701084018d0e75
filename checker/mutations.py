"""Mutations of the model, as data: each is one small semantic bug that `lgcheck prove` must catch.

A mutation replaces `old` (which must occur exactly once in `file`, so a
refactor that moves the line fails loudly instead of testing nothing) by
`new` in a copy of the package (checker/mutate.py), then runs
`lgcheck prove FLAGS` on the copy.  It is caught when prove reports every
invariant of `breaks` VIOLATED (exit 1) with a counterexample that `lgcheck
replay` (same `--launcher`/`--fault`, same mutated copy) reports with the same
rule at its last record.

`equivalent` holds the reason a mutation cannot change any verdict; such a
mutation is still applied and proved, and prove must then find nothing
(a violation means the reason is wrong).

`file` is a path inside the repository (spec/host.py, checker/config.py, ...):
the package layout maps spec/ to lgcheck.spec and so on.  Most mutations are of
spec/ (the Host and Launcher rules); the few of checker/config.py and
checker/transition.py change what the modelled drivers do (their keys, their
status writes, the readv bound of the environment).
"""

from __future__ import annotations

from typing import NamedTuple


def only(*invariants: str, launcher: str = "2.6.23") -> tuple[str, ...]:
    """prove flags that check only these invariants (so a run ends as soon as they are settled).

    Without sysfs status writes: Guest userspace may clear any status bit in
    2.6.23, so the status invariants hold unmutated only with the drivers alone.
    """
    return ("--launcher", launcher, "--no-sysfs") + tuple(f for inv in invariants for f in ("--inv", inv))


def checked(*invariants: str) -> tuple[str, ...]:
    """The same with the Launcher that refuses used buffers, under which every invariant holds unmutated."""
    return only(*invariants, launcher="checked")


class Mutation(NamedTuple):
    id: str
    file: str  # path in the repository, e.g. spec/host.py
    old: str  # the exact source text to replace; must occur exactly once
    new: str
    breaks: tuple[str, ...]  # invariants prove must report VIOLATED (empty when equivalent)
    flags: tuple[str, ...]  # `lgcheck prove` flags (the runner adds --json, --out, --no-progress)
    what: str  # the bug, in a line
    equivalent: str = ""  # why no verdict can change, for an equivalent mutation


MUTATIONS: list[Mutation] = [
    # ------------------------------------------------------------ keys: get_futex_key and bindings
    Mutation(
        "futex-private-page-offset",
        "spec/host.py",
        "owner, off = g, ukey",
        "owner, off = g, ops.BitAnd(ukey, C.PAGE_SIZE - 1)",
        ("key-collision",),
        only("key-collision"),
        "a private key's identity keeps only its offset in the page: the console's key 0 and the block page alias",
    ),
    Mutation(
        "futex-private-owner-guest0",
        "spec/host.py",
        "owner, off = g, ukey",
        "owner, off = 0, ukey",
        ("key-collision",),
        only("key-collision"),
        "every Guest's private keys are Guest 0's: the two consoles' key 0 alias",
    ),
    Mutation(
        "futex-shared-as-private",
        "spec/host.py",
        "owner = ops.If(inside, C.SHARED_OWNER + sid, owner)",
        "owner = ops.If(inside, g, owner)",
        ("key-collision",),
        only("key-collision"),
        "a shared page's offset is taken as a private address: the net key at offset 0 aliases the console's key 0",
    ),
    Mutation(
        "futex-map-end-inclusive",
        "spec/host.py",
        "ops.ULT(ukey, ops.Add(base, size))",
        "ops.ULE(ukey, ops.Add(base, size))",
        ("key-collision",),
        only("key-collision"),
        "off-by-one at the end of a shared mapping: the next page (each Guest's block page) becomes shared",
    ),
    Mutation(
        "futex-shared-offset-shift",
        "spec/host.py",
        "off = ops.If(inside, ops.Sub(ukey, base), off)",
        "off = ops.If(inside, ops.LShR(ops.Sub(ukey, base), 3), off)",
        ("key-collision",),
        only("key-collision"),
        "a shared key's offset in the wrong unit (>> 3): the peers' net keys 4 bytes apart alias",
    ),
    Mutation(
        "live-match-ignores-interrupt",
        "spec/host.py",
        "return ops.And(ops.Ne(b.interrupt, 0), ops.Eq(b.owner, owner), ops.Eq(b.off, off))",
        "return ops.And(ops.Eq(b.owner, owner), ops.Eq(b.off, off))",
        ("write-to-used-buffer",),
        checked("write-to-used-buffer"),
        # (Once equivalent: no monitor looked at which binding received.  write-to-used-buffer now reads the
        # binding table itself, and replay's bucket, under LGCHECK_INTERPRETED, no longer filters liveness.)
        "send and GETDMA also find unbound slots (interrupt 0) on the key: data lands in a freed binding's array",
    ),
    Mutation(
        "net-key-page-stride",
        "checker/config.py",
        "return self.net_pfn * C.PAGE_SIZE + 4 * self.net_slot(g)",
        "return self.net_pfn * C.PAGE_SIZE + C.PAGE_SIZE * self.net_slot(g)",
        ("key-collision",),
        only("key-collision"),
        "peer_key with a page stride instead of 4 bytes: Guest 1's net key is its own block page",
    ),
    Mutation(
        "block-key-past-device",
        "checker/config.py",
        "return self.block_pfn * C.PAGE_SIZE",
        "return (self.block_pfn + 1) * C.PAGE_SIZE",
        ("key-outside-device",),
        only("key-outside-device"),
        "the block driver's key is one page past its device page",
    ),
    Mutation(
        "block-device-no-page",
        "checker/config.py",
        "(1, C.BLOCK, self.block_pfn, 1, 0x8000)",
        "(1, C.BLOCK, self.block_pfn, 0, 0x8000)",
        ("key-outside-device",),
        only("key-outside-device"),
        "the Launcher gives the block device no page (wrong length), but its driver binds a key there",
    ),
    # ------------------------------------------------------------ status
    Mutation(
        "status-store-only-new-bits",
        "spec/devices.py",
        "value=value",
        "value=ops.BitAnd(value, ops.BitNot(st.status(g, dev)))",
        ("status-cleared",),
        only("status-cleared"),
        "the status store keeps only the bits that changed (new AND NOT old), clearing the ones already set",
    ),
    Mutation(
        "status-store-sets-removed",
        "spec/devices.py",
        "value=value",
        "value=ops.BitOr(value, 8)",
        ("status-forbidden-bit",),
        only("status-forbidden-bit"),
        "wrong mask: every status store also sets REMOVED (8)",
    ),
    Mutation(
        "status-writer-swapped",
        "spec/devices.py",
        "by=by",
        'by="launcher" if by == "guest" else "guest"',
        ("status-forbidden-bit",),
        only("status-forbidden-bit"),
        "swapped operand: a Guest's status write is taken as the Launcher's and the other way round",
    ),
    Mutation(
        "driver-status-store",
        "checker/transition.py",
        "set_bit = ops.Eq(value, ops.BitOr(old, bit))",
        "set_bit = ops.Eq(value, bit)",
        ("status-cleared",),
        only("status-cleared"),
        # (status AND bit would be invisible: status starts at 0, so such a driver never sets anything)
        "a driver writes its bit alone instead of status OR its bit",
    ),
    # ------------------------------------------------------------ buffers: the Host's dma_transfer
    Mutation(
        "transfer-writes-next-entry",
        "spec/host.py",
        "entry = ops.If(hit, addr, entry)",
        "entry = ops.If(hit, ops.Add(b.dmas, ops.Mul(ops.If(ops.UGE(ops.Add(idx, 1), num), 0, ops.Add(idx, 1)), "
        "C.DMA_SIZE)), entry)",
        ("write-to-used-buffer",),
        checked("write-to-used-buffer"),
        "dma_transfer checks entry idx but copies into entry (idx+1) % num",
    ),
    Mutation(
        "transfer-reads-sender-memory",
        "spec/host.py",
        "    free_in = h\n",
        "    free_in = g\n",
        ("write-to-used-buffer",),
        checked("write-to-used-buffer"),
        "swapped operand: the free test reads used_len at that address in the sender's memory, not the receiver's",
    ),
    Mutation(
        "transfer-free-off-by-one",
        "spec/host.py",
        "else ops.Eq(used, 0)",
        "else ops.ULE(used, 1)",
        ("write-to-used-buffer",),
        checked("write-to-used-buffer"),
        "off-by-one: an entry with used_len 1 counts as free",
    ),
    Mutation(
        "transfer-drops-used-check",
        "spec/host.py",
        "hit = ops.And(active, readable, free)",
        "hit = ops.And(active, readable)",
        ("write-to-used-buffer",),
        checked("write-to-used-buffer"),
        "dropped check: the first readable entry from the cursor is taken whatever its used_len",
    ),
    Mutation(
        "transfer-copies-source-length",
        "spec/host.py",
        "len=ret,",
        "len=src.total,",
        ("buffer-overflow",),
        checked("buffer-overflow"),
        "wrong length: the delivered count is the source's total, not what copy_data copied",
    ),
    Mutation(
        "copy-data-max",
        "spec/host.py",
        "return ops.Min(src.total, dst.total)",
        "return ops.If(ops.UGE(src.total, dst.total), src.total, dst.total)",
        ("buffer-overflow",),
        checked("buffer-overflow"),
        "copy_data copies max(source, destination) instead of min",
    ),
    Mutation(
        "copy-data-off-by-one",
        "spec/host.py",
        "return ops.Min(src.total, dst.total)",
        "return ops.Add(ops.Min(src.total, dst.total), 1)",
        ("buffer-overflow",),
        checked("buffer-overflow"),
        "off-by-one: copy_data copies one byte more than min(source, destination)",
    ),
    Mutation(
        "check-dma-list-total-off-by-one",
        "spec/host.py",
        "total = ops.Add(total, ops.If(active, ln, 0))",
        "total = ops.Add(total, ops.If(active, ops.Add(ln, 1), 0))",
        ("buffer-overflow",),
        checked("buffer-overflow"),
        "wrong length: check_dma_list counts each section one byte longer, so copy_data overfills the destination",
    ),
    # ------------------------------------------------------------ buffers: the Launcher's fill and GETDMA
    Mutation(
        "total-len-off-by-one",
        "spec/host.py",
        "total = ops.Add(total, ops.If(ended, 0, ln))",
        "total = ops.Add(total, ops.If(ended, 0, ops.Add(ln, 1)))",
        ("buffer-overflow",),
        checked("buffer-overflow"),
        "wrong length: the iovec the Launcher reads into is one byte longer per section than the buffer",
    ),
    Mutation(
        "fill-writes-one-more",
        "spec/launcher.py",
        "len=got, irq=irq",
        "len=ops.Add(got, 1), irq=irq",
        ("buffer-overflow",),
        checked("buffer-overflow"),
        "off-by-one: the Launcher writes (and reports) one byte more than it read",
    ),
    Mutation(
        "fill-next-descriptor",
        "spec/launcher.py",
        "dma=udma, len=got",
        "dma=ops.Add(udma, C.DMA_SIZE), len=got",
        ("buffer-overflow",),
        checked("buffer-overflow"),
        "wrong entry: the Launcher fills the descriptor after the one GETDMA returned",
    ),
    Mutation(
        "fill-checked-drops-used-test",
        "spec/launcher.py",
        "usable = ops.And(found, ops.Eq(used_before, 0))",
        "usable = found",
        ("write-to-used-buffer",),
        checked("write-to-used-buffer"),
        "dropped check: the checked Launcher fills whatever GETDMA returns (the 2.6.23 defect)",
    ),
    Mutation(
        "fill-checked-off-by-one",
        "spec/launcher.py",
        "usable = ops.And(found, ops.Eq(used_before, 0))",
        "usable = ops.And(found, ops.ULE(used_before, 1))",
        ("write-to-used-buffer",),
        checked("write-to-used-buffer"),
        "off-by-one: the checked Launcher takes a buffer with used_len 1 as free",
    ),
    Mutation(
        "getdma-reports-free",
        "spec/host.py",
        "used_at = ops.If(active, used, used_at)",
        "used_at = ops.If(active, 0, used_at)",
        ("write-to-used-buffer",),
        checked("write-to-used-buffer"),
        "GETDMA reports used_len 0 for the entry it returns, even the used last entry",
    ),
    Mutation(
        "getdma-reads-next-entry",
        "spec/host.py",
        "st.rd_used_len(g, addr)",
        "st.rd_used_len(g, ops.Add(addr, C.DMA_SIZE))",
        ("write-to-used-buffer",),
        checked("write-to-used-buffer"),
        "wrong entry: GETDMA tests the used_len of the entry after the one it returns",
    ),
    Mutation(
        "launcher-readv-unbounded",
        "spec/launcher.py",
        "got = ops.Min(length, total_len(ops, st, g, True, udma))",
        "got = length",
        ("buffer-overflow",),
        checked("buffer-overflow"),
        "the Launcher's readv is not bounded by the buffer's iovec",
    ),
    # ------------------------------------------------------------ where the data lands (the monitors judge the place)
    Mutation(
        "transfer-ring-wrap-off-by-one",
        "spec/host.py",
        "idx = ops.If(ops.UGE(idx, num), ops.Sub(idx, num), idx)",
        "idx = ops.If(ops.UGT(idx, num), ops.Sub(idx, num), idx)",
        ("write-to-used-buffer",),
        ("--guests", "any", "--depth", "5") + checked("write-to-used-buffer"),
        "off-by-one in the cursor's wrap: (next_dma + i) == num_dmas is not wrapped, so entry num, one past the "
        "ring, is tested and written",
    ),
    Mutation(
        "getdma-index-from-one",
        "spec/host.py",
        "addr = ops.Add(b.dmas, j * C.DMA_SIZE)",
        "addr = ops.Add(b.dmas, (j + 1) * C.DMA_SIZE)",
        ("write-to-used-buffer",),
        checked("write-to-used-buffer"),
        "off-by-one: GETDMA walks entries 1..num, so its last one is past the ring (memory there reads used_len 0)",
    ),
    Mutation(
        "deliver-at-source-address",
        "spec/apply.py",
        'st.write_data(dg, da, length, who, "", w, host=True)',
        'st.write_data(dg, sa, length, who, "", w, host=True)',
        ("write-to-used-buffer",),
        checked("write-to-used-buffer"),
        "wrong field: the receiver's data and used_len go to the sender's descriptor address, in the receiver",
    ),
    Mutation(
        "transfer-dst-check-ignored",
        "spec/host.py",
        "both = ops.And(dst.ok, src.ok)",
        "both = src.ok",
        ("buffer-overflow",),
        ("--guests", "any", "--depth", "4") + checked("buffer-overflow"),
        "check after the copy: the receiver is killed for a bad destination, but the copy into it is made",
    ),
    Mutation(
        "check-dma-list-page-end-off-by-one",
        "spec/host.py",
        "ops.ULE(ops.Add(ops.BitAnd(a, C.PAGE_SIZE - 1), ln), C.PAGE_SIZE),",
        "ops.ULE(ops.Add(ops.BitAnd(a, C.PAGE_SIZE - 1), ln), C.PAGE_SIZE + 1),",
        ("buffer-overflow",),
        ("--guests", "any", "--depth", "4") + checked("buffer-overflow"),
        "off-by-one at the page end: a section may cross its page by a byte, which the Host's copy writes past the "
        "page it mapped",
    ),
    Mutation(
        "address-ok-last-page",
        "spec/host.py",
        "ops.ULT(ops.LShR(end, C.PAGE_SHIFT), limit)",
        "ops.ULE(ops.LShR(end, C.PAGE_SHIFT), limit)",
        ("buffer-overflow",),
        ("--guests", "any", "--depth", "4") + checked("buffer-overflow"),
        "off-by-one in lguest_address_ok: a section in the page past the Guest's memory passes check_dma_list",
    ),
    Mutation(
        "total-len-reads-addr",
        "spec/host.py",
        "_, ln = st.rd_section(g, dma, i)\n        ended = ops.Or(ended, ops.Eq(ln, 0))",
        "ln, _ = st.rd_section(g, dma, i)\n        ended = ops.Or(ended, ops.Eq(ln, 0))",
        ("buffer-overflow",),
        checked("buffer-overflow"),
        "wrong field: the Launcher's iovec takes each section's address as its length",
    ),
    Mutation(
        "driver-sets-removed",
        "checker/transition.py",
        "DRIVER_BITS = (C.ACKNOWLEDGE, C.DRIVER, C.DRIVER_OK, C.FAILED)",
        "DRIVER_BITS = (C.ACKNOWLEDGE, C.DRIVER, C.DRIVER_OK, C.FAILED, C.REMOVED)",
        ("status-forbidden-bit",),
        only("status-forbidden-bit"),
        "a status bit set by the wrong party: a Guest driver sets REMOVED, which only the Host or Launcher may",
    ),
    # ------------------------------------------------------------ equivalent mutations
    Mutation(
        "eq-check-dma-list-page-length",
        "spec/host.py",
        "            ops.ULE(ln, C.PAGE_SIZE),\n",
        "",
        (),
        ("--guests", "any") + checked("buffer-overflow") + ("--depth", "4"),
        "dropped check: check_dma_list no longer tests len <= PAGE_SIZE on its own",
        equivalent="the next conjunct, (addr & 0xFFF) + len <= PAGE_SIZE, implies it; it could only differ if that "
        "sum wrapped, and then addr + len overflows too, which lguest_address_ok (the first conjunct) refuses",
    ),
    Mutation(
        "eq-transfer-used-at-zero",
        "spec/host.py",
        "used_at = ops.If(hit, used, used_at)",
        "used_at = ops.If(hit, 0, used_at)",
        (),
        checked("write-to-used-buffer", "buffer-overflow"),
        "dma_transfer records used_len 0 for the entry it chose",
        equivalent="without --fault host-skips-used-len-check, hit implies free, i.e. used == 0: the value "
        "recorded is the same",
    ),
    Mutation(
        "eq-check-dma-list-total-by-ended",
        "spec/host.py",
        "total = ops.Add(total, ops.If(active, ln, 0))",
        "total = ops.Add(total, ops.If(ended, 0, ln))",
        (),
        checked("write-to-used-buffer", "buffer-overflow"),
        "check_dma_list sums the sections by `ended` (after this one) instead of `active` (before it)",
        equivalent="active is (not ended before) and len != 0; ended after is (ended before) or len == 0; the two "
        "differ only when len == 0, where both add 0",
    ),
    Mutation(
        "eq-unbind-no-shortcut",
        "spec/host.py",
        "            found = ops.Or(found, hit)\n            if _known_true(found):\n                break\n",
        "            found = ops.Or(found, hit)\n",
        (),
        only("key-collision", "key-outside-device"),
        "unbind_dma's slot walk goes on after a slot is known to match",
        equivalent="the shortcut only skips work (host.py's docstring): once `found` is a plain True every later "
        "slot's selector is a plain False, and a binding change under a False guard changes nothing",
    ),
    Mutation(
        "eq-cursor-not-advanced",
        "spec/apply.py",
        "next_dma=ops.BitAnd(ops.Add(b.next_dma, 1), 0xFFFF)",
        "next_dma=b.next_dma",
        (),
        checked("write-to-used-buffer", "buffer-overflow"),
        "dma_transfer never advances next_dma: every walk starts at the same entry",
        equivalent="the walk from any cursor takes only a free entry of the ring, so no data lands anywhere it "
        "may not; which free entry receives is fairness, and no invariant speaks of it (advancing it twice is "
        "equivalent for the same reason)",
    ),
    Mutation(
        "eq-transfer-receiver-not-killed",
        "spec/host.py",
        "ops.And(go, ops.Not(dst.ok)),",
        "ops.FALSE,",
        (),
        ("--guests", "any", "--depth", "4") + checked("write-to-used-buffer", "buffer-overflow"),
        "a destination check_dma_list refuses is not copied into, but its Guest is not killed",
        equivalent="the copy is still refused (dst.ok guards it), and no invariant speaks of kills: a Guest that "
        "goes on running does nothing an any-Guest cannot (a gap: 'a killed Guest acts no more' is replay's "
        "divergence, not an invariant prove checks)",
    ),
    Mutation(
        "eq-futex-shared-mapping-number-dropped",
        "spec/host.py",
        "owner = ops.If(inside, C.SHARED_OWNER + sid, owner)",
        "owner = ops.If(inside, C.SHARED_OWNER, owner)",
        (),
        only("key-collision"),
        "a key in any shared mapping is translated as if in share 0: two sharenet files alias",
        equivalent="the checked model has one shared mapping (the net page, share 0), so no key can be "
        "translated through the wrong one: a gap of the environment, not of the rule (a Launcher with two "
        "sharenet devices would show it)",
    ),
]

BY_ID = {m.id: m for m in MUTATIONS}
assert len(BY_ID) == len(MUTATIONS), "mutation ids must be unique"
