"""The configuration of the checked model, and the memory layout it implies.

Defaults (issue 3): 2 Guests; each has a network device on one page shared by
all Guests (its peer slot is its Guest number), a block device with a private
page, and a console (key 0); 2 binding slots per Guest (the real table has
32), 2 descriptors per bound array, 2 sections per descriptor.

Each Guest's memory, in pages: RAM at pfn 0..ram_pages-1, the device
descriptor page at ram_pages, then the net page and the block page, exactly
as the 2.6.23 Launcher lays them out (main, new_dev_desc), the console last
with no page.  Descriptors live in RAM page 1: two arrays of `buffers`
entries that Guests bind, and one descriptor they send from.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import constants as C
from ..spec.host import HOSTS  # the real copy_data, or one that adds srcoff (spec's list, re-exported)

GUEST_MODES = ("conforming", "any")
LAUNCHERS = ("2.6.23", "checked")


class SettingError(ValueError):
    """What is wrong with named settings: (key, text) each, key None when no one setting is at fault.

    str() words each as the option (`--slots must be 1..32 ...`); `prove`
    words it by where the value came from instead (checker/config_file.py:
    a --config file's line and key), so the message points at what to fix.
    """

    def __init__(self, problems: list[tuple[str | None, str]]):
        self.problems = list(problems)
        super().__init__(self.worded(lambda key: f"--{key}"))

    def worded(self, name) -> str:
        """The problems joined, each setting named by `name(key)`."""
        out = []
        for key, text in self.problems:
            if key is None:
                out.append(text)
            else:
                out.append(f"{name(key)}{'' if text.startswith(':') else ' '}{text}")
        return "; ".join(out)


@dataclass(frozen=True)
class Config:
    guests: int = 2
    slots: int = 2
    buffers: int = 2
    sections: int = 2
    depth: int = 20
    timeout: float | None = None  # seconds for the whole run; None: no limit
    guest_mode: str = "conforming"
    launcher: str = "2.6.23"
    host: str = "2.6.23"
    faults: tuple[str, ...] = ()
    invariants: tuple[str, ...] = ("keys", "buffers", "status")
    ram_pages: int = 4
    # The solver's bit width (None: chosen below).  Every address, key and
    # length of this model's memory (7 pages) fits in 16 bits, and the u32
    # wrap and page checks give the same answers there; a descriptor's total
    # needs more when it has many sections or any Guest may write lengths up
    # to 0xFFFF.
    width: int | None = None
    induction: bool = True  # try to prove invariants for every depth before BMC
    # k-induction (checker/induction.py) for what 1-induction with the lemmas cannot prove: k = 2 .. k_max
    # (1: plain induction only).  Not part of describe(): a certificate records each proof's own k.
    k_max: int = 3
    bmc_solver: str = "z3"  # BMC's solver (checker/bmc_solver.py); z3 gives the models either way
    # Guest userspace may write a device's whole status through sysfs
    # (lguest_bus.c: status_store), as 2.6.23 allows; False: only the bus and drivers write it.
    sysfs: bool = True
    # lguest_net.c NUM_SKBS: the conforming net driver binds exactly this many receive buffers
    # (lguestnet_open: fill_slot for each, then BIND_DMA(peer_key(me), info->dma, NUM_SKBS, irq); 8 in
    # 2.6.23), and the console and block drivers exactly 1 (hvc_lguest.c, lguest_blk.c bind one DMA each).
    # 0 (default): every conforming driver binds any number 1..buffers, which makes every cursor defect
    # show earliest with one buffer.  (Only conforming Guests follow a driver; `--guests any` binds anything.)
    num_skbs: int = 0

    def __post_init__(self):
        problems = []
        if not 1 <= self.guests <= 16:
            problems.append(("guest-count", f"must be 1..16 (MAX_LGUEST_GUESTS), not {self.guests}"))
        if not 1 <= self.slots <= C.LGUEST_MAX_DMA:
            problems.append(("slots", f"must be 1..32 (LGUEST_MAX_DMA), not {self.slots}"))
        if not 1 <= self.buffers <= 8:
            problems.append(("buffers", f"must be 1..8, not {self.buffers}"))
        if not 1 <= self.sections <= C.LGUEST_MAX_DMA_SECTIONS:
            problems.append(("sections", f"must be 1..16, not {self.sections}"))
        if not 0 <= self.num_skbs <= self.buffers:
            problems.append(("num-skbs", f"must be 0..{self.buffers} (at most the buffers), not {self.num_skbs}"))
        if self.num_skbs and self.guest_mode != "conforming":
            problems.append(("num-skbs", "says what the conforming drivers bind: it needs --guests conforming"))
        if self.bmc_solver not in ("z3", "bitwuzla"):
            problems.append(("bmc-solver", f"must be z3 or bitwuzla, not {self.bmc_solver!r}"))
        if not 1 <= self.k_max <= 16:
            problems.append(("k-max", f"must be 1..16, not {self.k_max}"))
        if self.depth < 1:
            problems.append(("depth", f"must be at least 1, not {self.depth}"))
        if self.guest_mode not in GUEST_MODES:
            problems.append(("guests", f"must be one of {', '.join(GUEST_MODES)}, not {self.guest_mode!r}"))
        if self.launcher not in LAUNCHERS:
            problems.append(("launcher", f"must be one of {', '.join(LAUNCHERS)}, not {self.launcher!r}"))
        if self.host not in HOSTS:
            problems.append(("host", f"must be one of {', '.join(HOSTS)}, not {self.host!r}"))
        if self.width is None:
            # A descriptor's total (sections x the longest section) must not wrap, nor may any address.
            longest = C.PAGE_SIZE if self.guest_mode == "conforming" else 0xFFFF
            object.__setattr__(self, "width", max(16, (longest * self.sections).bit_length() + 1))
        if not 16 <= self.width <= 32:
            problems.append((None, f"width must be 16..32, not {self.width}"))
        if problems:
            raise SettingError(problems)

    # ------------------------------------------------------------ layout
    @property
    def desc_pfn(self) -> int:
        return self.ram_pages

    @property
    def net_pfn(self) -> int:
        return self.ram_pages + 1

    @property
    def block_pfn(self) -> int:
        return self.ram_pages + 2

    @property
    def pfn_limit(self) -> int:
        return self.ram_pages + 3

    def net_slot(self, g: int) -> int:
        return 0 if "two-guests-one-slot" in self.faults else g

    def net_key(self, g: int) -> int:
        """peer_key(slot): the net page plus 4 times the peer slot (lguest_net.c: peer_key)."""
        return self.net_pfn * C.PAGE_SIZE + 4 * self.net_slot(g)

    @property
    def block_key(self) -> int:
        return self.block_pfn * C.PAGE_SIZE

    # device index -> (type, pfn, pages, features); the console is created last
    def devices(self, g: int) -> list[tuple[int, int, int, int, int]]:
        return [
            (0, C.NET, self.net_pfn, 1, self.net_slot(g) | 0x4000),
            (1, C.BLOCK, self.block_pfn, 1, 0x8000),
            (2, C.CONSOLE, 0, 0, 0),
        ]

    NET_IRQ, BLOCK_IRQ, CONSOLE_IRQ = 1, 2, 3  # lgdev_irq: device index + 1

    def bindable(self, g: int) -> list[tuple[int, int]]:
        """(key, irq) of each device a conforming Guest's drivers bind: console, block page, net slot.

        The index in this list is the driver's number in SymState.drv_bound.
        """
        out = [(0, self.CONSOLE_IRQ), (self.block_key, self.BLOCK_IRQ), (self.net_key(g), self.NET_IRQ)]
        if "guest-binds-outside-device" in self.faults:
            out.append((0x2000, self.NET_IRQ))  # a page of its RAM
        return out

    def bind_nums(self, d: int) -> range:
        """The numbers of descriptors conforming driver `d` (an index into `bindable`) may bind.

        With num_skbs: the net driver (and the fault's extra key, bound by the net driver's irq) its
        ring of NUM_SKBS, the console and the block driver 1, as 2.6.23's drivers do; else any 1..buffers.
        """
        if not self.num_skbs:
            return range(1, self.buffers + 1)
        n = 1 if d < 2 else self.num_skbs
        return range(n, n + 1)

    @property
    def arrays(self) -> list[int]:
        """Base addresses of the descriptor arrays a Guest may bind.

        Two arrays of `buffers` entries that any driver may bind; with
        num_skbs, one per driver as in 2.6.23 (`driver_array`): the net
        ring of NUM_SKBS entries (lguestnet_info.dma), the console's
        cons_input and the block driver's bd->dma, never shared.
        """
        if self.num_skbs:
            return [0x1000, 0x1400, 0x1600]
        return [0x1000, 0x1000 + 0x400]

    def driver_array(self, d: int) -> int:
        """With num_skbs: the array conforming driver `d` binds (console 0x1400, block 0x1600, net 0x1000)."""
        return (0x1400, 0x1600)[d] if d < 2 else 0x1000

    def bind_arrays(self, d: int) -> list[int]:
        """The arrays conforming driver `d` may bind: its own with num_skbs, else either array."""
        return [self.driver_array(d)] if self.num_skbs else self.arrays

    @property
    def ring_bound(self) -> int:
        """The most entries a binding can hold: every bind's num is at most this (the Host's loop bound)."""
        return self.num_skbs or self.buffers

    @property
    def send_cell(self) -> int:
        return 0x1800

    @property
    def cells(self) -> list[int]:
        """Every descriptor address the model keeps, per Guest."""
        out = []
        if self.num_skbs:  # the net ring, cons_input, bd->dma: what the drivers bind, nothing else
            out = [0x1000 + i * C.DMA_SIZE for i in range(self.num_skbs)] + [0x1400, 0x1600]
            return out + [self.send_cell]
        for base in self.arrays:
            out += [base + i * C.DMA_SIZE for i in range(self.buffers)]
        return out + [self.send_cell]

    @property
    def data_pages(self) -> tuple[int, int]:
        """Pages where conforming Guests put their buffers' data: RAM above the descriptors."""
        return 2, self.ram_pages

    def describe(self) -> dict:
        out = {
            "guests": self.guests,
            "slots": self.slots,
            "buffers": self.buffers,
            "sections": self.sections,
            "depth": self.depth,
            "timeout": self.timeout,
            "guest_mode": self.guest_mode,
            "launcher": self.launcher,
            "host": self.host,
            "faults": list(self.faults),
            "invariants": list(self.invariants),
            "ram_pages": self.ram_pages,
            "width": self.width,
            "sysfs": self.sysfs,
        }
        if self.num_skbs:  # only when on: the certificates written before the option still describe their model
            out["num_skbs"] = self.num_skbs
        return out
