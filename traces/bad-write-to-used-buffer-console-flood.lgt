# bad-write-to-used-buffer-console-flood.lgt: the real 2.6.23 console flood.
#
# What breaks: write-to-used-buffer. The console driver binds ONE input
# buffer. Two bursts of input reach the Launcher before the Guest has read
# the first. For the second, GETDMA (io.c get_dma_buffer) finds no entry
# with used_len 0 and returns the LAST entry anyway -- the only one, still
# holding the first 5 bytes -- and handle_console_input readv()s over them.
# The Guest loses the first input (and sees the second with a stale
# cons_offset). The driver admits it: "M:002 The console can be flooded:
# while the Guest is processing input the Host can send more."
# (docs/protocol.md 3.9, 6.1.) This is what the real code does, so the recorded
# fill agrees with the model: the finding is the protocol breaking, not the
# trace disagreeing.
lguest-trace 1
# 32 MB RAM, descriptor page pfn 0x2000, the console is the only device
# (device 0, irq 1, key 0).
guest 0 pages=8192
device 0.0 type=console pfn=0 pages=0
# hvc_lguest.c lguestcons_probe: bind cons_input (256-byte inbuf) on key 0.
g0 status dev=0 value=ACKNOWLEDGE
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
g0 dma 0x477d60 used_len=0 addr=[0x477e00] len=[256]
g0 bind_dma key=0x0 dmas=0x477d60 num=1 irq=1 -> 1
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK
# A paste: the first 5 bytes. GETDMA gives cons_input (used_len 0). Fine.
l0 fill key=0 dma=0x477d60 len=5 irq=1
# The Guest has not run get_chars yet (used_len is still 5) when the next 3
# bytes come. GETDMA returns cons_input again, used: the violation is here.
l0 fill key=0 dma=0x477d60 len=3 irq=1
