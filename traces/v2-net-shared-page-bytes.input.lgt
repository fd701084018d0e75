# v2-net-shared-page-bytes.input.lgt: v2-net-shared-page-bytes.lgt as an input-only trace:
# --emit gives the same records (both sums included) as the full one.
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
g1 dma 0x1b00000 addr=[0x3001200] len=[4]
g1 send_dma key=0x3001008 dma=0x1b00000
