"""Header formats: layer values declared by field tables, packet stacking, encoding and decoding."""

from layersim.wire.addresses import MAC
from layersim.wire.arp import ARP, ARPOp
from layersim.wire.ethernet import BROADCAST, Dot1Q, EtherType, Ethernet
from layersim.wire.fields import Layer
from layersim.wire.icmp import ICMP, ICMPType, UnreachableCode
from layersim.wire.ipv4 import IPProto, IPv4, IPv4Flags
from layersim.wire.packet import Packet, decode
from layersim.wire.payload import Padding, Raw
from layersim.wire.tcp import TCP, TCPFlags
from layersim.wire.udp import UDP

__all__ = ["ARP", "BROADCAST", "ICMP", "MAC", "TCP", "UDP", "ARPOp", "Dot1Q", "EtherType", "Ethernet",
           "ICMPType", "IPProto", "IPv4", "IPv4Flags", "Layer", "Packet", "Padding", "Raw", "TCPFlags",
           "UnreachableCode", "decode"]
