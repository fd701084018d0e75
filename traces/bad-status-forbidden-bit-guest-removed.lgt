# bad-status-forbidden-bit-guest-removed.lgt: the Guest sets REMOVED itself.
#
# What breaks: status-forbidden-bit. REMOVED (8) is the Host's bit: "the Host
# can set LGUEST_DEVICE_S_REMOVED to indicate removal", and the Guest answers
# with REMOVED_ACK (16) (lguest_launcher.h, struct lguest_device_desc;
# docs/protocol.md 5.1, 8.4). No 2.6.23 code sets either, but lguest_bus.c
# status_store lets Guest root write any value: `echo 15 >
# /sys/bus/lguest/devices/0/status` keeps ACKNOWLEDGE|DRIVER|DRIVER_OK and
# adds REMOVED. A Host or Launcher that honoured REMOVED would now think it
# had asked for the device to go, while the driver keeps using it.
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000, the console as the only device.
guest 0 pages=8192
device 0.0 type=console pfn=0 pages=0
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 dma 0x477d60 used_len=0 addr=[0x477e00] len=[256]
g0 bind_dma key=0 dmas=0x477d60 num=1 irq=1 -> 1
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
# 15 = ACKNOWLEDGE|DRIVER|DRIVER_OK|REMOVED, written by the Guest: the
# violation is here (nothing is cleared; only REMOVED is new).
g0 status dev=0 value=15
