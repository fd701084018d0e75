# v2-net-bytes.lgt: version 2 traffic where copy_data cannot go wrong (ok).
#
# copy_data (io.c) restarts a source section only when a destination section
# ends inside it. Here it never does: B's (g1) buffers have one section, or
# sections whose boundaries fall where the source's do (14 + 1500 against
# 14 + 50). The third send's payload was not captured (no `mem`): its data
# check is skipped with a note, and nothing is reported from bytes the trace
# never had.
lguest-trace 2
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1
share net pages=1 map=[0:0x2001, 1:0x2001]

g1 dma 0x1c8f000 used_len=0 addr=[0x1d00000] len=[1514]
g1 dma 0x1c8f064 used_len=0 addr=[0x1d02000, 0x1d03000] len=[14, 1500]
g1 dma 0x1c8f0c8 used_len=0 addr=[0x1d04000] len=[1514]
g1 bind_dma key=0x2001004 dmas=0x1c8f000 num=3 irq=1 -> 1

# a single-section frame into a single-section buffer
g0 dma 0x1b00000 addr=[0x1e00000] len=[64]
g0 mem 0x1e00000 data=525400123456525400abcdef0800404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f7071
g0 send_dma key=0x2001004 dma=0x1b00000
host deliver from=g0:0x1b00000 to=g1:0x1c8f000 len=64 irq=1 sum=a9a87b873476b5b30c2e04bd0f553a853153f6b7450d4acb8a215e3187106fd1

# two sections into two sections that split at the same offset
g0 dma 0x1b00064 addr=[0x1e02000, 0x1e03000] len=[14, 50]
g0 mem 0x1e02000 data=525400123456525400abcdef0806
g0 mem 0x1e03000 data=404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f7071
g0 send_dma key=0x2001004 dma=0x1b00064
host deliver from=g0:0x1b00064 to=g1:0x1c8f064 len=64 irq=1 sum=9779a977d482c02f6acf474d88c26670b8b5befe9a2159641a2b4517c61635fe

# a frame whose payload bytes were not captured
g0 dma 0x1b000c8 addr=[0x1e04000, 0x1e05000] len=[14, 50]
g0 mem 0x1e04000 data=525400123456525400abcdef0800
g0 send_dma key=0x2001004 dma=0x1b000c8
host deliver from=g0:0x1b000c8 to=g1:0x1c8f0c8 len=64 irq=1
