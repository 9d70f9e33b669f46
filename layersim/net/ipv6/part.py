"""The IPv6 part of a host or router: neighbour cache, DAD, ICMPv6 rate limit, path MTUs, advertisements.

It holds the node's IPv6 protocol objects and answers what they decide together (which source address to use);
the runtime that carries their actions out on the wire joins it when the IPv6 layers do.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from ipaddress import IPv6Address, IPv6Network
from typing import Any

from layersim.errors import LayersimError
from layersim.net.engine.interface import Interface
from layersim.net.ip.pmtu import PathMtuCache
from layersim.net.ipv6.address_selection import select_source
from layersim.net.ipv6.dad import Dad
from layersim.net.ipv6.icmp_limits import Icmp6RateLimit
from layersim.net.ipv6.ndp import NeighbourCache
from layersim.net.ipv6.router_adv import Advertiser, PrefixInfo

__all__ = ["Ipv6Part"]


class Ipv6Part:
    """One node's IPv6 protocol objects, sharing the node's interfaces."""

    def __init__(self, interfaces: Mapping[str, Interface], rng: random.Random) -> None:
        """`rng`: a generator of the node's own for IPv6 (reachable time, DAD and advertisement delays)."""
        self.interfaces = interfaces
        self.rng = rng
        self.neighbours = NeighbourCache(rng)
        self.dad = Dad(rng)
        self.icmp_limit = Icmp6RateLimit()
        self.pmtu = PathMtuCache(version=6)
        self.advertisers: dict[str, tuple[Advertiser, tuple[PrefixInfo, ...]]] = {}
        self.input: Any = None  # Input6 and Output6 over the node's routes, given by net/ipv6/stack.start_ipv6
        self.output: Any = None

    def advertise(self, interface: str) -> tuple[PrefixInfo, ...]:
        """Send Router Advertisements on `interface` for its global prefixes (`ra = true`); returns them."""
        iface = self.interfaces[interface]
        prefixes = tuple(PrefixInfo(a.network) for a in iface.addresses6 if not a.ip.is_link_local)
        if not prefixes:
            raise LayersimError(f"{iface.full_name}: router advertisements need an IPv6 prefix to advertise; give "
                                "the interface an address such as 2001:db8:1::1/64")
        self.advertisers[interface] = (Advertiser(self.rng), prefixes)
        return prefixes

    def source_for(self, dst: IPv6Address, out_interface: str) -> IPv6Address | None:
        """The source address for `dst` leaving on `out_interface` (RFC 6724 §5): among the node's usable
        addresses (not tentative, not dadfailed), a link-local destination only from the outgoing interface."""
        dad = self.dad
        candidates = [(address, name) for name, iface in self.interfaces.items() for address in iface.addresses6
                      if dad.usable(address.ip) and (name == out_interface or not address.ip.is_link_local)]
        return select_source(dst, candidates, out_interface)

    def owns(self, address: IPv6Address) -> bool:
        """True when `address` is one of the node's usable addresses."""
        return self.dad.usable(address) and any(
            a.ip == address for iface in self.interfaces.values() for a in iface.addresses6)

    def prefixes(self) -> set[IPv6Network]:
        """The node's on-link global prefixes."""
        return {a.network for iface in self.interfaces.values() for a in iface.addresses6 if not a.ip.is_link_local}

    def addr_text(self) -> str:
        """The node's IPv6 addresses as `ip -6 addr` lists them (interface, address, scope, DAD state)."""
        lines = []
        for name, iface in self.interfaces.items():
            lines.append(f"{name}: mtu {iface.mtu}")
            for address in iface.addresses6:
                scope = "link" if address.ip.is_link_local else "global"
                state = self.dad.state(address.ip)
                flag = f" {state}" if state is not None and state.value != "preferred" else ""
                lines.append(f"    inet6 {address} scope {scope}{flag}")
        return "\n".join(lines)
