"""A node's routing tables: the generic table plus checks against the node's own interfaces."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TYPE_CHECKING

from layersim.net.ip.routing import Route, RouteKind, RoutingError, RoutingTable

if TYPE_CHECKING:
    from layersim.net.engine.node import Node

__all__ = ["NodeRoutes"]

# Linux's default IPv6 route metrics (include/net/ip6_route.h): a route the user adds without one, and the
# connected route of an address (ip6_route_info_create turns metric 0 into IP6_RT_PRIO_USER)
IP6_RT_PRIO_USER, IP6_RT_PRIO_ADDRCONF = 1024, 256


def _is_v6(value: object) -> bool:
    """True for an IPv6 prefix or address, as a value or as text (a ':' in it)."""
    return isinstance(value, IPv6Network | IPv6Address) or (isinstance(value, str) and ":" in value)


class NodeRoutes(RoutingTable):
    """Routes of one node: the outgoing interface must exist, and is found from `via` when not given.

    The node's IPv4 table; an IPv6 prefix or address given to `add`, `get`, `remove` or `lookup` goes to `v6`, its
    IPv6 table (`str(routes)` is `ip route`, `str(routes.v6)` is `ip -6 route`).
    """

    def __init__(self, node: Node, version: int = 4) -> None:
        super().__init__(version)
        self._node = node
        self.automatic: set[str] = set()  # prefixes the network added on its own (a host's default route)
        self.v6: NodeRoutes | None = NodeRoutes(node, 6) if version == 4 else None

    def _table(self, value: object) -> NodeRoutes:
        """The table of the version `value` belongs to."""
        return self.v6 if self.v6 is not None and _is_v6(value) else self

    def add_automatic(self, prefix: str, via: IPv4Address | IPv6Address, interface: str) -> Route:
        """A route the network chose (a host's default gateway); a route the user adds later replaces it."""
        table = self._table(prefix)
        route = table.add(prefix, via, interface, replace=True)
        table.automatic.add(str(route.prefix))
        return route

    def add(self, prefix: str | IPv4Network | IPv6Network, via: str | IPv4Address | IPv6Address | None = None,
            interface: str | None = None, metric: int = 0, kind: RouteKind | str = RouteKind.STATIC, *,
            replace: bool = False) -> Route:
        """Add a route; `interface` defaults to the one whose connected subnet holds `via`."""
        table = self._table(prefix)
        if table is not self:
            return table.add(prefix, via, interface, metric, kind, replace=replace)
        node = self._node
        if interface is not None and interface not in node.interfaces:
            have = ", ".join(node.interfaces) or "no interfaces"
            raise RoutingError(f"{node.name}: route to {prefix} uses interface {interface!r}, which does not exist "
                               f"({node.name} has {have})")
        if via is not None and interface is None:
            try:
                hop = self.family.address(via)
            except ValueError as exc:
                raise RoutingError(f"{node.name}: route to {prefix}: next hop {via!r} is not valid ({exc})") from None
            if hop.is_link_local:  # every interface has fe80::/64: Linux asks which one (ip route: "dev")
                raise RoutingError(f"{node.name}: route to {prefix}: next hop {hop} is link-local; say which "
                                   "interface it is on (dev)")
            connected = [route for route in self if route.kind is RouteKind.CONNECTED and hop in route.prefix]
            if not connected:
                subnets = ", ".join(f"{r.prefix} on {r.interface}" for r in self if r.kind is RouteKind.CONNECTED)
                raise RoutingError(f"{node.name}: route to {prefix}: next hop {hop} is not on a connected subnet "
                                   f"({subnets or 'no connected subnets'})")
            interface = max(connected, key=lambda r: r.prefix.prefixlen).interface
        if via is None and interface is None:
            raise RoutingError(f"{node.name}: route to {prefix} needs a next hop (via) or an interface")
        if self.family.version == 6 and metric == 0:
            metric = IP6_RT_PRIO_ADDRCONF if RouteKind(kind) is RouteKind.CONNECTED else IP6_RT_PRIO_USER
        route = self.get(prefix)
        if route is not None and str(route.prefix) in self.automatic:
            self.automatic.discard(str(route.prefix))
            replace = True
        return super().add(prefix, via, interface, metric, kind, replace=replace)

    def get(self, prefix: str | IPv4Network | IPv6Network) -> Route | None:
        """The route to exactly `prefix` in the table of its version, or None."""
        table = self._table(prefix)
        return super().get(prefix) if table is self else table.get(prefix)

    def remove(self, prefix: str | IPv4Network | IPv6Network) -> Route:
        """Remove the route to exactly `prefix` from the table of its version and return it."""
        table = self._table(prefix)
        return super().remove(prefix) if table is self else table.remove(prefix)

    def lookup(self, addr: IPv4Address | IPv6Address | str | int) -> Route | None:
        """The longest-prefix match for `addr` in the table of its version (an int is an IPv4 address)."""
        table = self._table(addr)
        return super().lookup(addr) if table is self else table.lookup(addr)

    def _repr_html_(self) -> str:
        """The routing table as an HTML table in Jupyter."""
        from layersim.net.trace.html import routes_html

        return routes_html(self._node)
