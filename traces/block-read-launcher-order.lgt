# block-read-launcher-order.lgt: a block read and write with the Launcher's
# records in the order the 2.6.23 Launcher performs them (full trace).
#
# block-read-write.lgt writes each block answer as `output` then `fill`. The
# real Launcher does them the other way round: lguest.c handle_output calls
# the device's handler and stores what it returns, `*lenp = handler(...)`;
# handle_block_output, that handler, first does GETDMA on the device page,
# readv()s (or writev()s), stores the reply's used_len and sends LHREQ_IRQ --
# the `fill` -- and only then returns 0, which becomes the sent descriptor's
# used_len -- the `output` (docs/protocol.md 8.2 steps 4.2-4.4). A capture taken
# in the Launcher sees the fill first. The Guest does not run in between
# either way (docs/trace-format.md: until the output "Guest N does not run"; the
# fill is the Launcher's, not the Guest's), so this trace keeps the protocol.
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000, block device 0 on pfn 0x2001 (key
# 0x2001000, irq 1), the console last.
guest 0 pages=8192
device 0.0 type=block pfn=0x2001 pages=1 features=RANDOMNESS
device 0.1 type=console pfn=0 pages=0
# lguestblk_probe: bd->dma empty and free, bound on the page's key.
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=1 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 dma 0x1f7a0c8 used_len=0 len=[0]
g0 bind_dma key=0x2001000 dmas=0x1f7a0c8 num=1 irq=1 -> 1
# do_read of the partition table: the page into bd->dma, a ping sent.
g0 dma 0x1f7a0c8 addr=[0x1e45000] len=[4096]
g0 dma 0x1f69e5c len=[0]
g0 send_dma key=0x2001000 dma=0x1f69e5c
host pending g0 key=0x2001000 dma=0x1f69e5c
# Inside handle_block_output: GETDMA, readv 4096 bytes, LHREQ_IRQ 1...
l0 fill key=0x2001000 dma=0x1f7a0c8 len=4096 irq=1
# ...then it returns 0, and handle_output stores it in the ping's used_len.
l0 output key=0x2001000 dma=0x1f69e5c len=0
# lgb_irq hands bd->dma back; the probe ends with DRIVER_OK.
g0 dma 0x1f7a0c8 used_len=0
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
# do_write of two pages: the reply fill (0 bytes) comes before the output.
g0 dma 0x1d21d0c addr=[0x1b3e000, 0x1a07000] len=[4096, 4096]
g0 send_dma key=0x2001000 dma=0x1d21d0c
host pending g0 key=0x2001000 dma=0x1d21d0c
l0 fill key=0x2001000 dma=0x1f7a0c8 len=0 irq=1
l0 output key=0x2001000 dma=0x1d21d0c len=0
g0 dma 0x1f7a0c8 used_len=0
