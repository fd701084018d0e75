# bad-bad-dma-dead-guest-input.lgt: input for a killed Guest is discarded.
#
# g1's receive buffer on the shared key has a section crossing a page, so
# g0's send kills g1 (io.c: check_dma_list). Keyboard input then reaches
# g1's Launcher: its GETDMA answers -ENOENT because the Guest is dead
# (lguest_user.c: write), so the Launcher discards it. Input-only: replay
# computes the answer, and `--emit` writes `l1 nobuf key=0` for the fill,
# never a fill of cons_input.
lguest-trace 1
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1
device 1.1 type=console pfn=0 pages=0
share net pages=1 map=[0:0x2001, 1:0x2001]
g1 dma 0x1c8f000 used_len=0 addr=[0x1d00ff0] len=[100]
g1 dma 0x1c8f064 used_len=0 addr=[0x1d02000] len=[256]
g1 bind_dma key=0x2001004 dmas=0x1c8f000 num=1 irq=1
g1 bind_dma key=0 dmas=0x1c8f064 num=1 irq=2
g0 dma 0x1b00000 addr=[0x1e00000] len=[64]
g0 send_dma key=0x2001004 dma=0x1b00000
l1 fill key=0 len=3
