"""The concrete state's fast paths give the answers of the plain ones (issues 10 and 12).

- maps_at remembers its answer per key only until a mapping is added;
- deliver_bytes moves bytes and their known-marks page slice to page slice:
  a byte is known after the copy exactly where its source byte was;
- replay's apply runs the compiled monitors, and _add's guard is tested first.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lgcheck.spec import compiled
from lgcheck.spec.state import ConcreteState


def test_maps_at_sees_a_mapping_added_after_a_key_was_looked_up():
    s = ConcreteState()
    s.add_map(0, 0, 0x10000, 0x1000)
    assert [m[0] for m in s.maps_at(0, 0x10010)] == [0]
    assert s.maps_at(0, 0x20010) == ()
    s.add_map(0, 1, 0x20000, 0x1000)
    assert [m[0] for m in s.maps_at(0, 0x20010)] == [1]
    s.add_map(0, 2, 0x10000, 0x1000)  # a later mapping over the same range wins (get_futex_key)
    assert [m[0] for m in s.maps_at(0, 0x10010)] == [2]


@settings(max_examples=60, deadline=None)
@given(
    known=st.lists(st.tuples(st.integers(0, 255), st.integers(1, 64)), max_size=4),
    src=st.integers(0, 255),
    dst=st.integers(0, 255),
    n=st.integers(1, 200),
)
def test_a_copied_byte_is_known_exactly_where_its_source_byte_was(known, src, dst, n):
    s = ConcreteState()
    base_src, base_dst = 0x5000, 0x9000
    truth = {}
    for off, k in known:
        data = bytes((off + i) & 0xFF for i in range(k))
        s.write_bytes(1, base_src + off, data)
        for i in range(k):
            truth[off + i] = data[i]
    s.write_bytes(2, base_dst, bytes(range(256)) * 2)  # the destination was all known before
    s.deliver_bytes((1, 0), (2, 0), n, [(True, base_src + src, base_dst + dst, n)], "test")
    for i in range(n):
        got = s.read_bytes(2, base_dst + dst + i, 1)
        want = truth.get(src + i)
        assert got == (None if want is None else bytes([want])), (i, got, want)
    # bytes outside the copy are untouched
    if dst:
        assert s.read_bytes(2, base_dst, dst) == (bytes(range(256)) * 2)[:dst]


def test_replay_applies_effects_with_the_compiled_monitors():
    if compiled.INTERPRETED:
        return
    from lgcheck.replay import engine

    assert engine.apply_effect is compiled.MODULE["apply"].apply
    assert compiled.MODULE["apply"].observe is compiled.MODULE["monitors"].observe
    assert "_add_when" in compiled.SOURCES["host"]


def test_a_guest_device_table_survives_a_pickle_round_trip():
    # Partial mode copies candidate states by one pickle: the table must come back whole and keep counting.
    import pickle

    from lgcheck.spec.state import DeviceTable

    t = DeviceTable()
    t[2], t[0] = "net", "console"
    back = pickle.loads(pickle.dumps(t))
    assert dict(back) == {2: "net", 0: "console"} and isinstance(back, DeviceTable)
    before = back.version
    back[1] = "block"
    assert back.version == before + 1
