"""Routers (RFC 1812): an IPv4 node that forwards what is not addressed to it."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from layersim.errors import LayersimError
from layersim.net.engine.interface import Interface
from layersim.net.ip.actions import EVENT, ICMP_ERROR, Action
from layersim.net.ipv4.node import IPNode
from layersim.net.nat.hooks import NatBinding
from layersim.net.trace.details import DropReason, EventKind
from layersim.wire.icmp import ICMPType, UnreachableCode
from layersim.wire.packet import Packet

if TYPE_CHECKING:
    from layersim.net.engine.runtime import Runtime

__all__ = ["Router"]


class Router(IPNode):
    """Forwards by longest-prefix match, rewrites MACs, decrements TTL, sends ICMP errors, fragments."""

    kind = "router"
    forwarding = True

    def __init__(self, runtime: Runtime, name: str, rng: random.Random) -> None:
        super().__init__(runtime, name, rng)
        self.protocols[17] = self._udp_in
        self.nat: NatBinding | None = None

    def enable_nat(self, outside: str, *, port_range: tuple[int, int] | None = None) -> NatBinding:
        """Masquerade what leaves by interface `outside` behind its address (Linux MASQUERADE), optionally
        always with a port from `port_range` (like --to-ports)."""
        if self.nat is not None:
            raise LayersimError(f"{self.name}: NAT is already on ({self.nat.outside.name})")
        self.nat = NatBinding(self, outside, port_range)
        return self.nat

    def _udp_in(self, iface: Interface, packet: Packet, ip_bytes: bytes, packet_id: int | None,
                now: int) -> list[Action]:
        """No UDP services on a router: answer port unreachable, as Linux does for traceroute."""
        return [(EVENT, EventKind.DROP, iface, ip_bytes, packet_id, (DropReason.NO_LISTENER.value, ())),
                (ICMP_ERROR, iface, ip_bytes, ICMPType.DEST_UNREACHABLE, UnreachableCode.PORT_UNREACHABLE, {},
                 packet_id)]
