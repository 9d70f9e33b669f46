"""End hosts: an IPv4 stack that does not forward, with UDP sockets and a hook for transport protocols."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from layersim.errors import LayersimError
from layersim.net.interface import Interface
from layersim.net.ipnode import IPNode, ProtocolHandler
from layersim.net.trace import DropReason, EventKind
from layersim.wire.packet import Packet
from layersim.wire.udp import UDP

if TYPE_CHECKING:
    from layersim.net.apps import PingResult, TracerouteResult
    from layersim.net.network import Network

__all__ = ["Datagram", "Host", "UDPSocket"]

EPHEMERAL_PORTS = range(32768, 61000)  # Linux net.ipv4.ip_local_port_range


@dataclass(frozen=True, slots=True)
class Datagram:
    """A UDP datagram as an application receives it."""

    data: bytes
    source: tuple[IPv4Address, int]
    time_ns: int


class UDPSocket:
    """A bound UDP port on a host: `sendto`, and received datagrams in `received` (or an `on_datagram` callback)."""

    def __init__(self, host: Host, port: int) -> None:
        self.host = host
        self.port = port
        self.received: list[Datagram] = []
        self.on_datagram: Callable[[Datagram], None] | None = None
        self.ttl = 64
        self.closed = False

    def sendto(self, data: bytes, address: tuple[IPv4Address | str, int]) -> bool:
        """Send one datagram; False when the host has no route to the destination."""
        if self.closed:
            raise LayersimError(f"{self.host.name}: UDP socket on port {self.port} is closed")
        ip, port = address
        if not 0 < port < 0x10000:
            raise LayersimError(f"{self.host.name}: UDP destination port {port} is not between 1 and 65535")
        return self.host.send_ip(IPv4Address(ip), UDP(sport=self.port, dport=port) / data, ttl=self.ttl,
                                 comment=f"{self.host.name}: UDP {self.port} -> {ip}:{port}")

    def deliver(self, datagram: Datagram) -> None:
        """Called by the host when a datagram for this port arrives."""
        self.received.append(datagram)
        if self.on_datagram is not None:
            self.on_datagram(datagram)

    def close(self) -> None:
        """Release the port."""
        self.closed = True
        self.host.sockets.pop(self.port, None)


class Host(IPNode):
    """An end system: answers ping, receives UDP, and runs applications (ping, traceroute, sockets)."""

    kind = "host"
    forwarding = False

    def __init__(self, network: Network, name: str, rng: random.Random) -> None:
        super().__init__(network, name, rng)
        self.sockets: dict[int, UDPSocket] = {}
        self.protocols[17] = self._udp_in

    def register_protocol(self, number: int, handler: ProtocolHandler) -> None:
        """Attach a transport protocol (TCP plugs in here) for IP protocol `number`."""
        if number in self.protocols and number != 6:
            raise LayersimError(f"{self.name}: IP protocol {number} already has a handler")
        self.protocols[number] = handler

    def udp_socket(self, port: int | None = None) -> UDPSocket:
        """Bind a UDP socket to `port`, or to a free ephemeral port chosen with the host's random generator."""
        if port is None:
            free = [p for p in EPHEMERAL_PORTS if p not in self.sockets]
            if not free:
                raise LayersimError(f"{self.name}: no free ephemeral UDP port")
            port = self.rng.choice(free) if len(self.sockets) < 1000 else free[0]
        if not 0 < port < 0x10000:
            raise LayersimError(f"{self.name}: UDP port {port} is not between 1 and 65535")
        if port in self.sockets:
            raise LayersimError(f"{self.name}: UDP port {port} is already in use")
        sock = self.sockets[port] = UDPSocket(self, port)
        return sock

    def _udp_in(self, iface: Interface, packet: Packet, ip_bytes: bytes) -> None:
        from layersim.wire.ipv4 import IPv4

        udp = packet[UDP]
        sock = self.sockets.get(udp.dport)
        if sock is None:
            self.drop(iface, ip_bytes, DropReason.NO_LISTENER, port=udp.dport)
            self.icmp_error(iface, ip_bytes, 3, 3)  # port unreachable
            return
        datagram = Datagram(packet.payload_of(UDP), (packet[IPv4].src, udp.sport), self.network.clock.now)
        self.event(EventKind.APP, iface, None, app="udp", port=udp.dport, size=len(datagram.data),
                   source=f"{datagram.source[0]}:{datagram.source[1]}")
        sock.deliver(datagram)

    # Applications (layersim.net.apps) -----------------------------------------------------------------
    def ping(self, dst: IPv4Address | str, count: int = 3, *, interval_ns: int = 1_000_000_000,
             timeout_ns: int = 1_000_000_000, size: int = 56, ttl: int = 64) -> PingResult:
        """Ping `dst` like iputils ping and run the network until the last reply's timeout."""
        from layersim.net.apps import ping

        return ping(self, IPv4Address(dst), count=count, interval_ns=interval_ns, timeout_ns=timeout_ns,
                    size=size, ttl=ttl)

    def traceroute(self, dst: IPv4Address | str, *, max_hops: int = 30, probes: int = 3,
                   timeout_ns: int = 5_000_000_000) -> TracerouteResult:
        """Trace the path to `dst` with UDP probes like Linux traceroute, running the network as it goes."""
        from layersim.net.apps import traceroute

        return traceroute(self, IPv4Address(dst), max_hops=max_hops, probes=probes, timeout_ns=timeout_ns)
