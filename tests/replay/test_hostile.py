"""Hostile input: traces built to make replay slow or big, special files, terminal tricks, file harm.

Each cost of issue 8 has a generated adversarial trace at two sizes, n and
10n; the test counts operations (Python function calls, by a profile hook) or
measures the peak of traced memory, never wall time (benchmarks/hostile.py
has the wall-time version), and asserts that the cost grows no faster than
the input.  A fuzz target mutates valid traces and checks that any file gives
an exit status of the format's table other than 4, with no traceback, and the
same verdict whatever file came before it in the run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lgcheck.cli import main
from lgcheck.replay.engine import replay_file
from lgcheck.replay.parser import MAX_LINE, parse_line, parse_line_lark
from lgcheck.spec import state as state_mod

TRACES = os.path.join(os.path.dirname(__file__), "..", "..", "traces")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from model_strategies import valid_runs  # noqa: E402

# ------------------------------------------------------------ measuring


def calls(path: str) -> int:
    """Python and C function calls made while replaying `path`: the operation count."""
    n = [0]

    def hook(frame, event, arg):
        if event == "call" or event == "c_call":
            n[0] += 1

    sys.setprofile(hook)
    try:
        replay_file(path)
    finally:
        sys.setprofile(None)
    return n[0]


def peak(path: str) -> int:
    """Peak traced memory (bytes) while replaying `path`."""
    tracemalloc.start()
    try:
        replay_file(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def write(tmp_path, name: str, lines, version: int = 1) -> str:
    p = tmp_path / name
    with open(p, "w") as fh:
        fh.write(f"lguest-trace {version}\n")
        for line in lines:
            fh.write(line + "\n")
    return str(p)


# ------------------------------------------------------------ generators (one per cost of the issue)


def many_shares(n):
    """n shares mapped into g0, then n sends on a key of the last: each send translates its key."""
    yield "guest 0 pages=16"
    yield "guest 1 pages=16"
    for i in range(n):
        yield f"share s{i} pages=1 map=[0:{0x10000 + i}, 1:{0x10000 + i}]"
    yield "g0 dma 0x1000 used_len=0 addr=[0x2000] len=[8]"
    for i in range(n):
        yield f"g0 send_dma key={(0x10000 + i) * 4096:#x} dma=0x1000"


def used_entries(n):
    """A console binding of n entries, each handed back then filled: fill i finds entry i behind i used ones."""
    yield "guest 0 pages=4096"
    yield "device 0.0 type=console pfn=0 pages=0"
    for i in range(n):
        yield f"g0 dma {0x100000 + 100 * i:#x} used_len=0 addr=[0x2000] len=[8]"
    yield f"g0 bind_dma key=0 dmas=0x100000 num={n} irq=3"
    for _ in range(n):
        yield "l0 fill key=0 len=1"


def clean_rebinds(n):
    """A clean trace that binds and unbinds n different keys: nothing stays live."""
    yield "guest 0 pages=16"
    yield "device 0.0 type=block pfn=17 pages=16"
    yield "g0 dma 0x1000 used_len=0 addr=[0x2000] len=[8]"
    for i in range(n):
        key = 17 * 4096 + 4 * (i % 16384)
        yield f"g0 bind_dma key={key:#x} dmas=0x1000 num=1 irq=3"
        yield f"g0 bind_dma key={key:#x} dmas=0x1000 num=1 irq=0"


def many_findings(n):
    """n status writes that each clear a bit: one finding a record."""
    yield "guest 0 pages=16"
    yield "device 0.0 type=console pfn=0 pages=0"
    for _ in range(n):
        yield "g0 status dev=0 value=ACKNOWLEDGE|DRIVER"
        yield "g0 status dev=0 value=ACKNOWLEDGE"


def spacing_variants(n):
    """n lines that differ only in their spacing (each a new shape for the cache)."""
    yield "guest 0 pages=16"
    for i in range(n):
        yield "g0 dma" + " " * (600 + i % 4000) + f"0x{0x1000 + 100 * (i % 100):x} used_len=0"


def ratio(cost, gen, tmp_path, n):
    small = cost(write(tmp_path, "small.lgt", gen(n)))
    large = cost(write(tmp_path, "large.lgt", gen(10 * n)))
    return large / small


def test_key_translation_does_not_walk_the_shares(tmp_path):
    # before: every send looked at every share (8,000 shares x 8,000 sends, 56 s): ~100x here
    assert ratio(calls, many_shares, tmp_path, 150) < 13


def test_a_fill_does_not_walk_the_used_entries_one_by_one(tmp_path):
    # before: fill i read the used_len of the i entries before it: ~100x here
    assert ratio(calls, used_entries, tmp_path, 120) < 13


def test_newest_binding_is_found_without_comparing_pairs(monkeypatch):
    """A send on a key that k Guests hold: comparisons grow as k, not k^2."""
    counted = [0]
    newer = state_mod.ConcreteState.newer

    def counting(b, c):
        counted[0] += 1
        return newer(b, c)

    monkeypatch.setattr(state_mod.ConcreteState, "newer", staticmethod(counting))

    def cost(k, tmp):
        lines = [f"share net pages=1 map=[{', '.join(f'{g}:20' for g in range(k + 1))}]"]
        lines += [f"guest {g} pages=16" for g in range(k + 1)]
        for g in range(1, k + 1):
            lines.append(f"g{g} dma 0x1000 used_len=0 addr=[0x2000] len=[8]")
            lines.append(f"g{g} bind_dma key=0x14000 dmas=0x1000 num=1 irq=3")
        lines.append("g0 dma 0x1000 used_len=0 addr=[0x3000] len=[8]")
        path = write(tmp, f"k{k}.lgt", lines)
        counted[0] = 0
        replay_file(path)
        before = counted[0]
        path = write(tmp, f"k{k}s.lgt", lines + ["g0 send_dma key=0x14000 dma=0x1000"])
        counted[0] = 0
        replay_file(path)
        return counted[0] - before

    import tempfile

    with tempfile.TemporaryDirectory() as d:
        small, large = cost(6, Path(d)), cost(60, Path(d))
    assert small > 0 and large / small < 13  # before: ~100x


def test_a_clean_trace_keeps_no_stale_key_index_entries(tmp_path):
    # before: every key ever bound stayed in the index (a 2M-record clean trace took 388 MB)
    assert ratio(peak, clean_rebinds, tmp_path, 1000) < 2


def test_findings_are_not_all_kept_in_memory(tmp_path):
    # before: 10x the findings, 10x the memory
    assert ratio(peak, many_findings, tmp_path, 1200) < 2
    res = replay_file(write(tmp_path, "f.lgt", many_findings(3000)))
    assert len(res.findings) == 3000 and [f.line for f in res.findings][-1] == 3 + 3000 * 2


def test_spacing_variants_do_not_fill_the_shape_cache(tmp_path):
    # before: 2,047 such lines took 1 GB (each a template holding its long line)
    assert ratio(peak, spacing_variants, tmp_path, 200) < 2


def mem_storm(n, descriptors=None):
    """Version 2: n descriptors (or as many as given) among the buffers, then 10n `mem` records built to be
    costly: tiny ones that overlap earlier ones (1 to 3 bytes, 37 apart, wrapping over two pages), and every
    16th a full 4,096 bytes that crosses a page, all within the same three pages."""
    yield "guest 0 pages=4096"
    for i in range(n if descriptors is None else descriptors):
        yield f"g0 dma {0x100000 + 100 * i:#x} used_len=0"
    big = "ab" * 4096
    for i in range(10 * n):
        if i % 16 == 0:
            yield f"g0 mem {0x200800 + (i % 7):#x} data={big}"
        else:
            yield f"g0 mem {0x201000 + (i * 37) % 8000:#x} data={'5a' * (1 + i % 3)}"


def test_a_hostile_mem_stream_costs_per_record_and_keeps_only_the_pages_it_wrote(tmp_path):
    def cost(kind, gen):
        def at(size):
            return kind(write(tmp_path, f"{size}.lgt", gen(size), version=2))

        return at(60 * 10) / at(60)

    # Operations: linear in the records (the overlap check is a bisection, a store a slice or two).
    assert cost(calls, mem_storm) < 13
    # Memory: the same three pages rewritten, whatever the count (the descriptors as many at both sizes).
    assert cost(peak, lambda n: mem_storm(n, descriptors=60)) < 2
    res = replay_file(write(tmp_path, "m.lgt", mem_storm(60), version=2))
    assert res.verdict == "ok" and res.error is None


def sparse_mem(n):
    """n one-byte `mem` records, each into a page of its own (a capture that touches every page once)."""
    yield "guest 0 pages=1048576"
    for i in range(n):
        yield f"g0 mem {0x1000 * (16 + i) + i % 4000:#x} data=5a"


def test_a_capture_touching_many_pages_keeps_a_bounded_number_of_them(tmp_path, monkeypatch):
    """Each page the bytes are kept for costs 8 KiB (bytes and known-marks): 20,000 one-byte records into as
    many pages held 190 MB.  The store keeps max_pages at most, forgetting the page kept longest, and says so."""
    from lgcheck.spec.state import ConcreteState

    monkeypatch.setattr(ConcreteState, "max_pages", 100)
    small, large = write(tmp_path, "s.lgt", sparse_mem(200), 2), write(tmp_path, "l.lgt", sparse_mem(2000), 2)
    peak(small)  # (first-use allocations do not count)
    assert peak(large) - peak(small) < 400_000  # 1,800 pages more: 14 MB more, before
    res = replay_file(large)
    assert res.verdict == "ok" and res.error is None
    (note,) = [n for n in res.notes if "pages were given" in n]
    assert "keeps 100 at most" in note


def test_a_forgotten_page_is_unknown_not_wrong(tmp_path, monkeypatch):
    """A send whose source page was forgotten: its sum= is not compared (a note), never a divergence."""
    from lgcheck.spec.state import ConcreteState

    text = open(os.path.join(TRACES, "v2-net-bytes.lgt")).read()
    assert main(["replay", "-q", os.path.join(TRACES, "v2-net-bytes.lgt")]) == 0
    monkeypatch.setattr(ConcreteState, "max_pages", 1)
    path = tmp_path / "one-page.lgt"
    path.write_text(text)
    res = replay_file(str(path))
    assert res.verdict == "ok" and not res.findings
    assert any("pages were given" in n for n in res.notes)
    assert any("sum= not compared" in n for n in res.notes)


def test_descriptors_at_descending_addresses_cost_as_ascending(tmp_path):
    def descs(order):
        def gen(n):
            yield "guest 0 pages=65536"
            addrs = [0x10000 + 100 * i for i in range(n)]
            for a in addrs if order == "up" else reversed(addrs):
                yield f"g0 dma {a:#x} used_len=0"

        return gen

    up = calls(write(tmp_path, "up.lgt", descs("up")(3000)))
    down = calls(write(tmp_path, "down.lgt", descs("down")(3000)))
    assert 0.9 < down / up < 1.1
    assert ratio(peak, descs("down"), tmp_path, 300) < 13


# ------------------------------------------------------------ the two parse paths accept one language

_NUMBERS = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda v: f"{v:#x}"),
    st.integers(0, 2**32 - 1).map(str),
    st.tuples(st.integers(0, 60), st.integers(0, 2**33)).map(lambda t: "0x" + "0" * t[0] + f"{t[1]:x}"),
    st.tuples(st.integers(0, 60), st.integers(0, 2**33)).map(lambda t: "0" * t[0] + str(t[1])),
)
_SPACE = st.text(alphabet=" \t", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_NUMBERS, _NUMBERS, _SPACE, _SPACE, st.booleans())
def test_shape_cache_and_lark_agree_on_padded_numbers_and_spacing(key, dma, sp1, sp2, partial):
    # the cache learns the shape from a short line first, then meets the long one
    parse_line(f"g0{sp1}send_dma{sp2}key=0x1 dma=0x2", 1, "p.lgt", partial=partial)
    parse_line(f"g0{sp1}send_dma{sp2}key=1 dma=2", 1, "p.lgt", partial=partial)
    line = f"g0{sp1}send_dma{sp2}key={key} dma={dma}"

    def outcome(parse):
        try:
            r = parse(line, 3, "p.lgt", partial=partial)
            return ("record", r.fields)
        except Exception as e:  # TraceError: compare where and what
            return ("error", getattr(e, "column", None), getattr(e, "message", repr(e)))

    assert outcome(parse_line) == outcome(parse_line_lark), line


def test_a_41_digit_hex_number_means_its_value_on_both_paths(tmp_path):
    padded = "g0 send_dma key=0x" + "0" * 41 + "4 dma=0x1000"
    assert parse_line_lark(padded, 1).fields["key"] == 4 == parse_line(padded, 1).fields["key"]
    # and so a file's verdict does not depend on the file before it
    a = write(tmp_path, "a.lgt", ["guest 0 pages=16", "g0 send_dma key=0x4 dma=0x1000"])
    b = write(tmp_path, "b.lgt", ["guest 0 pages=16", padded])
    assert replay_file(b).verdict == replay_file(a).verdict == replay_file(b).verdict


# ------------------------------------------------------------ special files and long lines


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_device_fifo_and_folder_are_refused_not_read(tmp_path):
    fifo = tmp_path / "f.lgt"
    os.mkfifo(fifo)
    for p in ["/dev/zero", str(fifo)]:
        code, out, err = run(["replay", p])  # neither hangs nor reads: refused at the open
        assert code == 2 and "not a regular file" in out and "Traceback" not in out + err


def test_a_line_over_the_limit_is_an_error_without_reading_it_whole(tmp_path):
    p = tmp_path / "long.lgt"
    with open(p, "w") as fh:
        fh.write("lguest-trace 1\n# " + "x" * (40 * MAX_LINE) + "\n")
    tracemalloc.start()
    try:
        res = replay_file(str(p))
        top = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.verdict == "error" and (res.error.line, res.error.column) == (2, MAX_LINE + 1)
    assert top < 12 * MAX_LINE  # two copies of the 4-bytes-a-character limit, not the 2.6 MB line
    exact = tmp_path / "exact.lgt"
    exact.write_text("lguest-trace 1\n#" + "x" * (MAX_LINE - 1) + "\n")
    assert replay_file(str(exact)).verdict == "ok"


def test_folders_skip_symlinks_unless_asked(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:SECRETHASH:0:0\n")
    d = tmp_path / "d"
    d.mkdir()
    (d / "x.lgt").symlink_to(secret)
    (d / "ok.lgt").write_text("lguest-trace 1\n")
    code, out, _ = run(["replay", str(d)])
    assert code == 0 and "SECRETHASH" not in out and "x.lgt" not in out
    code, out, _ = run(["replay", "--follow-links", str(d)])
    assert code == 2 and "x.lgt" in out


def test_terminal_control_characters_are_escaped(tmp_path):
    p = write(
        tmp_path,
        "t.lgt",
        ["guest 0 pages=16", 'host kill g0 reason="\x1b[2J\x1b[Hok\x07"', "g0 frob \x1b]0;title\x07"],
    )
    code, out, err = run(["replay", p])
    assert code == 2 and "\x1b" not in out + err and "\x07" not in out + err and "\\x1b" in out
    p = write(tmp_path, "u.lgt", ["guest 0 pages=16", 'host kill g0 reason="\x1b[2Jfake ok\u202e"'])
    code, out, _ = run(["replay", p])
    assert code == 1 and "\x1b" not in out and "\u202e" not in out and "\\x1b[2Jfake ok\\u202e" in out


# ------------------------------------------------------------ files are never harmed


def test_emit_onto_its_input_is_refused_and_the_input_kept(tmp_path):
    p = write(tmp_path, "in.lgt", ["guest 0 pages=16"])
    before = Path(p).read_text()
    code, _, err = run(["replay", "--emit", p, p])
    assert code == 2 and "input file" in err and Path(p).read_text() == before
    link = tmp_path / "link.lgt"
    link.symlink_to(p)
    code, _, err = run(["replay", "--emit", str(link), p])
    assert code == 2 and Path(p).read_text() == before


def test_emit_leaves_nothing_on_an_error(tmp_path):
    out = tmp_path / "out.lgt"
    out.write_text("precious\n")
    code, _, _ = run(["replay", "--emit", str(out), str(tmp_path / "missing.lgt")])
    assert code == 2 and out.read_text() == "precious\n"
    bad = write(tmp_path, "bad.lgt", ["guest 0 pages=16", "g0 frob"])
    code, _, _ = run(["replay", "--emit", str(out), bad])
    assert code == 2 and out.read_text() == "precious\n"
    assert sorted(os.listdir(tmp_path)) == ["bad.lgt", "out.lgt"]  # no temporary file left
    good = write(tmp_path, "good.lgt", ["guest 0 pages=16"])
    code, _, _ = run(["replay", "--emit", str(out), good])
    assert code == 0 and out.read_text() == "lguest-trace 1\nguest 0 pages=16\n"
    assert stat.S_IMODE(os.stat(out).st_mode) & 0o044  # the usual permissions, not the temp file's 0600


def test_partial_emit_never_writes_a_trace_that_does_not_replay_clean(tmp_path):
    # the console's output needs the descriptor's lengths, left unrecorded: no output can be computed
    p = write(
        tmp_path,
        "p.lgt",
        [
            "guest 0 pages=16",
            "device 0.0 type=console pfn=0 pages=0",
            "g0 dma 0x1000 used_len=0 addr=[0x2000] len=[?]",
            "g0 send_dma key=0 dma=0x1000",
            "g0 status dev=0 value=1",
        ],
    )
    assert run(["replay", "--partial", p])[0] == 0  # the input replays clean
    out = tmp_path / "full.lgt"
    code, _, err = run(["replay", "--partial", "--emit", str(out), p])
    # its completion would hold `host pending` and no `output`: not written
    assert code == 2 and "not written" in err and not out.exists()
    assert os.listdir(tmp_path) == ["p.lgt"]


def test_internal_errors_exit_4_without_traceback(tmp_path, monkeypatch):
    import lgcheck.replay.engine as engine

    def boom(*a, **k):
        raise RuntimeError("a bug")

    import lgcheck.replay.corpus as corpus

    monkeypatch.setattr(engine, "replay_file", boom)
    monkeypatch.setattr(corpus, "replay_file", boom)
    code, out, err = run(["replay", write(tmp_path, "a.lgt", [])])
    assert code == 4 and "internal error" in err and "report" in err and "Traceback" not in out + err


def test_prove_limits_are_usage_errors(tmp_path):
    for argv in (["--timeout", "nan"], ["--timeout", "inf"], ["--timeout", "0"], ["--timeout", "-3"]):
        code, _, err = run(["prove", "--no-progress", "--out", str(tmp_path / "cx"), *argv])
        assert code == 2 and "--timeout" in err
    conf = tmp_path / "c.toml"
    for text in ("timeout = nan\n", "timeout = inf\n", "inv = [1]\n", "depth = true\n"):
        conf.write_text(text)
        code, _, err = run(["prove", "--no-progress", "--config", str(conf), "--out", str(tmp_path / "cx")])
        assert code == 2 and "Traceback" not in err, text
    code, _, err = run(["prove", "--no-progress", "--guest-count", "16", "--slots", "32", "--out", str(tmp_path)])
    assert code == 2 and "too large" in err
    code, _, err = run(["prove", "--no-progress", "--guest-count", "16", "--timeout", "2", "--out", str(tmp_path)])
    assert code == 2 and "--timeout" in err
    (tmp_path / "real").mkdir()
    (tmp_path / "cxlink").symlink_to(tmp_path / "real")
    code, _, err = run(["prove", "--no-progress", "--out", str(tmp_path / "cxlink")])
    assert code == 2 and "symbolic link" in err and os.listdir(tmp_path / "real") == []


@pytest.mark.parametrize(
    "text",
    [
        "trace = 3\n",
        "trace = [1]\n",
        '[[trace]]\nfile = 3\nverdict = "ok"\n',
        '[[trace]]\nfile = "a.lgt"\nverdict = "maybe"\n',
        '[[trace]]\nfile = "a.lgt"\nverdict = "ok"\nfindings = [1]\n',
        '[[trace]]\nfile = "a.lgt"\nverdict = "ok"\nfindings = [{rule = "x", line = "2"}]\n',
        '[[trace]]\nfile = "a.lgt"\nverdict = "error"\nerror_line = "3"\n',
        '[[trace]]\nverdict = "ok"\n',
        "x = \n",
    ],
)
def test_wrongly_typed_manifests_are_one_clear_error(tmp_path, text):
    m = tmp_path / "m.toml"
    m.write_text(text)
    code, out, err = run(["replay", "--manifest", str(m)])
    assert code == 2 and "manifest" in err and "Traceback" not in out + err


# ------------------------------------------------------------ fuzz: mutated valid traces


@st.composite
def mutated(draw):
    text = draw(valid_runs(max_steps=12)).text()
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "dup", "swap", "char", "num", "junk"]))
        if op == "drop" and len(lines) > 1:
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif op == "char" and lines[i]:
            j = draw(st.integers(0, len(lines[i]) - 1))
            c = draw(st.sampled_from([" ", "0", "x", "?", "#", "=", "\x1b", "\t", "9", "-", "\r"]))
            lines[i] = lines[i][:j] + c + lines[i][j + 1 :]
        elif op == "num":
            lines[i] = lines[i].replace("0x", "0x" + "0" * draw(st.integers(1, 50)), 1)
        elif op == "junk":
            lines.insert(i, draw(st.text(max_size=30)))
    return "\n".join(lines)


def verdicts(argv):
    code, out, err = run(["replay", "--json", *argv])
    assert "Traceback" not in out + err
    return code, [(f["verdict"], [(x["rule"], x["line"]) for x in f["findings"]]) for f in json.loads(out)["files"]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), mutated())
def test_fuzz_mutated_traces_no_traceback_and_no_memory_between_files(tmp_path_factory, first, second):
    d = tmp_path_factory.mktemp("fz")
    a, b = d / "a.lgt", d / "b.lgt"
    a.write_text(first, encoding="utf-8", errors="surrogatepass")
    b.write_text(second, encoding="utf-8", errors="surrogatepass")
    code_ab, both = verdicts([str(a), str(b)])
    code_b, alone = verdicts([str(b)])
    assert code_ab in (0, 1, 2) and code_b in (0, 1, 2)
    assert both[1] == alone[0]  # the same verdict and findings whatever came before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_the_fast_searches_change_no_result(tmp_path_factory, text):
    """skip_used (jumping over used entries) and maps_at (bisection over shares) give the plain walks' results."""
    p = tmp_path_factory.mktemp("fs") / "t.lgt"
    p.write_text(text, encoding="utf-8", errors="surrogatepass")

    def result():
        r = replay_file(str(p))
        return r.verdict, list(r.findings), list(r.notes), r.error

    fast = result()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(state_mod.ConcreteState, "skip_used", None)
        mp.setattr(state_mod.ConcreteState, "maps_at", None)
        slow = result()
    assert fast == slow


def test_a_bind_on_a_crowded_key_is_one_finding(tmp_path):
    k = 40
    lines = [f"share net pages=1 map=[{', '.join(f'{g}:20' for g in range(k))}]"]
    lines += [f"guest {g} pages=16" for g in range(k)]
    lines += [f"g{g} bind_dma key=0x14000 dmas=0x1000 num=1 irq=3" for g in range(k)]
    res = replay_file(write(tmp_path, "c.lgt", lines))
    collisions = [f for f in res.findings if f.rule == "key-collision"]
    assert len(collisions) == k - 1  # one per bind after the first; before: k (k - 1) / 2
    assert f"which {k - 1} live bindings (" in collisions[-1].message


def unknown_descriptors(n):
    """Version 2, partial: n pages of g1's bytes kept, then n times a byte of g0 and a descriptor of g0 at `?`."""
    yield "guest 0 pages=1048576"
    yield "guest 1 pages=1048576"
    for i in range(n):
        yield f"g1 mem {0x1000 * (16 + i):#x} data=5a"
    for i in range(n):
        yield f"g0 mem {0x1000 * (16 + i):#x} data=5a"
        yield "g0 dma ? used_len=0"


def test_descriptors_at_unknown_addresses_forget_their_guests_bytes_at_the_cost_of_those(tmp_path):
    """Each `dma ?` makes every byte of its Guest unknown: that walked every kept page of every Guest (up to
    16,384 pages, 2.5 ms a record); it costs the Guest's own pages now."""
    from lgcheck.replay.engine import replay_file as real

    def at(size):
        # Lines run, not calls: a comprehension's walk over the pages is one call.
        path = write(tmp_path, f"{size}.lgt", unknown_descriptors(size), version=2)
        n = [0]

        def tracer(frame, event, arg):
            n[0] += 1
            return tracer

        sys.settrace(tracer)
        try:
            real(path, partial=True)
        finally:
            sys.settrace(None)
        return n[0]

    assert at(3000) / at(300) < 13
    res = real(write(tmp_path, "u.lgt", unknown_descriptors(50), version=2), partial=True)
    assert res.error is None and res.findings == []
