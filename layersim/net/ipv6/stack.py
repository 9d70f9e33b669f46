"""A node's IPv6 stack put together: its protocol objects (`Ipv6Part`) with input and output over its routes."""

from __future__ import annotations

import random
from collections.abc import Mapping

from layersim.net.engine.interface import Interface
from layersim.net.ip.routing import RoutingTable
from layersim.net.ipv6.input import Input6
from layersim.net.ipv6.output import Output6
from layersim.net.ipv6.part import Ipv6Part

__all__ = ["start_ipv6"]


def start_ipv6(interfaces: Mapping[str, Interface], routes: RoutingTable, rng: random.Random, *,
               forwarding: bool) -> Ipv6Part:
    """The IPv6 part of a node whose interfaces and IPv6 routing table these are; `forwarding`: a router."""
    part = Ipv6Part(interfaces, rng)
    part.output = Output6(part, routes, interfaces)
    part.input = Input6(part, part.output, routes, interfaces, forwarding=forwarding)
    return part
