"""Sequence-number arithmetic modulo 2**32 (RFC 9293 §3.4, RFC 1982 comparisons)."""

from __future__ import annotations

__all__ = ["MOD", "seq_add", "seq_between", "seq_ge", "seq_gt", "seq_le", "seq_lt", "seq_max", "seq_sub"]

MOD = 1 << 32
_MASK = MOD - 1
_HALF = 1 << 31


def seq_add(a: int, n: int) -> int:
    """a + n modulo 2**32 (n may be negative)."""
    return (a + n) & _MASK


def seq_sub(a: int, b: int) -> int:
    """The signed distance a - b, in (-2**31, 2**31]."""
    d = (a - b) & _MASK
    return d - MOD if d > _HALF else d


def seq_lt(a: int, b: int) -> bool:
    """a comes before b."""
    return 0 < ((b - a) & _MASK) < _HALF


def seq_le(a: int, b: int) -> bool:
    """a comes before b or is b."""
    return ((b - a) & _MASK) < _HALF


def seq_gt(a: int, b: int) -> bool:
    """a comes after b."""
    return 0 < ((a - b) & _MASK) < _HALF


def seq_ge(a: int, b: int) -> bool:
    """a comes after b or is b."""
    return ((a - b) & _MASK) < _HALF


def seq_between(low: int, x: int, high: int) -> bool:
    """low <= x < high on the sequence circle (empty when low == high)."""
    return ((x - low) & _MASK) < ((high - low) & _MASK)


def seq_max(a: int, b: int) -> int:
    """The later of a and b."""
    return a if ((a - b) & _MASK) < _HALF else b
