# bad-key-collision-rebind.lgt: a net driver binds its ring twice on one key.
#
# What breaks: key-collision. lguestnet_close must unbind the receive ring
# (lguest_unbind_dma = BIND_DMA with irq 0) before lguestnet_open binds it
# again. Here the close path lost its unbind (a driver bug), so the second
# ifconfig up binds key 0x2001004 while the first binding still holds it.
# io.c bind_dma checks nothing and returns 1: the Guest now has two live
# bindings on one key, using 2 of its 32 slots; every ifconfig down/up cycle
# leaks one more, until BIND_DMA fails with -ENOMEM. GETDMA and sends see
# only the newest binding (list_add puts it first in the hash bucket).
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000; a --tunnet device (device 0, page
# pfn 0x2001, slot 1: binds on 0x2001004, irq 1); the console last.
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=RANDOMNESS|1
device 0.1 type=console pfn=0 pages=0
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
# ifconfig up: lguestnet_open fills 8 receive entries and binds them.
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 dma 0x1c8f404 used_len=0 addr=[0x1d04810] len=[1514]
g0 dma 0x1c8f468 used_len=0 addr=[0x1d05010] len=[1514]
g0 dma 0x1c8f4cc used_len=0 addr=[0x1d05810] len=[1514]
g0 dma 0x1c8f530 used_len=0 addr=[0x1d06010] len=[1514]
g0 dma 0x1c8f594 used_len=0 addr=[0x1d06810] len=[1514]
g0 dma 0x1c8f5f8 used_len=0 addr=[0x1d07010] len=[1514]
g0 dma 0x1c8f65c used_len=0 addr=[0x1d07810] len=[1514]
g0 bind_dma key=0x2001004 dmas=0x1c8f3a0 num=8 irq=1 -> 1
# ifconfig down: the MAC slot is zeroed and the skbs freed, but no
# `g0 bind_dma key=0x2001004 dmas=0x1c8f3a0 num=0 irq=0` follows.
# ifconfig up again: fresh skbs in the same info->dma[] array, bound again.
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d08010] len=[1514]
g0 dma 0x1c8f404 used_len=0 addr=[0x1d08810] len=[1514]
g0 dma 0x1c8f468 used_len=0 addr=[0x1d09010] len=[1514]
g0 dma 0x1c8f4cc used_len=0 addr=[0x1d09810] len=[1514]
g0 dma 0x1c8f530 used_len=0 addr=[0x1d0a010] len=[1514]
g0 dma 0x1c8f594 used_len=0 addr=[0x1d0a810] len=[1514]
g0 dma 0x1c8f5f8 used_len=0 addr=[0x1d0b010] len=[1514]
g0 dma 0x1c8f65c used_len=0 addr=[0x1d0b810] len=[1514]
# The Host accepts it (-> 1): the violation is here.
g0 bind_dma key=0x2001004 dmas=0x1c8f3a0 num=8 irq=1 -> 1
