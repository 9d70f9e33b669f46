"""Which layer class decodes what comes next: EtherTypes, IP protocol numbers and well-known ports."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from layersim.wire.arp import ARP
from layersim.wire.dns import DNS
from layersim.wire.ethernet import Dot1Q, Ethernet
from layersim.wire.fields import Layer
from layersim.wire.http import HTTPMessage
from layersim.wire.icmp import ICMP
from layersim.wire.ipv4 import IPv4
from layersim.wire.payload import Raw
from layersim.wire.tcp import TCP
from layersim.wire.udp import UDP

__all__ = ["next_layer_class", "start_class"]

_BY_ETHERTYPE = MappingProxyType({cls.ethertype: cls for cls in (IPv4, ARP, Dot1Q)})
_BY_IP_PROTOCOL = MappingProxyType({cls.ip_protocol: cls for cls in (ICMP, TCP, UDP)})
_TCP_PORTS: MappingProxyType[int, Any] = MappingProxyType({80: HTTPMessage})
_UDP_PORTS: MappingProxyType[int, Any] = MappingProxyType({53: DNS})


def start_class(first: type[Layer] | None) -> type[Layer]:
    """The class to decode the first layer with (Ethernet unless told otherwise)."""
    return Ethernet if first is None else first


def next_layer_class(key: Any) -> Any:
    """The class for the payload a decoder described by `key` (Raw when nothing more specific applies)."""
    if key is None:
        return Raw
    table = key[0]
    if table == "ethertype":
        return _BY_ETHERTYPE.get(key[1], Raw)
    if table == "ip_protocol":
        return _BY_IP_PROTOCOL.get(key[1], Raw)
    if table == "udp_port":
        return _UDP_PORTS.get(key[2]) or _UDP_PORTS.get(key[1]) or Raw
    if table == "tcp_port":
        return _TCP_PORTS.get(key[2]) or _TCP_PORTS.get(key[1]) or Raw
    return Raw
