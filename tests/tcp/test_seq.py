"""Sequence arithmetic modulo 2**32 (RFC 1982 comparisons), against plain integer arithmetic on an unwrapped line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from layersim.tcp.seq import seq_add, seq_between, seq_ge, seq_gt, seq_le, seq_lt, seq_max, seq_sub

u32 = st.integers(0, 2**32 - 1)
near = st.integers(-(2**31) + 1, 2**31 - 1)


@given(u32, near)
def test_comparisons_match_the_unwrapped_line(a, d):
    """For b = a + d (|d| < 2**31), every comparison agrees with comparing a and a + d as plain integers."""
    b = (a + d) % 2**32
    assert seq_lt(a, b) == (d > 0) and seq_gt(b, a) == (d > 0)
    assert seq_le(a, b) == (d >= 0) and seq_ge(b, a) == (d >= 0)
    assert seq_sub(b, a) == d and seq_add(a, d) == b
    assert seq_max(a, b) == (b if d >= 0 else a)


@given(u32, st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1))
def test_between(low, x_off, width):
    high = (low + width) % 2**32
    x = (low + x_off) % 2**32
    assert seq_between(low, x, high) == (x_off < width)


def test_wraparound_edges():
    top = 2**32 - 1
    assert seq_add(top, 1) == 0 and seq_sub(0, top) == 1 and seq_lt(top, 0) and seq_gt(0, top)
    assert seq_between(top, 0, 5) and not seq_between(top, 5, 5) and not seq_between(3, 3, 3)
    assert seq_sub(2**31, 0) == 2**31  # the ambiguous half-way point counts as ahead, as RFC 1982 leaves it
    assert seq_add(5, -10) == top - 4
