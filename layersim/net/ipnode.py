"""The IPv4 stack hosts and routers share: Ethernet in/out, ARP, routing, local delivery, forwarding, ICMP errors."""

from __future__ import annotations

import random
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Interface
from typing import TYPE_CHECKING, Any

from layersim.errors import DecodeError, LayersimError
from layersim.net.arp import ArpCache
from layersim.net.fragment import Reassembler, fragment
from layersim.net.interface import Interface
from layersim.net.node import Node
from layersim.net.node_routes import NodeRoutes
from layersim.net.routing import RouteKind
from layersim.net.trace import DropReason, EventKind
from layersim.wire.addresses import MAC
from layersim.wire.arp import ARP, ARPOp
from layersim.wire.checksum import internet_checksum
from layersim.wire.ethernet import BROADCAST, Ethernet, EtherType
from layersim.wire.fields import Layer
from layersim.wire.icmp import ERROR_TYPES, ICMP
from layersim.wire.ipv4 import IPv4, IPv4Flags, decrement_ttl
from layersim.wire.packet import DecodeState, Packet, decode

if TYPE_CHECKING:
    from layersim.net.network import Network

__all__ = ["IPNode"]

ICMP_QUOTE_LIMIT = 576  # RFC 1812 §4.3.2.3: an ICMP error holds as much of the datagram as fits in 576 bytes
_ETH_IPV4 = EtherType.IPv4.to_bytes(2, "big")
_ETH_ARP = EtherType.ARP.to_bytes(2, "big")
# What a protocol handler gets: (arrival interface, the decoded packet from IPv4 up, its bytes).
ProtocolHandler = Callable[[Interface, Packet, bytes], None]


class IPNode(Node):
    """A node with an IPv4 stack; a router is one that forwards."""

    forwarding = False

    def __init__(self, network: Network, name: str, rng: random.Random) -> None:
        super().__init__(network, name, rng)
        self.routes = NodeRoutes(self)
        self.arp = ArpCache()
        self.reassembler = Reassembler()
        self.protocols: dict[int, ProtocolHandler] = {1: self._icmp_in}
        self.icmp_listeners: list[Callable[[Interface, Packet], None]] = []
        self._next_id = rng.randrange(0x10000)
        self._icmp_tokens: dict[IPv4Address, tuple[float, int]] = {}
        self.icmp_burst = 6  # Linux: 6-message burst per destination, then one per icmp_ratelimit (1 s)
        self.icmp_interval_ns = 1_000_000_000
        self._local_cache: tuple[int, frozenset[int], frozenset[int]] | None = None

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
        return iface

    @property
    def addresses(self) -> dict[IPv4Address, Interface]:
        """This node's own IPv4 addresses and the interface each is on."""
        return {i.address.ip: i for i in self.interfaces.values() if i.address is not None}

    def _address_sets(self) -> tuple[frozenset[int], frozenset[int]]:
        """(own addresses and broadcasts, broadcasts only) as ints, recomputed when interfaces change."""
        if self._local_cache is None or self._local_cache[0] != len(self.interfaces):
            broadcast = {0xFFFFFFFF}
            own = set()
            for iface in self.interfaces.values():
                if iface.address is not None:
                    own.add(int(iface.address.ip))
                    broadcast.add(int(iface.address.network.broadcast_address))
            self._local_cache = (len(self.interfaces), frozenset(own | broadcast), frozenset(broadcast))
        return self._local_cache[1], self._local_cache[2]

    def _is_broadcast(self, address: IPv4Address | int) -> bool:
        """True for 255.255.255.255 and the broadcast address of a connected subnet."""
        return int(address) in self._address_sets()[1]

    def _is_local(self, dst: IPv4Address | int) -> bool:
        """True for packets this node takes in: its addresses, broadcasts and multicast."""
        value = int(dst)
        return value in self._address_sets()[0] or value >> 28 == 0xE

    # Receiving -----------------------------------------------------------------------------------------
    def on_frame(self, iface: Interface, frame: bytes) -> None:
        """Ethernet in: check the destination MAC, then hand ARP and IPv4 to their handlers."""
        self.event(EventKind.RECEIVE, iface, frame)
        dst = frame[0:6]
        if dst != iface.mac and dst != BROADCAST:
            self.drop(iface, frame, DropReason.NOT_FOR_ME, dst_mac=str(MAC(dst)) if len(dst) == 6 else "")
            return
        ethertype = frame[12:14]
        try:
            if ethertype == _ETH_IPV4:  # the hot path: only the IPv4 header is decoded (RFC 1812 needs no more)
                ip = IPv4.decode_layer(frame, 14, len(frame), DecodeState())[0]
            elif ethertype == _ETH_ARP:
                packet = decode(frame)
                if ARP in packet:
                    self._arp_in(iface, packet[ARP])
                    return
                ip = None
            else:
                decode(frame, until=Ethernet)
                ip = None
        except DecodeError as exc:
            self.drop(iface, frame, DropReason.MALFORMED, error=str(exc))
            return
        if ip is None:
            self.drop(iface, frame, DropReason.UNSUPPORTED, ethertype=hex(int.from_bytes(ethertype, "big")))
            return
        ip_bytes = frame[14:14 + ip.total_length]
        if internet_checksum(ip_bytes[:ip.ihl * 4]):  # RFC 1812 §5.2.2: verify before anything else
            self.drop(iface, frame, DropReason.BAD_CHECKSUM, layer="IPv4")
            return
        if self._is_local(int.from_bytes(ip_bytes[16:20], "big")):
            self._local_in(iface, ip, ip_bytes)
        elif dst == BROADCAST:  # RFC 1812 §5.3.4: a unicast packet in a link-layer broadcast is not forwarded
            self.drop(iface, frame, DropReason.NOT_FOR_ME, detail="link-layer broadcast", dst_ip=str(ip.dst))
        elif self.forwarding:
            self._forward(iface, ip, ip_bytes)
        else:
            self.drop(iface, frame, DropReason.NOT_FOR_ME, dst_ip=str(ip.dst))

    def _local_in(self, iface: Interface, ip: IPv4, ip_bytes: bytes) -> None:
        """A packet for this node: reassemble, check the transport checksum, hand to the protocol."""
        if ip.is_fragment:
            whole = self.reassembler.add(ip_bytes, self.network.clock.now, iface)
            if whole is None:
                self.network.clock.after(self.reassembler.timeout_ns, self._expire_fragments)
                return
            ip_bytes = whole
        try:
            packet = decode(ip_bytes, IPv4)
        except DecodeError as exc:
            self.drop(iface, ip_bytes, DropReason.MALFORMED, error=str(exc))
            return
        transport = packet.layers[1] if len(packet.layers) > 1 else None
        if transport is not None and transport.checksum_ok is False:
            self.drop(iface, ip_bytes, DropReason.BAD_CHECKSUM, layer=transport.name)
            return
        handler = self.protocols.get(int(ip.protocol or 0))
        if handler is None:
            self.drop(iface, ip_bytes, DropReason.UNSUPPORTED, protocol=int(ip.protocol or 0))
            self.icmp_error(iface, ip_bytes, 3, 2)  # protocol unreachable
            return
        self.event(EventKind.DELIVER, iface, ip_bytes, protocol=packet.layers[1].name if transport else "none")
        handler(iface, packet, ip_bytes)

    def _expire_fragments(self) -> None:
        for key, first, arrived_on in self.reassembler.expire(self.network.clock.now):
            self.drop(arrived_on, first or None, DropReason.REASSEMBLY_TIMEOUT, src=key[0], identification=key[3])
            if first:  # RFC 1122 §3.3.2: Time Exceeded, code 1, when fragment zero had arrived
                self.icmp_error(arrived_on, first, 11, 1)

    def _icmp_in(self, iface: Interface, packet: Packet, ip_bytes: bytes) -> None:
        """Answer echo requests (RFC 1122 §3.2.2.6); pass everything else to listeners (ping, traceroute)."""
        icmp = packet[ICMP]
        ip = packet[IPv4]
        if icmp.type == 8 and (ip.dst.is_multicast or self._is_broadcast(ip.dst)):
            # Linux's icmp_echo_ignore_broadcasts=1; RFC 1122 §3.2.1.3 forbids a reply from a broadcast source.
            self.drop(iface, ip_bytes, DropReason.NOT_FOR_ME, detail="echo request to a broadcast address")
            return
        if icmp.type == 8:
            data = packet.payload_of(ICMP)
            reply = ICMP(type=0, code=0, rest_of_header=icmp.rest_of_header) / data
            self.send_ip(ip.src, reply, src=ip.dst, comment=f"{self.name}: echo reply to {ip.src}")
            return
        for listener in list(self.icmp_listeners):
            listener(iface, packet)

    # Forwarding (RFC 1812 §5.2) ------------------------------------------------------------------------
    def _forward(self, in_iface: Interface, ip: IPv4, ip_bytes: bytes) -> None:
        if ip.ttl <= 1:  # RFC 1812 §5.3.1: would reach 0
            self.drop(in_iface, ip_bytes, DropReason.TTL_EXCEEDED, ttl=ip.ttl)
            self.icmp_error(in_iface, ip_bytes, 11, 0)
            return
        route = self.routes.lookup_int(int(ip.dst))
        if route is None or route.interface is None:
            self.drop(in_iface, ip_bytes, DropReason.NO_ROUTE, dst=str(ip.dst))
            self.icmp_error(in_iface, ip_bytes, 3, 0)  # net unreachable
            return
        out = self.interfaces[route.interface]
        next_hop = route.via or ip.dst
        packet = bytearray(ip_bytes)
        decrement_ttl(packet)
        comment = f"{self.name}: forwarded via {out.name}, TTL {ip.ttl}->{ip.ttl - 1}"
        if len(packet) > out.mtu:
            if ip.flags & IPv4Flags.DF:
                self.drop(in_iface, ip_bytes, DropReason.FRAGMENTATION_NEEDED, mtu=out.mtu)
                self.icmp_error(in_iface, ip_bytes, 3, 4, next_hop_mtu=out.mtu)
                return
            pieces = fragment(bytes(packet), out.mtu)
            self.event(EventKind.FRAGMENT, out, ip_bytes, fragments=len(pieces), mtu=out.mtu)
            for piece in pieces:
                self.event(EventKind.FORWARD, out, None, ttl_in=ip.ttl, ttl_out=ip.ttl - 1, next_hop=str(next_hop),
                           in_interface=in_iface.name, fragment=True)
                self.output(out, next_hop, piece, comment=f"{comment}, fragment", source=in_iface,
                            received=ip_bytes)
            return
        # Plain values only (see TraceEvent): the next hop as a string, the TTL as two numbers.
        self.event(EventKind.FORWARD, out, None, ttl_in=ip.ttl, ttl_out=ip.ttl - 1, next_hop=str(next_hop),
                   in_interface=in_iface.name)
        self.output(out, next_hop, bytes(packet), comment=comment, source=in_iface, received=ip_bytes)

    # Sending -------------------------------------------------------------------------------------------
    def take_ip_id(self) -> int:
        """The next IPv4 identification value of this node."""
        ident = self._next_id
        self._next_id = (ident + 1) & 0xFFFF
        return ident

    def send_ip(self, dst: IPv4Address | str, upper: Layer | Packet, *, ttl: int = 64, df: bool = True,
                dscp: int = 0, src: IPv4Address | None = None, comment: str | None = None) -> bool:
        """Send a locally made packet (the layers above IPv4) to `dst`; False if there is no route."""
        dst = IPv4Address(dst)
        route = self.routes.lookup_int(int(dst))
        if route is None or route.interface is None:
            self.drop(None, None, DropReason.NO_ROUTE, dst=str(dst))
            return False
        out = self.interfaces[route.interface]
        if src is None:
            if out.address is None:
                raise LayersimError(f"{out.full_name} has no IPv4 address to send from")
            src = out.address.ip
        header = IPv4(src=src, dst=dst, ttl=ttl, dscp=dscp, identification=self.take_ip_id(),
                      flags=IPv4Flags.DF if df else IPv4Flags(0))
        ip_bytes = (header / upper).encode()
        next_hop = route.via or dst
        comment = comment or f"{self.name}: sent via {out.name}"
        if len(ip_bytes) > out.mtu:  # too big for the first link: fragment here, without DF
            ip_bytes = (header.replace(flags=IPv4Flags(0)) / upper).encode()
            for piece in fragment(ip_bytes, out.mtu):
                self.output(out, next_hop, piece, comment=f"{comment}, fragment")
            return True
        self.output(out, next_hop, ip_bytes, comment=comment)
        return True

    def output(self, out: Interface, next_hop: IPv4Address, ip_bytes: bytes, *, comment: str | None = None,
               source: Interface | None = None, received: bytes | None = None) -> None:
        """Frame an IPv4 packet for the next hop: send at once if its MAC is known, else queue and ARP.

        `source` and `received` (a forwarded packet's arrival interface and bytes as received) let an ARP failure
        be reported with an ICMP error quoting the packet as it arrived.
        """
        now = self.network.clock.now
        mac = self.arp.lookup(next_hop, now)
        if mac is not None:
            self.transmit(out, mac + out.mac + _ETH_IPV4 + ip_bytes, comment)
            return
        queued, first = self.arp.queue(next_hop, out.name, (ip_bytes, comment, source, received))
        if not queued:
            self.drop(out, ip_bytes, DropReason.ARP_QUEUE_FULL, next_hop=str(next_hop))
            return
        self.event(EventKind.ARP_MISS, out, ip_bytes, next_hop=str(next_hop))
        if first:
            self._arp_request(out, next_hop)

    def transmit(self, out: Interface, frame: bytes, comment: str | None = None) -> None:
        """Put a finished frame on an interface, recording it in the trace."""
        self.event(EventKind.SEND, out, frame, comment=comment)
        out.send(frame, comment)

    # ARP (RFC 826) -------------------------------------------------------------------------------------
    def _arp_request(self, out: Interface, target: IPv4Address) -> None:
        pending = self.arp.pending.get(target)
        if pending is None or out.address is None:
            return
        pending.requests_sent += 1
        frame = (Ethernet(dst=BROADCAST, src=out.mac) / ARP(opcode=ARPOp.REQUEST, sender_mac=out.mac,
                                                            sender_ip=out.address.ip, target_ip=target)).encode()
        self.transmit(out, frame, f"{self.name}: who has {target}? (attempt {pending.requests_sent})")
        self.network.clock.after(self.arp.retransmit_ns, self._arp_timer, out, target)

    def _arp_timer(self, out: Interface, target: IPv4Address) -> None:
        again, failed = self.arp.on_timeout(target)
        if again:
            self._arp_request(out, target)
            return
        for ip_bytes, _comment, source, received in failed:
            self.drop(out, ip_bytes, DropReason.ARP_FAILED, next_hop=str(target))
            if source is not None:
                self.icmp_error(source, received or ip_bytes, 3, 1)  # host unreachable (RFC 1812 §5.2.7.1)

    def _arp_in(self, iface: Interface, arp: ARP) -> None:
        if iface.address is None:
            self.drop(iface, None, DropReason.NOT_FOR_ME, reason_detail="no address on interface")
            return
        now = self.network.clock.now
        if arp.sender_ip == arp.target_ip:  # gratuitous ARP: refresh an entry we have, create none, answer none
            waiting = self.arp.learn(arp.sender_ip, arp.sender_mac, now, create=False)
            self.event(EventKind.ARP_RESOLVED, iface, None, ip=str(arp.sender_ip), gratuitous=True)
            self._release(iface, arp, waiting)
            return
        for_me = arp.target_ip == iface.address.ip
        # RFC 826's merge: update an entry we have; create one only for a request to us or an answer we awaited
        # (Linux's arp_accept=0 ignores unsolicited replies).
        create = for_me and (arp.opcode == ARPOp.REQUEST or arp.sender_ip in self.arp.pending)
        self._release(iface, arp, self.arp.learn(arp.sender_ip, arp.sender_mac, now, create=create))
        if not for_me:
            self.drop(iface, None, DropReason.NOT_FOR_ME, arp_target=str(arp.target_ip))
            return
        if arp.opcode == ARPOp.REQUEST:
            reply = (Ethernet(dst=arp.sender_mac, src=iface.mac)
                     / ARP(opcode=ARPOp.REPLY, sender_mac=iface.mac, sender_ip=iface.address.ip,
                           target_mac=arp.sender_mac, target_ip=arp.sender_ip)).encode()
            self.transmit(iface, reply, f"{self.name}: {iface.address.ip} is at {iface.mac}")

    def _release(self, iface: Interface, arp: ARP, waiting: list[Any]) -> None:
        """Send the packets that waited for the MAC `arp` just told us."""
        if not waiting:
            return
        self.event(EventKind.ARP_RESOLVED, iface, None, ip=str(arp.sender_ip), mac=str(arp.sender_mac),
                   released=len(waiting))
        for ip_bytes, comment, _source, _received in waiting:
            self.transmit(iface, arp.sender_mac + iface.mac + _ETH_IPV4 + ip_bytes, comment)

    # ICMP errors (RFC 1812 §4.3.2) ---------------------------------------------------------------------
    def icmp_error(self, arrived_on: Interface, offending: bytes, icmp_type: int, code: int, **rest: Any) -> None:
        """Send an ICMP error about `offending` to its source, unless RFC 1812 §4.3.2.7 forbids it."""
        try:
            about = decode(offending, IPv4, truncated=True)
        except DecodeError:
            return
        ip = about[IPv4]
        src = ip.src
        # RFC 1812 §4.3.2.7: only about a first fragment, only to a source that names one host.
        if ip.fragment_offset or src.is_multicast or src.is_unspecified or src.is_loopback or src.is_reserved \
                or self._is_broadcast(src):
            return
        if self._is_local(ip.dst) and ip.dst not in self.addresses:  # sent to a broadcast or multicast address
            return
        if ip.protocol == 1 and len(offending) > ip.header_length and offending[ip.header_length] in ERROR_TYPES:
            return  # never an ICMP error about an ICMP error (read from the bytes: fragments are not decoded)
        if not self._icmp_allowed(ip.src):
            self.event(EventKind.ICMP_ERROR, arrived_on, None, type=icmp_type, code=code, to=str(ip.src),
                       suppressed="rate limit")
            return
        source = arrived_on.address.ip if arrived_on.address is not None else None
        quote = offending[:ICMP_QUOTE_LIMIT - 28]
        message = ICMP(type=icmp_type, code=code, **rest) / quote
        self.event(EventKind.ICMP_ERROR, arrived_on, None, type=icmp_type, code=code, to=str(ip.src))
        self.send_ip(ip.src, message, src=source, dscp=0x30, df=False,
                     comment=f"{self.name}: ICMP type {icmp_type} code {code} to {ip.src}")

    def _icmp_allowed(self, dst: IPv4Address) -> bool:
        """A token bucket per destination, as Linux's icmp_ratelimit (burst 6, one per second)."""
        now = self.network.clock.now
        tokens, last = self._icmp_tokens.get(dst, (float(self.icmp_burst), now))
        tokens = min(float(self.icmp_burst), tokens + (now - last) / self.icmp_interval_ns)
        if tokens < 1:
            self._icmp_tokens[dst] = (tokens, now)
            return False
        self._icmp_tokens[dst] = (tokens - 1, now)
        return True
