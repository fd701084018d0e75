# block-read-write.lgt: a Guest with a block device reads and writes (full trace).
#
# The block driver (drivers/block/lguest_blk.c) has one reply buffer, bd->dma,
# bound on the device's key. The request itself (read or write, sector, byte
# count) goes into the device page (struct lguest_block_page), which the trace
# does not show: the trace shows only the descriptors and hypercalls.
#   read:  the request's pages go into bd->dma, then an empty "ping" is sent;
#          the Launcher reads the file into bd->dma (a fill of the byte count);
#   write: the data goes in the sent descriptor itself; the Launcher writes it
#          to the file and answers with a fill of 0 bytes into bd->dma.
# Either way the Launcher's output handler returns 0 ("the block device uses
# the result field instead"), and the Guest's interrupt handler lgb_irq hands
# bd->dma back (used_len = 0). docs/protocol.md 6.2 and 8.2.
# block-read-write.input.lgt is the same run as an input-only trace.
lguest-trace 1

# ---- Launcher setup (lguest.c: main, setup_block_file, setup_console) -----
# 32 MB of RAM (pfn 0..0x1fff); the descriptor page at pfn 0x2000; the block
# device is created first, so it is device 0 with the first device page,
# pfn 0x2001. Its key is the page start 0x2001000 and its irq 0+1 = 1.
# RANDOMNESS: the Launcher always sets it for block.
guest 0 pages=8192
device 0.0 type=block pfn=0x2001 pages=1 features=RANDOMNESS
# The console is always created last: device 1, no page, irq 2, key 0. Its
# probe is the same as in console-boot.lgt and is left out here.
device 0.1 type=console pfn=0 pages=0

# ---- Bus scan and block probe ---------------------------------------------
# lguest_bus.c scan_devices: ACKNOWLEDGE on every device with a type.
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=1 value=ACKNOWLEDGE
# lguest_dev_probe: DRIVER, then lguestblk_probe.
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
# lguestblk_probe: bd is kmalloc'd; bd->dma.used_len = 0, bd->dma.len[0] = 0
# (no sections yet: do_read fills them in per request).
g0 dma 0x1f7a0c8 used_len=0 len=[0]
# BIND_DMA(key = the device page 0x2001000, &bd->dma, 1 entry, irq 1).
# The key is private (MAP_PRIVATE /dev/zero page): only this Guest's
# Launcher can ever find it.
g0 bind_dma key=0x2001000 dmas=0x1f7a0c8 num=1 irq=1 -> 1

# ---- A read: add_disk() in the probe reads the partition table ------------
# lguest_blk.c do_read -> setup_req: sector 0, 4096 bytes; req_to_dma packs
# the request's one page into bd->dma, the bound reply buffer.
g0 dma 0x1f7a0c8 addr=[0x1e45000] len=[4096]
# do_read: empty_dma(&ping) -- len[0] = 0, a ping that carries no data.
g0 dma 0x1f69e5c len=[0]
# lguest_send_dma(bd->phys_addr, &ping): used_len = 0, SEND_DMA.
g0 send_dma key=0x2001000 dma=0x1f69e5c
# io.c send_dma: private key, so pending for the Launcher.
host pending g0 key=0x2001000 dma=0x1f69e5c
# lguest.c handle_output: the key is the block device's watch_key;
# handle_block_output returns 0, stored in the ping's used_len.
l0 output key=0x2001000 dma=0x1f69e5c len=0
# handle_block_output, reading: GETDMA(0x2001000) gives bd->dma (used_len 0)
# with irq 1; readv() of the file into its 4096 bytes; used_len := 4096;
# result := 1 in the device page; LHREQ_IRQ 1.
# (In time the Launcher does this fill inside the handler, before the 0 of
# the `output` above is stored; this trace writes the output first, the
# order replay accepts today. block-read-launcher-order.lgt has the real
# order.)
l0 fill key=0x2001000 dma=0x1f7a0c8 len=4096 irq=1
# lguest_blk.c lgb_irq: result 1, end the request; "Reset incoming DMA for
# next time": bd->dma.used_len = 0.
g0 dma 0x1f7a0c8 used_len=0
# The probe returns 0: DRIVER_OK.
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK

# ---- A write: two 4 KB pages at sector 2048 --------------------------------
# lguest_blk.c do_write -> setup_req packs the data pages into `send`, a
# descriptor on the stack; bd->dma is not touched.
g0 dma 0x1d21d0c addr=[0x1b3e000, 0x1a07000] len=[4096, 4096]
g0 send_dma key=0x2001000 dma=0x1d21d0c
host pending g0 key=0x2001000 dma=0x1d21d0c
# handle_block_output writev()s the 8192 bytes to the file and returns 0.
l0 output key=0x2001000 dma=0x1d21d0c len=0
# The reply: GETDMA gives bd->dma again (its sections are stale from the
# read and unused); *used_len = 0; LHREQ_IRQ 1. A 0-byte fill.
l0 fill key=0x2001000 dma=0x1f7a0c8 len=0 irq=1
# lgb_irq: end the request, bd->dma.used_len = 0 (it already is).
g0 dma 0x1f7a0c8 used_len=0

# ---- Another read: one 1 KB ext2 block into the second half of a page -----
g0 dma 0x1f7a0c8 addr=[0x1e46400] len=[1024]
g0 dma 0x1f69e5c len=[0]
g0 send_dma key=0x2001000 dma=0x1f69e5c
host pending g0 key=0x2001000 dma=0x1f69e5c
l0 output key=0x2001000 dma=0x1f69e5c len=0
l0 fill key=0x2001000 dma=0x1f7a0c8 len=1024 irq=1
g0 dma 0x1f7a0c8 used_len=0
