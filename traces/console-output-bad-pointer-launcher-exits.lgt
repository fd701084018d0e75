# console-output-bad-pointer-launcher-exits.lgt: a console write whose
# section is a kernel virtual address makes g0's Launcher exit (full trace).
#
# Documentation/lguest/lguest.c handle_output first converts the sent
# descriptor with dma2iov, which calls check_pointer on the struct and on
# every section up to the first 0 length:
#     if (addr >= top || addr + size >= top)
#         errx(1, "%s:%i: Invalid address %li", __FILE__, line, addr);
# (top = the Guest's pfn limit x 4096, what tell_kernel gave the Host). A
# console driver that puts the buffer's virtual address (0xc03f1000) in
# addr[0] instead of __pa(buf) sends a section far above top: the Launcher
# exits before any device handler runs, so no `output` is recorded; the exit
# closes /dev/lguest (release_all_dma) and g0 never runs again.
#
# After the exit g1 sends a frame to g0's net slot: no binding is left, the
# Host drops it.
lguest-trace 1
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
device 0.1 type=console pfn=0 pages=0
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1
share net pages=1 map=[0:0x2001, 1:0x2001]
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 bind_dma key=0x2001000 dmas=0x1c8f3a0 num=1 irq=1 -> 1
# put_chars with the bug: addr[0] = buf (virtual), len[0] = 13.
g0 dma 0x3f100 addr=[0xc03f1000] len=[13]
g0 send_dma key=0 dma=0x3f100
host pending g0 key=0 dma=0x3f100
# handle_output -> dma2iov -> check_pointer(0xc03f1000, 13) fails: l0 exits.
g1 dma 0x1b00000 addr=[0x1e00000] len=[64]
g1 send_dma key=0x2001000 dma=0x1b00000
host drop g1 key=0x2001000
