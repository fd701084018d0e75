# console-getdma-entry-at-zero.lgt: a buffer bound at Guest-physical 0 is
# never given to the Launcher.
#
# The console's cons_input descriptor sits at address 0 (legal: any
# Guest-physical address can hold it; page 0 is the boot header, overwritten
# here). get_dma_buffer (io.c) returns the address of the entry it chose, 0,
# and user_get_dma (lguest_user.c) reads 0 as "nothing found" and answers
# -ENOENT, so the Launcher discards the input ("console: no dma buffer!").
# A second binding whose first free entry is at 100 is found as usual.
lguest-trace 1
guest 0 pages=16384
device 0.0 type=console pfn=0 pages=0
g0 dma 0x0 used_len=0 addr=[0x3e000] len=[256]
g0 bind_dma key=0 dmas=0x0 num=1 irq=1 -> 1
l0 nobuf key=0
g0 bind_dma key=0 dmas=0x0 num=1 irq=0 -> 1
g0 dma 0x0 used_len=5
g0 dma 0x64 used_len=0 addr=[0x3e000] len=[256]
g0 bind_dma key=0 dmas=0x0 num=2 irq=1 -> 1
l0 fill key=0 dma=0x64 len=3 irq=1
