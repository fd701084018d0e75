# bad-status-cleared.lgt: Guest userspace clears DRIVER_OK through sysfs.
#
# What breaks: status-cleared. The status bits are "only ever set"
# (lguest_launcher.h, struct lguest_device_desc): a Host or Launcher that
# reads them may take a bit's absence to mean the driver never got that far.
# The Guest kernel only ever ORs bits in (lguest_bus.c add_lguest_device,
# lguest_dev_probe), but lguest_bus.c status_store lets root overwrite the
# whole field: `echo 3 > /sys/bus/lguest/devices/0/status` on a device that
# is running (status 7) clears DRIVER_OK while the driver still runs.
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000, the console as the only device
# (device 0, irq 1).
guest 0 pages=8192
device 0.0 type=console pfn=0 pages=0
# Boot: ACKNOWLEDGE, DRIVER, bind the console input, DRIVER_OK.
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 dma 0x477d60 used_len=0 addr=[0x477e00] len=[256]
g0 bind_dma key=0 dmas=0x477d60 num=1 irq=1 -> 1
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
# Later, from Guest userspace, 3 (ACKNOWLEDGE|DRIVER) is written over 7:
# DRIVER_OK goes from 1 to 0. The violation is here.
g0 status dev=0 value=3
