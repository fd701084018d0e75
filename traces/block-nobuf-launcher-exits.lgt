# block-nobuf-launcher-exits.lgt: a block request with no reply buffer bound
# makes g0's Launcher exit; its bindings go with it (full trace).
#
# Documentation/lguest/lguest.c handle_block_output (2.6.23):
#     lenp = get_dma_buffer(fd, dev->mem, reply, &reply_num, &irq);
#     if (!lenp)
#         err(1, "Block request didn't give us a dma buffer");
# The console and tun handlers discard input when GETDMA finds nothing
# (discard_iovec); the block handler exits. The exit closes /dev/lguest, and
# lguest_user.c close() runs release_all_dma: every binding of g0 is
# removed, and g0 never runs again (the send that started the request is
# never answered: no `output`).
#
# Here g0's block driver sends a read before it bound bd->dma (a reordered
# probe). After the exit g1 sends a frame to g0's net slot: the Host finds
# no binding on that shared key any more, so the send is dropped. The
# capture has no `l0 close`: the `nobuf` on the block key is the exit, and
# the close comes with it (a recorded `l0 close` after it is the same close,
# and is accepted).
lguest-trace 1
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
device 0.1 type=block pfn=0x2002 pages=1 features=RANDOMNESS
device 0.2 type=console pfn=0 pages=0
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1
device 1.1 type=console pfn=0 pages=0
share net pages=1 map=[0:0x2001, 1:0x2001]
# g0 opens its net device: one receive buffer bound on its slot's key.
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 bind_dma key=0x2001000 dmas=0x1c8f3a0 num=1 irq=1 -> 1
# g0's block driver sends a read (a ping) with no reply buffer bound on 0x2002000.
g0 dma 0x1f69e5c len=[0]
g0 send_dma key=0x2002000 dma=0x1f69e5c
host pending g0 key=0x2002000 dma=0x1f69e5c
# handle_block_output: GETDMA answers -ENOENT; err(1, ...): l0 exits.
l0 nobuf key=0x2002000
# g1 sends to g0's slot (key 0x2001000): no binding is left, the send is dropped.
g1 dma 0x1b00000 addr=[0x1e00000] len=[64]
g1 send_dma key=0x2001000 dma=0x1b00000
host drop g1 key=0x2001000
