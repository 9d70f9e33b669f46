"""Internet checksums: the RFC 1071 sum, the TCP/UDP pseudo-header sum, and the RFC 1624 incremental update."""

from __future__ import annotations

from ipaddress import IPv4Address

__all__ = ["internet_checksum", "ones_complement_sum", "pseudo_header_sum", "update_checksum"]


def ones_complement_sum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """The 16-bit one's complement sum of `data` (odd length padded with a zero byte) plus `initial`.

    Since 2**16 = 1 (mod 0xffff), the one's complement sum of the 16-bit words equals the big-endian integer
    value of the whole buffer modulo 0xffff, which CPython computes in C: this is the fastest correct
    pure-Python method (RFC 1071 §2(B), "deferred carries" taken to its limit).
    """
    if len(data) & 1:
        data = bytes(data) + b"\x00"
    total = int.from_bytes(data, "big") + initial
    if not total:
        return 0
    folded = total % 0xFFFF
    return folded or 0xFFFF


def internet_checksum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """The RFC 1071 checksum of `data`: the one's complement of the one's complement sum."""
    return ~ones_complement_sum(data, initial) & 0xFFFF


def pseudo_header_sum(src: IPv4Address, dst: IPv4Address, protocol: int, length: int) -> int:
    """The unfolded sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768) to pass as `initial`."""
    s, d = int(src), int(dst)
    return (s >> 16) + (s & 0xFFFF) + (d >> 16) + (d & 0xFFFF) + protocol + length


def update_checksum(checksum: int, old: int, new: int) -> int:
    """RFC 1624 eqn. 3: the checksum after one 16-bit word changes from `old` to `new`: HC' = ~(~HC + ~m + m')."""
    total = (~checksum & 0xFFFF) + (~old & 0xFFFF) + new
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
