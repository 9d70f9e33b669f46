"""IPv6 headers (RFC 8200 §3): the fixed 40-byte header; extension headers live in ipv6_ext.py."""

from __future__ import annotations

from ipaddress import IPv6Address
from typing import Any

from layersim.errors import DecodeError, LayersimError
from layersim.wire.ethernet import EtherType
from layersim.wire.fields import Addr, Bits, HeaderSpec, Layer, UInt
from layersim.wire.ipv4 import IPProto, IPv4

__all__ = ["IPv6", "RawIP", "next_header_for"]


def next_header_for(name: str, upper: Layer | None) -> int:
    """The protocol number of the layer above, for a Next Header field left as None."""
    if upper is None:
        return IPProto.IPV6_NONXT  # RFC 8200 §4.7: nothing follows
    value = getattr(type(upper), "ip_protocol", None)
    if value is None:
        raise LayersimError(f"{name}.next_header is None and cannot be derived from the layer above "
                            f"({type(upper).__name__}); give it as a number")
    return value


class IPv6(Layer):
    """The fixed IPv6 header; the payload length counts extension headers and the upper layer."""

    __slots__ = ()
    ethertype = EtherType.IPv6
    ip_protocol = IPProto.IPV6  # IPv6 in IP (RFC 2473)
    pseudo_header_source = True
    spec = HeaderSpec("IPv6", [
        Bits("version", 4, 6), Bits("traffic_class", 8, hex=True), Bits("flow_label", 20, hex=True),
        UInt("payload_length", 16, None),
        UInt("next_header", 8, None, kind=IPProto),
        UInt("hop_limit", 8, 64),
        Addr("src", IPv6Address),
        Addr("dst", IPv6Address),
    ])
    version: int
    traffic_class: int
    flow_label: int
    payload_length: int | None
    next_header: int | None
    hop_limit: int
    src: IPv6Address
    dst: IPv6Address

    @property
    def dscp(self) -> int:
        """The Differentiated Services codepoint: the upper six bits of the traffic class (RFC 8200 §7)."""
        return self[1] >> 2

    @property
    def ecn(self) -> int:
        """The ECN bits: the lower two bits of the traffic class (RFC 3168)."""
        return self[1] & 3

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload; a payload over 65535 bytes needs a Jumbo Payload option and length 0 (RFC 2675)."""
        version, tclass, flow, length, nxt, hops, src, dst = self[:8]
        if length is None:
            length = len(payload)
            if length > 0xFFFF:
                if not getattr(upper, "jumbo_length", None):
                    raise LayersimError(f"IPv6 payload of {length} bytes exceeds 65535 and the layer above has no "
                                        "Jumbo Payload option (RFC 2675)")
                length = 0
        if nxt is None:
            nxt = next_header_for("IPv6", upper)
        return self._pack(version, tclass, flow, length, nxt, hops, src, dst) + payload

    def info(self) -> dict[str, Any]:
        """The traffic class split as RFC 8200 §7 and RFC 3168 read it."""
        return {"dscp": self.dscp, "ecn": self.ecn}

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the 40-byte header; the payload ends where the payload length says."""
        available = end - start
        if available < 40:
            raise DecodeError("IPv6", start, f"{available} bytes left, shorter than the 40-byte header")
        values = cls._unpack(data, start)
        if values[0] != 6:
            raise DecodeError("IPv6", start, f"version {values[0]} is not 6")
        length = values[3]
        payload_end = start + 40 + length
        if length == 0 and values[4] == IPProto.HOPOPT:
            payload_end = end  # RFC 2675 §3: a jumbogram; the Hop-by-Hop header's Jumbo Payload option says
        elif payload_end > end:
            if not state.truncated:
                raise DecodeError("IPv6", start + 4, f"payload length {length} is longer than the "
                                  f"{available - 40} bytes left after the header")
            payload_end = end
        layer = tuple.__new__(cls, (*values, None))
        state.ip = layer
        return layer, start + 40, payload_end, cls.next_layers.get(values[4])


class RawIP:
    """The first header of a LINKTYPE_RAW frame: IPv4 or IPv6, told apart by the version nibble."""

    lazy = False
    spec = HeaderSpec("IP", [Bits("version", 4), Bits("rest", 4)])  # names the layer in "no bytes" errors

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode as IPv6 when the version nibble says 6, as IPv4 otherwise (whose decoder names a bad version)."""
        first: Any = IPv6 if data[start] >> 4 == 6 else IPv4
        return first.decode_layer(data, start, end, state)
