"""Routers (RFC 1812): an IPv4 node that forwards what is not addressed to it."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from layersim.net.interface import Interface
from layersim.net.ipnode import IPNode
from layersim.net.trace import DropReason
from layersim.wire.packet import Packet

if TYPE_CHECKING:
    from layersim.net.network import Network

__all__ = ["Router"]


class Router(IPNode):
    """Forwards by longest-prefix match, rewrites MACs, decrements TTL, sends ICMP errors, fragments."""

    kind = "router"
    forwarding = True

    def __init__(self, network: Network, name: str, rng: random.Random) -> None:
        super().__init__(network, name, rng)
        self.protocols[17] = self._udp_in

    def _udp_in(self, iface: Interface, packet: Packet, ip_bytes: bytes) -> None:
        """No UDP services on a router: answer port unreachable, as Linux does for traceroute."""
        self.drop(iface, ip_bytes, DropReason.NO_LISTENER)
        self.icmp_error(iface, ip_bytes, 3, 3)
