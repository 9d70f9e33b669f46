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
from layersim.wire.ipv4 import IPProto, IPv4, IPv4Flags
from layersim.wire.linktype import LinkType
from layersim.wire.packet import Packet, decode
from layersim.wire.payload import Padding, Raw
from layersim.wire.tcp import TCP, TCPFlags
from layersim.wire.udp import UDP

__all__ = ["ARP", "BROADCAST", "DNS", "ICMP", "MAC", "TCP", "UDP", "ARPOp", "DNSQuestion", "DNSRecord", "Dot1Q",
           "EtherType", "Ethernet", "FieldChange", "HTTPRequest", "HTTPResponse", "ICMPType", "IPProto", "IPv4",
           "IPv4Flags", "Layer", "LinkType", "LinuxSLL", "LinuxSLL2", "Loopback", "LoopbackLE", "Packet", "Padding",
           "Raw", "TCPFlags", "UnreachableCode", "decode", "diff"]
