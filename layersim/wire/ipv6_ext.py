"""IPv6 extension headers (RFC 8200 §4): Hop-by-Hop, Destination Options, Routing, Fragment; AH and ESP opaque.

Each names the header that follows in its `next_header`, so decoding walks the chain to the upper layer with the
same `next_layers` table the fixed IPv6 header uses (wired in dispatch.py).
"""

from __future__ import annotations

from ipaddress import IPv6Address
from typing import Any

from layersim.errors import DecodeError, LayersimError
from layersim.wire.fields import Bits, HeaderSpec, Layer, UInt, Var
from layersim.wire.ipv4 import IPProto
from layersim.wire.ipv6 import next_header_for
from layersim.wire.ipv6_options import Jumbo, TLVOption, coerce_tlv_options, decode_tlv_options, padding_for

__all__ = ["AH", "ESP", "DestOptions", "Fragment", "HopByHop", "Routing"]


def _chain_length(name: str, data: bytes, start: int, end: int, unit: int, base: int) -> int:
    """The length of an extension header whose second byte counts `unit`-byte units beyond `base` bytes."""
    if end - start < 8:
        raise DecodeError(name, start, f"{end - start} bytes left, shorter than the 8-byte minimum")
    length = base + data[start + 1] * unit
    if length > end - start:
        raise DecodeError(name, start + 1, f"header length {data[start + 1]} ({length} bytes) is longer than the "
                          f"{end - start} bytes left")
    return length


class _OptionsHeader(Layer):
    """Hop-by-Hop or Destination Options: next header, length in 8-byte units after the first 8, TLV options."""

    __slots__ = ()
    next_header: int | None
    hdr_ext_len: int | None
    options: tuple[TLVOption, ...]

    @property
    def jumbo_length(self) -> int | None:
        """The Jumbo Payload length (RFC 2675), when the header carries one."""
        return next((o.length for o in self[2] if type(o) is Jumbo), None)

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload; with hdr_ext_len None the options are padded to 8 bytes with Pad1/PadN."""
        nxt, length, options = self[:3]
        body = b"".join(o.encode() for o in options)
        if length is None:
            body += padding_for(2 + len(body))
            length = (2 + len(body)) // 8 - 1
            if length > 255:
                raise LayersimError(f"{self.spec.name} options of {len(body)} bytes exceed the 2046-byte maximum")
        if nxt is None:
            nxt = next_header_for(self.spec.name, upper)
        return bytes((nxt, length)) + body + payload

    def field_spans(self, start: int, end: int) -> list[tuple[str, int, int]]:
        """Next header, length, and each option on its own."""
        spans = [("next_header", start, start + 1), ("hdr_ext_len", start + 1, start + 2)]
        at = start + 2
        for i, option in enumerate(self[2]):
            size = len(option.encode())
            spans.append((f"options[{i}]", at, at + size))
            at += size
        return spans

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the header and its options; a Jumbo Payload option sets where a jumbogram ends (RFC 2675 §3)."""
        name = cls.spec.name
        length = _chain_length(name, data, start, end, 8, 8)
        options = decode_tlv_options(data, start + 2, start + length, name)
        layer = tuple.__new__(cls, (*cls._unpack(data, start), options, None))
        payload_end = end
        jumbo = layer.jumbo_length
        if jumbo is not None and cls is HopByHop and state.ip is not None and state.ip.payload_length == 0:
            if jumbo > end - start and not state.truncated:
                raise DecodeError(name, start, f"Jumbo Payload length {jumbo} is longer than the {end - start} "
                                  "bytes left")
            payload_end = min(end, start + jumbo)
        return layer, start + length, payload_end, cls.next_layers.get(data[start])


def _options_spec(name: str) -> HeaderSpec:
    return HeaderSpec(name, [
        UInt("next_header", 8, None, kind=IPProto),
        UInt("hdr_ext_len", 8, None),
        Var("options", (), kind=tuple, coerce=coerce_tlv_options),
    ])


class HopByHop(_OptionsHeader):
    """Hop-by-Hop Options (RFC 8200 §4.3): examined by every node on the path; only right after the IPv6 header."""

    __slots__ = ()
    ip_protocol = IPProto.HOPOPT
    spec = _options_spec("HopByHop")


class DestOptions(_OptionsHeader):
    """Destination Options (RFC 8200 §4.6): examined by the destination (or each listed in a Routing header)."""

    __slots__ = ()
    ip_protocol = IPProto.IPV6_OPTS
    spec = _options_spec("DestOptions")


class Routing(Layer):
    """A Routing header (RFC 8200 §4.4); type 0 (deprecated, RFC 5095) and 4 (SRH, RFC 8754) list addresses."""

    __slots__ = ()
    ip_protocol = IPProto.IPV6_ROUTE
    spec = HeaderSpec("Routing", [
        UInt("next_header", 8, None, kind=IPProto),
        UInt("hdr_ext_len", 8, None),
        UInt("routing_type", 8),
        UInt("segments_left", 8),
        UInt("type_specific", 32, hex=True),  # reserved in type 0; last entry, flags, tag in type 4
        Var("data", b""),
    ])
    next_header: int | None
    hdr_ext_len: int | None
    routing_type: int
    segments_left: int
    type_specific: int
    data: bytes

    @property
    def addresses(self) -> tuple[IPv6Address, ...]:
        """The addresses of a type 0 or type 4 header (RFC 5095 / RFC 8754 §2); empty for other types."""
        data = self[5]
        if self[2] not in (0, 4):
            return ()
        return tuple(IPv6Address(data[i:i + 16]) for i in range(0, len(data) - 15, 16))

    def info(self) -> dict[str, Any]:
        """The listed addresses, for the types that list them."""
        return {"addresses": [str(a) for a in self.addresses]} if self[2] in (0, 4) else {}

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload; the data must fill whole 8-byte units."""
        nxt, length, kind, left, specific, data = self[:6]
        if length is None:
            if len(data) % 8:
                raise LayersimError(f"Routing data of {len(data)} bytes is not a multiple of 8 (RFC 8200 §4.4)")
            length = len(data) // 8
            if length > 255:
                raise LayersimError(f"Routing data of {len(data)} bytes exceeds the 2040-byte maximum")
        if nxt is None:
            nxt = next_header_for("Routing", upper)
        return self._pack(nxt, length, kind, left, specific) + data + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the header; the data is kept whole (addresses read from it for types 0 and 4)."""
        length = _chain_length("Routing", data, start, end, 8, 8)
        values = cls._unpack(data, start)
        layer = tuple.__new__(cls, (*values, data[start + 8:start + length], None))
        return layer, start + length, end, cls.next_layers.get(values[0])


class Fragment(Layer):
    """A Fragment header (RFC 8200 §4.5): offset in 8-byte units, More Fragments flag, identification."""

    __slots__ = ()
    ip_protocol = IPProto.IPV6_FRAG
    spec = HeaderSpec("Fragment", [
        UInt("next_header", 8, None, kind=IPProto),
        UInt("reserved", 8),
        Bits("fragment_offset", 13), Bits("res", 2), Bits("more_fragments", 1),
        UInt("identification", 32, hex=True),
    ])
    next_header: int | None
    reserved: int
    fragment_offset: int
    res: int
    more_fragments: int
    identification: int

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload (a fragment's bytes as given)."""
        nxt = self[0]
        if nxt is None:
            nxt = next_header_for("Fragment", upper)
        return self._pack(nxt, *self[1:6]) + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the 8-byte header; a fragment's payload stays Raw except in an atomic fragment (RFC 6946)."""
        if end - start < 8:
            raise DecodeError("Fragment", start, f"{end - start} bytes left, shorter than the 8-byte header")
        values = cls._unpack(data, start)
        whole = values[2] == 0 and values[4] == 0
        return tuple.__new__(cls, (*values, None)), start + 8, end, cls.next_layers.get(values[0]) if whole else None


class AH(Layer):
    """An Authentication Header (RFC 4302 §2): kept opaque (the ICV as bytes); the chain continues after it."""

    __slots__ = ()
    ip_protocol = IPProto.AH
    spec = HeaderSpec("AH", [
        UInt("next_header", 8, None, kind=IPProto),
        UInt("payload_len", 8, None),
        UInt("reserved", 16),
        UInt("spi", 32, hex=True),
        UInt("sequence", 32),
        Var("icv", b""),
    ])
    next_header: int | None
    payload_len: int | None
    reserved: int
    spi: int
    sequence: int
    icv: bytes

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload; the length is in 4-byte units minus 2 (RFC 4302 §2.2)."""
        nxt, length, reserved, spi, seq, icv = self[:6]
        if length is None:
            if len(icv) % 4:
                raise LayersimError(f"AH ICV of {len(icv)} bytes is not a multiple of 4 (RFC 4302 §2.6)")
            length = (12 + len(icv)) // 4 - 2
        if nxt is None:
            nxt = next_header_for("AH", upper)
        return self._pack(nxt, length, reserved, spi, seq) + icv + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the header; its length counts 4-byte units beyond the first 8 bytes."""
        if end - start < 12:
            raise DecodeError("AH", start, f"{end - start} bytes left, shorter than the 12-byte header")
        length = _chain_length("AH", data, start, end, 4, 8)
        if length < 12:
            raise DecodeError("AH", start + 1, f"payload length {data[start + 1]} ({length} bytes) is shorter "
                              "than the 12-byte header")
        values = cls._unpack(data, start)
        layer = tuple.__new__(cls, (*values, data[start + 12:start + length], None))
        return layer, start + length, end, cls.next_layers.get(values[0])


class ESP(Layer):
    """An Encapsulating Security Payload header (RFC 4303 §2): SPI and sequence; the rest is ciphertext (Raw)."""

    __slots__ = ()
    ip_protocol = IPProto.ESP
    spec = HeaderSpec("ESP", [UInt("spi", 32, hex=True), UInt("sequence", 32)])
    spi: int
    sequence: int

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then the encrypted payload as given."""
        return self._pack(*self[:2]) + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, None]:
        """Decode SPI and sequence number; what follows cannot be read without the key."""
        if end - start < 8:
            raise DecodeError("ESP", start, f"{end - start} bytes left, shorter than the 8-byte header")
        return tuple.__new__(cls, (*cls._unpack(data, start), None)), start + 8, end, None
