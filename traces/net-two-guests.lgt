# net-two-guests.lgt: two Guests on one --sharenet file (full trace).
#
# Two Launchers were started with the same --sharenet=FILE. Each maps the
# file's page MAP_SHARED over its net device page, so an address in that page
# is the same futex key in both Guests: a SEND_DMA on it goes Guest to Guest,
# through the Host, with no Launcher involved (docs/protocol.md 6.3, 8.3).
#
# The page holds an array of 6-byte MAC slots; Guest N binds its receive
# buffers on key page + 4*slot and sends to a peer on page + 4*peer-slot
# (lguest_net.c peer_key). Here A = g0 took slot 0 and B = g1 slot 1
# (lguest.c find_slot: the first fcntl lock that succeeds). Slot 2 still
# holds the MAC of a Guest from an earlier run that crashed without closing
# its interface: the file outlives the Launchers, and only lguestnet_close
# clears a slot.
#
# The run: both bring the interface up (8 receive buffers each), A pings B,
# B consumes and refills, B answers, B broadcasts an ARP request (one send per
# used slot: A gets it, the stale slot 2 is dropped), then A bursts 9 frames
# while B is not reading: 8 fill B's ring, the 9th finds it full twice.
lguest-trace 1

# ---- Launcher setup (lguest.c: main, setup_net_file, setup_console) -------
# Guest A: 32 MB (pfn 0..0x1fff), descriptor page pfn 0x2000, the net device
# is created first: device 0, page pfn 0x2001, irq 1. Features: the slot
# number (0) | NOCSUM (sharenet traffic never leaves the machine).
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
device 0.1 type=console pfn=0 pages=0
# Guest B: the same layout; its slot is 1.
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1
device 1.1 type=console pfn=0 pages=0
# setup_net_file: both Launchers mmap the file's one page MAP_SHARED at their
# device page, pfn 0x2001. Keys 0x2001000 (slot 0), 0x2001004 (slot 1),
# 0x2001008 (slot 2) are now the same key in both Guests.
share net pages=1 map=[0:0x2001, 1:0x2001]

# ---- Probe (lguest_bus.c, lguest_net.c lguestnet_probe) -------------------
# ACKNOWLEDGE, DRIVER, DRIVER_OK on the net device. The probe binds nothing.
# (The consoles are probed as in console-boot.lgt; left out here.)
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
g1 status dev=0 value=ACKNOWLEDGE
g1 status dev=0 value=ACKNOWLEDGE|DRIVER
g1 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK

# ---- ifconfig up on A (lguestnet_open) ------------------------------------
# A publishes its MAC 02:00:00:00:00:00 in slot 0 (not in the trace), then
# fill_slot for all 8 (NUM_SKBS) entries of info->dma[]: a 1514-byte skb each
# (ETH_HLEN + ETH_DATA_LEN), wmb(), used_len = 0.
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 dma 0x1c8f404 used_len=0 addr=[0x1d04810] len=[1514]
g0 dma 0x1c8f468 used_len=0 addr=[0x1d05010] len=[1514]
g0 dma 0x1c8f4cc used_len=0 addr=[0x1d05810] len=[1514]
g0 dma 0x1c8f530 used_len=0 addr=[0x1d06010] len=[1514]
g0 dma 0x1c8f594 used_len=0 addr=[0x1d06810] len=[1514]
g0 dma 0x1c8f5f8 used_len=0 addr=[0x1d07010] len=[1514]
g0 dma 0x1c8f65c used_len=0 addr=[0x1d07810] len=[1514]
# BIND_DMA(peer_key(me=0) = 0x2001000, info->dma, 8, irq 1). io.c bind_dma:
# the Guest's lowest free slot, cursor next_dma = 0.
g0 bind_dma key=0x2001000 dmas=0x1c8f3a0 num=8 irq=1 -> 1

# ---- ifconfig up on B: the same, MAC 02:00:01:00:00:00 in slot 1 ----------
g1 dma 0x1c6b3a0 used_len=0 addr=[0x1b20010] len=[1514]
g1 dma 0x1c6b404 used_len=0 addr=[0x1b20810] len=[1514]
g1 dma 0x1c6b468 used_len=0 addr=[0x1b21010] len=[1514]
g1 dma 0x1c6b4cc used_len=0 addr=[0x1b21810] len=[1514]
g1 dma 0x1c6b530 used_len=0 addr=[0x1b22010] len=[1514]
g1 dma 0x1c6b594 used_len=0 addr=[0x1b22810] len=[1514]
g1 dma 0x1c6b5f8 used_len=0 addr=[0x1b23010] len=[1514]
g1 dma 0x1c6b65c used_len=0 addr=[0x1b23810] len=[1514]
g1 bind_dma key=0x2001004 dmas=0x1c6b3a0 num=8 irq=1 -> 1

# ---- A pings B: a 98-byte ICMP echo request --------------------------------
# lguestnet_start_xmit: slot 1's MAC matches the destination, so
# transfer_packet: skb_to_dma into `dma` on the stack, then
# lguest_send_dma(peer_key(1) = 0x2001004, &dma).
g0 dma 0x1e1fdb4 addr=[0x1c3a0e2] len=[98]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
# io.c send_dma: the key is shared; the bucket walk skips A's own bindings
# and finds B's. dma_transfer: the first entry from B's cursor (0) with
# used_len 0 is entry 0; check_dma_list passes on both; copy_data moves
# min(98, 1514) = 98 bytes; A's used_len := 98, B's entry 0 used_len := 98,
# B's cursor := 1, irq 1 raised in B.
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b3a0 len=98 irq=1

# ---- B takes the packet and refills ---------------------------------------
# lguestnet_rcv scans entries 0..7; entry 0 has used_len 98: take its skb,
# fill_slot(0) with a fresh skb and used_len = 0, netif_rx the packet.
g1 dma 0x1c6b3a0 used_len=0 addr=[0x1b24010] len=[1514]

# ---- B answers: a 98-byte echo reply to slot 0 ----------------------------
g1 dma 0x1f3bdb4 addr=[0x1b9c0e2] len=[98]
g1 send_dma key=0x2001000 dma=0x1f3bdb4
host deliver from=g1:0x1f3bdb4 to=g0:0x1c8f3a0 len=98 irq=1
# A's lguestnet_rcv takes entry 0 and refills it.
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d08010] len=[1514]

# ---- B broadcasts a 42-byte ARP request ------------------------------------
# The destination ff:ff:ff:ff:ff:ff is multicast, so start_xmit calls
# transfer_packet once for every used slot but its own, in slot order:
# slot 0 (A), then slot 2 (the stale MAC).
g1 dma 0x1f3bdb4 addr=[0x1b9c8e2] len=[42]
g1 send_dma key=0x2001000 dma=0x1f3bdb4
# A's cursor is 1 now, and entry 1 is free: it gets the 42 bytes.
host deliver from=g1:0x1f3bdb4 to=g0:0x1c8f404 len=42 irq=1
# Slot 2: nobody is bound on 0x2001008 any more (its Launcher exited long
# ago: release_all_dma unlinked its bindings, but the MAC stayed in the
# file). io.c send_dma finds no binding: nothing happens, no interrupt, and
# B's used_len stays 0 -- transfer_packet counts a tx_carrier_error.
g1 send_dma key=0x2001008 dma=0x1f3bdb4
host drop g1 key=0x2001008
# A takes the ARP request from entry 1 and refills it.
g0 dma 0x1c8f404 used_len=0 addr=[0x1d08810] len=[1514]

# ---- A bursts full-size TCP frames while B does not run its handler -------
# NOCSUM gives NETIF_F_SG, so each frame is a 66-byte linear header plus a
# 1448-byte page fragment: two sections (skb_to_dma). B's cursor is at 1, so
# its entries fill in the order 1, 2, ..., 7, then 0 (the cursor wraps: the
# search index is (next_dma + i) % num_dmas).
g0 dma 0x1e1fdb4 addr=[0x1c52c02, 0x1a9d000] len=[66, 1448]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b404 len=1514 irq=1
g0 dma 0x1e1fdb4 addr=[0x1c53402, 0x1a9e000] len=[66, 1448]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b468 len=1514 irq=1
g0 dma 0x1e1fdb4 addr=[0x1c53c02, 0x1a9f000] len=[66, 1448]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b4cc len=1514 irq=1
g0 dma 0x1e1fdb4 addr=[0x1c54402, 0x1aa0000] len=[66, 1448]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b530 len=1514 irq=1
g0 dma 0x1e1fdb4 addr=[0x1c54c02, 0x1aa1000] len=[66, 1448]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b594 len=1514 irq=1
g0 dma 0x1e1fdb4 addr=[0x1c55402, 0x1aa2000] len=[66, 1448]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b5f8 len=1514 irq=1
g0 dma 0x1e1fdb4 addr=[0x1c55c02, 0x1aa3000] len=[66, 1448]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b65c len=1514 irq=1
g0 dma 0x1e1fdb4 addr=[0x1c56402, 0x1aa4000] len=[66, 1448]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b3a0 len=1514 irq=1
# The 9th frame: all 8 of B's entries have used_len != 0. dma_transfer finds
# no free entry, raises irq 1 in B anyway ("this gives them a chance to wake
# up and refill") and returns "empty"; send_dma drops the lock and retries
# once, from the start.
g0 dma 0x1e1fdb4 addr=[0x1c56c02, 0x1aa5000] len=[66, 1448]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host full from=g0 to=g1 key=0x2001004 irq=1
# B had no chance to run in that window: full again, no further retry. A's
# used_len stays 0 (the wrapper cleared it), so A counts a carrier error and
# TCP will retransmit.
host full from=g0 to=g1 key=0x2001004 irq=1

# ---- B finally runs lguestnet_rcv: all 8 entries are taken and refilled --
g1 dma 0x1c6b3a0 used_len=0 addr=[0x1b24810] len=[1514]
g1 dma 0x1c6b404 used_len=0 addr=[0x1b25010] len=[1514]
g1 dma 0x1c6b468 used_len=0 addr=[0x1b25810] len=[1514]
g1 dma 0x1c6b4cc used_len=0 addr=[0x1b26010] len=[1514]
g1 dma 0x1c6b530 used_len=0 addr=[0x1b26810] len=[1514]
g1 dma 0x1c6b594 used_len=0 addr=[0x1b27010] len=[1514]
g1 dma 0x1c6b5f8 used_len=0 addr=[0x1b27810] len=[1514]
g1 dma 0x1c6b65c used_len=0 addr=[0x1b28010] len=[1514]

# ---- A's retransmission goes through ---------------------------------------
# B's cursor went 1 -> 9 with the 8 deliveries; 9 % 8 = 1, so entry 1.
g0 dma 0x1e1fdb4 addr=[0x1c56c02, 0x1aa5000] len=[66, 1448]
g0 send_dma key=0x2001004 dma=0x1e1fdb4
host deliver from=g0:0x1e1fdb4 to=g1:0x1c6b404 len=1514 irq=1
