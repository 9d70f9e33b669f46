"""IPv6 addresses on a node's interfaces: the link-local one every interface has, global ones and their routes."""

from __future__ import annotations

from ipaddress import IPv6Address, IPv6Interface
from typing import Protocol

from layersim.errors import LayersimError
from layersim.net.engine.interface import Interface
from layersim.net.ip.routing import Route, RouteKind
from layersim.net.ipv6.addresses import link_local

__all__ = ["Routes6", "add_address", "global_addresses", "parse_address", "start_interface"]


class Routes6(Protocol):
    """What adding an address needs of the node's routes (layersim.net.ip.node_routes.NodeRoutes is one)."""

    def add(self, prefix: str, via: None = None, interface: str | None = None, metric: int = 0,
            kind: RouteKind | str = RouteKind.STATIC, *, replace: bool = False) -> Route: ...

    def get(self, prefix: str) -> Route | None: ...


def parse_address(text: str, where: str) -> IPv6Interface:
    """An interface address given as "2001:db8:1::10/64", checked; `where` starts the error message."""
    try:
        address = IPv6Interface(text)
    except ValueError as exc:
        raise LayersimError(f"{where}: {text!r} is not an IPv6 address with prefix ({exc})") from None
    if "/" not in text:
        raise LayersimError(f"{where}: {text!r} needs a prefix length, e.g. {text}/64")
    ip = address.ip
    if ip.is_multicast or ip.is_unspecified or ip.is_loopback or ip.is_link_local:  # RFC 4291 §2.5, §2.7
        kind = ("multicast" if ip.is_multicast else "unspecified" if ip.is_unspecified else
                "loopback" if ip.is_loopback else "link-local (every interface makes its own from its MAC)")
        raise LayersimError(f"{where}: {ip} is a {kind} address, not one to give an interface")
    return address


def start_interface(iface: Interface) -> IPv6Interface:
    """Give an interface its link-local address (RFC 4862 §5.3: as it comes up, from its MAC) and return it."""
    address = link_local(iface.mac)
    if address not in iface.addresses6:
        iface.addresses6.insert(0, address)
    return address


def add_address(routes: Routes6, iface: Interface, address: IPv6Interface) -> None:
    """Add a global address and its connected route (Linux: addrconf_prefix_route, metric 256)."""
    subnet = address.network
    existing = routes.get(str(subnet))
    if existing is not None and existing.kind is RouteKind.CONNECTED and existing.interface != iface.name:
        raise LayersimError(f"{iface.full_name}: subnet {subnet} is already connected on {existing.interface}; "
                            "give it an address in another subnet")
    iface.addresses6.append(address)
    if subnet.prefixlen < 128:
        routes.add(str(subnet), interface=iface.name, kind=RouteKind.CONNECTED, replace=True)


def global_addresses(iface: Interface) -> list[IPv6Address]:
    """The interface's addresses other than link-local."""
    return [a.ip for a in iface.addresses6 if not a.ip.is_link_local]
