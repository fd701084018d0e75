# bad-unknown-descriptor.lgt: a capture that recorded a receive buffer's
# sections but not its used_len.
#
# What breaks: unknown-descriptor. Whether an entry is free is its used_len
# (0 = free); the Host's dma_transfer and the Launcher's GETDMA decide by it.
# lguest_net.c fill_slot sets the sections (skb_to_dma), then wmb(), then
# used_len = 0. This capture hooked skb_to_dma only, so entry 1 of the ring
# has sections but no used_len. The Guest-to-Guest send below first reads
# entry 0 (recorded: used, 98 bytes) and then entry 1: replay cannot tell
# whether it was free, reports the gap and takes it as 0 (free).
lguest-trace 1
# Two Guests on one --sharenet file: A = g0 in slot 0, B = g1 in slot 1;
# 32 MB RAM each, descriptor page pfn 0x2000, net device at pfn 0x2001 (irq
# 1), console last; the net page is shared.
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
device 0.1 type=console pfn=0 pages=0
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1
device 1.1 type=console pfn=0 pages=0
share net pages=1 map=[0:0x2001, 1:0x2001]
# B's ring as captured: entry 1 lacks used_len=0.
g1 dma 0x1c6b3a0 used_len=0 addr=[0x1b20010] len=[1514]
g1 dma 0x1c6b404 addr=[0x1b20810] len=[1514]
g1 dma 0x1c6b468 used_len=0 addr=[0x1b21010] len=[1514]
g1 dma 0x1c6b4cc used_len=0 addr=[0x1b21810] len=[1514]
g1 dma 0x1c6b530 used_len=0 addr=[0x1b22010] len=[1514]
g1 dma 0x1c6b594 used_len=0 addr=[0x1b22810] len=[1514]
g1 dma 0x1c6b5f8 used_len=0 addr=[0x1b23010] len=[1514]
g1 dma 0x1c6b65c used_len=0 addr=[0x1b23810] len=[1514]
g1 bind_dma key=0x2001004 dmas=0x1c6b3a0 num=8 irq=1 -> 1
# A sends B a 98-byte ping: entry 0 (its used_len is recorded). Fine.
g0 dma 0x1e1fdb4 addr=[0x1c3a0e2] len=[98]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b3a0 len=98 irq=1
# A second ping before B reads the first: the Host's search starts at the
# cursor, entry 1, and reads its used_len: the violation is here.
g0 dma 0x1e1fdb4 addr=[0x1c3a8e2] len=[98]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b404 len=98 irq=1
