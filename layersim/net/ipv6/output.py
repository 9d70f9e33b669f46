"""IPv6 output (Linux's ip6_output path): route, source, path MTU and source fragmentation, then neighbour
discovery for the next hop's MAC. Sans-IO: every call takes the time and returns actions for the node's runtime.

One policy for what a node originates and what a router forwards: both end in `to_neighbour`, which frames the
packet for a multicast group's 33:33 MAC or asks the neighbour cache (RFC 4861 §7.2.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv6Address

from layersim.net.engine.interface import Interface
from layersim.net.ip.actions import EVENT, TIMER, TRANSMIT, Action
from layersim.net.ip.routing import RoutingTable
from layersim.net.ipv6.addresses import multicast_mac
from layersim.net.ipv6.fragment import fragment6
from layersim.net.ipv6.icmp_errors import UnreachableCode6, error_packet, may_report
from layersim.net.ipv6.nd_frames import solicitation_frame
from layersim.net.ipv6.ndp import NdResult
from layersim.net.ipv6.part import Ipv6Part
from layersim.net.trace.details import DropReason, EventKind
from layersim.wire.ethernet import EtherType
from layersim.wire.icmpv6 import ICMPv6Type

__all__ = ["Output6"]

_ETH_IPV6 = EtherType.IPv6.to_bytes(2, "big")
_DROP = EventKind.DROP


def _drop(iface: Interface | None, data: bytes | None, reason: DropReason, packet_id: int | None,
          **facts: object) -> Action:
    """The EVENT action recording a drop."""
    return (EVENT, _DROP, iface, data, packet_id, (reason.value, tuple(facts.items())))


class Output6:
    """Where a node's IPv6 packets go and how they get there."""

    def __init__(self, part: Ipv6Part, routes: RoutingTable, interfaces: Mapping[str, Interface]) -> None:
        """`routes`: the node's IPv6 table (`node.routes.v6`)."""
        self.part = part
        self.routes = routes
        self.interfaces = interfaces

    # Deciding -----------------------------------------------------------------------------------------
    def route(self, dst: IPv6Address, interface: str | None = None) -> tuple[Interface, IPv6Address, int] | None:
        """(outgoing interface, next hop, the route's prefix length) for `dst`, or None without a route.

        A link-local or multicast destination needs the interface (its scope, RFC 4007 §6): it is its own next hop."""
        if interface is not None and (dst.is_link_local or dst.is_multicast):
            return self.interfaces[interface], dst, 128
        route = self.routes.lookup_int(int(dst))
        if route is None or route.interface is None:
            return None
        next_hop = route.via if route.via is not None else dst
        return self.interfaces[route.interface], next_hop, route.prefix.prefixlen  # type: ignore[return-value]

    def send(self, packet: bytes, packet_id: int | None, now: int, *, interface: str | None = None,
             note: object = None) -> list[Action]:
        """A packet this node made (the whole IPv6 packet, source filled in): route it, fragment it to the path MTU
        (RFC 8200 §4.5; hosts only, routers never), and hand it to neighbour discovery."""
        dst = IPv6Address(packet[24:40])
        found = self.route(dst, interface)
        if found is None:
            return [_drop(None, packet, DropReason.NO_ROUTE, packet_id, dst_ip=str(dst))]
        out, next_hop, _ = found
        mtu = out.mtu
        learned = None if dst.is_multicast else self.part.pmtu.get(int(dst), now)
        if learned is not None and learned < mtu:  # RFC 8201 §4: what a Packet Too Big taught
            mtu = learned
        if len(packet) > mtu:
            pieces = fragment6(packet, mtu, self.part.rng.getrandbits(32))
            actions: list[Action] = [(EVENT, EventKind.FRAGMENT, out, packet, packet_id, (len(pieces), mtu))]
            for piece in pieces:
                actions += self.to_neighbour(out, next_hop, piece, packet_id, note or ("fragment", "sent"), now)
            return actions
        return self.to_neighbour(out, next_hop, packet, packet_id, note, now)

    def error(self, arrived_on: Interface, offending: bytes, icmp_type: int, code: int, packet_id: int | None,
              now: int, *, parameter: int = 0, link_multicast: bool = False) -> list[Action]:
        """An ICMPv6 error about `offending` to its source, if RFC 4443 §2.4 (e) and the rate limit allow one."""
        if not may_report(offending, icmp_type, code, link_multicast=link_multicast):
            return []
        dst = IPv6Address(offending[8:24])
        found = self.route(dst, arrived_on.name)
        if found is None:
            return []
        out, _, prefixlen = found
        if not self.part.icmp_limit.allow(icmp_type, dst, prefixlen, now):  # icmpv6_xrlim_allow
            return [_drop(arrived_on, offending, DropReason.RATE_LIMITED, packet_id, icmp_type=icmp_type)]
        # icmp6_send: the offending packet's destination when it is ours, else the best source towards `dst`
        own = IPv6Address(offending[24:40])
        src = own if self.part.owns(own) else self.part.source_for(dst, out.name)
        if src is None:
            return []
        packet = error_packet(offending, icmp_type, code, src, parameter=parameter)
        note = ("icmp_error", int(icmp_type), code, str(dst))
        return [(EVENT, EventKind.ICMP_ERROR, arrived_on, packet, packet_id, (int(icmp_type), code, str(dst))),
                *self.send(packet, None, now, interface=arrived_on.name, note=note)]

    # Neighbour discovery ------------------------------------------------------------------------------
    def to_neighbour(self, out: Interface, next_hop: IPv6Address, packet: bytes | bytearray, packet_id: int | None,
                     note: object, now: int) -> list[Action]:
        """Frame `packet` for `next_hop` on `out`: a multicast group's MAC at once, else the neighbour's MAC as
        the neighbour cache knows it (the packet waits in the cache while it solicits)."""
        if next_hop.is_multicast:
            frame = bytes(multicast_mac(next_hop)) + bytes(out.mac) + _ETH_IPV6 + bytes(packet)
            return [(TRANSMIT, out, frame, packet_id, note)]
        result = self.part.neighbours.resolve(next_hop, out.name, (bytes(packet), packet_id, note), now)
        actions = self._carry_out(next_hop, result, now)
        if result.dropped:
            actions.append(_drop(out, bytes(packet), DropReason.ARP_QUEUE_FULL, packet_id, next_hop=str(next_hop)))
        return actions

    def nd_timer(self, target: IPv6Address, deadline: int) -> list[Action]:
        """The neighbour cache's timer for `target` is due (it fires at `deadline`, the time then)."""
        return self._carry_out(target, self.part.neighbours.on_timer(target, deadline), deadline)

    def nd_result(self, target: IPv6Address, result: NdResult, now: int) -> list[Action]:
        """The actions for what the neighbour cache answered about `target`."""
        return self._carry_out(target, result, now)

    def _carry_out(self, target: IPv6Address, result: NdResult, now: int) -> list[Action]:
        actions: list[Action] = []
        for (packet, packet_id, note), mac in result.send:
            entry = self.part.neighbours.entries[target]
            out = self.interfaces[entry.interface]
            actions.append((TRANSMIT, out, bytes(mac) + bytes(out.mac) + _ETH_IPV6 + packet, packet_id, note))
        for solicit in result.solicits:
            out = self.interfaces[solicit.interface]
            # RFC 4861 §7.2.2: the source of a packet waiting for the answer if it is ours, else the best one
            entry = self.part.neighbours.entries.get(target)
            waiting = IPv6Address(entry.queue[0][0][8:24]) if entry is not None and entry.queue else None
            src = waiting if waiting is not None and self.part.owns(waiting) else self.part.source_for(
                target, out.name)
            if src is None:
                continue
            actions.append((TRANSMIT, out, solicitation_frame(solicit, src, out.mac), None,
                            ("text", f"who has {target}? (attempt {solicit.attempt})")))
        if result.deadline is not None:
            actions.append((TIMER, result.deadline - now, self.nd_timer, (target, result.deadline)))
        for packet, packet_id, _ in result.failed:  # RFC 4861 §7.2.2: Address Unreachable to each one's source
            entry = self.part.neighbours.entries[target]
            out = self.interfaces[entry.interface]
            actions.append(_drop(out, packet, DropReason.ARP_FAILED, packet_id, next_hop=str(target)))
            if not self.part.owns(IPv6Address(packet[8:24])):
                actions += self.error(out, packet, ICMPv6Type.DEST_UNREACHABLE,
                                      UnreachableCode6.ADDRESS_UNREACHABLE, packet_id, now)
        return actions
