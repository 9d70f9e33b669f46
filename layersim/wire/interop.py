"""Conversion to and from scapy packets, always through bytes (scapy is imported lazily: it is slow)."""

from __future__ import annotations

from typing import Any

from layersim.wire.ethernet import Ethernet
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import Packet, decode

__all__ = ["from_scapy", "to_scapy"]


def to_scapy(packet: Packet) -> Any:
    """The packet's bytes as a scapy packet: Ether for an Ethernet frame, IP for IPv4, else Raw."""
    from scapy.packet import Raw

    layers = packet.layers
    data = packet.data
    if layers and isinstance(layers[0], Ethernet):
        from scapy.layers.l2 import Ether

        return Ether(data)
    if layers and isinstance(layers[0], IPv4):
        from scapy.layers.inet import IP

        return IP(data)
    return Raw(data)


def from_scapy(scapy_packet: Any) -> Packet:
    """Decode a scapy packet's bytes: as IPv4 when it starts with IP, as Ethernet otherwise."""
    from scapy.layers.inet import IP

    first = IPv4 if isinstance(scapy_packet, IP) else Ethernet
    return decode(bytes(scapy_packet), first)
