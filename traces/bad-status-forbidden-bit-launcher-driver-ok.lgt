# bad-status-forbidden-bit-launcher-driver-ok.lgt: a Launcher sets DRIVER_OK
# on the Guest's behalf.
#
# What breaks: status-forbidden-bit. ACKNOWLEDGE, DRIVER and DRIVER_OK say
# how far the Guest's own driver got; "the rest are only ever manipulated by
# the Guest" (lguest_launcher.h). The 2.6.23 Launcher never writes status at
# all (lguest.c new_dev_desc; docs/protocol.md 5.1); a Launcher may at most set
# REMOVED. This Launcher was patched to mark the console ready as soon as it
# saw the Guest's driver attach (status ACKNOWLEDGE|DRIVER). If the probe then
# fails (lguestcons_probe's bind returns -ENOMEM, status should stay 3), the
# descriptor still says DRIVER_OK, and anyone reading it is misled.
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000, the console as the only device.
guest 0 pages=8192
device 0.0 type=console pfn=0 pages=0
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
# The Launcher adds DRIVER_OK (keeping the Guest's bits): the violation.
l0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
# The Guest's probe goes on as usual and sets DRIVER_OK itself (no change).
g0 dma 0x477d60 used_len=0 addr=[0x477e00] len=[256]
g0 bind_dma key=0 dmas=0x477d60 num=1 irq=1 -> 1
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
