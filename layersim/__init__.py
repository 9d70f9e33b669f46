"""layersim: see what really happens on the wire, layer by layer, with real bytes."""

from layersim.errors import CaptureError, DecodeError, FieldValueError, LayersimError
from layersim.wire import (
    ARP,
    BROADCAST,
    ICMP,
    MAC,
    TCP,
    UDP,
    ARPOp,
    Dot1Q,
    EtherType,
    Ethernet,
    ICMPType,
    IPProto,
    IPv4,
    IPv4Flags,
    Layer,
    Packet,
    Padding,
    Raw,
    TCPFlags,
    UnreachableCode,
    decode,
)

__version__ = "0.1.0"

__all__ = ["ARP", "BROADCAST", "ICMP", "MAC", "TCP", "UDP", "ARPOp", "CaptureError", "DecodeError", "Dot1Q",
           "EtherType", "Ethernet", "FieldValueError", "ICMPType", "IPProto", "IPv4", "IPv4Flags", "Layer",
           "LayersimError", "Packet", "Padding", "Raw", "TCPFlags", "UnreachableCode", "__version__", "decode"]
