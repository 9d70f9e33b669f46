"""Receive reassembly and the SACK scoreboard, against a reference built from plain sets of byte positions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from layersim.tcp.buffers import ReceiveBuffer, Scoreboard, SendBuffer
from layersim.tcp.seq import seq_add

STREAM = bytes(range(256)) * 8


@settings(max_examples=200)
@given(st.integers(0, 2**32 - 1), st.lists(st.tuples(st.integers(0, 1500), st.integers(1, 300)), max_size=40))
def test_reassembly_matches_a_set_of_received_bytes(base, pieces):
    """Segments in any order, overlapping or duplicated: the in-order bytes are the stream's prefix up to the
    first gap, and the SACK blocks cover exactly the bytes held beyond it."""
    buf = ReceiveBuffer(1 << 20)
    rcv_nxt = base
    have: set[int] = set()
    for start, length in pieces:
        end = min(start + length, len(STREAM))
        if end <= start:
            continue
        have.update(range(start, end))
        offset = (seq_add(base, start) - rcv_nxt) % 2**32
        delivered = (rcv_nxt - base) % 2**32
        if start <= delivered:
            tail = STREAM[delivered:end]
            if tail:
                buf.data += tail
                rcv_nxt = seq_add(rcv_nxt, len(tail))
            rcv_nxt = buf.pull(rcv_nxt)
        elif offset:
            buf.insert(rcv_nxt, seq_add(base, start), STREAM[start:end])
    delivered = (rcv_nxt - base) % 2**32
    prefix = 0
    while prefix in have:
        prefix += 1
    assert delivered == prefix and bytes(buf.data) == STREAM[:prefix]
    held = {p for p in have if p > prefix}
    covered: set[int] = set()
    for left, right in buf.sack_blocks():
        lo = (left - base) % 2**32
        covered.update(range(lo, lo + (right - left) % 2**32))
    assert covered == held and buf.ooo_bytes == len(held)


def test_sack_blocks_most_recent_first():
    buf = ReceiveBuffer(1 << 16)
    buf.insert(0, 100, b"a" * 10)
    buf.insert(0, 300, b"b" * 10)
    buf.insert(0, 110, b"c" * 10)  # extends the first block, which becomes the most recent
    assert buf.sack_blocks() == [(100, 120), (300, 310)]


@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 800)), max_size=20), st.integers(0, 3000))
def test_scoreboard_against_a_set(blocks, advance):
    una = 2**32 - 1000  # across the wrap
    board = Scoreboard(una)
    sacked: set[int] = set()
    for start, length in blocks:
        if start + length <= 6000:
            board.add(seq_add(una, start), seq_add(una, start + length), 6000)
            sacked.update(range(start, start + length))
    assert board.sacked_bytes() == len(sacked)
    board.advance(seq_add(una, advance))
    left = {p - advance for p in sacked if p >= advance}
    assert board.sacked_bytes() == len(left)
    hole = board.hole_from(0)
    missing = [p for p in range(max(left, default=0)) if p not in left]
    if missing:
        assert hole == (missing[0], min(p for p in left if p > missing[0]))
    else:
        assert hole is None


def test_scoreboard_rejects_blocks_beyond_what_was_sent():
    board = Scoreboard(1000)
    assert not board.add(2000, 5000, 1500) and board.blocks == []
    assert board.add(1500, 2000, 1500) and not board.add(1600, 1700, 1500)


def test_send_buffer_limits_and_slices():
    buf = SendBuffer(2**32 - 2, 10)
    assert buf.write(b"0123456789abc") == 10 and buf.end == 8
    assert buf.read(0, 3) == b"234"
    assert buf.acknowledge(1) == 3 and buf.base == 1 and buf.read(1, 100) == b"3456789"
    assert buf.acknowledge(0) == 0
