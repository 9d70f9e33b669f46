"""Name resolution on a simulated host: its stub resolver (glibc-like) behind getaddrinfo and gethostbyname."""

from __future__ import annotations

import random
import socket as _std
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from layersim.app.resolver import ResolveError, Resolver

if TYPE_CHECKING:
    from layersim.net.host.host import Host

__all__ = ["HostResolver", "use_dns"]


class HostResolver:
    """A host's resolver: queries its nameservers from inside the calling process, as glibc does."""

    def __init__(self, host: Host, nameservers: list[str], *, timeout: float = 5.0, attempts: int = 2) -> None:
        clock = host.clock
        self.nameservers = [IPv4Address(n) for n in nameservers]
        self.resolver = Resolver(host.socket, [str(n) for n in self.nameservers],
                                 rng=random.Random(host.rng.getrandbits(64)), clock=lambda: clock.now / 1e9,
                                 timeout=timeout, attempts=attempts)

    def lookup_for(self, host: Host, name: str) -> tuple[str, list[str], list[str]]:
        """gethostbyname_ex's (canonical name, aliases, addresses) from DNS, as glibc gives them."""
        try:
            entry = self.resolver.lookup(name)
        except ResolveError as exc:
            raise _std.gaierror(int(exc.errno), exc.strerror) from None
        return entry.name, list(entry.aliases), [str(a) for a in entry.addresses]

    def resolve_for(self, host: Host, name: str) -> list[IPv4Address]:
        """The addresses of `name`; socket.gaierror (EAI_NONAME, EAI_AGAIN, ...) as glibc reports failures."""
        try:
            return self.resolver.resolve(name)
        except ResolveError as exc:
            raise _std.gaierror(int(exc.errno), exc.strerror) from None


def use_dns(host: Host, *nameservers: str, timeout: float = 5.0, attempts: int = 2) -> HostResolver:
    """Give `host` nameservers (its resolv.conf): names not in `host.hosts` are asked of them."""
    host.resolver = HostResolver(host, list(nameservers), timeout=timeout, attempts=attempts)
    return host.resolver
