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
from layersim.wire.icmpv6 import ICMPv6, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6Error, ICMPv6Type
from layersim.wire.ipv4 import IPv4
from layersim.wire.ipv6 import IPv6, RawIP
from layersim.wire.ipv6_ext import AH, ESP, DestOptions, Fragment, HopByHop, Routing
from layersim.wire.linktype import LinkType
from layersim.wire.mld import MLDQuery, MLDv1, MLDv2Report
from layersim.wire.ndp import (
    NDPNeighborAdvertisement,
    NDPNeighborSolicitation,
    NDPRedirect,
    NDPRouterAdvertisement,
    NDPRouterSolicitation,
)
from layersim.wire.tcp import TCP
from layersim.wire.udp import UDP

__all__ = ["BY_LINKTYPE", "start_class"]

# The first layer of a captured frame, by the file's link type; link types not here are shown as Raw.
BY_LINKTYPE = MappingProxyType({
    LinkType.ETHERNET: Ethernet, LinkType.LINUX_SLL: LinuxSLL, LinkType.LINUX_SLL2: LinuxSLL2,
    LinkType.RAW: RawIP, LinkType.IPV4: IPv4, LinkType.IPV6: IPv6, LinkType.NULL: LoopbackLE,
    LinkType.LOOP: Loopback,
})

_BY_ETHERTYPE = MappingProxyType({cls.ethertype: cls for cls in (IPv4, ARP, Dot1Q, IPv6)})
Ethernet.next_layers = _BY_ETHERTYPE
Dot1Q.next_layers = _BY_ETHERTYPE
LinuxSLL.next_layers = _BY_ETHERTYPE
LinuxSLL2.next_layers = _BY_ETHERTYPE
Loopback.next_layers = LoopbackLE.next_layers = MappingProxyType({
    AddressFamily.INET: IPv4, AddressFamily.INET6_BSD: IPv6, AddressFamily.INET6_FREEBSD: IPv6,
    AddressFamily.INET6_DARWIN: IPv6})
IPv4.next_layers = MappingProxyType({cls.ip_protocol: cls for cls in (ICMP, TCP, UDP)})
# RFC 8200 §4.1: the next-header chain, from the fixed header through each extension header to the upper layer.
_IPV6_CHAIN = MappingProxyType({4: IPv4, **{cls.ip_protocol: cls for cls in (  # 4: IPv4 in IPv6 (RFC 2473)
    HopByHop, Routing, Fragment, ESP, AH, DestOptions, ICMPv6, TCP, UDP, IPv6)}})
for _header in (IPv6, HopByHop, Routing, Fragment, AH, DestOptions):
    _header.next_layers = _IPV6_CHAIN
ICMPv6.next_layers = MappingProxyType({
    **{kind: ICMPv6Error for kind in (1, 2, 3, 4)},
    ICMPv6Type.MLD_REPORT: MLDv1, ICMPv6Type.MLD_DONE: MLDv1,
    **{cls.icmpv6_type: cls for cls in (
        ICMPv6EchoRequest, ICMPv6EchoReply, NDPRouterSolicitation, NDPRouterAdvertisement, NDPNeighborSolicitation,
        NDPNeighborAdvertisement, NDPRedirect, MLDQuery, MLDv2Report)},
})
ICMPv6Error.next_layers = MappingProxyType({6: IPv6})  # the quoted packet
TCP.next_layers = MappingProxyType({80: HTTPMessage})  # the destination port is tried first, then the source
UDP.next_layers = MappingProxyType({53: DNS})


def start_class(first: type[Layer] | None) -> type[Layer]:
    """The class to decode the first layer with (Ethernet unless told otherwise)."""
    return Ethernet if first is None else first
