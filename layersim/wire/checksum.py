"""Internet checksums: the RFC 1071 sum, the TCP/UDP pseudo-header sum, and the RFC 1624 incremental update."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from typing import Any

import numpy as np

__all__ = ["VECTOR_FROM", "internet_checksum", "ones_complement_sum", "pseudo_header_sum", "transport_checksum_ok",
           "update_checksum"]

VECTOR_FROM = 512  # bytes: below this a single big-endian integer sums faster than a numpy call
_LE_WORD32 = np.dtype("<u4")
_UINT64 = np.uint64
_frombuffer = np.frombuffer
_add_reduce = np.add.reduce


def ones_complement_sum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """The 16-bit one's complement sum of `data` (odd length padded with a zero byte) plus `initial`.

    Since 2**16 = 1 (mod 0xffff), the one's complement sum of the 16-bit words equals the sum of any split of the
    buffer into whole words, modulo 0xffff (RFC 1071 §2(B), "deferred carries" taken to its limit). A short
    buffer is read as one big-endian integer, which CPython reduces in C. From `VECTOR_FROM` bytes on, numpy adds
    the buffer as little-endian 32-bit words in one call, about twice as fast for a full-size segment: a
    little-endian word is its big-endian twin times 2**8 (mod 0xffff) (RFC 1071 §2(B), byte order
    independence), and 2**8 is its own inverse, so that sum times 2**8 is the big-endian sum.
    """
    size = len(data)
    if size >= VECTOR_FROM:
        whole = size & ~3
        total = int(_add_reduce(_frombuffer(data, _LE_WORD32, whole >> 2), dtype=_UINT64)) << 8
        if whole != size:  # one to three bytes left: a word and a half at most, zero-padded
            total += int.from_bytes(bytes(data[whole:]) + bytes(4 - size + whole), "big")
        total += initial
    else:
        if size & 1:
            data = bytes(data) + b"\x00"
        total = int.from_bytes(data, "big") + initial
    if not total:
        return 0
    folded = total % 0xFFFF
    return folded or 0xFFFF


def internet_checksum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """The RFC 1071 checksum of `data`: the one's complement of the one's complement sum."""
    return ~ones_complement_sum(data, initial) & 0xFFFF


def pseudo_header_sum(src: IPv4Address | IPv6Address, dst: IPv4Address | IPv6Address, protocol: int,
                      length: int) -> int:
    """The unfolded sum of the IPv4 (RFC 793 §3.1, RFC 768) or IPv6 (RFC 8200 §8.1) pseudo-header, as `initial`."""
    s, d = int(src), int(dst)
    if type(src) is IPv6Address:  # RFC 8200 §8.1: 128-bit addresses, 32-bit length
        return sum((s >> k & 0xFFFF) + (d >> k & 0xFFFF) for k in range(0, 128, 16)) + protocol + (
            length >> 16) + (length & 0xFFFF)
    return (s >> 16) + (s & 0xFFFF) + (d >> 16) + (d & 0xFFFF) + protocol + length


def transport_checksum_ok(src: tuple[Any, int, int, Any], protocol: int) -> bool:
    """Whether a decoded transport message (`src`: data, start, end, its IP layer) sums to zero over the
    pseudo-header of IPv4 or IPv6 (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1)."""
    data, start, end, ip = src
    return internet_checksum(data[start:end], pseudo_header_sum(ip.src, ip.dst, protocol, end - start)) == 0


def update_checksum(checksum: int, old: int, new: int) -> int:
    """RFC 1624 eqn. 3: the checksum after one 16-bit word changes from `old` to `new`: HC' = ~(~HC + ~m + m')."""
    total = (~checksum & 0xFFFF) + (~old & 0xFFFF) + new
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
