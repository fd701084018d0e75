# bad-bad-dma-getdma-entry-outside-memory.lgt: the console binds an input
# buffer whose struct runs past the end of the Guest's memory; a key press
# kills the Guest and makes its Launcher exit (input-only trace).
#
# io.c get_dma_buffer reads each entry with lgread; for this one
# lguest_address_ok fails, so lgread zero-fills the copy and kills the Guest
# ("bad read address %#lx len %u"). The zeroed copy's used_len is 0, so the
# loop stops there and the entry is returned anyway; user_get_dma's
# lgwrite_u32 fails too (kill_guest keeps the first reason) and the write()
# returns the entry's address. The Launcher's get_dma_buffer converts it
# with dma2iov, whose check_pointer(udma, 100) fails: errx(1, "Invalid
# address"), the Launcher exits before any readv, and its exit closes
# /dev/lguest. The finding is the kill (bad-dma); g1's later send to g0's
# slot finds no binding and is dropped.
lguest-trace 1
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
device 0.1 type=console pfn=0 pages=0
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1
share net pages=1 map=[0:0x2001, 1:0x2001]
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 bind_dma key=0x2001000 dmas=0x1c8f3a0 num=1 irq=1
# cons_input at 0x2001fd0: its 100 bytes end past the device page (top = 0x2002000).
g0 bind_dma key=0 dmas=0x2001fd0 num=1 irq=2
l0 fill key=0 len=1
g1 dma 0x1b00000 addr=[0x1e00000] len=[64]
g1 send_dma key=0x2001000 dma=0x1b00000
