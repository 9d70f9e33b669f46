"""A node's routing table: the generic table plus checks against the node's own interfaces."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from layersim.net.ip.routing import Route, RouteKind, RoutingError, RoutingTable

if TYPE_CHECKING:
    from layersim.net.engine.node import Node

__all__ = ["NodeRoutes"]


class NodeRoutes(RoutingTable):
    """Routes of one node: the outgoing interface must exist, and is found from `via` when not given."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        self._node = node
        self.automatic: set[str] = set()  # prefixes the network added on its own (a host's default route)

    def add_automatic(self, prefix: str, via: IPv4Address, interface: str) -> Route:
        """A route the network chose (a host's default gateway); a route the user adds later replaces it."""
        route = self.add(prefix, via, interface, replace=True)
        self.automatic.add(str(route.prefix))
        return route

    def add(self, prefix: str | IPv4Network, via: str | IPv4Address | None = None, interface: str | None = None,
            metric: int = 0, kind: RouteKind | str = RouteKind.STATIC, *, replace: bool = False) -> Route:
        """Add a route; `interface` defaults to the one whose connected subnet holds `via`."""
        node = self._node
        if interface is not None and interface not in node.interfaces:
            have = ", ".join(node.interfaces) or "no interfaces"
            raise RoutingError(f"{node.name}: route to {prefix} uses interface {interface!r}, which does not exist "
                               f"({node.name} has {have})")
        if via is not None and interface is None:
            try:
                hop = IPv4Address(via)
            except ValueError as exc:
                raise RoutingError(f"{node.name}: route to {prefix}: next hop {via!r} is not valid ({exc})") from None
            connected = [route for route in self if route.kind is RouteKind.CONNECTED and hop in route.prefix]
            if not connected:
                subnets = ", ".join(f"{r.prefix} on {r.interface}" for r in self if r.kind is RouteKind.CONNECTED)
                raise RoutingError(f"{node.name}: route to {prefix}: next hop {hop} is not on a connected subnet "
                                   f"({subnets or 'no connected subnets'})")
            interface = max(connected, key=lambda r: r.prefix.prefixlen).interface
        if via is None and interface is None:
            raise RoutingError(f"{node.name}: route to {prefix} needs a next hop (via) or an interface")
        route = self.get(prefix)
        if route is not None and str(route.prefix) in self.automatic:
            self.automatic.discard(str(route.prefix))
            replace = True
        return super().add(prefix, via, interface, metric, kind, replace=replace)

    def _repr_html_(self) -> str:
        """The routing table as an HTML table in Jupyter."""
        from layersim.net.trace.html import routes_html

        return routes_html(self._node)
