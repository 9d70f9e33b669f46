"""Conversion to and from scapy packets, always through bytes (scapy is imported lazily: it is slow)."""

from __future__ import annotations

import importlib
from typing import Any

from layersim.wire.ethernet import Ethernet
from layersim.wire.ipv4 import IPv4
from layersim.wire.ipv6 import IPv6
from layersim.wire.packet import Packet, decode

__all__ = ["from_scapy", "to_scapy"]

# The scapy modules whose layers layersim also decodes. Importing one binds its layers (EtherType 0x0800 -> IP,
# protocol 6 -> TCP, UDP port 53 -> DNS, ...); without that, a fresh interpreter dissects a frame as Ether / Raw.
SCAPY_LAYER_MODULES = ("scapy.layers.l2", "scapy.layers.inet", "scapy.layers.inet6", "scapy.layers.dns",
                       "scapy.layers.http")


def _load_scapy_layers() -> None:
    """Import scapy's Ethernet, 802.1Q, ARP, IP, IPv6, ICMP, UDP, TCP, DNS and HTTP layers so dissection uses them."""
    for name in SCAPY_LAYER_MODULES:
        importlib.import_module(name)


def to_scapy(packet: Packet) -> Any:
    """The packet's bytes as a scapy packet: Ether for an Ethernet frame, IP for IPv4, else Raw."""
    _load_scapy_layers()
    from scapy.packet import Raw

    layers = packet.layers
    data = packet.data
    if layers and isinstance(layers[0], Ethernet):
        from scapy.layers.l2 import Ether

        return Ether(data)
    if layers and isinstance(layers[0], IPv4):
        from scapy.layers.inet import IP

        return IP(data)
    if layers and isinstance(layers[0], IPv6):
        from scapy.layers.inet6 import IPv6 as ScapyIPv6

        return ScapyIPv6(data)
    return Raw(data)


def from_scapy(scapy_packet: Any) -> Packet:
    """Decode a scapy packet's bytes: as IPv4 or IPv6 when it starts with IP or IPv6, as Ethernet otherwise."""
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6 as ScapyIPv6

    first = IPv4 if isinstance(scapy_packet, IP) else IPv6 if isinstance(scapy_packet, ScapyIPv6) else Ethernet
    return decode(bytes(scapy_packet), first)
