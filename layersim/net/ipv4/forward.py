"""IPv4 forwarding (RFC 1812 §5.2): the decision for a packet that is not for this node, as actions, no I/O.

`Forwarder.forward` takes a packet and returns actions: an OUTPUT for the runtime to pass through the FORWARD and
POSTROUTING hooks, fragment to the link MTU and hand to ARP, or drops and ICMP errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layersim.net.ip.actions import EVENT, ICMP_ERROR, OUTPUT, Action
from layersim.net.trace.details import DropReason, EventKind
from layersim.wire.icmp import ICMPType, TimeExceededCode, UnreachableCode
from layersim.wire.ipv4 import IPv4, IPv4Flags, decrement_ttl

if TYPE_CHECKING:
    from layersim.net.engine.interface import Interface
    from layersim.net.ip.node_routes import NodeRoutes

__all__ = ["FORWARDED", "Forwarder"]

FORWARDED = True  # the last item of an OUTPUT action: a forwarded packet (FORWARD hook) or a local one (OUTPUT)
_DROP = EventKind.DROP


class Forwarder:
    """A router's forwarding decision for one packet: TTL, longest-prefix match, TTL - 1, the DF check."""

    def __init__(self, routes: NodeRoutes, interfaces: dict[str, Interface]) -> None:
        self.routes = routes
        self.interfaces = interfaces

    def forward(self, in_iface: Interface, ip: IPv4, ip_bytes: bytes, packet_id: int | None) -> list[Action]:
        """Decide what happens to a packet that is not for this node."""
        ttl = ip.ttl
        if ttl <= 1:  # RFC 1812 §5.3.1: would reach 0
            return [(EVENT, _DROP, in_iface, ip_bytes, packet_id, (DropReason.TTL_EXCEEDED.value, (("ttl", ttl),))),
                    (ICMP_ERROR, in_iface, ip_bytes, ICMPType.TIME_EXCEEDED, TimeExceededCode.TTL_EXCEEDED, {},
                     packet_id)]
        route = self.routes.lookup_int(int(ip.dst))
        if route is None or route.interface is None:
            return [(EVENT, _DROP, in_iface, ip_bytes, packet_id,
                     (DropReason.NO_ROUTE.value, (("dst", str(ip.dst)),))),
                    (ICMP_ERROR, in_iface, ip_bytes, ICMPType.DEST_UNREACHABLE, UnreachableCode.NET_UNREACHABLE, {},
                     packet_id)]
        out = self.interfaces[route.interface]
        next_hop = route.via or ip.dst
        if len(ip_bytes) > out.mtu and ip.flags & IPv4Flags.DF:  # RFC 1191: tell the source the MTU
            return [(EVENT, _DROP, in_iface, ip_bytes, packet_id,
                     (DropReason.FRAGMENTATION_NEEDED.value, (("mtu", out.mtu),))),
                    (ICMP_ERROR, in_iface, ip_bytes, ICMPType.DEST_UNREACHABLE, UnreachableCode.FRAGMENTATION_NEEDED,
                     {"next_hop_mtu": out.mtu}, packet_id)]
        packet = bytearray(ip_bytes)
        decrement_ttl(packet)
        fragment = len(packet) > out.mtu
        return [(EVENT, EventKind.FORWARD, out, None, packet_id,
                 (ttl, ttl - 1, str(next_hop), in_iface.name, True if fragment else None)),
                (OUTPUT, out, next_hop, packet, packet_id,
                 ("forward_fragment" if fragment else "forward", out.name, ttl, ttl - 1), in_iface, ip_bytes,
                 FORWARDED)]
