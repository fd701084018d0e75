# bad-input-header.lgt: a trace whose header names a version this reader does
# not know.
#
# What breaks: the input, not the protocol (verdict error, exit status 2).
# The first record must be `lguest-trace 1` or `lguest-trace 2` (docs/trace-format.md,
# "Records"); a writer that bumped the version for a format change must not
# be read as version 1, so replay stops at the header and checks nothing.
lguest-trace 3
guest 0 pages=8192
device 0.0 type=console pfn=0 pages=0
g0 dma 0x44fe30 addr=[0x44fe9c] len=[16]
g0 send_dma key=0 dma=0x44fe30
