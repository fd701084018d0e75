# bad-buffer-overflow-fill.lgt: a Launcher writes a 1518-byte frame into a
# 1514-byte receive buffer.
#
# What breaks: buffer-overflow. The 2.6.23 Launcher cannot do this: it
# readv()s straight into the iovec that dma2iov built from the descriptor's
# sections, so the kernel truncates the packet to the buffer
# (lguest.c handle_tun_input). This Launcher was patched to read the tap into
# a staging buffer and copy the whole frame into the Guest (a VLAN-tagged
# frame is 1518 bytes); it then stores 1518 in used_len. The 4 extra bytes
# land past the skb's data, in whatever follows it in the Guest's memory,
# and lguestnet_rcv drops the frame as "unbelievable" (length > 1514).
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000; a --tunnet device (device 0, page
# 0x2001, Guest slot 1: receive key 0x2001004, irq 1); the console last.
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=RANDOMNESS|1
device 0.1 type=console pfn=0 pages=0
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
# lguestnet_open: 8 receive entries of 1514 bytes (ETH_HLEN + ETH_DATA_LEN).
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 dma 0x1c8f404 used_len=0 addr=[0x1d04810] len=[1514]
g0 dma 0x1c8f468 used_len=0 addr=[0x1d05010] len=[1514]
g0 dma 0x1c8f4cc used_len=0 addr=[0x1d05810] len=[1514]
g0 dma 0x1c8f530 used_len=0 addr=[0x1d06010] len=[1514]
g0 dma 0x1c8f594 used_len=0 addr=[0x1d06810] len=[1514]
g0 dma 0x1c8f5f8 used_len=0 addr=[0x1d07010] len=[1514]
g0 dma 0x1c8f65c used_len=0 addr=[0x1d07810] len=[1514]
g0 bind_dma key=0x2001004 dmas=0x1c8f3a0 num=8 irq=1 -> 1
# A normal 98-byte packet from the tap: entry 0. Fine.
l0 fill key=0x2001004 dma=0x1c8f3a0 len=98 irq=1
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d08010] len=[1514]
# A 1518-byte VLAN-tagged frame into entry 0 (1514 bytes): the violation.
l0 fill key=0x2001004 dma=0x1c8f3a0 len=1518 irq=1
