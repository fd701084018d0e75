# bad-divergence-fill-after-kill.lgt: a Launcher fills a buffer of a Guest
# the Host has already killed.
#
# What breaks: bad-dma (the kill), then divergence. g1 (sharenet slot 1, a
# console too) bound a receive buffer whose section crosses a page; g0's
# send makes dma_transfer -> do_dma -> check_dma_list kill g1 (io.c). Once
# lg->dead is set, every write() to /dev/lguest answers -ENOENT before it
# looks at the request (lguest_user.c: write, "Once the Guest is dead, all
# you can do is read() why it died"), so g1's Launcher's GETDMA on the
# console key finds nothing: the real Launcher discards the input ("console:
# no dma buffer!"). It cannot fill cons_input, as line 29 says, nor raise an
# interrupt (line 31): trigger_irq's write fails the same way, and the
# Launcher exits (err).
lguest-trace 1
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1
device 1.1 type=console pfn=0 pages=0
share net pages=1 map=[0:0x2001, 1:0x2001]
g1 dma 0x1c8f000 used_len=0 addr=[0x1d00ff0] len=[100]
g1 dma 0x1c8f064 used_len=0 addr=[0x1d02000] len=[256]
g1 bind_dma key=0x2001004 dmas=0x1c8f000 num=1 irq=1 -> 1
g1 bind_dma key=0 dmas=0x1c8f064 num=1 irq=2 -> 1
g0 dma 0x1b00000 addr=[0x1e00000] len=[64]
g0 send_dma key=0x2001004 dma=0x1b00000
host kill g1 reason="bad DMA entry: 100@0x1d00ff0"
# (the real Launcher: `l1 nobuf key=0`, and then read() gives the death reason)
l1 fill key=0 dma=0x1c8f064 len=3 irq=2
# (and an interrupt of its own: trigger_irq's write answers -ENOENT too, and the Launcher exits)
l1 irq 2
