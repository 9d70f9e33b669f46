"""UDP datagrams (RFC 768) with the pseudo-header checksum; a checksum of 0 means none was sent."""

from __future__ import annotations

from typing import Any

from layersim.errors import DecodeError, LayersimError
from layersim.wire.checksum import internet_checksum, pseudo_header_sum, transport_checksum_ok
from layersim.wire.fields import HeaderSpec, Layer, UInt

__all__ = ["UDP"]


class UDP(Layer):
    """A UDP header: ports, length and checksum."""

    __slots__ = ()
    ip_protocol = 17
    spec = HeaderSpec("UDP", [
        UInt("sport", 16), UInt("dport", 16),
        UInt("length", 16, None),
        UInt("checksum", 16, None, hex=True),
    ])
    sport: int
    dport: int
    length: int | None
    checksum: int | None

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload; the checksum covers the pseudo-header of the IPv4 layer below."""
        sport, dport, length, checksum = self[:4]
        if length is None:
            length = 8 + len(payload)
            if length > 0xFFFF:
                raise LayersimError(f"UDP length {length} exceeds 65535 bytes")
        if checksum is None:
            if ip is None:
                raise LayersimError("UDP.checksum is None but there is no IPv4 layer below to compute it from; "
                                    "give checksum=0 for none")
            segment = self._pack(sport, dport, length, 0) + payload
            checksum = internet_checksum(segment, pseudo_header_sum(ip.src, ip.dst, 17, len(segment))) or 0xFFFF
            return segment[:6] + checksum.to_bytes(2, "big") + payload
        return self._pack(sport, dport, length, checksum) + payload

    @property
    def checksum_ok(self) -> bool | None:
        """Whether the checksum is right; None when it is 0 (not sent) or the datagram was not decoded whole."""
        src = self._src
        if src is None or self[3] == 0:
            return None
        return transport_checksum_ok(src, 17)

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the 8-byte header; the payload ends where the length field says."""
        available = end - start
        if available < 8:
            raise DecodeError("UDP", start, f"{available} bytes left, shorter than the 8-byte header")
        values = cls._unpack(data, start)
        length = values[2]
        if length < 8:
            raise DecodeError("UDP", start + 4, f"length {length} is smaller than the 8-byte header")
        src = None
        if length > available:
            if not state.truncated:
                raise DecodeError("UDP", start + 4, f"length {length} is longer than the {available} bytes left")
            length = available
        elif state.ip is not None and not state.truncated:
            src = (data, start, start + length, state.ip)
        ports = cls.next_layers
        return tuple.__new__(cls, (*values, src)), start + 8, start + length, ports.get(values[1]) or ports.get(
            values[0])
