# bad-bad-dma-section-crosses-page.lgt: a Guest sends a frame whose one
# section crosses a page boundary; the Host kills it.
#
# What breaks: bad-dma. For a Guest-to-Guest transfer the Host checks both
# descriptors (io.c do_dma -> check_dma_list): each section must be inside
# the Guest's memory, at most a page, and must not cross a page, because
# copy_data kmaps one destination page per section and copies with plain
# user accesses per section. lguest_net.c skb_to_dma splits the linear data
# at every page boundary for exactly this reason ("Each entry can't go over a
# page boundary"); this sender's driver was changed to put skb->data in one
# section. 0xc02 + 1514 = 0x11ec > 0x1000: the section crosses into the next
# page, and the Host kills the SENDER with "bad DMA entry: 1514@0x1c52c02".
# (Sends to the Launcher are not checked this way: docs/protocol.md 2.3.)
lguest-trace 1
# Two Guests on one --sharenet file: A = g0 in slot 0, B = g1 in slot 1. Each
# has 32 MB RAM, the descriptor page at pfn 0x2000, the net device at pfn
# 0x2001 (irq 1) and the console last. The net page is shared.
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
device 0.1 type=console pfn=0 pages=0
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1
device 1.1 type=console pfn=0 pages=0
share net pages=1 map=[0:0x2001, 1:0x2001]
# B's interface is up: 8 receive entries bound on slot 1's key 0x2001004.
g1 dma 0x1c6b3a0 used_len=0 addr=[0x1b20010] len=[1514]
g1 dma 0x1c6b404 used_len=0 addr=[0x1b20810] len=[1514]
g1 dma 0x1c6b468 used_len=0 addr=[0x1b21010] len=[1514]
g1 dma 0x1c6b4cc used_len=0 addr=[0x1b21810] len=[1514]
g1 dma 0x1c6b530 used_len=0 addr=[0x1b22010] len=[1514]
g1 dma 0x1c6b594 used_len=0 addr=[0x1b22810] len=[1514]
g1 dma 0x1c6b5f8 used_len=0 addr=[0x1b23010] len=[1514]
g1 dma 0x1c6b65c used_len=0 addr=[0x1b23810] len=[1514]
g1 bind_dma key=0x2001004 dmas=0x1c6b3a0 num=8 irq=1 -> 1
# A sends a full-size frame to B in one section that crosses a page.
g0 dma 0x1e1fdb4 addr=[0x1c52c02] len=[1514]
# The violation is here: B's entry 0 passes check_dma_list, A's does not.
# Nothing is copied: B's entry stays free, no interrupt; A's used_len := 0.
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host kill g0 reason="bad DMA entry: 1514@0x1c52c02"
