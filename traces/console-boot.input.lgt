# console-boot.input.lgt: the run of console-boot.lgt as an input-only trace.
#
# Only what the Guest did (its hypercalls and its writes to descriptors and
# status) and what came in from outside (the Launcher's input: a key press is
# a `fill` without dma= or irq=). No Host records and no Launcher `output`:
# replay computes those from the model, and `lgcheck replay --emit FULL
# console-boot.input.lgt` writes them out; the result has the same records as
# console-boot.lgt.
lguest-trace 1
# 32 MB of RAM; the descriptor page at pfn 0x2000; the console is the only
# device (device 0, irq 1, no page, key 0).
guest 0 pages=8192
device 0.0 type=console pfn=0 pages=0

# Early printk (hvc_lguest.c put_chars): two 16-byte chunks. Each send_dma is
# private to this Guest, so the model makes it pending and lets the
# Launcher's console handler write 16 into used_len (lguest.c handle_output).
g0 dma 0x44fe30 addr=[0x44fe9c] len=[16]
g0 send_dma key=0 dma=0x44fe30
g0 dma 0x44fe30 addr=[0x44fe9c] len=[16]
g0 send_dma key=0 dma=0x44fe30

# Probe (lguest_bus.c lguest_dev_probe, hvc_lguest.c lguestcons_probe):
# ACKNOWLEDGE, DRIVER, bind the 256-byte input buffer on key 0 with irq 1
# (the `-> 1` result is left to the model), DRIVER_OK. cons_input is a
# static, initialized descriptor: its initial contents are written as a
# `dma` record before the bind.
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 dma 0x477d60 used_len=0 addr=[0x477e00] len=[256]
g0 bind_dma key=0 dmas=0x477d60 num=1 irq=1
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK

# Output through the tty layer (hvc_push -> put_chars).
g0 dma 0x1d5bdd0 addr=[0x1c3e420] len=[16]
g0 send_dma key=0 dma=0x1d5bdd0

# Input: 5 bytes typed. The model's GETDMA picks the buffer and its irq
# (lguest.c handle_console_input); the Guest reads them and hands the buffer
# back (hvc_lguest.c get_chars sets used_len = 0).
l0 fill key=0 len=5
g0 dma 0x477d60 used_len=0
# A second input of 9 bytes, read and handed back the same way.
l0 fill key=0 len=9
g0 dma 0x477d60 used_len=0
