# bad-input-question-mark.lgt: a `?` in a trace read outside partial mode.
#
# What breaks: the input (verdict error, exit status 2). This capture could
# not see what the console's writev() returned, so it wrote len=? in the
# Launcher's output record. `?` (a value the capture did not record) is
# accepted only when the reader is asked for partial mode (`lgcheck replay
# --partial`); a plain replay promises to check everything, so it refuses the
# trace and says where the `?` is (docs/trace-format.md, "Lexical rules").
lguest-trace 1
guest 0 pages=8192
device 0.0 type=console pfn=0 pages=0
# Early printk: 16 bytes to the console (hvc_lguest.c put_chars).
g0 dma 0x44fe30 addr=[0x44fe9c] len=[16]
g0 send_dma key=0 dma=0x44fe30
host pending g0 key=0 dma=0x44fe30
# The error is here: len=?.
l0 output key=0 dma=0x44fe30 len=?
