# bad-data-corrupted-split-sections.lgt: 2.6.23's copy_data repeats a source section's start.
#
# A (g0) sends a 64-byte frame on B's (g1) slot key in two sections, the
# Ethernet header (14 bytes) and the payload (50). B's first receive buffer
# has two sections of 10 and 1504 bytes: its first section ends 10 bytes into
# the header. copy_data (io.c) copies from src->addr[si] without adding
# srcoff, so B's second section starts with the header's bytes 0-3 again
# instead of bytes 10-13: 64 bytes, used_len right, 4 of them wrong
# (data-corrupted at the deliver line). The second frame lands in B's second
# buffer, one section of 1514 bytes: nothing can split there, and it is right.
# The sums are what the 2.6.23 Host delivered (the model's own copy).
lguest-trace 2
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1
share net pages=1 map=[0:0x2001, 1:0x2001]

# ---- B binds two receive buffers on its slot key (slot 1)
g1 dma 0x1c8f000 used_len=0 addr=[0x1d00000, 0x1d01000] len=[10, 1504]
g1 dma 0x1c8f064 used_len=0 addr=[0x1d02000] len=[1514]
g1 bind_dma key=0x2001004 dmas=0x1c8f000 num=2 irq=1 -> 1

# ---- A sends an IPv4 frame: header and payload in two sections
g0 dma 0x1b00000 addr=[0x1e00000, 0x1e01000] len=[14, 50]
g0 mem 0x1e00000 data=525400123456525400abcdef0800
g0 mem 0x1e01000 data=404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f7071
g0 send_dma key=0x2001004 dma=0x1b00000
host deliver from=g0:0x1b00000 to=g1:0x1c8f000 len=64 irq=1 sum=d78aa07d797f32ebb24d450cc6642dd7f53f577c0fe6c9cacef04994dcb2e160

# ---- A sends an ARP frame the same way: B's one-section buffer takes it whole
g0 dma 0x1b00064 addr=[0x1e02000, 0x1e03000] len=[14, 28]
g0 mem 0x1e02000 data=525400123456525400abcdef0806
g0 mem 0x1e03000 data=404142434445464748494a4b4c4d4e4f505152535455565758595a5b
g0 send_dma key=0x2001004 dma=0x1b00064
host deliver from=g0:0x1b00064 to=g1:0x1c8f064 len=42 irq=1 sum=b4deb879b39f6c8c665e5e43d463e31be04fbb75eb6f43bf86bc17c10578bf81
