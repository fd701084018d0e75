# console-boot.lgt: a Guest boots with nothing but the console (full trace).
#
# A full trace: every Guest hypercall is followed by what the Host answered,
# and every Launcher step is recorded. console-boot.input.lgt is the same run
# with only the Guest's records and the Launcher's inputs; `lgcheck replay
# --emit` turns it back into this file (without the comments).
#
# What happens (docs/protocol.md 8.1):
#   1. early printk output goes to the Launcher before any driver is probed;
#   2. the Guest bus and the console driver set ACKNOWLEDGE, DRIVER, bind the
#      input buffer on key 0, set DRIVER_OK;
#   3. more output (now through the tty layer);
#   4. a key press: the Launcher fills the input buffer, the Guest reads it and
#      hands the buffer back (used_len=0); then a second key press.
lguest-trace 1

# ---- Launcher setup (Documentation/lguest/lguest.c: main) -----------------
# 32 MB of Guest RAM: pfn 0..0x1fff. The device descriptor page is the page
# right above RAM, pfn 0x2000 (= pages). There are no other devices, so no
# device pages follow it; pfn_limit = 0x2001.
guest 0 pages=8192
# setup_console: the console is always created last; it has no page of its
# own (pages=0, and the Launcher writes pfn 0). It is device 0 here, so its
# interrupt is lgdev_irq = index + 1 = 1. It watches key 0
# (LGUEST_CONSOLE_DMA_KEY).
device 0.0 type=console pfn=0 pages=0

# ---- Early boot output, before the console device is probed ---------------
# hvc_lguest.c cons_init -> hvc_instantiate: printk already works.
# hvc_console_print copies up to 16 bytes (N_OUTBUF) into c[] on the stack and
# calls put_chars, which builds a one-section struct lguest_dma, also on the
# stack (0x44fe30), and calls lguest_send_dma(0, &dma).
g0 dma 0x44fe30 addr=[0x44fe9c] len=[16]
# "Linux version 2." -- lguest_send_dma sets used_len=0, then SEND_DMA.
g0 send_dma key=0 dma=0x44fe30
# io.c send_dma: key 0 is a private address (Guest page 0, MAP_PRIVATE), so
# the send is not for another Guest: it is left pending for the Launcher and
# read() returns to the Launcher with (dma, key). The Guest does not run again
# until the Launcher has handled it.
host pending g0 key=0 dma=0x44fe30
# lguest.c handle_output: key 0 is the console's watch_key;
# handle_console_output writev()s the 16 bytes to stdout and returns 16, which
# the Launcher stores in the descriptor's used_len.
l0 output key=0 dma=0x44fe30 len=16
# The next 16-byte chunk: same stack slot, same buffer, new text.
g0 dma 0x44fe30 addr=[0x44fe9c] len=[16]
g0 send_dma key=0 dma=0x44fe30
host pending g0 key=0 dma=0x44fe30
l0 output key=0 dma=0x44fe30 len=16

# ---- The bus finds the console; the driver binds its input buffer ----------
# lguest_bus.c add_lguest_device: every descriptor with a type gets ACKNOWLEDGE.
g0 status dev=0 value=ACKNOWLEDGE
# lguest_bus.c lguest_dev_probe: DRIVER, then the driver's probe.
g0 status dev=0 value=ACKNOWLEDGE|DRIVER
# hvc_lguest.c: cons_input is one static descriptor, initialized at compile
# time: free (used_len 0), one section pointing at the 256-byte inbuf[]. The
# Guest never stores into it before binding it, so the capture writes its
# initial contents here, just before the bind (without this record replay
# could not check its use: see bad-unknown-descriptor-never-written.lgt).
g0 dma 0x477d60 used_len=0 addr=[0x477e00] len=[256]
# lguestcons_probe: hvc_alloc, then lguest_bind_dma(key 0, &cons_input,
# 1 entry, irq 1). io.c bind_dma takes the lowest free slot of the Guest's
# table, sets the cursor next_dma=0, and returns 1.
g0 bind_dma key=0 dmas=0x477d60 num=1 irq=1 -> 1
# The probe returned 0, so lguest_dev_probe sets DRIVER_OK.
g0 status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK

# ---- More output, now from the tty layer -----------------------------------
# hvc_push -> put_chars from the 256-byte hp->outbuf (kmalloc'd), the
# descriptor on the kernel stack of the writing task: "\r\nlguest login: ".
g0 dma 0x1d5bdd0 addr=[0x1c3e420] len=[16]
g0 send_dma key=0 dma=0x1d5bdd0
host pending g0 key=0 dma=0x1d5bdd0
l0 output key=0 dma=0x1d5bdd0 len=16

# ---- Input: the user types "root\r" ----------------------------------------
# lguest.c handle_console_input: GETDMA(key 0) returns &cons_input (the first
# entry with used_len 0) and stashes the irq (1) in its used_len; readv()
# reads 5 bytes into inbuf; used_len := 5; LHREQ_IRQ 1.
l0 fill key=0 dma=0x477d60 len=5 irq=1
# hvc_lguest.c get_chars: once the Guest has copied all 5 bytes it sets
# cons_offset = 0 and used_len = 0: the buffer is handed back.
g0 dma 0x477d60 used_len=0

# ---- A second input: the password prompt is answered, 9 bytes ----------------
l0 fill key=0 dma=0x477d60 len=9 irq=1
g0 dma 0x477d60 used_len=0
