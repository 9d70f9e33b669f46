"""ARP for IPv4 over Ethernet (RFC 826): requests and replies."""

from __future__ import annotations

from enum import IntEnum
from ipaddress import IPv4Address
from typing import Any

from layersim.errors import DecodeError
from layersim.wire.addresses import MAC
from layersim.wire.ethernet import EtherType
from layersim.wire.fields import Addr, HeaderSpec, Layer, UInt
from layersim.wire.payload import Raw

__all__ = ["ARP", "ARPOp"]


class ARPOp(IntEnum):
    """ARP operation codes."""

    REQUEST = 1
    REPLY = 2


def _op(value: Any) -> Any:
    """Accept "request"/"reply" as well as numbers and names."""
    if isinstance(value, str) and value.upper() in ARPOp.__members__:
        return ARPOp[value.upper()]
    return value


class ARP(Layer):
    """An ARP packet for IPv4 over Ethernet: who-has (request) and is-at (reply)."""

    __slots__ = ()
    ethertype = EtherType.ARP
    spec = HeaderSpec("ARP", [
        UInt("hardware_type", 16, 1),
        UInt("protocol_type", 16, 0x0800, kind=EtherType, hex=True),
        UInt("hardware_size", 8, 6),
        UInt("protocol_size", 8, 4),
        UInt("opcode", 16, ARPOp.REQUEST, kind=ARPOp, coerce=_op),
        Addr("sender_mac", MAC),
        Addr("sender_ip", IPv4Address),
        Addr("target_mac", MAC),
        Addr("target_ip", IPv4Address),
    ])
    hardware_type: int
    protocol_type: int
    hardware_size: int
    protocol_size: int
    opcode: int
    sender_mac: MAC
    sender_ip: IPv4Address
    target_mac: MAC
    target_ip: IPv4Address

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """The 28-byte ARP packet followed by any payload."""
        return self._pack(*self[:9]) + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode an Ethernet/IPv4 ARP packet; other hardware or protocol types stay Raw."""
        if end - start < 8:
            raise DecodeError("ARP", start, f"{end - start} bytes left, shorter than the 8-byte fixed part")
        if data[start + 4:start + 6] != b"\x06\x04" or data[start + 2:start + 4] != b"\x08\x00":
            return Raw(data[start:end]), end, end, None  # ARP for other hardware: kept whole, not decoded
        if end - start < 28:
            raise DecodeError("ARP", start, f"{end - start} bytes left, shorter than the 28-byte packet")
        values = cls._unpack(data, start)
        return tuple.__new__(cls, (*values, None)), start + 28, start + 28, None
