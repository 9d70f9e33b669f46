"""Header formats: layer values declared by field tables, packet stacking, encoding and decoding."""

from layersim.wire.addresses import MAC
from layersim.wire.arp import ARP, ARPOp
from layersim.wire.cooked import LinuxSLL, LinuxSLL2, Loopback, LoopbackLE
from layersim.wire.dns import DNS, DNSQuestion, DNSRecord
from layersim.wire.ethernet import BROADCAST, Dot1Q, Ethernet, EtherType
from layersim.wire.fielddiff import FieldChange, diff
from layersim.wire.fields import Layer
from layersim.wire.http import HTTPRequest, HTTPResponse
from layersim.wire.icmp import ICMP, ICMPType, UnreachableCode
from layersim.wire.icmpv6 import ICMPv6, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6Error, ICMPv6Type
from layersim.wire.ipv4 import IPProto, IPv4, IPv4Flags
from layersim.wire.ipv6 import IPv6
from layersim.wire.ipv6_ext import AH, ESP, DestOptions, Fragment, HopByHop, Routing
from layersim.wire.linktype import LinkType
from layersim.wire.mld import MLDv2Report
from layersim.wire.ndp import (
    NDPNeighborAdvertisement,
    NDPNeighborSolicitation,
    NDPRedirect,
    NDPRouterAdvertisement,
    NDPRouterSolicitation,
)
from layersim.wire.packet import Packet, decode
from layersim.wire.payload import Padding, Raw
from layersim.wire.tcp import TCP, TCPFlags
from layersim.wire.udp import UDP

__all__ = ["AH", "ARP", "BROADCAST", "DNS", "ESP", "ICMP", "MAC", "TCP", "UDP", "ARPOp", "DNSQuestion", "DNSRecord",
           "DestOptions", "Dot1Q", "EtherType", "Ethernet", "FieldChange", "Fragment", "HTTPRequest", "HTTPResponse",
           "HopByHop", "ICMPType", "ICMPv6", "ICMPv6EchoReply", "ICMPv6EchoRequest", "ICMPv6Error", "ICMPv6Type",
           "IPProto", "IPv4", "IPv4Flags", "IPv6", "Layer", "LinkType", "LinuxSLL", "LinuxSLL2", "Loopback",
           "LoopbackLE", "MLDv2Report", "NDPNeighborAdvertisement", "NDPNeighborSolicitation", "NDPRedirect",
           "NDPRouterAdvertisement", "NDPRouterSolicitation", "Packet", "Padding", "Raw", "Routing", "TCPFlags",
           "UnreachableCode", "decode", "diff"]
