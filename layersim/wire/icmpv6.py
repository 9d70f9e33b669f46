"""ICMPv6 (RFC 4443): the 4-byte common header with its pseudo-header checksum, echo and the error messages.

The message body is a layer of its own, chosen by the type (dispatch.py): echo, an error quoting the packet that
caused it, the NDP messages (ndp.py) or MLD (mld.py).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from layersim.errors import DecodeError, LayersimError
from layersim.wire.checksum import internet_checksum, pseudo_header_sum, transport_checksum_ok
from layersim.wire.fields import HeaderSpec, Layer, UInt
from layersim.wire.ipv4 import IPProto

__all__ = ["ICMPv6", "ICMPv6EchoReply", "ICMPv6EchoRequest", "ICMPv6Error", "ICMPv6Type"]


class ICMPv6Type(IntEnum):
    """ICMPv6 message types (IANA; RFC 4443, RFC 4861, RFC 3810)."""

    DEST_UNREACHABLE = 1
    PACKET_TOO_BIG = 2
    TIME_EXCEEDED = 3
    PARAMETER_PROBLEM = 4
    ECHO_REQUEST = 128
    ECHO_REPLY = 129
    MLD_QUERY = 130
    MLD_REPORT = 131
    MLD_DONE = 132
    ROUTER_SOLICITATION = 133
    ROUTER_ADVERTISEMENT = 134
    NEIGHBOR_SOLICITATION = 135
    NEIGHBOR_ADVERTISEMENT = 136
    REDIRECT = 137
    MLDV2_REPORT = 143


class ICMPv6(Layer):
    """The ICMPv6 header: type, code and a checksum over the IPv6 pseudo-header and the whole message."""

    __slots__ = ()
    ip_protocol = IPProto.ICMPV6
    spec = HeaderSpec("ICMPv6", [
        UInt("type", 8, None, kind=ICMPv6Type),
        UInt("code", 8),
        UInt("checksum", 16, None, hex=True),
    ])
    type: int | None
    code: int
    checksum: int | None

    @property
    def is_error(self) -> bool:
        """True for error messages (types below 128, RFC 4443 §2.1)."""
        return self[0] is not None and self[0] < 128

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then message body; the checksum covers the IPv6 pseudo-header (RFC 4443 §2.3)."""
        kind, code, checksum = self[:3]
        if kind is None:
            kind = getattr(type(upper), "icmpv6_type", None)
            if kind is None:
                above = type(upper).__name__ if upper is not None else "nothing"
                raise LayersimError(f"ICMPv6.type is None and cannot be derived from the layer above ({above})")
        if checksum is None:
            if ip is None:
                raise LayersimError("ICMPv6.checksum is None but there is no IPv6 layer below to compute it from")
            message = self._pack(kind, code, 0) + payload
            checksum = internet_checksum(message, pseudo_header_sum(ip.src, ip.dst, 58, len(message)))
            return message[:2] + checksum.to_bytes(2, "big") + payload
        return self._pack(kind, code, checksum) + payload

    @property
    def checksum_ok(self) -> bool | None:
        """Whether the checksum is right (None when the message was not decoded whole)."""
        src = self._src
        if src is None:
            return None
        return transport_checksum_ok(src, 58)

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the 4-byte header; the body's class follows from the type."""
        if end - start < 4:
            raise DecodeError("ICMPv6", start, f"{end - start} bytes left, shorter than the 4-byte header")
        values = cls._unpack(data, start)
        ip = state.ip
        src = (data, start, end, ip) if ip is not None and not state.truncated and ip.version == 6 else None
        return tuple.__new__(cls, (*values, src)), start + 4, end, cls.next_layers.get(values[0])


class ICMPv6EchoRequest(Layer):
    """The body of an Echo Request (RFC 4443 §4.1): identifier and sequence number; the data follows."""

    __slots__ = ()
    icmpv6_type = ICMPv6Type.ECHO_REQUEST
    spec = HeaderSpec("ICMPv6 Echo Request", [UInt("identifier", 16, hex=True), UInt("sequence", 16)])
    identifier: int
    sequence: int

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Identifier, sequence, then the data."""
        return self._pack(*self[:2]) + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, None]:
        """Decode identifier and sequence; the data stays Raw."""
        if end - start < 4:
            raise DecodeError(cls.spec.name, start, f"{end - start} bytes left, shorter than the 4-byte body")
        return tuple.__new__(cls, (*cls._unpack(data, start), None)), start + 4, end, None


class ICMPv6EchoReply(ICMPv6EchoRequest):
    """The body of an Echo Reply (RFC 4443 §4.2): the request's identifier, sequence and data echoed."""

    __slots__ = ()
    icmpv6_type = ICMPv6Type.ECHO_REPLY
    spec = HeaderSpec("ICMPv6 Echo Reply", [UInt("identifier", 16, hex=True), UInt("sequence", 16)])


class ICMPv6Error(Layer):
    """The body of an error message (RFC 4443 §3): a 32-bit parameter, then as much of the offending packet as fits.

    The parameter is unused (Destination Unreachable, Time Exceeded), the MTU (Packet Too Big) or the pointer to
    the offending byte (Parameter Problem). The quote is decoded as IPv6, cut short as it usually is.
    """

    __slots__ = ()
    spec = HeaderSpec("ICMPv6 Error", [UInt("parameter", 32)])
    parameter: int

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """The parameter, then the quoted packet."""
        return self._pack(self[0]) + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the parameter; the rest is the quoted packet (RFC 4443 §2.4 (c): as much as fits in 1280)."""
        if end - start < 4:
            raise DecodeError(cls.spec.name, start, f"{end - start} bytes left, shorter than the 4-byte body")
        state.truncated = True
        return tuple.__new__(cls, (*cls._unpack(data, start), None)), start + 4, end, cls.next_layers.get(6)
