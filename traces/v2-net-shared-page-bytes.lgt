# v2-net-shared-page-bytes.lgt: bytes in the sharenet page are one memory (ok).
#
# Three Guests map one --sharenet file page (setup_net_file: MAP_SHARED over
# the device page), g1 at another pfn than g0 and g2. Whatever one Guest
# writes there, every other reads, at its own address. So g0's send from its
# shared page carries the bytes g1 wrote last (bbbbbbbb, not g0's aaaaaaaa),
# and g2's receive buffer in the shared page is then read by g1's send at
# g1's address: the Host (io.c: copy_data) copies real memory, both sums are
# SHA-256(bbbbbbbb), and nothing is corrupted.
lguest-trace 2
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
guest 1 pages=8192
device 1.0 type=net pfn=0x3001 pages=1 features=NOCSUM|1
guest 2 pages=8192
device 2.0 type=net pfn=0x2001 pages=1 features=NOCSUM|2
share net pages=1 map=[0:0x2001, 1:0x3001, 2:0x2001]
g2 dma 0x1c8f000 used_len=0 addr=[0x2001200] len=[4]
g2 dma 0x1c8f064 used_len=0 addr=[0x1d00000] len=[100]
g2 bind_dma key=0x2001008 dmas=0x1c8f000 num=2 irq=1 -> 1
g0 mem 0x2001100 data=aaaaaaaa
g1 mem 0x3001100 data=bbbbbbbb
g0 dma 0x1b00000 addr=[0x2001100] len=[4]
g0 send_dma key=0x2001008 dma=0x1b00000
host deliver from=g0:0x1b00000 to=g2:0x1c8f000 len=4 irq=1 sum=bfcd12432b1765703814b813158b2416df90d97c1097296b817d7863ae47f577
g1 dma 0x1b00000 addr=[0x3001200] len=[4]
g1 send_dma key=0x3001008 dma=0x1b00000
host deliver from=g1:0x1b00000 to=g2:0x1c8f064 len=4 irq=1 sum=bfcd12432b1765703814b813158b2416df90d97c1097296b817d7863ae47f577
