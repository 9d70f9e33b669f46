"""Which layer class decodes what comes next: link types, EtherTypes, IP protocol numbers and well-known ports.

The tables are wired once, here, into each layer's `next_layers` (a read-only mapping), so decoding looks the
next class up with one dict access and no layer module imports the layers above it.
"""

from __future__ import annotations

from types import MappingProxyType

from layersim.wire.arp import ARP
from layersim.wire.cooked import AddressFamily, LinuxSLL, LinuxSLL2, Loopback, LoopbackLE
from layersim.wire.dns import DNS
from layersim.wire.ethernet import Dot1Q, Ethernet
from layersim.wire.fields import Layer
from layersim.wire.http import HTTPMessage
from layersim.wire.icmp import ICMP
from layersim.wire.ipv4 import IPv4
from layersim.wire.linktype import LinkType
from layersim.wire.tcp import TCP
from layersim.wire.tls import TLSRecord
from layersim.wire.udp import UDP

__all__ = ["BY_LINKTYPE", "start_class"]

# The first layer of a captured frame, by the file's link type; link types not here are shown as Raw.
BY_LINKTYPE = MappingProxyType({
    LinkType.ETHERNET: Ethernet, LinkType.LINUX_SLL: LinuxSLL, LinkType.LINUX_SLL2: LinuxSLL2,
    LinkType.RAW: IPv4, LinkType.IPV4: IPv4, LinkType.NULL: LoopbackLE, LinkType.LOOP: Loopback,
})

_BY_ETHERTYPE = MappingProxyType({cls.ethertype: cls for cls in (IPv4, ARP, Dot1Q)})
Ethernet.next_layers = _BY_ETHERTYPE
Dot1Q.next_layers = _BY_ETHERTYPE
LinuxSLL.next_layers = _BY_ETHERTYPE
LinuxSLL2.next_layers = _BY_ETHERTYPE
Loopback.next_layers = LoopbackLE.next_layers = MappingProxyType({AddressFamily.INET: IPv4})
IPv4.next_layers = MappingProxyType({cls.ip_protocol: cls for cls in (ICMP, TCP, UDP)})
# the destination port is tried first, then the source
TCP.next_layers = MappingProxyType({80: HTTPMessage, 443: TLSRecord})
UDP.next_layers = MappingProxyType({53: DNS})


def start_class(first: type[Layer] | None) -> type[Layer]:
    """The class to decode the first layer with (Ethernet unless told otherwise)."""
    return Ethernet if first is None else first
