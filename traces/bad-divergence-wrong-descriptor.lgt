# bad-divergence-wrong-descriptor.lgt: a recorded delivery into a different
# receive entry than the 2.6.23 Host would pick.
#
# What breaks: divergence. io.c dma_transfer searches the receiver's array
# starting at the binding's cursor (next_dma), which moves on by one after
# every delivery; only GETDMA, the Launcher's lookup, starts at entry 0
# (io.c get_dma_buffer). After one delivery into B's entry 0 the cursor is 1,
# so the next packet goes into entry 1 even though entry 0 was handed back
# meanwhile. This trace (say, from a Host patched to search from 0, or a
# hand-written test that assumed it) records entry 0: replay reports the
# difference, with the cursor, and then follows the trace.
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
# B's interface is up: 8 receive entries on slot 1's key 0x2001004.
g1 dma 0x1c6b3a0 used_len=0 addr=[0x1b20010] len=[1514]
g1 dma 0x1c6b404 used_len=0 addr=[0x1b20810] len=[1514]
g1 dma 0x1c6b468 used_len=0 addr=[0x1b21010] len=[1514]
g1 dma 0x1c6b4cc used_len=0 addr=[0x1b21810] len=[1514]
g1 dma 0x1c6b530 used_len=0 addr=[0x1b22010] len=[1514]
g1 dma 0x1c6b594 used_len=0 addr=[0x1b22810] len=[1514]
g1 dma 0x1c6b5f8 used_len=0 addr=[0x1b23010] len=[1514]
g1 dma 0x1c6b65c used_len=0 addr=[0x1b23810] len=[1514]
g1 bind_dma key=0x2001004 dmas=0x1c6b3a0 num=8 irq=1 -> 1
# A sends B a 98-byte ping: entry 0, cursor 0 -> 1. Correct.
g0 dma 0x1e1fdb4 addr=[0x1c3a0e2] len=[98]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b3a0 len=98 irq=1
# B takes it and refills entry 0 (lguestnet_rcv, fill_slot).
g1 dma 0x1c6b3a0 used_len=0 addr=[0x1b24010] len=[1514]
# A sends another 98-byte ping. The 2.6.23 Host puts it in entry 1
# (0x1c6b404); the trace says entry 0 (0x1c6b3a0): the violation is here.
g0 dma 0x1e1fdb4 addr=[0x1c3a8e2] len=[98]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b3a0 len=98 irq=1
