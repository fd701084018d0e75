# bad-divergence-output-longer-than-writev.lgt: a Launcher answer no writev
# can give.
#
# What breaks: divergence. The console's handler stores writev's result
# (Documentation/lguest/lguest.c: handle_console_output), which is at most
# the iovec's 13 bytes, or (u32)-1 on an error; the trace says 14. The block
# device's handler always returns 0 (handle_block_output: "the block device
# uses the result field instead"), so its output of 5 is a divergence too.
lguest-trace 1
guest 0 pages=16384
device 0.0 type=block pfn=16385 pages=1
device 0.1 type=console pfn=0 pages=0
g0 dma 0x3f100 addr=[0x3d000] len=[13]
g0 send_dma key=0 dma=0x3f100
host pending g0 key=0 dma=0x3f100
l0 output key=0 dma=0x3f100 len=14
g0 send_dma key=0x4001000 dma=0x3f100
host pending g0 key=0x4001000 dma=0x3f100
l0 output key=0x4001000 dma=0x3f100 len=5
