# bad-bad-dma-unaligned-key.lgt: a net driver binds on a key that is not a
# multiple of 4; the Host kills the Guest.
#
# What breaks: bad-dma. A key is turned into a futex key (io.c bind_dma ->
# kernel/futex.c get_futex_key), which requires a 4-aligned address; on
# failure bind_dma kills the Guest ("bad dma key") and returns 0. lguest_net.c
# peer_key multiplies the slot by 4 for exactly this reason: "The Host
# insists that all keys be a multiple of 4". This driver's peer_key forgot the
# `4 *`, so the Guest in slot 1 binds on page + 1.
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000; a --tunnet device (device 0, page
# 0x2001, Guest slot 1, irq 1); the console last.
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=RANDOMNESS|1
device 0.1 type=console pfn=0 pages=0
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
# ifconfig up: lguestnet_open fills the 8 receive entries...
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 dma 0x1c8f404 used_len=0 addr=[0x1d04810] len=[1514]
g0 dma 0x1c8f468 used_len=0 addr=[0x1d05010] len=[1514]
g0 dma 0x1c8f4cc used_len=0 addr=[0x1d05810] len=[1514]
g0 dma 0x1c8f530 used_len=0 addr=[0x1d06010] len=[1514]
g0 dma 0x1c8f594 used_len=0 addr=[0x1d06810] len=[1514]
g0 dma 0x1c8f5f8 used_len=0 addr=[0x1d07010] len=[1514]
g0 dma 0x1c8f65c used_len=0 addr=[0x1d07810] len=[1514]
# ...and binds them on 0x2001000 + 1 = 0x2001001: the violation is here.
# The Host kills g0 and BIND_DMA returns 0.
g0 bind_dma key=0x2001001 dmas=0x1c8f3a0 num=8 irq=1 -> 0
host kill g0 reason="bad dma key 0x2001001"
