"""IPv4 forwarding (RFC 1812 §5.2) and local output (RFC 1122 §3.3, RFC 1191 path MTU): decisions, no I/O.

`Forwarder.forward` and `Output.send` take a packet and the time and return actions: an OUTPUT for the runtime to
pass through the FORWARD/OUTPUT and POSTROUTING hooks, fragment to the link MTU and hand to ARP, or drops and
ICMP errors.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from layersim.errors import LayersimError
from layersim.net.actions import EVENT, ICMP_ERROR, OUTPUT, Action
from layersim.net.trace_details import DropReason, EventKind
from layersim.wire.icmp import ICMPType, TimeExceededCode, UnreachableCode
from layersim.wire.ipv4 import IPv4, IPv4Flags, decrement_ttl

if TYPE_CHECKING:
    from layersim.net.interface import Interface
    from layersim.net.node_routes import NodeRoutes
    from layersim.net.pmtu import PathMtuCache
    from layersim.wire.fields import Layer
    from layersim.wire.packet import Packet

__all__ = ["FORWARDED", "LOCAL", "Forwarder", "Output"]

FORWARDED = True  # the last item of an OUTPUT action: a forwarded packet (FORWARD hook) or a local one (OUTPUT)
LOCAL = False
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


class Output:
    """Locally made packets: the route, the source address, the IPv4 header, DF by the path MTU discovery mode."""

    def __init__(self, routes: NodeRoutes, interfaces: dict[str, Interface],
                 pmtu: PathMtuCache | None, first_id: int) -> None:
        self.routes = routes
        self.interfaces = interfaces
        self.pmtu = pmtu
        self._next_id = first_id

    def take_ip_id(self) -> int:
        """The next IPv4 identification value of this node."""
        ident = self._next_id
        self._next_id = (ident + 1) & 0xFFFF
        return ident

    def route(self, dst: IPv4Address) -> tuple[Interface, IPv4Address] | None:
        """(outgoing interface, next hop) for `dst`, or None without a route."""
        route = self.routes.lookup_int(int(dst))
        if route is None or route.interface is None:
            return None
        return self.interfaces[route.interface], route.via or dst

    def path_mtu(self, dst: IPv4Address, out: Interface, now: int) -> int:
        """The MTU to size packets to `dst` by: the link's, or a smaller one learned from Frag Needed."""
        learned = self.pmtu.get(int(dst), now) if self.pmtu is not None else None
        return min(out.mtu, learned) if learned is not None else out.mtu

    def send(self, dst: IPv4Address, upper: Layer | Packet | bytes, packet_id: int | None, now: int, *,
             ttl: int = 64, df: bool | None = None, dscp: int = 0, ecn: int = 0, src: IPv4Address | None = None,
             protocol: int | None = None, ip_id: int | None = None, note: Any = None) -> list[Action]:
        """Build and route one packet. `df`: True sets DF (path MTU discovery "do"), False never ("dont"), None
        sets it when the packet fits the path MTU and fragments it here otherwise ("want", Linux's default)."""
        found = self.route(dst)
        if found is None:
            return [(EVENT, _DROP, None, None, packet_id, (DropReason.NO_ROUTE.value, (("dst", str(dst)),)))]
        out, next_hop = found
        if src is None:
            if out.address is None:
                raise LayersimError(f"{out.full_name} has no IPv4 address to send from")
            src = out.address.ip
        ident = self.take_ip_id() if ip_id is None else ip_id
        if df is None and self.pmtu is not None and self.pmtu.is_locked(int(dst), now):
            df = False
        header = IPv4(src=src, dst=dst, ttl=ttl, dscp=dscp, ecn=ecn, identification=ident, protocol=protocol,
                      flags=IPv4Flags(0) if df is False else IPv4Flags.DF)
        ip_bytes = (header / upper).encode()
        if df is None and len(ip_bytes) > self.path_mtu(dst, out, now):  # "want": too big, fragment here
            ip_bytes = (header.replace(flags=IPv4Flags(0)) / upper).encode()
        note = note or ("sent", out.name)
        return [(OUTPUT, out, next_hop, bytearray(ip_bytes), packet_id, note, None, None, LOCAL)]
