"""The runtime of a node with an IPv4 stack: the one place that touches the clock, the interfaces and the trace.

Frames come in through `on_frame`; the protocol objects (ARP, forwarding, output, ICMP, the transports) decide
and return actions (see layersim.net.ip.actions), which `perform` carries out, passing packets through the hook
points on the way. A router that has no hook and knows the next hop's MAC forwards in one step (`forward_frame`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Interface
from typing import TYPE_CHECKING, Any

from layersim.errors import DecodeError, LayersimError
from layersim.net.engine.interface import Interface
from layersim.net.engine.node import Node
from layersim.net.ip.actions import DELIVER, DELIVER_ERROR, EVENT, ICMP_ERROR, OUTPUT, TIMER, TRANSMIT, Action
from layersim.net.ip.hooks import REWRITTEN, Drop, HookPacket, HookPoint, Hooks
from layersim.net.ip.neighbours import ArpCache
from layersim.net.ip.node_routes import NodeRoutes
from layersim.net.ip.routing import RouteKind
from layersim.net.ipv4.arp import ArpProtocol
from layersim.net.ipv4.forward import Forwarder
from layersim.net.ipv4.fragment import Reassembler, fragment
from layersim.net.ipv4.icmp import IcmpProtocol
from layersim.net.ipv4.output import Output, Plan
from layersim.net.trace.details import DropReason, EventKind, note_body
from layersim.wire.addresses import MAC
from layersim.wire.arp import ARP
from layersim.wire.checksum import internet_checksum
from layersim.wire.ethernet import BROADCAST, Ethernet, EtherType
from layersim.wire.fields import Layer
from layersim.wire.icmp import ICMPType, TimeExceededCode, UnreachableCode
from layersim.wire.ipv4 import IPv4, IPv4Flags, forward_frame
from layersim.wire.packet import DecodeState, Packet, decode

if TYPE_CHECKING:
    from layersim.net.engine.runtime import Runtime
    from layersim.net.ipv4.pmtu import PathMtuCache

__all__ = ["IPNode", "ProtocolHandler"]

_ETH_IPV4 = EtherType.IPv4.to_bytes(2, "big")
_ETH_ARP = EtherType.ARP.to_bytes(2, "big")
_ETH_IPV6 = EtherType.IPv6.to_bytes(2, "big")
# A transport protocol: (arrival interface, the decoded packet from IPv4 up, its bytes, packet id, now) -> actions.
ProtocolHandler = Callable[[Interface, Packet, bytes, "int | None", int], list[Action]]
_RECEIVE, _SEND, _FORWARD, _DROP = EventKind.RECEIVE, EventKind.SEND, EventKind.FORWARD, EventKind.DROP


class IPNode(Node):
    """A node with an IPv4 stack; a router is one that forwards."""

    forwarding = False

    def __init__(self, runtime: Runtime, name: str, rng: random.Random) -> None:
        super().__init__(runtime, name, rng)
        self.routes = NodeRoutes(self)
        self.arp = ArpCache()
        self.arp_protocol = ArpProtocol(self.arp)
        self.reassembler = Reassembler()
        self.hooks = Hooks()
        self.pmtu: PathMtuCache | None = None  # a host keeps path MTUs; a router has none
        self.forwarder = Forwarder(self.routes, self.interfaces)
        self.output = Output(self.routes, self.interfaces, None, rng.randrange(0x10000), self.hooks)
        self.icmp = IcmpProtocol(self)
        self.protocols: dict[int, ProtocolHandler] = {1: self.icmp.receive}
        self.error_handlers: dict[int, Callable[[Any], None]] = {}  # ICMP errors about protocol N go here
        # this node's addresses as ints, kept up to date by add_interface (interface addresses never change)
        self.own_ints: frozenset[int] = frozenset()
        self.broadcast_ints: frozenset[int] = frozenset({0xFFFFFFFF})
        self.local_ints: frozenset[int] = self.broadcast_ints  # own and broadcast: what this node takes in
        self.loopback = Interface(self, "lo", MAC(0), IPv4Interface("127.0.0.1/8"))  # not linked, not captured
        self.ipv6: Any = None  # the node's IPv6 part (layersim.net.ipv6.part.Ipv6Part), given by the Network

    # Set-up --------------------------------------------------------------------------------------------
    def add_interface(self, name: str, mac: MAC | str, address: IPv4Interface | str | None = None) -> Interface:
        """Add a NIC; an address also adds its connected route, as the kernel does."""
        if address is not None:
            subnet = (IPv4Interface(address) if isinstance(address, str) else address).network
            existing = self.routes.get(subnet)
            if existing is not None and existing.kind is RouteKind.CONNECTED:
                raise LayersimError(f"{self.name}: subnet {subnet} is already connected on {existing.interface}; "
                                    f"give {name} an address in another subnet")
        iface = super().add_interface(name, mac, address)
        if iface.address is not None:
            self.routes.add(iface.address.network, interface=name, kind=RouteKind.CONNECTED, replace=True)
        self._refresh_address_sets()
        return iface

    @property
    def addresses(self) -> dict[IPv4Address, Interface]:
        """This node's own IPv4 addresses and the interface each is on."""
        return {i.address.ip: i for i in self.interfaces.values() if i.address is not None}

    def _refresh_address_sets(self) -> None:
        """Recompute `own_ints`, `broadcast_ints` and `local_ints` (both) from the interfaces' addresses."""
        broadcast = {0xFFFFFFFF}
        own = set()
        for iface in self.interfaces.values():
            if iface.address is not None:
                own.add(int(iface.address.ip))
                broadcast.add(int(iface.address.network.broadcast_address))
        self.own_ints, self.broadcast_ints = frozenset(own), frozenset(broadcast)
        self.local_ints = self.own_ints | self.broadcast_ints

    def is_broadcast(self, address: IPv4Address | int) -> bool:
        """True for 255.255.255.255 and the broadcast address of a connected subnet."""
        return int(address) in self.broadcast_ints

    def is_local(self, dst: IPv4Address | int) -> bool:
        """True for packets this node takes in: its addresses, broadcasts and multicast."""
        value = int(dst)
        return value in self.local_ints or value >> 28 == 0xE

    # Receiving -----------------------------------------------------------------------------------------
    def on_frame(self, iface: Interface, frame: bytes, packet_id: int | None = None,
                 checksum_unnecessary: bool = False) -> None:
        """Ethernet in: check the destination MAC, then ARP or IPv4."""
        trace = self.trace
        now = self.clock.now
        if trace.keep_events:
            trace.add(now, self.name, iface.name, _RECEIVE, frame, packet_id)
        dst = frame[0:6]
        ethertype = frame[12:14]
        if ethertype == _ETH_IPV6 and self.ipv6 is not None and (dst == iface.mac or dst[:2] == b"\x33\x33"):
            self.perform(self.ipv6.input.receive(iface, frame, packet_id, now))  # net/ipv6/input (RFC 2464 §7)
            return
        if dst != iface.mac and dst != BROADCAST:
            self.drop(iface, frame, DropReason.NOT_FOR_ME, packet_id, dst_mac=str(MAC(dst)) if len(dst) == 6 else "")
            return
        if ethertype == _ETH_IPV4:
            if dst != BROADCAST and not self.hooks.installed:
                if self.forwarding:
                    if self._fast_forward(iface, frame, packet_id, now, checksum_unnecessary):
                        return
                elif self._fast_local(iface, frame, packet_id, now, checksum_unnecessary):
                    return
            self._ipv4_in(iface, frame, packet_id, now)
            return
        try:
            packet = decode(frame) if ethertype == _ETH_ARP else decode(frame, until=Ethernet)
        except DecodeError as exc:
            self.drop(iface, frame, DropReason.MALFORMED, packet_id, error=str(exc))
            return
        if ARP in packet:
            self.perform(self.arp_protocol.receive(iface, packet[ARP], now))
            return
        self.drop(iface, frame, DropReason.UNSUPPORTED, packet_id, ethertype=hex(int.from_bytes(ethertype, "big")))

    def _fast_local(self, iface: Interface, frame: bytes, packet_id: int | None, now: int,
                    checksum_unnecessary: bool) -> bool:
        """Deliver a plain unicast TCP or UDP frame for this node in one step; False leaves it to the general path
        (a host's transports do it, see Host; a node without them has no fast path)."""
        return False

    def _fast_forward(self, iface: Interface, frame: bytes, packet_id: int | None, now: int,
                      checksum_unnecessary: bool) -> bool:
        """The common router hop in one step; False leaves the packet to the general path (which explains it).

        The hop changes only the IPv4 header, so a transport checksum known good stays known good."""
        dst = int.from_bytes(frame[30:34], "big")
        if dst in self.local_ints or dst >> 28 == 0xE or len(frame) < 34:
            return False
        route = self.routes.lookup_int(dst)
        if route is None or route.interface is None:
            return False
        out = self.interfaces[route.interface]
        via = route.via_int
        mac = self.arp.lookup_int(dst if via is None else via, now)
        if mac is None:
            return False
        new_frame = forward_frame(frame, out.mac, mac)  # None for whatever RFC 1812 makes the general path handle
        if new_frame is None or len(new_frame) - 14 > out.mtu:
            return False
        ttl = frame[22]
        note = ("forward", out.name, ttl, ttl - 1)
        trace = self.trace
        if trace.keep_events:
            next_hop = dst if via is None else via  # an int: made text only when read (trace_details)
            trace.add(now, self.name, out.name, _FORWARD, None, packet_id, (ttl, ttl - 1, next_hop, iface.name, None))
            trace.add(now, self.name, out.name, _SEND, new_frame, packet_id, (note,))
        out.send(new_frame, packet_id, note, checksum_unnecessary)
        return True

    def _ipv4_in(self, iface: Interface, frame: bytes, packet_id: int | None, now: int) -> None:
        """Validate the IPv4 header, run PREROUTING, then deliver locally or forward."""
        try:  # only the IPv4 header is decoded here (RFC 1812 needs no more)
            ip = IPv4.decode_layer(frame, 14, len(frame), DecodeState())[0]
        except DecodeError as exc:
            self.drop(iface, frame, DropReason.MALFORMED, packet_id, error=str(exc))
            return
        ip_bytes = frame[14:14 + ip.total_length]
        if internet_checksum(ip_bytes[:ip.ihl * 4]):  # RFC 1812 §5.2.2: verify before anything else
            self.drop(iface, frame, DropReason.BAD_CHECKSUM, packet_id, layer="IPv4")
            return
        if self.hooks:
            ip_bytes = self._hook(HookPoint.PREROUTING, ip_bytes, iface, None, packet_id, now)
            if ip_bytes is None:
                return
            ip = IPv4.decode_layer(ip_bytes, 0, len(ip_bytes), DecodeState())[0]
        if self.is_local(int.from_bytes(ip_bytes[16:20], "big")):
            self._local_in(iface, ip, bytes(ip_bytes), packet_id, now)
        elif frame[0:6] == BROADCAST:  # RFC 1812 §5.3.4: a unicast packet in a link-layer broadcast stays here
            self.drop(iface, frame, DropReason.NOT_FOR_ME, packet_id, detail="link-layer broadcast",
                      dst_ip=str(ip.dst))
        elif self.forwarding:
            self.perform(self.forwarder.forward(iface, ip, bytes(ip_bytes), packet_id))
        else:
            self.drop(iface, frame, DropReason.NOT_FOR_ME, packet_id, dst_ip=str(ip.dst))

    def _local_in(self, iface: Interface, ip: IPv4, ip_bytes: bytes, packet_id: int | None, now: int) -> None:
        """A packet for this node: reassemble, run INPUT (on the whole datagram, as Linux's ip_local_deliver does),
        check the transport checksum, hand to the protocol."""
        if ip.is_fragment:
            whole = self.reassembler.add(ip_bytes, now, (iface, packet_id))
            if whole is None:
                self.clock.after(self.reassembler.timeout_ns, self._expire_fragments)
                return
            ip_bytes = whole
        if self.hooks:
            hooked = self._hook(HookPoint.INPUT, ip_bytes, iface, None, packet_id, now)
            if hooked is None:
                return
            ip_bytes = bytes(hooked)
        try:
            packet = decode(ip_bytes, IPv4)
        except DecodeError as exc:
            if _transport_checksum_wrong(ip_bytes):  # RFC 9293 §3.1: a bad checksum discards it before any parsing
                self.drop(iface, ip_bytes, DropReason.BAD_CHECKSUM, packet_id, layer=_TRANSPORTS[ip_bytes[9]])
            else:
                self.drop(iface, ip_bytes, DropReason.MALFORMED, packet_id, error=str(exc))
            return
        transport = packet.layers[1] if len(packet.layers) > 1 else None
        if transport is not None and transport.checksum_ok is False:
            self.drop(iface, ip_bytes, DropReason.BAD_CHECKSUM, packet_id, layer=transport.name)
            return
        protocol = ip_bytes[9]
        handler = self.protocols.get(protocol)
        if handler is None:
            self.drop(iface, ip_bytes, DropReason.UNSUPPORTED, packet_id, protocol=protocol)
            self.perform([(ICMP_ERROR, iface, ip_bytes, ICMPType.DEST_UNREACHABLE,
                           UnreachableCode.PROTOCOL_UNREACHABLE, {}, packet_id)])
            return
        self.event(EventKind.DELIVER, iface, ip_bytes, packet_id, (transport.name if transport else "none",))
        self.perform(handler(iface, packet, ip_bytes, packet_id, now))

    def _expire_fragments(self) -> None:
        actions: list[Action] = []
        for key, first, (arrived_on, packet_id) in self.reassembler.expire(self.clock.now):
            self.drop(arrived_on, first or None, DropReason.REASSEMBLY_TIMEOUT, packet_id, src=key[0],
                      identification=key[3])
            if first:  # RFC 1122 §3.3.2: Time Exceeded, code 1, when fragment zero had arrived
                actions.append((ICMP_ERROR, arrived_on, first, ICMPType.TIME_EXCEEDED,
                                TimeExceededCode.REASSEMBLY_TIME_EXCEEDED, {}, packet_id))
        self.perform(actions)

    # Carrying out actions ------------------------------------------------------------------------------
    def perform(self, actions: list[Action]) -> None:
        """Carry out what the protocol objects decided, in order."""
        now = self.clock.now
        for action in actions:
            op = action[0]
            if op == TRANSMIT:
                self.transmit(action[1], action[2], action[3], action[4])
            elif op == OUTPUT:
                self._output(*action[1:], now)
            elif op == EVENT:
                _, kind, iface, data, packet_id, values = action
                self.trace.add(now, self.name, iface.name if iface else None, kind, data, packet_id, values)
            elif op == ICMP_ERROR:
                _, arrived_on, offending, icmp_type, code, extra, about = action
                self.perform(self.icmp.error(arrived_on, offending, icmp_type, code, extra, about, now))
            elif op == TIMER:
                _, delay, callback, args = action
                self.clock.after(delay, self._timer, callback, args)
            elif op == DELIVER:
                action[1].deliver(action[2])
            elif op == DELIVER_ERROR:
                action[1].deliver_error(action[2])
            else:
                raise LayersimError(f"{self.name}: unknown action {action!r}")

    def _timer(self, callback: Callable[..., list[Action]], args: tuple[Any, ...]) -> None:
        self.perform(callback(*args))

    def _hook(self, point: HookPoint, data: bytes | bytearray, in_iface: Interface | None,
              out_iface: Interface | None, packet_id: int | None, now: int) -> bytearray | None:
        """Run the hooks at `point`; the packet's bytes as they leave, or None when a hook dropped it."""
        chain = self.hooks.by_point[point]
        if not chain:
            return data if isinstance(data, bytearray) else bytearray(data)
        packet = HookPacket(point, data if isinstance(data, bytearray) else bytearray(data), in_iface, out_iface, now)
        for name, hook in chain:
            verdict = hook(packet)
            if isinstance(verdict, Drop):
                where = in_iface if point in (HookPoint.PREROUTING, HookPoint.INPUT) else out_iface
                facts = (("hook", name), ("point", point.value)) + ((("detail", verdict.detail),)
                                                                     if verdict.detail else ())
                self.trace.add(now, self.name, where.name if where else None, _DROP, bytes(packet.data),
                                       packet_id, (verdict.reason.value, facts))
                return None
            if isinstance(verdict, bytes | bytearray):
                packet.data = bytearray(verdict)
            if verdict is REWRITTEN or isinstance(verdict, bytes | bytearray):
                self.event(EventKind.HOOK, out_iface or in_iface, bytes(packet.data), packet_id,
                           (point.value, name, "rewritten"))
        return packet.data

    def _output(self, out: Interface, next_hop: IPv4Address, ip_bytes: bytearray, packet_id: int | None, note: Any,
                source: Interface | None, received: bytes | None, forwarded: bool, now: int) -> None:
        """FORWARD or OUTPUT hooks, POSTROUTING, then fragmentation to the link MTU and ARP."""
        if self.hooks:
            first = HookPoint.FORWARD if forwarded else HookPoint.OUTPUT
            for point in (first, HookPoint.POSTROUTING):
                ip_bytes = self._hook(point, ip_bytes, source, out, packet_id, now)  # type: ignore[assignment]
                if ip_bytes is None:
                    return
        data = bytes(ip_bytes)
        mtu = out.mtu
        if not forwarded and not data[6] & 0x40:
            # Linux fragments a local datagram without DF to the path MTU learned for its destination (RFC 1191)
            mtu = self.output.path_mtu(int.from_bytes(data[16:20], "big"), out, now)
        if len(data) > mtu:
            if data[6] & 0x40:  # a local packet with DF that its own first link cannot carry (Linux: EMSGSIZE)
                self.drop(out, data, DropReason.FRAGMENTATION_NEEDED, packet_id, mtu=out.mtu)
                return
            pieces = fragment(data, mtu)
            self.event(EventKind.FRAGMENT, out, data, packet_id, (len(pieces), mtu))
            fragment_note = note if forwarded else ("fragment", note_body(note) if note else "sent")
            for piece in pieces:
                self.perform(self.arp_protocol.output(out, next_hop, piece, packet_id, fragment_note, source,
                                                      received, now))
            return
        self.perform(self.arp_protocol.output(out, next_hop, data, packet_id, note, source, received, now))

    def transmit(self, out: Interface, frame: bytes, packet_id: int | None = None, note: Any = None) -> None:
        """Put a finished frame on an interface, recording it in the trace (a new packet id when it has none)."""
        if packet_id is None:
            packet_id = self.trace.new_packet_id()
        self.event(_SEND, out, frame, packet_id, (note,))
        out.send(frame, packet_id, note)

    # Sending -------------------------------------------------------------------------------------------
    def take_ip_id(self) -> int:
        """The next IPv4 identification value of this node."""
        return self.output.take_ip_id()

    def send_ip(self, dst: IPv4Address | str, upper: Layer | Packet | bytes, *, ttl: int = 64,
                df: bool | None = True, dscp: int = 0, src: IPv4Address | None = None, note: Any = None,
                protocol: int | None = None, packet_id: int | None = None, ip_id: int | None = None,
                plan: Plan | None = None, ecn: int = 0) -> bool:
        """Send a locally made packet (the layers above IPv4) to `dst`; False if there is no route.

        `df`: True sets Don't Fragment, False never, None when the packet fits the path MTU (else fragments).
        `plan`: the decisions `plan_output` already made for it (then `df`, `src` and `ip_id` are in it)."""
        dst = IPv4Address(dst)
        packet_id = packet_id or self.trace.new_packet_id()
        value = int(dst)
        if value >> 24 == 127 or value in self.own_ints:  # to itself: the loopback, never the wire
            header = IPv4(src=src or (dst if value >> 24 != 127 else IPv4Address("127.0.0.1")), dst=dst, ttl=ttl,
                          dscp=dscp, ecn=ecn, identification=self.output.take_ip_id() if ip_id is None else ip_id,
                          protocol=protocol, flags=IPv4Flags.DF if df is not False else IPv4Flags(0))
            self.clock.at(self.clock.now, self._loopback_in, (header / upper).encode(), packet_id)
            return True
        actions = self.output.send(dst, upper, packet_id, self.clock.now, ttl=ttl, df=df, dscp=dscp, ecn=ecn,
                                   src=src, note=note, protocol=protocol, ip_id=ip_id, plan=plan)
        self.perform(actions)
        return actions[0][0] == OUTPUT

    def send_ip6(self, packet: bytes, *, interface: str | None = None, packet_id: int | None = None,
                 note: Any = None) -> None:
        """Send a whole IPv6 packet this node made (source filled in) through the IPv6 output (net/ipv6/output);
        `interface` scopes a link-local or multicast destination."""
        self.perform(self.ipv6.output.send(packet, packet_id or self.trace.new_packet_id(), self.clock.now,
                                           interface=interface, note=note))

    def plan_output(self, dst: int, *, df: bool | None, src: int | None = None,
                    ip_id: int | None = None) -> Plan | None:
        """The output decisions for a packet to `dst` (see `Output.plan`), or None for one that stays on this node
        or has no route: `send_ip` handles those. The fast paths pack what this returns and hand the same plan to
        `send_ip` when they cannot."""
        if dst >> 24 == 127 or dst in self.own_ints:
            return None
        return self.output.plan(dst, self.clock.now, df=df, src=src, ip_id=ip_id)

    def _loopback_in(self, ip_bytes: bytes, packet_id: int | None) -> None:
        """A packet this node sent to itself arrives on `lo`."""
        ip = IPv4.decode_layer(ip_bytes, 0, len(ip_bytes), DecodeState())[0]
        self._local_in(self.loopback, ip, ip_bytes, packet_id, self.clock.now)  # type: ignore[arg-type]

    def icmp_error(self, arrived_on: Interface, offending: bytes, icmp_type: int, code: int,
                   packet_id: int | None = None, **extra: Any) -> None:
        """Send an ICMP error about `offending` to its source, unless RFC 1812 §4.3.2.7 forbids it."""
        self.perform(self.icmp.error(arrived_on, offending, icmp_type, code, extra, packet_id,
                                     self.clock.now))


_TRANSPORTS = {6: "TCP", 17: "UDP"}


def _transport_checksum_wrong(ip_bytes: bytes) -> bool:
    """Whether a TCP or UDP packet's checksum (RFC 793/768 pseudo-header sum) is wrong, read from its bytes alone:
    a header damaged so that it does not decode is a bad checksum first (as Linux's tcp_v4_rcv checks it before
    parsing options), a malformed packet only when its checksum holds."""
    protocol = ip_bytes[9] if len(ip_bytes) >= 20 else 0
    start = (ip_bytes[0] & 0x0F) * 4
    if protocol not in _TRANSPORTS or len(ip_bytes) < start + 8:
        return False
    if protocol == 17 and ip_bytes[start + 6:start + 8] == b"\x00\x00":
        return False  # RFC 768: no checksum
    length = len(ip_bytes) - start
    pseudo = sum(int.from_bytes(ip_bytes[i:i + 2], "big") for i in (12, 14, 16, 18)) + protocol + length
    return internet_checksum(ip_bytes[start:], pseudo) != 0
