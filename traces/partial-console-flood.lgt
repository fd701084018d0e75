lguest-trace 1
# The console flood captured as real machines capture it: the probe of the
# second Guest's device table missed a pfn, and the ring buffer dropped 3 records.
guest 0 pages=8192
device 0.0 type=console pfn=0 pages=0
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 dma 0x477d60 used_len=0 addr=[0x477e00] len=[256]
g0 bind_dma key=0 dmas=0x477d60 num=1 irq=1 -> 1
# console input arrives twice; the Guest has not read the first yet
l0 fill key=0 dma=0x477d60 len=5 irq=1
l0 fill key=0 dma=0x477d60 len=3 irq=1
guest 1 pages=8192
device 1.0 type=net pfn=? pages=1
g1 dma 0x1c6b3a0 used_len=0 addr=[0x1b20010] len=[1514]
g1 bind_dma key=0x2001004 dmas=0x1c6b3a0 num=1 irq=1 -> 1
lost records=3
l0 fill key=0 dma=0x477d60 len=2 irq=1
