"""IPv6 input (Linux's ipv6_rcv, ip6_input, ndisc_rcv, icmpv6_rcv): the decisions for a frame with EtherType
0x86DD. Sans-IO: `receive` takes the frame and the time and returns actions for the node's runtime.

A packet for one of the node's addresses or groups is reassembled and handed to ICMPv6 (echo, neighbour
discovery, Packet Too Big) or to a transport in `protocols`; any other goes to `forward6` on a router.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from ipaddress import IPv6Address

from layersim.errors import DecodeError
from layersim.net.engine.interface import Interface
from layersim.net.ip.actions import EVENT, TIMER, TRANSMIT, Action
from layersim.net.ip.routing import RoutingTable
from layersim.net.ipv6.addresses import ALL_NODES, ALL_ROUTERS, solicited_node
from layersim.net.ipv6.forward import Forward6, forward6
from layersim.net.ipv6.fragment import FRAGMENT_HEADER, Reassembler6
from layersim.net.ipv6.icmp_errors import echo_reply_packet
from layersim.net.ipv6.nd_frames import ND_HOP_LIMIT, advertisement_frame
from layersim.net.ipv6.output import Output6, _drop
from layersim.net.ipv6.part import Ipv6Part
from layersim.net.trace.details import DropReason, EventKind
from layersim.wire.icmpv6 import ICMPv6, ICMPv6Error, ICMPv6Type
from layersim.wire.ipv6 import IPv6
from layersim.wire.ndp import NAFlags, NDPNeighborAdvertisement, NDPNeighborSolicitation
from layersim.wire.ndp_options import SourceLinkAddress, TargetLinkAddress
from layersim.wire.packet import Packet, decode

__all__ = ["Input6", "Protocol6"]

# A transport over IPv6: (arrival interface, the decoded packet from IPv6 up, its bytes, packet id, now) -> actions.
Protocol6 = Callable[[Interface, Packet, bytes, "int | None", int], list[Action]]
_ICMPV6 = 58


class Input6:
    """What a node does with the IPv6 frames that reach it."""

    def __init__(self, part: Ipv6Part, output: Output6, routes: RoutingTable,
                 interfaces: Mapping[str, Interface], *, forwarding: bool) -> None:
        self.part = part
        self.output = output
        self.routes = routes
        self.interfaces = interfaces
        self.forwarding = forwarding
        self.reassembler = Reassembler6()
        self.protocols: dict[int, Protocol6] = {}  # next header -> transport (UDP 17, TCP 6)
        self.echo_listeners: dict[int, Callable[[IPv6Address, int, bytes, int], None]] = {}  # identifier -> ping

    def joined(self, iface: Interface, group: IPv6Address) -> bool:
        """Whether the interface listens to multicast `group`: all nodes, all routers on a router, and the
        solicited-node group of each of its addresses (RFC 4861 §7.2.1, RFC 4291 §2.8)."""
        if group == ALL_NODES or (group == ALL_ROUTERS and self.forwarding):
            return True
        return any(solicited_node(a.ip) == group for a in iface.addresses6)

    def is_local(self, iface: Interface, dst: IPv6Address) -> bool:
        """True for this node's usable addresses (any interface: Linux's weak host model) and joined groups."""
        if dst.is_multicast:
            return self.joined(iface, dst)
        return self.part.owns(dst)

    def receive(self, iface: Interface, frame: bytes, packet_id: int | None, now: int) -> list[Action]:
        """An Ethernet frame with EtherType IPv6 (unicast to us or to a 33:33 group MAC)."""
        if len(frame) < 54 or frame[14] >> 4 != 6:  # ipv6_rcv: a whole header, version 6
            return [_drop(iface, frame, DropReason.MALFORMED, packet_id, error="short or not version 6")]
        end = 54 + int.from_bytes(frame[18:20], "big")
        if end > len(frame):  # ipv6_rcv: the payload length must fit in what arrived (padding is cut)
            return [_drop(iface, frame, DropReason.MALFORMED, packet_id, error="payload length beyond the frame")]
        packet = frame[14:end]
        dst = IPv6Address(packet[24:40])
        if self.is_local(iface, dst):
            return self._local_in(iface, packet, packet_id, now, frame[0] & 1 == 1)
        if dst.is_multicast or frame[0] & 1 or not self.forwarding:
            return [_drop(iface, frame, DropReason.NOT_FOR_ME, packet_id, dst_ip=str(dst))]
        return self._forward(iface, packet, packet_id, now)

    def _forward(self, iface: Interface, packet: bytes, packet_id: int | None, now: int) -> list[Action]:
        """ip6_forward: the decision of `forward6`, carried to the next hop or refused with an ICMPv6 error."""
        decision = forward6(packet, self.routes, lambda name: self.interfaces[name].mtu)
        if isinstance(decision, Forward6):
            out = self.interfaces[decision.interface]
            hops = (decision.hop_limit, decision.hop_limit - 1)
            note = ("forward", out.name, *hops)
            return [(EVENT, EventKind.FORWARD, out, None, packet_id, (*hops, str(decision.next_hop), iface.name,
                                                                       None)),
                    *self.output.to_neighbour(out, decision.next_hop, decision.packet, packet_id, note, now)]
        facts = {"mtu": decision.parameter} if decision.icmp_type == ICMPv6Type.PACKET_TOO_BIG else {}
        return [_drop(iface, packet, decision.reason, packet_id, **facts),
                *self.output.error(iface, packet, decision.icmp_type, decision.code, packet_id, now,
                                   parameter=decision.parameter)]

    def _local_in(self, iface: Interface, packet: bytes, packet_id: int | None, now: int,
                  link_multicast: bool) -> list[Action]:
        """A packet for this node: reassemble, check, hand to ICMPv6 or a transport."""
        actions: list[Action] = []
        if packet[6] == FRAGMENT_HEADER and len(packet) >= 48:  # RFC 8200 §4.5
            whole = self.reassembler.add(packet, now)
            if whole is None:
                deadline = now + self.reassembler.timeout_ns
                return [(TIMER, self.reassembler.timeout_ns, self._expire, (iface, deadline))]
            packet = whole
        try:
            decoded = decode(packet, IPv6)
        except DecodeError as exc:
            return [*actions, _drop(iface, packet, DropReason.MALFORMED, packet_id, error=str(exc))]
        checked = next((layer for layer in decoded.layers[1:] if getattr(layer, "checksum_ok", None) is not None),
                       None)  # the first layer with a checksum: ICMPv6, UDP or TCP (not what an error quotes)
        if checked is not None and checked.checksum_ok is False:
            return [_drop(iface, packet, DropReason.BAD_CHECKSUM, packet_id, layer=checked.name)]
        icmp = decoded.get(ICMPv6)
        if icmp is not None:
            return self._icmp_in(iface, decoded, icmp, packet, packet_id, now)
        last = _last_next_header(decoded)
        handler = self.protocols.get(last)
        if handler is None:  # RFC 8200 §4: an unrecognised next header is a Parameter Problem (code 1)
            return [_drop(iface, packet, DropReason.UNSUPPORTED, packet_id, protocol=last),
                    *self.output.error(iface, packet, ICMPv6Type.PARAMETER_PROBLEM, 1, packet_id, now,
                                       parameter=6, link_multicast=link_multicast)]
        return [(EVENT, EventKind.DELIVER, iface, packet, packet_id, (decoded.layers[-1].name,)),
                *handler(iface, decoded, packet, packet_id, now)]

    def _expire(self, iface: Interface, deadline: int) -> list[Action]:
        """Forget fragments that waited longer than the reassembly timeout."""
        forgotten = self.reassembler.expire(deadline)
        return [_drop(iface, None, DropReason.REASSEMBLY_TIMEOUT, None, packets=forgotten)] if forgotten else []

    def _icmp_in(self, iface: Interface, decoded: Packet, icmp: ICMPv6, packet: bytes, packet_id: int | None,
                 now: int) -> list[Action]:
        """icmpv6_rcv: echo, neighbour discovery, Packet Too Big; the rest are recorded as delivered."""
        ip = decoded[IPv6]
        kind = icmp.type
        delivered: Action = (EVENT, EventKind.DELIVER, iface, packet, packet_id, ("ICMPv6",))
        if kind == ICMPv6Type.ECHO_REQUEST:  # RFC 4443 §4.2: answer from the address it was sent to
            src = ip.dst if not ip.dst.is_multicast else self.part.source_for(ip.src, iface.name)
            if src is None:
                return [delivered]
            reply = echo_reply_packet(packet, src)
            return [delivered, *self.output.send(reply, None, now, interface=iface.name,
                                                 note=("echo_reply", str(ip.src)))]
        if kind == ICMPv6Type.ECHO_REPLY:
            body = decoded.layers[decoded.layers.index(icmp) + 1]
            listener = self.echo_listeners.get(body.identifier)
            if listener is not None:
                data = packet[48:] if packet[6] == _ICMPV6 else b""
                listener(ip.src, body.sequence, data, ip.hop_limit)
            return [delivered]
        if kind in (ICMPv6Type.NEIGHBOR_SOLICITATION, ICMPv6Type.NEIGHBOR_ADVERTISEMENT):
            if ip.hop_limit != ND_HOP_LIMIT:  # RFC 4861 §7.1: it came from off the link
                return [_drop(iface, packet, DropReason.MALFORMED, packet_id, error="ND hop limit not 255")]
            if kind == ICMPv6Type.NEIGHBOR_SOLICITATION:
                return [delivered, *self._solicitation(iface, ip, decoded[NDPNeighborSolicitation], now)]
            return [delivered, *self._advertisement(decoded[NDPNeighborAdvertisement], now)]
        if kind == ICMPv6Type.PACKET_TOO_BIG:
            return [delivered, *self._packet_too_big(iface, decoded, packet, packet_id, now)]
        return [delivered]

    def _solicitation(self, iface: Interface, ip: IPv6, ns: NDPNeighborSolicitation, now: int) -> list[Action]:
        """RFC 4861 §7.2.3: learn the asker's MAC, answer when the target is ours (DAD: RFC 4862 §5.4.3)."""
        mac = next((o.address for o in ns.options if isinstance(o, SourceLinkAddress)), None)
        target = ns.target
        if self.part.dad.receive_ns(target, ip.src):
            return [(EVENT, EventKind.DROP, iface, None, None,
                     (DropReason.NOT_FOR_ME.value, (("detail", "duplicate address"), ("address", str(target)))))]
        if not any(a.ip == target for a in iface.addresses6) or not self.part.dad.usable(target):
            return []
        actions = self.output.nd_result(ip.src, self.part.neighbours.receive_ns(ip.src, mac, iface.name, now), now)
        frame = advertisement_frame(target, iface.mac, ip.src, mac, router=self.forwarding)
        return [*actions, (TRANSMIT, iface, frame, None, ("text", f"{target} is at {iface.mac}"))]

    def _advertisement(self, na: NDPNeighborAdvertisement, now: int) -> list[Action]:
        """RFC 4861 §7.2.5: an answer updates the neighbour cache (and releases what waited); DAD hears it too."""
        self.part.dad.receive_na(na.target)
        mac = next((o.address for o in na.options if isinstance(o, TargetLinkAddress)), None)
        flags = NAFlags(na.flags)
        result = self.part.neighbours.receive_na(na.target, mac, solicited=bool(flags & NAFlags.S),
                                                 override=bool(flags & NAFlags.O), now=now)
        return self.output.nd_result(na.target, result, now)

    def _packet_too_big(self, iface: Interface, decoded: Packet, packet: bytes, packet_id: int | None,
                        now: int) -> list[Action]:
        """RFC 8201 §4: lower the path MTU towards the quoted packet's destination (never below 1280)."""
        error = decoded.get(ICMPv6Error)
        quoted = packet[48:] if packet[6] == _ICMPV6 else b""  # 40 header, 4 ICMPv6, 4 MTU, then the quote
        if error is None or len(quoted) < 40:
            return []
        dst = IPv6Address(quoted[24:40])
        if self.part.pmtu.learn(int(dst), error.parameter, now):
            mtu = self.part.pmtu.get(int(dst), now)
            return [(EVENT, EventKind.PMTU, iface, None, packet_id, (str(dst), mtu))]
        return []


def _last_next_header(decoded: Packet) -> int:
    """The next-header value that names the upper layer (after any extension headers)."""
    values = [getattr(layer, "next_header", None) for layer in decoded.layers]
    return next(v for v in reversed(values) if v is not None)
