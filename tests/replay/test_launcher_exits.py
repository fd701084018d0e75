"""Replay follows the 2.6.23 Launcher where it fails or exits (Documentation/lguest/lguest.c).

- handle_block_output keeps readv's result in an `unsigned int len` and stores it: a failed readv stores
  0xffffffff into the reply buffer's used_len having written nothing.  That is no buffer-overflow (replay
  reported one before); on the console's key, where the real Launcher never stores it (`len <= 0` -> 0),
  a fill of 0xffffffff still writes more than the buffer holds.
- handle_block_output exits when GETDMA gives no buffer (err(1)); console and tun discard instead.  The
  exit closes /dev/lguest (release_all_dma): the Guest's bindings go, its pending send is never
  answered, a later record of the Guest or of the Launcher is a divergence, a recorded `close` is the
  same close.  An input-only fill that finds no buffer on the block key is answered `nobuf`, and the
  emitted full trace replays the same.
- A key above the Guest's memory is mapped or not as the Launcher's own address space has it, which a
  trace does not show: a recorded get_futex_key failure (the kill) is followed, with no divergence;
  without one the key is taken as mapped, with a note.  Below the pfn limit every address is mapped.
"""

from __future__ import annotations

import io

import pytest

from lgcheck.replay.engine import Replay, replay_records
from lgcheck.replay.parser import parse_text

SETUP = """lguest-trace 1
guest 0 pages=8192
device 0.0 type=net pfn=0x2001 pages=1 features=NOCSUM
device 0.1 type=block pfn=0x2002 pages=1 features=RANDOMNESS
device 0.2 type=console pfn=0 pages=0
guest 1 pages=8192
device 1.0 type=net pfn=0x2001 pages=1 features=NOCSUM|1
share net pages=1 map=[0:0x2001, 1:0x2001]
g0 dma 0x1c8f3a0 used_len=0 addr=[0x1d04010] len=[1514]
g0 bind_dma key=0x2001000 dmas=0x1c8f3a0 num=1 irq=1 -> 1
"""
REPLY = (
    "g0 dma 0x1f7a0c8 used_len=0 addr=[0x1e45000] len=[4096]\n"
    "g0 bind_dma key=0x2002000 dmas=0x1f7a0c8 num=1 irq=2\n"
)
READ = "g0 dma 0x1f69e5c len=[0]\ng0 send_dma key=0x2002000 dma=0x1f69e5c\n"


def replay(text: str, emit=None):
    return replay_records(parse_text(text, "t.lgt"), "t.lgt", emit=emit)


def findings(result):
    return [(f.rule, f.line) for f in result.findings]


# ------------------------------------------------------------------ a failed block readv
def test_a_failed_block_readv_is_no_buffer_overflow_full_trace():
    text = (
        SETUP
        + REPLY
        + READ
        + "host pending g0 key=0x2002000 dma=0x1f69e5c\n"
        + "l0 fill key=0x2002000 dma=0x1f7a0c8 len=0xffffffff irq=2\n"
        + "l0 output key=0x2002000 dma=0x1f69e5c len=0\n"
        + "g0 dma 0x1f7a0c8 used_len=0\n"
    )
    assert findings(replay(text)) == []


def test_a_failed_block_readv_is_no_buffer_overflow_input_only_and_emits_what_replays_clean():
    text = SETUP + REPLY + READ + "l0 fill key=0x2002000 len=0xffffffff\ng0 dma 0x1f7a0c8 used_len=0\n"
    out = io.StringIO()
    assert findings(replay(text, emit=out)) == []
    emitted = out.getvalue()
    assert "l0 fill key=0x2002000 dma=0x1f7a0c8 len=4294967295 irq=2" in emitted
    assert findings(replay(emitted)) == []


def test_the_failed_readv_stores_minus_one_so_the_buffer_stays_used_until_handed_back():
    """used_len is 0xffffffff after the fill: a second fill before lgb_irq hands it back overwrites a used buffer."""
    text = SETUP + REPLY + READ + "l0 fill key=0x2002000 len=0xffffffff\n" + READ + "l0 fill key=0x2002000 len=512\n"
    result = replay(text)
    assert findings(result) == [("write-to-used-buffer", len(text.splitlines()))]
    assert "whose used_len was 4294967295" in result.findings[0].message


def test_minus_one_on_the_console_key_is_still_more_than_the_buffer_holds():
    """handle_console_input stores 0 when readv fails: a console fill of 0xffffffff is not a failed readv."""
    text = (
        SETUP
        + "g0 dma 0x1f00000 used_len=0 addr=[0x1e00000] len=[256]\n"
        + "g0 bind_dma key=0 dmas=0x1f00000 num=1 irq=3\n"
        + "l0 fill key=0 len=0xffffffff\n"
    )
    assert findings(replay(text)) == [("buffer-overflow", len(text.splitlines()))]


# ------------------------------------------------------------------ no reply buffer: the Launcher exits
EXIT = SETUP + READ + "host pending g0 key=0x2002000 dma=0x1f69e5c\nl0 nobuf key=0x2002000\n"
SEND_TO_G0 = "g1 dma 0x1b00000 addr=[0x1e00000] len=[64]\ng1 send_dma key=0x2001000 dma=0x1b00000\n"


def test_the_exit_removes_the_guests_bindings_and_its_pending_send_waits_no_more():
    text = EXIT + SEND_TO_G0 + "host drop g1 key=0x2001000\n"
    result = replay(text)
    assert findings(result) == []
    assert any("exits (handle_block_output: err(1" in n for n in result.notes)
    assert not any("still waits" in n for n in result.notes)


def test_a_recorded_close_after_the_exit_is_the_same_close():
    assert findings(replay(EXIT + "l0 close\n" + SEND_TO_G0 + "host drop g1 key=0x2001000\n")) == []


def test_the_guest_acting_after_the_exit_is_a_divergence_once():
    text = EXIT + "g0 dma 0x1f69e5c len=[0]\ng0 send_dma key=0 dma=0x1f69e5c\n"
    result = replay(text)
    at = len(EXIT.splitlines()) + 1
    assert findings(result) == [("divergence", at)]
    assert "after its Launcher exited at line" in result.findings[0].message


def test_the_launcher_acting_after_its_exit_is_a_divergence_once_and_not_followed():
    """No output answers the send whose handler exited; the Launcher's later records are not followed."""
    after = "l0 output key=0x2002000 dma=0x1f69e5c len=0\nl0 irq 2\n"
    text = EXIT + after + SEND_TO_G0 + "host drop g1 key=0x2001000\n"
    result = replay(text)
    at = len(EXIT.splitlines()) + 1
    assert findings(result) == [("divergence", at)]
    assert "exited at line" in result.findings[0].message


def test_an_input_only_block_fill_with_no_buffer_exits_and_emits_nobuf():
    text = SETUP + READ + "l0 fill key=0x2002000 len=512\n" + SEND_TO_G0
    out = io.StringIO()
    result = replay(text, emit=out)
    assert findings(result) == []
    emitted = out.getvalue()
    assert "l0 nobuf key=0x2002000" in emitted and "host drop g1 key=0x2001000" in emitted
    assert findings(replay(emitted)) == []


def test_console_and_tun_input_with_no_buffer_are_discarded_and_the_guest_runs_on():
    text = SETUP + "l0 nobuf key=0\n" + SEND_TO_G0 + "host deliver from=g1:0x1b00000 to=g0:0x1c8f3a0 len=64 irq=1\n"
    result = replay(text)
    assert findings(result) == []
    assert not any("exits" in n for n in result.notes)


def test_a_block_nobuf_where_getdma_finds_the_buffer_is_a_divergence_with_no_exit():
    """The trace says no buffer, GETDMA gives one: the Launcher did not exit (followed as recorded)."""
    text = SETUP + REPLY + READ + "l0 nobuf key=0x2002000\n" + SEND_TO_G0
    result = replay(text)
    assert findings(result) == [("divergence", len((SETUP + REPLY + READ).splitlines()) + 1)]


# ------------------------------------------------------------------ keys above the Guest's memory
ABOVE = 0xD0880000  # above g0's pfn limit (0x2003): only the Launcher's own mappings lie there


def test_a_recorded_kill_for_a_bind_key_above_memory_is_bad_dma_not_a_divergence():
    text = SETUP + f"g0 bind_dma key={ABOVE:#x} dmas=0x1f7a0c8 num=1 irq=2 -> 0\n"
    text += f'host kill g0 reason="bad dma key {ABOVE:#x}"\n'
    result = replay(text)
    assert findings(result) == [("bad-dma", len(SETUP.splitlines()) + 1)]
    assert "no mapping of its Launcher holds it" in result.findings[0].message


def test_a_recorded_kill_for_a_send_key_above_memory_is_bad_dma_not_a_divergence():
    text = SETUP + f"g0 dma 0x1f69e5c len=[0]\ng0 send_dma key={ABOVE:#x} dma=0x1f69e5c\n"
    text += 'host kill g0 reason="bad sending DMA key"\n'
    assert findings(replay(text)) == [("bad-dma", len(SETUP.splitlines()) + 2)]


def test_a_recorded_kill_for_a_getdma_key_above_memory_is_bad_dma_not_a_divergence():
    text = SETUP + f"l0 nobuf key={ABOVE:#x}\n" + 'host kill g0 reason="bad registered DMA buffer"\n'
    assert findings(replay(text)) == [("bad-dma", len(SETUP.splitlines()) + 1)]


def test_a_key_above_memory_with_no_recorded_kill_is_taken_as_mapped_with_a_note():
    """Input-only, or a recorded success: the Launcher maps it; the send goes to the Launcher (a private key)."""
    text = SETUP + f"g0 dma 0x1f69e5c len=[0]\ng0 send_dma key={ABOVE:#x} dma=0x1f69e5c\n"
    full = text + f"host pending g0 key={ABOVE:#x} dma=0x1f69e5c\nl0 output key={ABOVE:#x} dma=0x1f69e5c len=0\n"
    for t in (text, full):
        result = replay(t)
        assert findings(result) == []
        assert any("replay takes it as mapped" in n for n in result.notes)


def test_a_recorded_kill_for_an_aligned_key_below_the_limit_is_still_a_divergence():
    """Every address below the pfn limit is mapped (lguest.c main): get_futex_key cannot fail there."""
    text = SETUP + "g0 bind_dma key=0x1000 dmas=0x1f7a0c8 num=1 irq=2 -> 0\n"
    text += 'host kill g0 reason="bad dma key 0x1000"\n'
    assert ("divergence", len(SETUP.splitlines()) + 1) in findings(replay(text))


# ------------------------------------------------------------------ dma2iov's check_pointer on a send
BAD_OUT = SETUP + "g0 dma 0x3f100 addr=[0xc03f1000] len=[13]\ng0 send_dma key=0 dma=0x3f100\n"


def test_a_send_whose_section_is_past_top_makes_the_launcher_exit_input_only():
    out = io.StringIO()
    result = replay(BAD_OUT + SEND_TO_G0, emit=out)
    assert findings(result) == []
    assert any("exits in dma2iov: its section 0 (0xc03f1000+13)" in n for n in result.notes)
    emitted = out.getvalue()
    assert "host pending g0 key=0 dma=0x3f100" in emitted and "l0 output" not in emitted
    assert "host drop g1 key=0x2001000" in emitted
    assert findings(replay(emitted)) == []


def test_an_output_recorded_for_a_send_the_launcher_exits_on_is_a_divergence():
    text = BAD_OUT + "host pending g0 key=0 dma=0x3f100\nl0 output key=0 dma=0x3f100 len=13\n"
    result = replay(text)
    assert findings(result) == [("divergence", len(text.splitlines()))]
    assert "exits in dma2iov" in result.findings[0].message


def test_the_guest_acting_after_a_pointer_exit_is_a_divergence():
    text = BAD_OUT + "host pending g0 key=0 dma=0x3f100\ng0 dma 0x3f100 len=[0]\n"
    result = replay(text)
    assert findings(result) == [("divergence", len(text.splitlines()))]
    assert "after its Launcher exited" in result.findings[0].message


@pytest.mark.parametrize(
    "addr,length,exits",
    [
        (0x2003000 - 13, 13, True),  # ends exactly at top: `addr + size >= top`
        (0x2003000 - 14, 13, False),
        (0x2002ff0, 0x20, True),  # crosses top (0x2003000: g0 has two device pages)
        (0x1fff000, 0x2000, False),  # crosses pages, below top: the Launcher does not mind (check_dma_list would)
    ],
)
def test_check_pointer_bounds(addr, length, exits):
    text = SETUP + f"g0 dma 0x3f100 addr=[{addr:#x}] len=[{length}]\ng0 send_dma key=0 dma=0x3f100\n"
    result = replay(text)
    assert findings(result) == []
    assert any("exits in dma2iov" in n for n in result.notes) is exits


def test_partial_an_exit_after_a_lost_makes_what_follows_possible_only():
    """A lost bind may have given the block device its reply buffer (then the `nobuf` is the divergence and
    nothing exits): the Guest acting after the exit is explained by that completion, so no certain finding."""
    text = SETUP + READ + "host pending g0 key=0x2002000 dma=0x1f69e5c\nlost records=2\nl0 nobuf key=0x2002000\n"
    text += "g0 dma 0x1f69e5c len=[0]\n"
    result = Replay("t.lgt", partial=True).run(parse_text(text, "t.lgt", partial=True))
    assert [f for f in result.findings if f.certain] == []
    plain = text.replace("lost records=2\n", "# (nothing lost)\n")
    result = Replay("t.lgt", partial=True).run(parse_text(plain, "t.lgt", partial=True))
    assert [(f.rule, f.certain) for f in result.findings] == [("divergence", True)]


# ------------------------------------------------------------------ dma2iov on the buffer GETDMA gives
CONS = "g0 bind_dma key=0 dmas={dmas} num=1 irq=3\n"


def test_a_getdma_entry_the_host_cannot_read_kills_the_guest_and_the_launcher_exits():
    """io.c get_dma_buffer: lgread of the entry fails -> kill ("bad read address"), the zero-filled copy reads as
    free, and the entry is returned; the Launcher's dma2iov then rejects it (check_pointer) and exits."""
    dmas = 0x2003000 - 50  # the entry's 100 bytes run past the end of memory
    text = SETUP + CONS.format(dmas=hex(dmas)) + "l0 fill key=0 len=5\n" + SEND_TO_G0
    out = io.StringIO()
    result = replay(text, emit=out)
    assert [f.rule for f in result.findings] == ["bad-dma"]
    assert any("exits in dma2iov on the buffer GETDMA gives" in n for n in result.notes)
    emitted = out.getvalue()
    assert "l0 fill key=0 len=5" in emitted and "host drop g1 key=0x2001000" in emitted
    assert [f.rule for f in replay(emitted).findings] == ["bad-dma"]


def test_a_getdma_buffer_whose_section_is_past_top_makes_the_launcher_exit_with_no_kill():
    text = SETUP + "g0 dma 0x1f00000 used_len=0 addr=[0xc0000000] len=[256]\n" + CONS.format(dmas="0x1f00000")
    text += "l0 fill key=0 len=5\n" + SEND_TO_G0
    result = replay(text)
    assert findings(result) == []
    said = "exits in dma2iov on the buffer GETDMA gives on key 0x0 (0x1f00000: its section 0"
    assert any(said in n for n in result.notes)


def test_a_recorded_fill_into_a_buffer_the_launcher_exits_on_is_a_divergence():
    text = SETUP + "g0 dma 0x1f00000 used_len=0 addr=[0xc0000000] len=[256]\n" + CONS.format(dmas="0x1f00000")
    text += "l0 fill key=0 dma=0x1f00000 len=5 irq=3\n"
    result = replay(text)
    assert findings(result) == [("divergence", len(text.splitlines()))]
    assert "exits in dma2iov" in result.findings[0].message


def test_a_recorded_nobuf_where_the_launcher_would_exit_is_a_divergence_and_no_exit():
    text = SETUP + "g0 dma 0x1f00000 used_len=0 addr=[0xc0000000] len=[256]\n" + CONS.format(dmas="0x1f00000")
    text += "l0 nobuf key=0\n" + SEND_TO_G0
    result = replay(text)
    assert findings(result) == [("divergence", len((SETUP).splitlines()) + 3)]
    assert not any("exits" in n for n in result.notes)
