# bad-unknown-descriptor-never-written.lgt: a capture that never recorded
# the console's input descriptor, so the Launcher's use of it cannot be checked.
#
# What breaks: unknown-descriptor. hvc_lguest.c's cons_input is a static,
# initialized struct lguest_dma ({.used_len = 0, .addr[0] = __pa(inbuf),
# .len[0] = 256, .len[1] = 0}): the Guest never stores into it before
# binding it, so a capture that logs only the Guest's stores misses it. A
# capture must write such initial contents as a `gN dma` record (as
# console-boot.lgt does); this one did not. When the Launcher's GETDMA reads
# the entry's used_len, and the fill is measured against its sections, replay
# has nothing to go on: it reports the gap and takes the fields as 0 (so the
# buffer looks free, and 0 bytes long).
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000, the console as the only device.
guest 0 pages=8192
device 0.0 type=console pfn=0 pages=0
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
# lguestcons_probe binds cons_input (no `g0 dma 0x477d60 ...` before it).
g0 bind_dma key=0 dmas=0x477d60 num=1 irq=1 -> 1
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
# A key press. GETDMA reads cons_input's used_len, never written in this
# trace: the violation is here.
l0 fill key=0 dma=0x477d60 len=1 irq=1
