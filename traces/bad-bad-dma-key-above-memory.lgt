# bad-bad-dma-key-above-memory.lgt: a block driver binds its reply buffer on
# the virtual address lguest_map gave it instead of its page's physical
# address (full trace).
#
# A key is an address in the Launcher's address space (Guest-physical ==
# Launcher-virtual). Every address below the Guest's pfn limit is mapped
# (lguest.c main: map_zeroed_pages over RAM, the descriptor page, the device
# pages); above it lie only the Launcher's own mappings, which a trace does
# not show. 0xd0880000 is in the Host kernel's half of the address space: no
# vma holds it, get_futex_key fails (-EFAULT) and io.c bind_dma kills the
# Guest: kill_guest(lg, "bad dma key %#lx", ukey), BIND_DMA returns 0.
#
# The finding is the kill (bad-dma). Replay used to take every aligned key
# as mapped and called this recorded kill a divergence; a key above the
# Guest's memory is mapped or not as the trace's answer shows.
lguest-trace 1
guest 0 pages=8192
device 0.0 type=block pfn=0x2001 pages=1 features=RANDOMNESS
device 0.1 type=console pfn=0 pages=0
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=1 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 dma 0x1f7a0c8 used_len=0 len=[0]
# lguestblk_probe with the bug: BIND_DMA(bd->block_page (virtual), &bd->dma, 1, 1).
g0 bind_dma key=0xd0880000 dmas=0x1f7a0c8 num=1 irq=1 -> 0
host kill g0 reason="bad dma key 0xd0880000"
