# bad-input-value-too-large.lgt: a capture that wrote BIND_DMA's raw third
# argument as the interrupt.
#
# What breaks: the input (verdict error, exit status 2). The Guest passes
# num and irq packed in one register, (num << 8) | irq (lguest.c
# lguest_bind_dma), and the Host unpacks them (hypercalls.c do_hcall). This
# capture printed the packed ecx, 0x801 for num 8 and irq 1, as irq=. An
# interrupt is a u8 (docs/trace-format.md, "Lexical rules"): 0x801 does not fit,
# and a value that does not fit is an input error, not a wrap to 1 -- replay
# must not guess what the writer meant.
lguest-trace 1
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=RANDOMNESS|1
device 0.1 type=console pfn=0 pages=0
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 dma 0x1c8f404 used_len=0 addr=[0x1d04810] len=[1514]
g0 dma 0x1c8f468 used_len=0 addr=[0x1d05010] len=[1514]
g0 dma 0x1c8f4cc used_len=0 addr=[0x1d05810] len=[1514]
g0 dma 0x1c8f530 used_len=0 addr=[0x1d06010] len=[1514]
g0 dma 0x1c8f594 used_len=0 addr=[0x1d06810] len=[1514]
g0 dma 0x1c8f5f8 used_len=0 addr=[0x1d07010] len=[1514]
g0 dma 0x1c8f65c used_len=0 addr=[0x1d07810] len=[1514]
# The error is here: irq=0x801.
g0 bind_dma key=0x2001004 dmas=0x1c8f3a0 num=8 irq=0x801
