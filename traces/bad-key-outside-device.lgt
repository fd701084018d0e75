# bad-key-outside-device.lgt: a block driver binds its reply buffer on a key
# in ordinary RAM.
#
# What breaks: key-outside-device. By convention (lguest_launcher.h D:200) a
# key is an address inside the device's own page: that is what keeps the
# keys of different devices apart, and what the Launcher watches (the block
# handler's watch_key and its GETDMA key are the page start, 0x2001000).
# This driver passed __pa(&bd->dma) instead of bd->phys_addr to
# lguest_bind_dma. io.c bind_dma does not check (any 4-aligned mapped
# address is a key) and returns 1, but the Launcher's GETDMA(0x2001000) will
# never find the buffer: the first block read hangs the Guest's disk, and
# the Launcher exits on "no dma buffer" (lguest.c handle_block_output).
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000, the block device on pfn 0x2001
# (irq 1), the console last.
guest 0 pages=8192
device 0.0 type=block pfn=0x2001 pages=1 features=RANDOMNESS
device 0.1 type=console pfn=0 pages=0
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 dma 0x1f7a0c8 used_len=0 len=[0]
# key 0x1f7a0c8 is in RAM, in no device page: the violation is here.
g0 bind_dma key=0x1f7a0c8 dmas=0x1f7a0c8 num=1 irq=1 -> 1
