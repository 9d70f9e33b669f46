"""IPv6 addresses derived from others: link-local from a MAC, solicited-node groups and multicast MACs."""

from __future__ import annotations

from ipaddress import IPv6Address, IPv6Interface

from layersim.wire.addresses import MAC

__all__ = ["ALL_NODES", "ALL_ROUTERS", "interface_id", "link_local", "multicast_mac", "slaac_address",
           "solicited_node"]

ALL_NODES = IPv6Address("ff02::1")  # RFC 4291 §2.7.1
ALL_ROUTERS = IPv6Address("ff02::2")
_LINK_LOCAL_PREFIX = 0xFE80 << 112  # fe80::/64 (RFC 4291 §2.5.6)
_SOLICITED_NODE_PREFIX = 0xFF02_0000_0000_0000_0000_0001_FF00_0000  # ff02::1:ff00:0/104 (RFC 4291 §2.7.1)


def interface_id(mac: MAC | str) -> int:
    """The modified EUI-64 interface identifier of a 48-bit MAC (RFC 4291 appendix A): ff:fe in the middle and
    the universal/local bit (0x02 of the first byte) inverted; 02:00:00:00:00:01 gives 0000:00ff:fe00:0001."""
    raw = MAC(mac)
    return int.from_bytes(bytes([raw[0] ^ 0x02]) + raw[1:3] + b"\xff\xfe" + raw[3:6], "big")


def link_local(mac: MAC | str) -> IPv6Interface:
    """The fe80::/64 address an interface gives itself from its MAC (RFC 4862 §5.3, as Linux's addrconf_addr_gen
    with addr_gen_mode eui64, the default)."""
    return IPv6Interface((_LINK_LOCAL_PREFIX | interface_id(mac), 64))


def slaac_address(prefix: IPv6Interface | str, mac: MAC | str) -> IPv6Interface:
    """The address SLAAC forms from an advertised /64 prefix and the interface's MAC (RFC 4862 §5.5.3)."""
    network = IPv6Interface(prefix).network
    if network.prefixlen != 64:  # RFC 4862 §5.5.3 d: prefix + interface identifier must be 128 bits
        raise ValueError(f"SLAAC needs a /64 prefix, not {network}")
    return IPv6Interface((int(network.network_address) | interface_id(mac), 64))


def solicited_node(address: IPv6Address | str) -> IPv6Address:
    """The solicited-node multicast group of an address: ff02::1:ff plus its low 24 bits (RFC 4291 §2.7.1)."""
    return IPv6Address(_SOLICITED_NODE_PREFIX | int(IPv6Address(address)) & 0xFFFFFF)


def multicast_mac(group: IPv6Address | str) -> MAC:
    """The Ethernet address an IPv6 multicast goes to: 33:33 plus the group's low 32 bits (RFC 2464 §7)."""
    address = IPv6Address(group)
    if not address.is_multicast:
        raise ValueError(f"{address} is not a multicast address (ff00::/8)")
    return MAC(b"\x33\x33" + address.packed[12:])
