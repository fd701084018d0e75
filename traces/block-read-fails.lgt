# block-read-fails.lgt: a block read whose readv() fails (full trace, the
# Launcher's order: the fill inside handle_block_output, then the output).
#
# Documentation/lguest/lguest.c handle_block_output (2.6.23), reading:
#     unsigned int len, reply_num; ...
#     len = readv(dev->fd, reply, reply_num);
#     *lenp = len;
#     p->result = 1 + (p->bytes != len);
#     trigger_irq(fd, irq);
# `len` is unsigned, so a readv() that fails (-1: an I/O error of the file)
# stores 0xffffffff into bd->dma's used_len, having written no byte; result
# is 2 (lgb_irq ends the request with an error) and the irq is raised. The
# Launcher goes on. That is a run of the real Launcher, not a buffer
# overflow: replay reports nothing. (The console stores 0 when readv fails,
# handle_console_input's `len <= 0`, and tun exits, handle_tun_input's
# err(1, "reading network"): only the block reply stores (u32)-1.)
lguest-trace 1
guest 0 pages=8192
device 0.0 type=block pfn=0x2001 pages=1 features=RANDOMNESS
device 0.1 type=console pfn=0 pages=0
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=1 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 dma 0x1f7a0c8 used_len=0 len=[0]
g0 bind_dma key=0x2001000 dmas=0x1f7a0c8 num=1 irq=1 -> 1
# do_read of the partition table: the page into bd->dma, a ping sent.
g0 dma 0x1f7a0c8 addr=[0x1e45000] len=[4096]
g0 dma 0x1f69e5c len=[0]
g0 send_dma key=0x2001000 dma=0x1f69e5c
host pending g0 key=0x2001000 dma=0x1f69e5c
# GETDMA gives bd->dma; readv() fails: used_len := (unsigned)-1; LHREQ_IRQ 1.
l0 fill key=0x2001000 dma=0x1f7a0c8 len=0xffffffff irq=1
l0 output key=0x2001000 dma=0x1f69e5c len=0
# lgb_irq: result 2, the request ends with an error; bd->dma handed back.
g0 dma 0x1f7a0c8 used_len=0
# The next read works: 512 bytes into the same buffer.
g0 dma 0x1f7a0c8 addr=[0x1e45000] len=[512]
g0 send_dma key=0x2001000 dma=0x1f69e5c
host pending g0 key=0x2001000 dma=0x1f69e5c
l0 fill key=0x2001000 dma=0x1f7a0c8 len=512 irq=1
l0 output key=0x2001000 dma=0x1f69e5c len=0
g0 dma 0x1f7a0c8 used_len=0
