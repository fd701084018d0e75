# bad-key-collision-device-overlap.lgt: a Launcher puts a device page on top
# of the device descriptor page.
#
# What breaks: key-collision (of the layout). The 2.6.23 Launcher maps the
# descriptor page at `mem` and only then hands out device pages from
# top = mem + PAGE_SIZE (lguest.c main, new_device; docs/protocol.md 5.2). This
# Launcher forgot the `top += PAGE_SIZE`, so the block device's page is pfn
# 0x2000, the very page that holds the device descriptors. The Guest reads
# its device table there (lguest_bus.c lguest_bus_init maps max_pfn <<
# PAGE_SHIFT) while the Launcher writes struct lguest_block_page over it: the
# block request's type/sector/bytes land on descriptor 0's type/features/
# status. And the block key 0x2000000 names the descriptor page itself.
lguest-trace 1
# 32 MB of RAM: pfn 0..0x1fff, so the descriptor page is pfn 0x2000.
guest 0 pages=8192
# The block device on pfn 0x2000: the violation is here.
device 0.0 type=block pfn=0x2000 pages=1 features=RANDOMNESS
device 0.1 type=console pfn=0 pages=0
# The Guest's block driver binds on its device page as usual
# (lguestblk_probe: key = pfn << PAGE_SHIFT).
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 dma 0x1f7a0c8 used_len=0 len=[0]
g0 bind_dma key=0x2000000 dmas=0x1f7a0c8 num=1 irq=1 -> 1
