# console-output-short-writev.lgt: the console's output used_len is whatever
# writev returned (ok).
#
# handle_console_output (Documentation/lguest/lguest.c) is
# `return writev(STDOUT_FILENO, iov, num);`, and handle_output stores that
# u32 into the sender's used_len. stdout is a pipe here: the first writev
# writes 5 of the 13 bytes (a full pipe), the second fails once the reader
# has gone (-1, stored as 0xffffffff), the third writes all. hvc_lguest's
# put_chars ignores used_len either way. The block device's handler always
# returns 0, so no such latitude there.
lguest-trace 1
guest 0 pages=16384
device 0.0 type=console pfn=0 pages=0
g0 dma 0x3f100 addr=[0x3d000] len=[13]
g0 send_dma key=0 dma=0x3f100
host pending g0 key=0 dma=0x3f100
l0 output key=0 dma=0x3f100 len=5
g0 send_dma key=0 dma=0x3f100
host pending g0 key=0 dma=0x3f100
l0 output key=0 dma=0x3f100 len=0xffffffff
g0 send_dma key=0 dma=0x3f100
host pending g0 key=0 dma=0x3f100
l0 output key=0 dma=0x3f100 len=13
