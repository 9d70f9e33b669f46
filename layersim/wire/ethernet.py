"""Ethernet II frames and 802.1Q VLAN tags (no preamble or FCS in the bytes, as in pcap)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from layersim.errors import DecodeError
from layersim.wire.addresses import MAC
from layersim.wire.fields import Addr, Bits, HeaderSpec, Layer, UInt

__all__ = ["BROADCAST", "Dot1Q", "EtherType", "Ethernet"]

BROADCAST = MAC("ff:ff:ff:ff:ff:ff")


class EtherType(IntEnum):
    """EtherType values (IEEE registry) that layersim decodes or names."""

    IPv4 = 0x0800
    ARP = 0x0806
    VLAN = 0x8100
    IPv6 = 0x86DD
    LLDP = 0x88CC


def _ethertype_for(header: str, upper: Layer | None, field: str = "type") -> int:
    """The EtherType of the layer above, for a type field left as None."""
    value = getattr(type(upper), "ethertype", None)
    if value is None:
        from layersim.errors import LayersimError

        above = type(upper).__name__ if upper is not None else "nothing"
        raise LayersimError(f"{header}.{field} is None and cannot be derived from the layer above ({above})")
    return value


class Ethernet(Layer):
    """An Ethernet II header: destination, source, EtherType."""

    __slots__ = ()
    spec = HeaderSpec("Ethernet", [
        Addr("dst", MAC, BROADCAST),
        Addr("src", MAC),
        UInt("type", 16, None, kind=EtherType, hex=True),
    ])
    dst: MAC
    src: MAC
    type: int | None

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload; a None type is taken from the layer above."""
        ethertype = self[2]
        if ethertype is None:
            ethertype = _ethertype_for("Ethernet", upper)
        return self._pack(self[0], self[1], ethertype) + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the 14-byte header at `start`; the payload runs to `end`."""
        if end - start < 14:
            raise DecodeError("Ethernet", start, f"frame of {end - start} bytes is shorter than the 14-byte header")
        values = cls._unpack(data, start)
        return tuple.__new__(cls, (*values, None)), start + 14, end, cls.next_layers.get(values[2])


class Dot1Q(Layer):
    """An IEEE 802.1Q tag: priority, drop eligible, VLAN id, and the EtherType of what follows."""

    __slots__ = ()
    ethertype = EtherType.VLAN
    spec = HeaderSpec("802.1Q", [
        Bits("pcp", 3), Bits("dei", 1), Bits("vid", 12),
        UInt("type", 16, None, kind=EtherType, hex=True),
    ])
    pcp: int
    dei: int
    vid: int
    type: int | None

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Tag then payload; a None type is taken from the layer above."""
        ethertype = self[3]
        if ethertype is None:
            ethertype = _ethertype_for("802.1Q", upper)
        return self._pack(self[0], self[1], self[2], ethertype) + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the 4-byte tag at `start`."""
        if end - start < 4:
            raise DecodeError("802.1Q", start, f"{end - start} bytes left, shorter than the 4-byte tag")
        values = cls._unpack(data, start)
        return tuple.__new__(cls, (*values, None)), start + 4, end, cls.next_layers.get(values[3])
