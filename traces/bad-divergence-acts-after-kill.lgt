# bad-divergence-acts-after-kill.lgt: a Guest keeps running after the Host
# killed it.
#
# What breaks: bad-dma (the kill itself), then divergence. kill_guest sets
# lg->dead and the Host's run_guest loop never enters the Guest again: read()
# on /dev/lguest returns the death reason from then on (docs/protocol.md 2.4,
# 4.1). A trace in which the killed Guest makes another hypercall did not
# come from a 2.6.23 Host. This one came from a Host patched so that
# kill_guest only logs (a debugging aid that lets the Guest run on): the
# Guest's net driver binds on an unaligned key (peer_key without the `4 *`,
# see bad-bad-dma-unaligned-key.lgt), is "killed", and then sends a DHCP
# DISCOVER as if nothing had happened.
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000; a --tunnet device (device 0, page
# 0x2001, Guest slot 1, irq 1); the console last.
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=RANDOMNESS|1
device 0.1 type=console pfn=0 pages=0
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 dma 0x1c8f404 used_len=0 addr=[0x1d04810] len=[1514]
g0 dma 0x1c8f468 used_len=0 addr=[0x1d05010] len=[1514]
g0 dma 0x1c8f4cc used_len=0 addr=[0x1d05810] len=[1514]
g0 dma 0x1c8f530 used_len=0 addr=[0x1d06010] len=[1514]
g0 dma 0x1c8f594 used_len=0 addr=[0x1d06810] len=[1514]
g0 dma 0x1c8f5f8 used_len=0 addr=[0x1d07010] len=[1514]
g0 dma 0x1c8f65c used_len=0 addr=[0x1d07810] len=[1514]
# The unaligned key: the Host kills g0 (finding bad-dma on this line).
g0 bind_dma key=0x2001001 dmas=0x1c8f3a0 num=8 irq=1 -> 0
host kill g0 reason="bad dma key 0x2001001"
# g0 runs again: its next record is the divergence. (Replay follows the
# rest of the trace, and reports the Guest only once.)
g0 dma 0x1e1fdb4 addr=[0x1c3aee2, 0x1c3b000] len=[286, 56]
g0 send_dma key=0x2001000 dma=0x1e1fdb4
host pending g0 key=0x2001000 dma=0x1e1fdb4
l0 output key=0x2001000 dma=0x1e1fdb4 len=342
