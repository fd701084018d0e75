# block-read-write.input.lgt: the run of block-read-write.lgt, input-only.
#
# Only the Guest's records and the Launcher's inputs (here: the fills that
# answer each block request, with just the byte count). The Host's `pending`,
# the Launcher's `output` (always 0 for block: lguest.c handle_block_output)
# and the dma=/irq= GETDMA picks are computed by replay; `lgcheck replay
# --emit` writes them out and gives the records of block-read-write.lgt.
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000, block device 0 at pfn 0x2001 (key
# 0x2001000, irq 1), console last (device 1, irq 2).
guest 0 pages=8192
device 0.0 type=block pfn=0x2001 pages=1 features=RANDOMNESS
device 0.1 type=console pfn=0 pages=0

# lguest_bus.c scan_devices (ACKNOWLEDGE) and lguest_dev_probe (DRIVER).
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=1 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
# lguestblk_probe: bd->dma empty and free, bound on the device page's key.
g0 dma 0x1f7a0c8 used_len=0 len=[0]
g0 bind_dma key=0x2001000 dmas=0x1f7a0c8 num=1 irq=1

# Read of the partition table (do_read): the page goes into bd->dma, a ping is
# sent; the Launcher reads 4096 bytes into bd->dma; lgb_irq hands it back.
g0 dma 0x1f7a0c8 addr=[0x1e45000] len=[4096]
g0 dma 0x1f69e5c len=[0]
g0 send_dma key=0x2001000 dma=0x1f69e5c
l0 fill key=0x2001000 len=4096
g0 dma 0x1f7a0c8 used_len=0
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK

# Write of two pages (do_write): the data rides in the sent descriptor; the
# Launcher's reply is a 0-byte fill of bd->dma.
g0 dma 0x1d21d0c addr=[0x1b3e000, 0x1a07000] len=[4096, 4096]
g0 send_dma key=0x2001000 dma=0x1d21d0c
l0 fill key=0x2001000 len=0
g0 dma 0x1f7a0c8 used_len=0

# A 1 KB read.
g0 dma 0x1f7a0c8 addr=[0x1e46400] len=[1024]
g0 dma 0x1f69e5c len=[0]
g0 send_dma key=0x2001000 dma=0x1f69e5c
l0 fill key=0x2001000 len=1024
g0 dma 0x1f7a0c8 used_len=0
