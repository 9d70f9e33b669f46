"""ICMP messages (RFC 792, RFC 1191): echo, destination unreachable, time exceeded, and the quoted datagram."""

from __future__ import annotations

from enum import IntEnum
from ipaddress import IPv4Address
from typing import Any

from layersim.errors import DecodeError, FieldValueError
from layersim.wire.checksum import internet_checksum
from layersim.wire.fields import HeaderSpec, Layer, UInt, unknown_field
from layersim.wire.ipv4 import IPv4

__all__ = ["ICMP", "ICMPType", "UnreachableCode"]


class ICMPType(IntEnum):
    """ICMP message types (IANA)."""

    ECHO_REPLY = 0
    DEST_UNREACHABLE = 3
    SOURCE_QUENCH = 4
    REDIRECT = 5
    ECHO_REQUEST = 8
    TIME_EXCEEDED = 11
    PARAMETER_PROBLEM = 12
    TIMESTAMP = 13
    TIMESTAMP_REPLY = 14


class UnreachableCode(IntEnum):
    """Codes of Destination Unreachable (RFC 792, RFC 1122, RFC 1812)."""

    NET_UNREACHABLE = 0
    HOST_UNREACHABLE = 1
    PROTOCOL_UNREACHABLE = 2
    PORT_UNREACHABLE = 3
    FRAGMENTATION_NEEDED = 4
    SOURCE_ROUTE_FAILED = 5
    NET_UNKNOWN = 6
    HOST_UNKNOWN = 7
    NET_PROHIBITED = 9
    HOST_PROHIBITED = 10
    ADMIN_PROHIBITED = 13


class TimeExceededCode(IntEnum):
    """Codes of Time Exceeded."""

    TTL_EXCEEDED = 0
    REASSEMBLY_TIME_EXCEEDED = 1


# Messages that quote the datagram that caused them (RFC 792): the quote is decoded as layers.
ERROR_TYPES = frozenset({3, 4, 5, 11, 12})
_ECHO_TYPES = frozenset({0, 8, 13, 14})

_SPEC = HeaderSpec("ICMP", [
    UInt("type", 8, ICMPType.ECHO_REQUEST, kind=ICMPType),
    UInt("code", 8),
    UInt("checksum", 16, None, hex=True),
    UInt("rest_of_header", 32, hex=True),
])


class ICMP(Layer):
    """An ICMP header; the 32-bit rest-of-header reads as identifier/sequence, next-hop MTU, pointer or gateway."""

    __slots__ = ()
    ip_protocol = 1
    spec = _SPEC
    type: int
    code: int
    checksum: int | None
    rest_of_header: int

    def __new__(cls, type: Any = ICMPType.ECHO_REQUEST, code: Any = 0, checksum: int | None = None,
                rest_of_header: int | None = None, *, identifier: int | None = None,
                sequence: int | None = None, next_hop_mtu: int | None = None, pointer: int | None = None,
                gateway: Any = None, _src: Any = None, **unknown: Any) -> ICMP:
        if unknown:
            raise unknown_field(cls.spec, unknown)
        parts = {"identifier": identifier, "sequence": sequence, "next_hop_mtu": next_hop_mtu,
                 "pointer": pointer, "gateway": gateway}
        given = {k: v for k, v in parts.items() if v is not None}
        if given:
            if rest_of_header is not None:
                raise FieldValueError(f"ICMP: give rest_of_header or {', '.join(given)}, not both")
            rest_of_header = _compose_rest(given)
        if isinstance(code, str):
            code = _code_by_name(code)
        return cls._new(cls, type, code, checksum, rest_of_header or 0, _src)

    @property
    def identifier(self) -> int:
        """Echo identifier (upper 16 bits of the rest of header)."""
        return self[3] >> 16

    @property
    def sequence(self) -> int:
        """Echo sequence number (lower 16 bits of the rest of header)."""
        return self[3] & 0xFFFF

    @property
    def next_hop_mtu(self) -> int:
        """Next-hop MTU of a Fragmentation Needed message (RFC 1191)."""
        return self[3] & 0xFFFF

    @property
    def pointer(self) -> int:
        """Byte pointer of a Parameter Problem message."""
        return self[3] >> 24

    @property
    def gateway(self) -> IPv4Address:
        """Gateway address of a Redirect message."""
        return IPv4Address(self[3])

    @property
    def is_error(self) -> bool:
        """True for messages that quote an offending datagram."""
        return self[0] in ERROR_TYPES

    def info(self) -> dict[str, Any]:
        """The rest of header read the way this type defines it."""
        kind, code = self[0], self[1]
        if kind in _ECHO_TYPES:
            return {"identifier": self.identifier, "sequence": self.sequence}
        if kind == 3:
            name = UnreachableCode(code).name if code in UnreachableCode._value2member_map_ else str(code)
            out: dict[str, Any] = {"code_name": name}
            if code == 4:
                out["next_hop_mtu"] = self.next_hop_mtu
            return out
        if kind == 11 and code in TimeExceededCode._value2member_map_:
            return {"code_name": TimeExceededCode(code).name}
        if kind == 12:
            return {"pointer": self.pointer}
        if kind == 5:
            return {"gateway": str(self.gateway)}
        return {}

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload; the checksum covers both."""
        kind, code, checksum, rest = self[:4]
        if checksum is None:
            message = self._pack(kind, code, 0, rest) + payload
            checksum = internet_checksum(message)
            return message[:2] + checksum.to_bytes(2, "big") + message[4:]
        return self._pack(kind, code, checksum, rest) + payload

    @property
    def checksum_ok(self) -> bool | None:
        """Whether the checksum is right (None when the message was not decoded whole)."""
        src = self._src
        if src is None:
            return None
        data, start, end = src
        return internet_checksum(data[start:end]) == 0

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the 8-byte header; an error message's payload decodes as the quoted IPv4 datagram."""
        if end - start < 8:
            raise DecodeError("ICMP", start, f"{end - start} bytes left, shorter than the 8-byte header")
        values = cls._unpack(data, start)
        src = None if state.truncated else (data, start, end)
        key = None
        if values[0] in ERROR_TYPES:
            state.truncated = True  # RFC 792: the quote holds the IP header and at least 8 bytes, not all
            key = IPv4
        return tuple.__new__(cls, (*values, src)), start + 8, end, key


def _compose_rest(parts: dict[str, Any]) -> int:
    """Build the 32-bit rest of header from its named parts."""
    limits = {"identifier": 0xFFFF, "sequence": 0xFFFF, "next_hop_mtu": 0xFFFF, "pointer": 0xFF}
    for name, limit in limits.items():
        value = parts.get(name)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= limit):
            raise FieldValueError(f"ICMP.{name}: {value!r} is not an integer from 0 to {limit}")
    if "gateway" in parts:
        from layersim.wire.addresses import to_ipv4

        return int(to_ipv4(parts["gateway"]))
    if "pointer" in parts:
        return parts["pointer"] << 24
    if "next_hop_mtu" in parts:
        return parts["next_hop_mtu"]
    return parts.get("identifier", 0) << 16 | parts.get("sequence", 0)


def _code_by_name(name: str) -> int:
    """Look up a code given by name in the code enums."""
    for codes in (UnreachableCode, TimeExceededCode):
        if name.upper() in codes.__members__:
            return codes[name.upper()]
    raise FieldValueError(f"ICMP.code: unknown code name {name!r}")
