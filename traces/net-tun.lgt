# net-tun.lgt: a Guest on a --tunnet device talks to the Host's tap (full trace).
#
# In tun mode the net page is private to the Guest (an ordinary /dev/zero
# page), so every key in it is private: a SEND_DMA there always goes to the
# Launcher. The Launcher plays peer slot 0: it wrote the tap's MAC into slot 0
# with the promiscuous bit set (lguest.c setup_tun_net), so every packet the
# Guest sends goes to key page + 0. The Guest is slot 1 and binds its receive
# buffers on page + 4; the Launcher feeds tap input to them with GETDMA on
# that key (lguest.c handle_tun_input). docs/protocol.md 6.3 "tun mode".
lguest-trace 1

# ---- Launcher setup (lguest.c: main, setup_tun_net, setup_console) --------
# 32 MB RAM, descriptor page pfn 0x2000; the net device is device 0 on page
# 0x2001 (keys 0x2001000 = slot 0 = the Launcher, 0x2001004 = slot 1 = the
# Guest), irq 1. Features: NET_PEERNUM (1) | RANDOMNESS; no NOCSUM, since
# these packets can reach the real world.
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=RANDOMNESS|1
# The console, last: device 1, no page, irq 2.
device 0.1 type=console pfn=0 pages=0

# ---- Probe (lguest_bus.c; lguest_net.c lguestnet_probe binds nothing) ------
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK

# ---- ifconfig up (lguestnet_open) -------------------------------------------
# The MAC goes into slot 1; fill_slot gives each of the 8 entries a fresh
# 1514-byte skb and used_len = 0; BIND_DMA(page + 4*1, info->dma, 8, irq 1).
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 dma 0x1c8f404 used_len=0 addr=[0x1d04810] len=[1514]
g0 dma 0x1c8f468 used_len=0 addr=[0x1d05010] len=[1514]
g0 dma 0x1c8f4cc used_len=0 addr=[0x1d05810] len=[1514]
g0 dma 0x1c8f530 used_len=0 addr=[0x1d06010] len=[1514]
g0 dma 0x1c8f594 used_len=0 addr=[0x1d06810] len=[1514]
g0 dma 0x1c8f5f8 used_len=0 addr=[0x1d07010] len=[1514]
g0 dma 0x1c8f65c used_len=0 addr=[0x1d07810] len=[1514]
g0 bind_dma key=0x2001004 dmas=0x1c8f3a0 num=8 irq=1 -> 1

# ---- Output: a 342-byte DHCP DISCOVER ---------------------------------------
# lguestnet_start_xmit: slot 0 is promiscuous, so transfer_packet(0):
# skb_to_dma splits the linear data at the page boundary (286 + 56 bytes),
# then lguest_send_dma(page + 0, &dma).
g0 dma 0x1e1fdb4 addr=[0x1c3aee2, 0x1c3b000] len=[286, 56]
g0 send_dma key=0x2001000 dma=0x1e1fdb4
# io.c send_dma: the page is private, so the send is pending for the Launcher.
host pending g0 key=0x2001000 dma=0x1e1fdb4
# lguest.c handle_output: 0x2001000 is the tun device's watch_key;
# handle_tun_output writev()s both sections to the tap and returns the byte
# count, 342, which lands in used_len: transfer_packet counts a good packet.
l0 output key=0x2001000 dma=0x1e1fdb4 len=342

# ---- Input: the DHCP OFFER arrives on the tap -------------------------------
# handle_tun_input: GETDMA(page + 4) returns the first entry with used_len 0
# counting from index 0 (io.c get_dma_buffer ignores the Host's cursor):
# entry 0, irq 1; readv() 342 bytes into it; used_len := 342; LHREQ_IRQ 1.
l0 fill key=0x2001004 dma=0x1c8f3a0 len=342 irq=1
# lguestnet_rcv takes entry 0 and refills it with a new skb.
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d08010] len=[1514]

# ---- Output: the DHCP REQUEST ------------------------------------------------
g0 dma 0x1e1fdb4 addr=[0x1c3a6e2] len=[342]
g0 send_dma key=0x2001000 dma=0x1e1fdb4
host pending g0 key=0x2001000 dma=0x1e1fdb4
l0 output key=0x2001000 dma=0x1e1fdb4 len=342

# ---- Two packets arrive before the Guest runs its handler ------------------
# The DHCP ACK (342 bytes) goes into entry 0 (free again), then a 60-byte ARP
# request into entry 1: GETDMA skips entry 0, which now has used_len 342.
l0 fill key=0x2001004 dma=0x1c8f3a0 len=342 irq=1
l0 fill key=0x2001004 dma=0x1c8f404 len=60 irq=1
# lguestnet_rcv scans 0..7: takes entries 0 and 1, refilling each.
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d08810] len=[1514]
g0 dma 0x1c8f404 used_len=0 addr=[0x1d09010] len=[1514]

# ---- Output: the 42-byte ARP reply -----------------------------------------
g0 dma 0x1e1fdb4 addr=[0x1c3a8e2] len=[42]
g0 send_dma key=0x2001000 dma=0x1e1fdb4
host pending g0 key=0x2001000 dma=0x1e1fdb4
l0 output key=0x2001000 dma=0x1e1fdb4 len=42
