"""Constants of the 2.6.23 lguest I/O ABI (include/linux/lguest_launcher.h, lguest.h)."""

PAGE_SIZE = 4096
PAGE_SHIFT = 12
DMA_SIZE = 100  # sizeof(struct lguest_dma): used_len, addr[16], len[16]
LGUEST_MAX_DMA = 32  # bindings per Guest (struct lguest.dma[])
LGUEST_MAX_DMA_SECTIONS = 16
LGUEST_MAX_DEVICES = 16
LGUEST_IRQS = 32
CONSOLE_KEY = 0

# Device status bits (lguest_device_desc.status)
ACKNOWLEDGE = 1
DRIVER = 2
DRIVER_OK = 4
REMOVED = 8
REMOVED_ACK = 16
FAILED = 128

# Device types
CONSOLE = 1
NET = 2
BLOCK = 3

# The names the trace format and the messages give them (one table each).
STATUS_BITS = {
    "ACKNOWLEDGE": ACKNOWLEDGE,
    "DRIVER": DRIVER,
    "DRIVER_OK": DRIVER_OK,
    "REMOVED": REMOVED,
    "REMOVED_ACK": REMOVED_ACK,
    "FAILED": FAILED,
}
FEATURE_BITS = {"NOCSUM": 0x4000, "RANDOMNESS": 0x8000}
DEVICE_TYPES = {"console": CONSOLE, "net": NET, "block": BLOCK}

# A futex key's owner: a Guest number for a private key (mm, address); a
# shared key (inode, offset) gets SHARED_OWNER + the share's index.  The Host
# tells the two apart by bit 0 of the futex offset; we by owner >= SHARED_OWNER.
SHARED_OWNER = 0x100
# The key of a never-used slot: struct lguest starts zeroed, and a zero futex
# key matches no real one (a private key's ptr is the mm, never NULL).
NO_OWNER = 0xFFFF
