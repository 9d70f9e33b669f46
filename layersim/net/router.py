"""Routers (RFC 1812): an IPv4 node that forwards what is not addressed to it."""

from __future__ import annotations

from layersim.net.ipnode import IPNode

__all__ = ["Router"]


class Router(IPNode):
    """Forwards by longest-prefix match, rewrites MACs, decrements TTL, sends ICMP errors, fragments."""

    kind = "router"
    forwarding = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.protocols[17] = self._udp_in

    def _udp_in(self, iface, packet, ip_bytes) -> None:  # type: ignore[no-untyped-def]
        """No UDP services on a router: answer port unreachable, as Linux does for traceroute."""
        from layersim.net.trace import DropReason

        self.drop(iface, ip_bytes, DropReason.NO_LISTENER)
        self.icmp_error(iface, ip_bytes, 3, 3)
