"""ICMPv6 messages a node originates (RFC 4443): errors quoting the offending packet, and echo replies.

Pure functions from the packet that caused them to the IPv6 packet to send; the runtime routes and frames it.
"""

from __future__ import annotations

from enum import IntEnum
from ipaddress import IPv6Address

from layersim.errors import DecodeError
from layersim.wire.icmpv6 import ICMPv6, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6Error, ICMPv6Type
from layersim.wire.ipv6 import IPv6
from layersim.wire.packet import decode
from layersim.wire.payload import Raw

__all__ = ["QUOTE_LIMIT", "TimeExceededCode6", "UnreachableCode6", "echo_reply_packet", "error_packet",
           "may_report"]

IPV6_MIN_MTU = 1280
QUOTE_LIMIT = IPV6_MIN_MTU - 40 - 8  # RFC 4443 §2.4 (c): the error must not exceed the minimum MTU


class UnreachableCode6(IntEnum):
    """Destination Unreachable codes (RFC 4443 §3.1)."""

    NO_ROUTE = 0
    ADMIN_PROHIBITED = 1
    BEYOND_SCOPE = 2
    ADDRESS_UNREACHABLE = 3
    PORT_UNREACHABLE = 4


class TimeExceededCode6(IntEnum):
    """Time Exceeded codes (RFC 4443 §3.3)."""

    HOP_LIMIT = 0
    REASSEMBLY = 1


_EXEMPT = (ICMPv6Type.PACKET_TOO_BIG,)  # may be sent about multicast packets (RFC 4443 §2.4 e.3), as may
# Parameter Problem code 2 (an unrecognised option whose type says "report even if multicast")


def may_report(offending: bytes, icmp_type: int, code: int = 0, *, link_multicast: bool = False) -> bool:
    """Whether RFC 4443 §2.4 (e) allows an error of `icmp_type`/`code` about `offending` (an IPv6 packet;
    `link_multicast`: it came in a link-layer multicast or broadcast frame)."""
    try:
        packet = decode(offending, IPv6, truncated=True)
    except DecodeError:
        return False
    ip = packet.get(IPv6)
    if ip is None:  # cut short before the end of the IPv6 header
        return False
    if ip.src.is_unspecified or ip.src.is_multicast:  # e.6: the source must name one node
        return False
    exempt = icmp_type in _EXEMPT or (icmp_type == ICMPv6Type.PARAMETER_PROBLEM and code == 2)
    if (ip.dst.is_multicast or link_multicast) and not exempt:  # e.3, e.4, e.5
        return False
    for layer in packet.layers:  # e.1, e.2: never about an ICMPv6 error or a redirect
        if isinstance(layer, ICMPv6) and layer.type is not None and (
                layer.type < 128 or layer.type == ICMPv6Type.REDIRECT):
            return False
    return True


def error_packet(offending: bytes, icmp_type: int, code: int, src: IPv6Address, *, parameter: int = 0,
                 hop_limit: int = 64) -> bytes:
    """The IPv6 packet carrying an ICMPv6 error about `offending` back to its source: `parameter` is the MTU for
    Packet Too Big (never below 1280 from a router, RFC 8200 §5) or the pointer for Parameter Problem; the quote
    is as much of the offending packet as keeps the error within 1280 bytes."""
    dst = IPv6Address(offending[8:24])
    return (IPv6(src=src, dst=dst, hop_limit=hop_limit) / ICMPv6(type=icmp_type, code=code)
            / ICMPv6Error(parameter=parameter) / offending[:QUOTE_LIMIT]).encode()


def echo_reply_packet(request: bytes, src: IPv6Address, *, hop_limit: int = 64) -> bytes:
    """The Echo Reply to an Echo Request packet (RFC 4443 §4.2): identifier, sequence and data echoed, sent from
    `src` (the request's destination, or one of ours when it went to a multicast group)."""
    packet = decode(request, IPv6)
    ip, echo = packet[IPv6], packet[ICMPv6EchoRequest]
    raw = packet.get(Raw)
    data = raw.data if raw is not None else b""
    return (IPv6(src=src, dst=ip.src, hop_limit=hop_limit) / ICMPv6()
            / ICMPv6EchoReply(identifier=echo.identifier, sequence=echo.sequence) / data).encode()
