/*
 * The lguest 2.6.23 I/O protocol as lgcheck's default configuration sees it,
 * hand-written in Promela for SPIN (benchmarks/spin_compare.py runs it).
 *
 * The same rules as spec/host.py, spec/launcher.py and checker/transition.py
 * (conforming Guests), one action per step, so a trail's length is BMC's depth:
 *   Guest:    dma (rewrite a descriptor: used_len 0 or as it was, new section
 *             lengths), bind / unbind by a driver (probe / close), send,
 *             status (a driver ORs in one bit), sysfs (userspace writes the field)
 *   Launcher: output (answer a pending send), fill (GETDMA + readv + used_len),
 *             lstatus (only with fault launcher-sets-driver-ok)
 * and the six invariants as assertions at the write that would break them.
 *
 * Abstractions (say why each keeps the answers of the checks):
 *  - keys are futex identities: the net page is shared (net_key(q) names the
 *    same thing in every Guest), block and console keys are private, so an
 *    identity is a small number (NETK, BLKK, CONK below);
 *  - a section length is 0, 1 or 2 units (a unit is any length up to a page):
 *    the checks compare sums and test for 0, which small values exercise;
 *    input offered to fill is 0..MAXIN units;
 *  - used_len is kept as 0 or not (the checks only test it against 0);
 *  - next_dma is kept modulo the binding's num_dmas (the Host only uses it so);
 *  - "the newest binding" is the first match by slot: two live bindings on one
 *    key exist only after key-collision has already fired.
 * Build: spin -a [-DFAULT_x] [-DG=.. -DS=.. -DB=..] lguest.pml; cc pan.c; ./pan
 */

#ifndef G
#define G 2        /* Guests */
#endif
#ifndef S
#define S 2        /* binding slots per Guest */
#endif
#ifndef B
#define B 2        /* descriptors per bound array */
#endif
#define SEC 2      /* sections per descriptor */
#ifndef MAXLEN
#define MAXLEN 2   /* a section's length in units (see above); 1 for a smaller state space */
#endif
#define NA 2       /* descriptor arrays a Guest may bind */
#define NC (NA*B + 1)   /* cells: the arrays' entries, then the send descriptor */
#define SEND (NA*B)
#define MAXIN 5
#define NDRV 4     /* console, block, net, and (fault) a key outside every device */

/* status bits */
#define ACK 1
#define DRV 2
#define DOK 4
#define REM 8
#define RACK 16
#define FLD 32

/* futex identities */
#define NETK(q) (10 + (q))
#define BLKK(g) (20 + (g))
#define CONK(g) (30 + (g))
#define RAMK(g) (40 + (g))

#ifdef FAULT_two_guests_one_slot
#define NETSLOT(g) 0
#else
#define NETSLOT(g) (g)
#endif

typedef Slot { bool live; byte key; byte dmas; byte num; byte next };
typedef Cell { bool used; byte ln[SEC] };
typedef Guest {
  Slot slot[S];
  Cell cell[NC];
  bool bound[NDRV];
  byte bdmas[NDRV];
  byte status[3];
  bool pending;
  byte pkey
};
Guest gs[G];

/* the key driver d of Guest g binds */
inline drvkey(g, d, k) {
  if
  :: d == 0 -> k = CONK(g)
  :: d == 1 -> k = BLKK(g)
  :: d == 2 -> k = NETK(NETSLOT(g))
  :: else -> k = RAMK(g)
  fi
}

/* capacity of cell c of Guest g: ln[0] + ln[1] + ... up to the first 0 */
inline cap(g, c, out) {
  out = 0;
  if
  :: gs[g].cell[c].ln[0] == 0 -> skip
  :: else -> out = gs[g].cell[c].ln[0];
     if
     :: gs[g].cell[c].ln[1] != 0 -> out = out + gs[g].cell[c].ln[1]
     :: else -> skip
     fi
  fi
}

/* the address of entry i of array a, as a cell index */
#define ENTRY(a, i) ((a) * B + (i))

/* write-to-used-buffer and buffer-overflow, at a data write of n units into cell c */
inline data_write(g, c, n) {
  cap(g, c, capv);
#ifndef NO_ASSERT_BUFFERS
  assert(!gs[g].cell[c].used);   /* write-to-used-buffer */
  assert(n <= capv);             /* buffer-overflow */
#endif
  gs[g].cell[c].used = (n != 0)
}

inline status_write(g, dv, v, launcher) {
  newly = v & ~gs[g].status[dv];
#ifndef NO_ASSERT_STATUS
  assert((gs[g].status[dv] & ~v) == 0);        /* status-cleared */
  if
  :: launcher -> assert((newly & ~REM) == 0)    /* status-forbidden-bit */
  :: else -> assert((newly & REM) == 0)
  fi;
#endif
  gs[g].status[dv] = v
}

byte capv, capw, newly, key, nlen, i, j, h, found, c, v, cur, n, a;
byte g, d, u, bi, clr;   /* the step's choices (reset to 0 after each step, so they add no states) */

#define RESET g = 0; d = 0; u = 0; bi = 0; clr = 0; capv = 0; capw = 0; newly = 0; key = 0; nlen = 0; \
              i = 0; j = 0; h = 0; found = 0; c = 0; v = 0; cur = 0; n = 0; a = 0

active proctype world() {
  do
  /* ---- Guest g rewrites a descriptor: used_len 0 or as it was; sections of 0..2 units */
  :: atomic {
       select(g : 0 .. G - 1); select(c : 0 .. NC - 1); select(u : 0 .. 1); select(n : 0 .. MAXLEN); select(a : 0 .. MAXLEN);
       d_step {
         if
         :: !gs[g].pending ->
            if :: u -> gs[g].cell[c].used = 0 :: else -> skip fi;
            gs[g].cell[c].ln[0] = n; gs[g].cell[c].ln[1] = a
         :: else -> skip
         fi;
         RESET
       }
     }
  /* ---- a driver binds its device's key once (io.c: bind_dma), or unbinds what it bound */
  :: atomic {
       select(g : 0 .. G - 1);
#ifdef FAULT_guest_binds_outside_device
       select(d : 0 .. 3);
#else
       select(d : 0 .. 2);
#endif
       select(u : 0 .. 1);   /* 1: bind, 0: unbind */
       select(a : 0 .. NA - 1); select(n : 1 .. B);
       d_step {
         drvkey(g, d, key);
         if
         :: gs[g].pending -> skip
         :: !gs[g].pending && u && (!gs[g].bound[d]
#ifdef FAULT_guest_rebinds_key
             || true
#endif
            ) ->
            /* the lowest free slot */
            i = 0;
            do
            :: i < S && !gs[g].slot[i].live -> found = 1; break
            :: i < S && gs[g].slot[i].live -> i++
            :: i >= S -> break
            od;
            if
            :: found ->
#ifndef NO_ASSERT_KEYS
               /* key-collision: no other live binding holds the key */
               h = 0;
               do
               :: h < G ->
                  j = 0;
                  do
                  :: j < S -> assert(!(gs[h].slot[j].live && gs[h].slot[j].key == key)); j++
                  :: j >= S -> break
                  od;
                  h++
               :: h >= G -> break
               od;
               /* key-outside-device */
               assert(key < 40);
#endif
               gs[g].slot[i].live = 1; gs[g].slot[i].key = key; gs[g].slot[i].dmas = a;
               gs[g].slot[i].num = n; gs[g].slot[i].next = 0;
               gs[g].bound[d] = 1; gs[g].bdmas[d] = a
            :: else -> skip
            fi
         :: !gs[g].pending && !u && gs[g].bound[d] && a == 0 && n == 1 ->
            /* unbind_dma: the first slot with the key and array, live or not */
            i = 0;
            do
            :: i < S && gs[g].slot[i].key == key && gs[g].slot[i].dmas == gs[g].bdmas[d] ->
               gs[g].slot[i].live = 0; break
            :: i < S && !(gs[g].slot[i].key == key && gs[g].slot[i].dmas == gs[g].bdmas[d]) -> i++
            :: i >= S -> break
            od;
            gs[g].bound[d] = 0
         :: else -> skip
         fi;
         RESET
       }
     }
  /* ---- send from the send descriptor: private keys wait for the Launcher; the net key of
          another Guest goes to its binding (io.c: send_dma, dma_transfer, copy_data) */
  :: atomic {
       select(g : 0 .. G - 1); select(h : 0 .. G); select(u : 0 .. 1);
       d_step {
         if
         :: gs[g].pending -> skip
         :: !gs[g].pending && h == G -> gs[g].pending = 1; gs[g].pkey = u   /* console or block */
         :: !gs[g].pending && h < G && h != g ->
            key = NETK(NETSLOT(h));
            /* the binding of another Guest on the key */
            d = 0;
            do
            :: d < G && d == g -> d++
            :: d < G && d != g ->
               i = 0;
               do
               :: i < S && gs[d].slot[i].live && gs[d].slot[i].key == key -> found = 1; break
               :: i < S && !(gs[d].slot[i].live && gs[d].slot[i].key == key) -> i++
               :: i >= S -> break
               od;
               if :: found -> break :: else -> d++ fi
            :: d >= G -> break
            od;
            if
            :: found ->
               /* the first free entry from the cursor */
               n = gs[d].slot[i].num; a = gs[d].slot[i].dmas; j = 0; c = 255;
               do
               :: j < n ->
                  cur = (gs[d].slot[i].next + j) % n;
#ifdef FAULT_host_skips_used_len_check
                  c = ENTRY(a, cur); break
#else
                  if
                  :: !gs[d].cell[ENTRY(a, cur)].used -> c = ENTRY(a, cur); break
                  :: else -> j++
                  fi
#endif
               :: j >= n -> break
               od;
               if
               :: c != 255 ->
                  cap(g, SEND, capw);
                  cap(d, c, capv);
#ifdef FAULT_host_copies_source_length
                  nlen = capw;
#else
                  nlen = (capw < capv -> capw : capv);
#endif
                  if
                  :: nlen != 0 || gs[g].cell[SEND].ln[0] == 0 ->
                     data_write(d, c, nlen);
                     gs[d].slot[i].next = (gs[d].slot[i].next + 1) % n
                  :: else -> skip
                  fi
               :: else -> skip   /* full: the irq only */
               fi
            :: else -> skip      /* nobody bound it: dropped */
            fi
         :: else -> skip
         fi;
         RESET
       }
     }
#ifndef NO_STATUS
  /* ---- a driver ORs in a status bit (lguest_bus.c); NO_STATUS leaves status out (a smaller model) */
  :: atomic {
       select(g : 0 .. G - 1); select(d : 0 .. 2); select(bi : 0 .. 3); select(clr : 0 .. 1);
       d_step {
         if
         :: !gs[g].pending ->
            if :: bi == 0 -> v = ACK :: bi == 1 -> v = DRV :: bi == 2 -> v = DOK :: else -> v = FLD fi;
#ifdef FAULT_guest_clears_status
            if :: clr -> v = gs[g].status[d] & ~v :: else -> v = gs[g].status[d] | v fi;
#else
            v = gs[g].status[d] | v;
#endif
            status_write(g, d, v, 0)
         :: else -> skip
         fi;
         RESET
       }
     }
#endif
#ifndef NO_SYSFS
  /* ---- Guest userspace writes a status field through sysfs (status_store) */
  :: atomic {
       select(g : 0 .. G - 1); select(d : 0 .. 2); select(v : 0 .. 63);
       d_step {
         if :: !gs[g].pending -> status_write(g, d, v, 0) :: else -> skip fi;
         RESET
       }
     }
#endif
  /* ---- the Launcher answers a pending send (lguest.c: handle_output) */
  :: atomic {
       select(g : 0 .. G - 1);
       d_step { if :: gs[g].pending -> gs[g].pending = 0; gs[g].pkey = 0 :: else -> skip fi; RESET }
     }
  /* ---- the Launcher fills a buffer of the console or block device (handle_console_input):
          GETDMA takes the Guest's binding's first entry with used_len 0, else its LAST entry */
  :: atomic {
       select(g : 0 .. G - 1); select(d : 0 .. 1); select(nlen : 0 .. MAXIN);
       d_step {
         if :: d == 0 -> key = CONK(g) :: else -> key = BLKK(g) fi;
         i = 0;
         do
         :: i < S && gs[g].slot[i].live && gs[g].slot[i].key == key -> found = 1; break
         :: i < S && !(gs[g].slot[i].live && gs[g].slot[i].key == key) -> i++
         :: i >= S -> break
         od;
         if
         :: found ->
            a = gs[g].slot[i].dmas; j = 0;
            do
            :: j < gs[g].slot[i].num - 1 && gs[g].cell[ENTRY(a, j)].used -> j++
            :: else -> break
            od;
            c = ENTRY(a, j);
#ifdef CHECKED_LAUNCHER
            if :: gs[g].cell[c].used -> found = 0 :: else -> skip fi;
#endif
            if
            :: found ->
               cap(g, c, capw);
#ifndef FAULT_launcher_ignores_iov_length
               if :: nlen > capw -> nlen = capw :: else -> skip fi;
#endif
               data_write(g, c, nlen)
            :: else -> skip   /* discarded */
            fi
         :: else -> skip
         fi;
         RESET
       }
     }
#ifdef FAULT_launcher_sets_driver_ok
  :: atomic {
       select(g : 0 .. G - 1); select(d : 0 .. 2);
       d_step { v = gs[g].status[d] | DOK; status_write(g, d, v, 1); RESET }
     }
#endif
  od
}
