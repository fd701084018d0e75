# bad-key-collision-same-slot.lgt: two Guests on one --sharenet file end up
# in the same slot and bind the same shared key.
#
# What breaks: key-collision (across Guests). lguest.c find_slot picks a
# Guest's slot by taking a 1-byte fcntl write lock at file offset = slot; the
# lock is what keeps two Launchers apart. On a file system where fcntl locks
# silently succeed for everyone (an NFS mount without lockd, say), both
# Launchers get slot 0 and give their Guest features = 0 | NOCSUM. Both
# Guests then bind their receive rings on page + 0, which is one futex key
# in both. io.c bind_dma accepts the second bind (duplicates are not
# checked); from then on a send to slot 0 reaches only the newest binding
# (B's: list_add puts it at the head of the bucket), and A never receives.
lguest-trace 1
# A = g0 and B = g1: 32 MB RAM each, descriptor page pfn 0x2000, the net
# device at pfn 0x2001 (irq 1), console last. Both were given slot 0.
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
device 0.1 type=console pfn=0 pages=0
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM
device 1.1 type=console pfn=0 pages=0
share net pages=1 map=[0:0x2001, 1:0x2001]
# A brings its interface up: 8 receive entries bound on 0x2001000. Fine.
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 dma 0x1c8f404 used_len=0 addr=[0x1d04810] len=[1514]
g0 dma 0x1c8f468 used_len=0 addr=[0x1d05010] len=[1514]
g0 dma 0x1c8f4cc used_len=0 addr=[0x1d05810] len=[1514]
g0 dma 0x1c8f530 used_len=0 addr=[0x1d06010] len=[1514]
g0 dma 0x1c8f594 used_len=0 addr=[0x1d06810] len=[1514]
g0 dma 0x1c8f5f8 used_len=0 addr=[0x1d07010] len=[1514]
g0 dma 0x1c8f65c used_len=0 addr=[0x1d07810] len=[1514]
g0 bind_dma key=0x2001000 dmas=0x1c8f3a0 num=8 irq=1 -> 1
# B does the same on the same shared key: the violation is here.
g1 dma 0x1c6b3a0 used_len=0 addr=[0x1b20010] len=[1514]
g1 dma 0x1c6b404 used_len=0 addr=[0x1b20810] len=[1514]
g1 dma 0x1c6b468 used_len=0 addr=[0x1b21010] len=[1514]
g1 dma 0x1c6b4cc used_len=0 addr=[0x1b21810] len=[1514]
g1 dma 0x1c6b530 used_len=0 addr=[0x1b22010] len=[1514]
g1 dma 0x1c6b594 used_len=0 addr=[0x1b22810] len=[1514]
g1 dma 0x1c6b5f8 used_len=0 addr=[0x1b23010] len=[1514]
g1 dma 0x1c6b65c used_len=0 addr=[0x1b23810] len=[1514]
g1 bind_dma key=0x2001000 dmas=0x1c6b3a0 num=8 irq=1 -> 1
