"""IPv6 forwarding (RFC 8200 §3, Linux's ip6_forward): the decision for a packet not for this node, no I/O.

Routers never fragment IPv6 (RFC 8200 §5): a packet too big for the next link is answered with Packet Too Big
carrying that link's MTU. The packet is read where the decision needs it (hop limit at byte 7, addresses at
8-40) and the forwarded copy differs only in its hop limit: IPv6 has no header checksum to update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv6Address

from layersim.net.ip.routing import RoutingTable
from layersim.net.ipv6.icmp_errors import IPV6_MIN_MTU, TimeExceededCode6, UnreachableCode6
from layersim.net.trace.details import DropReason
from layersim.wire.icmpv6 import ICMPv6Type

__all__ = ["Forward6", "Refuse6", "forward6"]

_LINK_LOCAL = 0xFE80 >> 6  # fe80::/10, the top 10 bits


@dataclass(frozen=True, slots=True)
class Forward6:
    """Send `packet` (hop limit already decremented) out of `interface` to `next_hop`."""

    interface: str
    next_hop: IPv6Address
    packet: bytearray
    hop_limit: int  # the hop limit it arrived with


@dataclass(frozen=True, slots=True)
class Refuse6:
    """Drop the packet for `reason` and tell its source with this ICMPv6 error."""

    reason: DropReason
    icmp_type: ICMPv6Type
    code: int
    parameter: int = 0  # Packet Too Big: the MTU


def forward6(packet: bytes, routes: RoutingTable, mtu_of: Callable[[str], int]) -> Forward6 | Refuse6:
    """What a router does with an IPv6 packet that is not for it (at least the 40-byte header, checked before)."""
    src_top, dst_int = int.from_bytes(packet[8:10], "big"), int.from_bytes(packet[24:40], "big")
    if src_top >> 6 == _LINK_LOCAL or dst_int >> 118 == _LINK_LOCAL:  # ip6_forward: link-local never leaves
        return Refuse6(DropReason.NO_ROUTE, ICMPv6Type.DEST_UNREACHABLE, UnreachableCode6.BEYOND_SCOPE)
    route = routes.lookup_int(dst_int)  # ip6_route_input comes before ip6_forward's checks
    if route is None or route.interface is None:
        return Refuse6(DropReason.NO_ROUTE, ICMPv6Type.DEST_UNREACHABLE, UnreachableCode6.NO_ROUTE)
    hop_limit = packet[7]
    if hop_limit <= 1:  # RFC 8200 §3: it would reach 0 here
        return Refuse6(DropReason.TTL_EXCEEDED, ICMPv6Type.TIME_EXCEEDED, TimeExceededCode6.HOP_LIMIT)
    mtu = max(mtu_of(route.interface), IPV6_MIN_MTU)
    if len(packet) > mtu:  # RFC 8200 §5, RFC 4443 §3.2: no fragmenting on the way
        return Refuse6(DropReason.MTU_EXCEEDED, ICMPv6Type.PACKET_TOO_BIG, 0, mtu)
    out = bytearray(packet)
    out[7] = hop_limit - 1
    next_hop = route.via if route.via is not None else IPv6Address(dst_int)
    return Forward6(route.interface, next_hop, out, hop_limit)  # type: ignore[arg-type]
