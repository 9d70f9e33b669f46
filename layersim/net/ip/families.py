"""The two IP versions as data: address width, socket family and the ipaddress types, for code shared by both."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

__all__ = ["IPV4", "IPV6", "Family", "family_of"]


@dataclass(frozen=True, slots=True)
class Family:
    """What code written once for both IP versions needs to know about one of them."""

    version: int
    bits: int  # address width: 32 or 128
    af: int  # socket.AF_INET or AF_INET6, for inet_pton
    address: type[IPv4Address] | type[IPv6Address]
    network: type[IPv4Network] | type[IPv6Network]
    name: str  # "IPv4", for messages
    example: str  # a prefix to show in an error message

    @property
    def all_ones(self) -> int:
        """The largest address as an int."""
        return (1 << self.bits) - 1


IPV4 = Family(4, 32, socket.AF_INET, IPv4Address, IPv4Network, "IPv4", "10.0.2.0/24")
IPV6 = Family(6, 128, socket.AF_INET6, IPv6Address, IPv6Network, "IPv6", "2001:db8:2::/64")


def family_of(text: str) -> Family:
    """The family an address or prefix written as text belongs to (a ':' means IPv6, as `ip` decides)."""
    return IPV6 if ":" in text else IPV4
