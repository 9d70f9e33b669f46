"""In-place rewrites of IPv4 packet bytes for NAT, with every checksum they touch updated by RFC 1624.

Nothing here decides anything: the NAT object says which address and port to write where, these functions patch
the bytes and fix the IPv4 header checksum, the TCP/UDP checksum (whose pseudo-header holds the addresses) and,
for an ICMP error, the quoted datagram's checksums and the ICMP checksum around it.
"""

from __future__ import annotations

import struct

from layersim.wire.checksum import ones_complement_sum

__all__ = ["adjust_checksum", "rewrite_endpoint", "rewrite_quoted"]

_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")


def _fold(value: int) -> int:
    """A non-negative sum folded to 16 bits with end-around carry: 0 stays 0, else 1..0xFFFF."""
    return value % 0xFFFF or (0xFFFF if value else 0)


def adjust_checksum(checksum: int, old_sum: int, new_sum: int) -> int:
    """RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), where m and m' are the sums of the old and new 16-bit words.

    Summing several changed words first is the same one's complement arithmetic as applying them one by one.
    """
    total = (~checksum & 0xFFFF) + (~_fold(old_sum) & 0xFFFF) + _fold(new_sum)
    return ~_fold(total) & 0xFFFF


def _patch(packet: bytearray, at: int, old_sum: int, new_sum: int, udp: bool = False) -> None:
    """Adjust the checksum field at `at`; for UDP (RFC 768) 0 means "none" and stays, and 0 is sent as 0xFFFF."""
    checksum = packet[at] << 8 | packet[at + 1]
    if udp and checksum == 0:
        return
    checksum = adjust_checksum(checksum, old_sum, new_sum)
    if udp and checksum == 0:
        checksum = 0xFFFF
    _U16.pack_into(packet, at, checksum)


def rewrite_endpoint(packet: bytearray, ip: int, addr_at: int, address: int, port_at: int, port: int,
                     checksum_at: int, *, pseudo: bool, udp: bool) -> bool:
    """Write `address` at `addr_at` of the IPv4 header at `ip` and `port` at `port_at` (-1: no port).

    Updates the IPv4 header checksum and the transport checksum at `checksum_at` (-1: none, or not in the
    bytes we have); `pseudo` says that checksum covers the addresses (TCP, UDP), not only the port (an ICMP
    identifier). Returns whether any byte changed.
    """
    old_address = _U32.unpack_from(packet, addr_at)[0]
    old_port = _U16.unpack_from(packet, port_at)[0] if port_at >= 0 else port
    if old_address == address and old_port == port:
        return False
    old_sum = (old_address >> 16) + (old_address & 0xFFFF)
    new_sum = (address >> 16) + (address & 0xFFFF)
    if old_address != address:
        _U32.pack_into(packet, addr_at, address)
        _patch(packet, ip + 10, old_sum, new_sum)
    if port_at >= 0:
        _U16.pack_into(packet, port_at, port)
    if checksum_at >= 0:
        if pseudo:
            _patch(packet, checksum_at, old_sum + old_port, new_sum + port, udp)
        else:
            _patch(packet, checksum_at, old_port, port)
    return True


def rewrite_quoted(packet: bytearray, icmp: int, end: int, addr_field: int, address: int, port_field: int,
                   port: int) -> None:
    """Rewrite the datagram quoted in the ICMP error at `icmp`: the address at byte `addr_field` of its header
    (12: source, 16: destination) and the port at byte `port_field` of its transport header (0: source port,
    2: destination port, 4: ICMP identifier; -1: none), with the quote's own checksums, then the ICMP checksum.

    The quoted TCP checksum is only updated when the whole 20-byte TCP header is quoted (as Linux does); the
    UDP and ICMP checksums sit in the first 8 bytes, which every quote holds (RFC 792).
    """
    quote = icmp + 8
    header_length = (packet[quote] & 0x0F) * 4
    protocol = packet[quote + 9]
    transport = quote + header_length
    region_end = min(end, transport + 20)
    before = bytes(packet[quote:region_end])
    checksum_at = -1
    if protocol == 6 and transport + 20 <= end:
        checksum_at = transport + 16
    elif protocol == 17 and transport + 8 <= end:
        checksum_at = transport + 6
    elif protocol == 1 and transport + 8 <= end:
        checksum_at = transport + 2
    port_at = transport + port_field if port_field >= 0 and transport + port_field + 2 <= end else -1
    rewrite_endpoint(packet, quote, quote + addr_field, address, port_at, port, checksum_at,
                     pseudo=protocol in (6, 17), udp=protocol == 17)
    # The quote lies at an even offset in the ICMP message, so its words are the ICMP checksum's words.
    _patch(packet, icmp + 2, ones_complement_sum(before), ones_complement_sum(packet[quote:region_end]))
