"""IPv4 headers (RFC 791) with options kept as raw bytes, and the in-place TTL rewrite routers use."""

from __future__ import annotations

import struct
from enum import IntEnum, IntFlag
from ipaddress import IPv4Address
from typing import Any

from layersim.errors import DecodeError, FieldValueError, LayersimError
from layersim.wire.addresses import MAC
from layersim.wire.checksum import internet_checksum, update_checksum
from layersim.wire.ethernet import EtherType
from layersim.wire.fields import Addr, Bits, HeaderSpec, Layer, UInt, Var

__all__ = ["IPProto", "IPv4", "IPv4Flags", "decrement_ttl", "forward_frame", "rewrite_for_next_hop"]


class IPProto(IntEnum):
    """IP protocol numbers (IANA) that layersim decodes or names."""

    HOPOPT = 0  # IPv6 Hop-by-Hop Options (RFC 8200 §4.3)
    ICMP = 1
    IGMP = 2
    IPV4 = 4
    TCP = 6
    UDP = 17
    IPV6 = 41
    IPV6_ROUTE = 43
    IPV6_FRAG = 44
    GRE = 47
    ESP = 50
    AH = 51
    ICMPV6 = 58
    IPV6_NONXT = 59
    IPV6_OPTS = 60
    OSPF = 89
    SCTP = 132


class IPv4Flags(IntFlag):
    """The three IPv4 flag bits: reserved (must be zero), Don't Fragment, More Fragments."""

    MF = 1
    DF = 2
    RESERVED = 4


def _ip_flags(value: Any) -> Any:
    """Accept "DF", "MF", "DF|MF" or "" as well as numbers."""
    if isinstance(value, str):
        flags = 0
        for part in filter(None, value.replace("+", "|").split("|")):
            try:
                flags |= IPv4Flags[part.strip().upper()].value
            except KeyError:
                raise FieldValueError(f"unknown IPv4 flag {part!r} (use DF, MF or RESERVED)") from None
        return _FLAGS_BY_VALUE[flags]
    return value


_FLAGS_BY_VALUE = tuple(IPv4Flags(v) for v in range(8))


class IPv4(Layer):
    """An IPv4 header; options are kept as the raw bytes between byte 20 and IHL*4."""

    __slots__ = ()
    ethertype = EtherType.IPv4
    pseudo_header_source = True
    spec = HeaderSpec("IPv4", [
        Bits("version", 4, 4), Bits("ihl", 4, None),
        Bits("dscp", 6), Bits("ecn", 2),
        UInt("total_length", 16, None),
        UInt("identification", 16, hex=True),
        Bits("flags", 3, IPv4Flags(0), kind=IPv4Flags, coerce=_ip_flags), Bits("fragment_offset", 13),
        UInt("ttl", 8, 64),
        UInt("protocol", 8, None, kind=IPProto),
        UInt("header_checksum", 16, None, hex=True),
        Addr("src", IPv4Address),
        Addr("dst", IPv4Address),
        Var("options", b""),
    ])
    version: int
    ihl: int | None
    dscp: int
    ecn: int
    total_length: int | None
    identification: int
    flags: IPv4Flags
    fragment_offset: int
    ttl: int
    protocol: int | None
    header_checksum: int | None
    src: IPv4Address
    dst: IPv4Address
    options: bytes

    @property
    def header_length(self) -> int:
        """Header length in bytes (IHL * 4, or 20 + padded options when IHL is None)."""
        ihl = self[1]
        return ihl * 4 if ihl is not None else 20 + (len(self[13]) + 3) // 4 * 4

    @property
    def is_fragment(self) -> bool:
        """True for any fragment but a whole datagram (MF set or a non-zero offset)."""
        return bool(self[6] & IPv4Flags.MF or self[7])

    def _header(self, payload_length: int, upper: Layer | None) -> bytes:
        """The header bytes, with None-valued fields computed."""
        (version, ihl, dscp, ecn, total_length, ident, flags, frag, ttl, proto, checksum, src, dst,
         options) = self[:14]
        if len(options) % 4:
            options += bytes(4 - len(options) % 4)  # padded with End of Option List
        if ihl is None:
            ihl = 5 + len(options) // 4
            if ihl > 15:
                raise LayersimError(f"IPv4 options of {len(options)} bytes exceed the 40-byte maximum")
        if total_length is None:
            total_length = 20 + len(options) + payload_length
            if total_length > 0xFFFF:
                raise LayersimError(f"IPv4 total length {total_length} exceeds 65535 bytes")
        if proto is None:
            proto = getattr(type(upper), "ip_protocol", None)
            if proto is None:
                above = type(upper).__name__ if upper is not None else "nothing"
                raise LayersimError(f"IPv4.protocol is None and cannot be derived from the layer above ({above})")
        if checksum is None:
            header = self._pack(version, ihl, dscp, ecn, total_length, ident, flags, frag, ttl, proto, 0,
                                src, dst) + options
            checksum = internet_checksum(header)
            return header[:10] + checksum.to_bytes(2, "big") + header[12:]
        return self._pack(version, ihl, dscp, ecn, total_length, ident, flags, frag, ttl, proto, checksum,
                          src, dst) + options

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload."""
        return self._header(len(payload), upper) + payload

    @property
    def checksum_ok(self) -> bool | None:
        """Whether the header checksum is right (None while it is still to be computed)."""
        if self[10] is None or self[1] is None or self[4] is None or self[9] is None:
            return None
        return internet_checksum(self._header(0, None)) == 0

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the header at `start`; the payload ends where the total length says."""
        available = end - start
        if available < 20:
            raise DecodeError("IPv4", start, f"{available} bytes left, shorter than the 20-byte header")
        values = cls._unpack(data, start)
        if values[0] != 4:
            raise DecodeError("IPv4", start, f"version {values[0]} is not 4")
        header_length = values[1] * 4
        if header_length < 20:
            raise DecodeError("IPv4", start, f"IHL {values[1]} ({header_length} bytes) is smaller than the "
                              "20-byte header")
        if header_length > available:
            raise DecodeError("IPv4", start, f"IHL {values[1]} ({header_length} bytes) is longer than the "
                              f"{available} bytes left")
        total = values[4]
        if total < header_length:
            raise DecodeError("IPv4", start + 2, f"total length {total} is smaller than the {header_length}-byte "
                              "header")
        if total > available:
            if not state.truncated:
                raise DecodeError("IPv4", start + 2, f"total length {total} is longer than the {available} "
                                  "bytes left")
            total = available
        layer = tuple.__new__(cls, (*values, data[start + 20:start + header_length], None))
        state.ip = layer
        fragment = data[start + 6] & 0x3F or data[start + 7]  # MF or a fragment offset: the payload stays Raw
        return layer, start + header_length, start + total, None if fragment else cls.next_layers.get(values[9])


def decrement_ttl(packet: bytearray, offset: int = 0) -> None:
    """TTL - 1 in the IPv4 header at `offset`, with the header checksum updated incrementally (RFC 1624).

    The caller has checked that the TTL is above 1 (RFC 1812 §5.3.1).
    """
    ttl_at = offset + 8
    if packet[ttl_at] == 0:
        raise LayersimError(f"IPv4 at byte {offset}: TTL is 0 and cannot be decremented")
    old_word = packet[ttl_at] << 8 | packet[ttl_at + 1]
    packet[ttl_at] -= 1
    checksum = update_checksum(packet[offset + 10] << 8 | packet[offset + 11], old_word, old_word - 0x100)
    packet[offset + 10] = checksum >> 8
    packet[offset + 11] = checksum & 0xFF


_HOP_READ = struct.Struct("!HBxH4xBBH")  # from byte 12: EtherType, version+IHL, total length, TTL, protocol, checksum
_TTL_PROTOCOL_CHECKSUM = struct.Struct("!BBH")


def forward_frame(frame: bytes, src: MAC, dst: MAC) -> bytes | None:
    """The router fast path in one step, for an Ethernet II frame holding IPv4.

    Reads only what RFC 1812 §5.2.2 and §5.3.1 make a router check (EtherType, version, IHL, total length,
    header checksum, TTL above 1), then writes the frame the next hop gets: both MACs new, the TTL decremented
    with an RFC 1624 checksum update, the packet up to its total length (Ethernet padding is the link's, not the
    packet's). Returns None when any check fails: the caller then decodes the frame to report or answer it (ICMP,
    drop reason).
    """
    if len(frame) < 34:
        return None
    ethertype, version_ihl, total_length, ttl, protocol, checksum = _HOP_READ.unpack_from(frame, 12)
    header_length = (version_ihl & 0xF) * 4
    if ethertype != 0x0800 or version_ihl >> 4 != 4 or header_length < 20 or ttl <= 1 \
            or total_length < header_length or 14 + total_length > len(frame):
        return None
    header_sum = int.from_bytes(frame[14:14 + header_length], "big")  # RFC 1071 by the mod-0xffff identity:
    if header_sum % 0xFFFF:  # a correct header sums to 0xffff (never 0: version 4 is in it)
        return None
    # RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), with m' = m - 0x100 (the TTL byte one less): ~m + m' is 0xfeff
    total = 0x1FEFE - checksum  # ~HC + 0xfeff, never above 17 bits: one fold
    checksum = ~((total & 0xFFFF) + (total >> 16)) & 0xFFFF
    return b"".join((dst, src, frame[12:22], _TTL_PROTOCOL_CHECKSUM.pack(ttl - 1, protocol, checksum),
                     frame[26:14 + total_length]))


def rewrite_for_next_hop(frame: bytes | bytearray, src: MAC, dst: MAC, ip_offset: int = 14) -> bytearray:
    """The router fast path: new MACs, TTL - 1 and an RFC 1624 checksum update, every other byte unchanged."""
    out = bytearray(frame)
    out[0:6] = dst
    out[6:12] = src
    decrement_ttl(out, ip_offset)
    return out
